import type { OAuth1Consumer, OAuth1ConsumerStore, OAuth1Request } from './oauth1-verifier';

/**
 * What the gateway needs of an OAuth 1.0 verifier: OAuth1Verifier, or another object with a
 * matching `verify`. It returns the consumer that signed, or throws an MtlsError whose code
 * starts with `OAUTH_` (a 401 to the caller).
 */
export interface OAuth1RequestVerifier {
  verify(request: OAuth1Request): Promise<OAuth1Consumer>;
}

/** Builds the verifier over the gateway's consumer store. */
export type OAuth1VerifierFactory = (consumers: OAuth1ConsumerStore) => OAuth1RequestVerifier;
