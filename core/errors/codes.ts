/**
 * Every error the project reports carries one of these stable codes. docs/errors.md lists them
 * with what a user can do about each; a code, once published, keeps its meaning.
 */
export const ErrorCode = {
  ConfigInvalid: 'CONFIG_INVALID',
  VaultUnavailable: 'VAULT_UNAVAILABLE',
  VaultForbidden: 'VAULT_FORBIDDEN',
  VaultLoginFailed: 'VAULT_LOGIN_FAILED',
  VaultWriteConflict: 'VAULT_WRITE_CONFLICT',
  VaultDataInvalid: 'VAULT_DATA_INVALID',
  KubeconfigInvalid: 'KUBECONFIG_INVALID',
  KubeApiFailed: 'KUBE_API_FAILED',

  // Certificate analysis: why a PKCS#12 file or PEM pair cannot be used as a client certificate.
  InputTooLarge: 'INPUT_TOO_LARGE',
  P12Malformed: 'P12_MALFORMED',
  P12BadPassword: 'P12_BAD_PASSWORD',
  P12UnsupportedAlgorithm: 'P12_UNSUPPORTED_ALGORITHM',
  P12TooManyIterations: 'P12_TOO_MANY_ITERATIONS',
  PemMalformed: 'PEM_MALFORMED',
  CertMissing: 'CERT_MISSING',
  KeyMissing: 'KEY_MISSING',
  KeyMultiple: 'KEY_MULTIPLE',
  CertKeyMismatch: 'CERT_KEY_MISMATCH',
  KeyTooWeak: 'KEY_TOO_WEAK',
  KeyUnsupported: 'KEY_UNSUPPORTED',
  CertExpired: 'CERT_EXPIRED',
  CertNotYetValid: 'CERT_NOT_YET_VALID',
  CertNotClientAuth: 'CERT_NOT_CLIENT_AUTH',
  ChainInvalid: 'CHAIN_INVALID',

  // Certificate analysis warnings: usable, but worth telling the user.
  ChainReordered: 'CHAIN_REORDERED',
  CertExpiresSoon: 'CERT_EXPIRES_SOON',
  P12JavaUnreadable: 'P12_JAVA_UNREADABLE',

  // The gateway's API: requests it refuses, who may call it, and what it manages.
  ApiRequestInvalid: 'API_REQUEST_INVALID',
  ApiBodyTooLarge: 'API_BODY_TOO_LARGE',
  ApiUnsupportedMediaType: 'API_UNSUPPORTED_MEDIA_TYPE',
  ApiNotFound: 'API_NOT_FOUND',
  ApiMethodNotAllowed: 'API_METHOD_NOT_ALLOWED',
  AuthMissing: 'AUTH_MISSING',
  AuthInvalid: 'AUTH_INVALID',
  AuthWrongAudience: 'AUTH_WRONG_AUDIENCE',
  AuthSchemeRefused: 'AUTH_SCHEME_REFUSED',
  AuthForbidden: 'AUTH_FORBIDDEN',
  AuthUnavailable: 'AUTH_UNAVAILABLE',
  OAuthUnavailable: 'OAUTH_UNAVAILABLE',
  CertificateNotFound: 'CERTIFICATE_NOT_FOUND',
  CertificateExists: 'CERTIFICATE_EXISTS',
  CertificateNotAvailable: 'CERTIFICATE_NOT_AVAILABLE',
  MappingNotFound: 'MAPPING_NOT_FOUND',
  MappingExists: 'MAPPING_EXISTS',
  MappingChanged: 'MAPPING_CHANGED',
  MappingUrlInvalid: 'MAPPING_URL_INVALID',
  MappingValidationFailed: 'MAPPING_VALIDATION_FAILED',

  // The sidecar: its sources of certificates and the requests it refuses.
  SidecarConfigFileInvalid: 'SIDECAR_CONFIG_FILE_INVALID',
  ProxyRequestInvalid: 'PROXY_REQUEST_INVALID',
  ProxyDestinationBlocked: 'PROXY_DESTINATION_BLOCKED',
  ProxyDestinationUnmapped: 'PROXY_DESTINATION_UNMAPPED',
  ProxyRateLimited: 'PROXY_RATE_LIMITED',
  ProxyUpstreamUnreachable: 'PROXY_UPSTREAM_UNREACHABLE',
  ProxyUpstreamTimeout: 'PROXY_UPSTREAM_TIMEOUT',
  ProxyNotReady: 'PROXY_NOT_READY',
  ProxyInternal: 'PROXY_INTERNAL',
  ProxyRateLimitUnavailable: 'PROXY_RATE_LIMIT_UNAVAILABLE',

  // The gateway's OAuth 1.0 (RFC 5849) check: every one of these is a 401 to the caller.
  OAuthMissing: 'OAUTH_MISSING',
  OAuthMalformed: 'OAUTH_MALFORMED',
  OAuthUnsupportedMethod: 'OAUTH_UNSUPPORTED_METHOD',
  OAuthUnsupportedVersion: 'OAUTH_UNSUPPORTED_VERSION',
  OAuthUnsupportedParameter: 'OAUTH_UNSUPPORTED_PARAMETER',
  OAuthStaleTimestamp: 'OAUTH_STALE_TIMESTAMP',
  OAuthUnknownConsumer: 'OAUTH_UNKNOWN_CONSUMER',
  OAuthBadSignature: 'OAUTH_BAD_SIGNATURE',
  OAuthReplayedNonce: 'OAUTH_REPLAYED_NONCE',

  // mtls-egress-init: the nat rules of transparent egress could not be applied.
  EgressIptablesMissing: 'EGRESS_IPTABLES_MISSING',
  EgressIptablesFailed: 'EGRESS_IPTABLES_FAILED',

  // The injection webhook: its configuration and the requests it cannot read.
  InjectionConfigInvalid: 'INJECTION_CONFIG_INVALID',
  AdmissionRequestInvalid: 'ADMISSION_REQUEST_INVALID',

  // Vault answered a request with a client error other than 403: a wrong mount or path.
  VaultRequestRefused: 'VAULT_REQUEST_REFUSED',
} as const;

/** A stable error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The base of every error the project raises on purpose: a stable code, an actionable message. */
export class MtlsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MtlsError';
  }
}

/** True when an error is one of ours with the given code. */
export function hasCode(err: unknown, code: ErrorCode): err is MtlsError {
  return err instanceof MtlsError && err.code === code;
}
