/**
 * The annotation holding a certificate's human-readable name. kubectl-mtls and the gateway's
 * API write it, and both show it, so a name given through one appears in the other.
 */
export const DISPLAY_NAME_ANNOTATION = 'mtls.io/display-name';
