// The OAuth 1.0 verifier is built apart from the API; these are the shapes the gateway needs of
// it, so that any object with a matching `verify` plugs in.

/** What a verifier needs of an incoming request. */
export type OAuth1Request = {
  method: string;
  /** The URL as the client addressed the gateway; its query parameters are signed. */
  url: URL;
  authorization: string | undefined;
  /** Body parameters, only when Content-Type is application/x-www-form-urlencoded. */
  formParameters?: URLSearchParams;
};

/** A client allowed to call the gateway, and the namespaces it may act for. */
export type OAuth1Consumer = { key: string; secret: string; namespaces: string[] };

/** Where consumers are looked up by key. */
export interface OAuth1ConsumerStore {
  find(key: string): Promise<OAuth1Consumer | undefined>;
}

/**
 * Checks a signed request and returns its consumer; throws an MtlsError whose code starts with
 * `OAUTH_` (a 401 to the caller) when the signature, timestamp or nonce is refused.
 */
export interface OAuth1RequestVerifier {
  verify(request: OAuth1Request): Promise<OAuth1Consumer>;
}

/** Builds the verifier over the gateway's consumer store. */
export type OAuth1VerifierFactory = (consumers: OAuth1ConsumerStore) => OAuth1RequestVerifier;
