import { timingSafeEqual } from 'node:crypto';

import { ErrorCode, MtlsError } from '../../../core/errors/codes';
import { parseOAuthHeader } from './oauth1-header';
import {
  baseStringUri,
  hmacSha1Signature,
  signatureBaseString,
  type SignedParameter,
} from './oauth1-signature';

/** What the verifier needs of an incoming request. */
export type OAuth1Request = {
  method: string;
  /** The URL as the gateway received it; its query parameters are signed. */
  url: URL;
  authorization: string | undefined;
  /** Body parameters, only when Content-Type is application/x-www-form-urlencoded. */
  formParameters?: URLSearchParams;
};

/** A client allowed to call the gateway, and the namespaces it may act in. */
export type OAuth1Consumer = { key: string; secret: string; namespaces: string[] };

/** Where consumers are looked up by key. */
export interface OAuth1ConsumerStore {
  find(key: string): Promise<OAuth1Consumer | undefined>;
}

/** Remembers the nonces seen, so that a signed request cannot be sent twice. */
export interface NonceStore {
  /** True when the nonce was new; false = replay. */
  remember(
    consumerKey: string,
    timestamp: number,
    nonce: string,
    ttlSeconds: number,
  ): Promise<boolean>;
}

/** Options of an OAuth1Verifier. */
export type OAuth1VerifierOptions = {
  consumers: OAuth1ConsumerStore;
  nonces: NonceStore;
  /** How far, in seconds, a timestamp may be from the gateway's clock either way; default 300. */
  timestampWindowSeconds?: number;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
  /**
   * The origin clients sign when the gateway sits behind a proxy or load balancer (the URL the
   * client sees, not the one the gateway receives): its scheme, host and port replace the
   * request's. The path is kept as received, so the proxy must not rewrite paths.
   */
  externalBaseUrl?: URL;
};

/** The codes OAuth1Verifier throws; each one means HTTP 401 to the caller. */
export const oauth1ErrorCodes: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.OAuthMissing,
  ErrorCode.OAuthMalformed,
  ErrorCode.OAuthUnsupportedMethod,
  ErrorCode.OAuthUnsupportedVersion,
  ErrorCode.OAuthUnsupportedParameter,
  ErrorCode.OAuthStaleTimestamp,
  ErrorCode.OAuthUnknownConsumer,
  ErrorCode.OAuthBadSignature,
  ErrorCode.OAuthReplayedNonce,
]);

const REQUIRED = [
  'oauth_consumer_key',
  'oauth_signature_method',
  'oauth_signature',
  'oauth_timestamp',
  'oauth_nonce',
] as const;

// Bounds on what ends up in the nonce store, whoever sends it.
const MAX_KEY_LENGTH = 256;
const MAX_NONCE_LENGTH = 256;

type ProtocolParameters = {
  consumerKey: string;
  signature: string;
  timestamp: number;
  nonce: string;
  all: Map<string, string>;
};

/**
 * Checks two-legged OAuth 1.0 requests (RFC 5849) signed with HMAC-SHA1: the request carries
 * the consumer key and a signature made with the consumer secret over the method, the URL and
 * every parameter. The checks run cheapest first, and a nonce is stored only once the signature
 * is proven, so unsigned traffic cannot fill the nonce store.
 */
export class OAuth1Verifier {
  private readonly windowSeconds: number;
  private readonly now: () => number;

  constructor(private readonly options: OAuth1VerifierOptions) {
    this.windowSeconds = options.timestampWindowSeconds ?? 300;
    this.now = options.now ?? Date.now;
    const base = options.externalBaseUrl;
    if (base && (base.pathname !== '/' || base.search !== '')) {
      throw new MtlsError(
        ErrorCode.ConfigInvalid,
        'the external base URL of the OAuth check must be an origin such as https://gw.example',
      );
    }
  }

  /** Returns the consumer that signed the request, or throws an MtlsError of oauth1ErrorCodes. */
  async verify(request: OAuth1Request): Promise<OAuth1Consumer> {
    const protocol = readProtocolParameters(request.authorization);
    const nowSeconds = this.now() / 1000;
    this.checkTimestamp(protocol.timestamp, nowSeconds);

    const consumer = await this.options.consumers.find(protocol.consumerKey);
    if (!consumer) {
      throw new MtlsError(
        ErrorCode.OAuthUnknownConsumer,
        'no consumer has the oauth_consumer_key of this request',
      );
    }

    const method = request.method.toUpperCase();
    const uri = baseStringUri(this.signedUrl(request.url));
    const parameters = signedParameters(request, protocol.all);
    const expected = hmacSha1Signature(
      signatureBaseString(method, uri, parameters),
      consumer.secret,
    );
    if (!sameSignature(expected, protocol.signature)) {
      throw new MtlsError(
        ErrorCode.OAuthBadSignature,
        `the signature does not match the request as the gateway sees it (${method} ${uri}); ` +
          'check the consumer secret, the URL and the parameters signed',
      );
    }

    // Long enough that the timestamp leaves the window before the nonce is forgotten.
    const ttlSeconds = Math.max(
      1,
      Math.ceil(protocol.timestamp + this.windowSeconds - nowSeconds) + 1,
    );
    const fresh = await this.options.nonces.remember(
      consumer.key,
      protocol.timestamp,
      protocol.nonce,
      ttlSeconds,
    );
    if (!fresh) {
      throw new MtlsError(
        ErrorCode.OAuthReplayedNonce,
        'this oauth_nonce was already used with this timestamp: sign every request anew',
      );
    }
    return consumer;
  }

  private checkTimestamp(timestamp: number, nowSeconds: number): void {
    const skew = timestamp - nowSeconds;
    if (Math.abs(skew) <= this.windowSeconds) return;
    const which = skew < 0 ? 'too old' : 'in the future';
    throw new MtlsError(
      ErrorCode.OAuthStaleTimestamp,
      `oauth_timestamp is ${which}: it must be within ${this.windowSeconds} seconds of the ` +
        `gateway's clock (now ${Math.floor(nowSeconds)}); check the client's clock`,
    );
  }

  private signedUrl(url: URL): URL {
    const base = this.options.externalBaseUrl;
    if (!base) return url;
    const external = new URL(url.href);
    external.protocol = base.protocol;
    external.host = base.host;
    // Setting host to one without a port keeps the old port: the external origin decides it.
    external.port = base.port;
    return external;
  }
}

function readProtocolParameters(authorization: string | undefined): ProtocolParameters {
  const all = parseOAuthHeader(authorization);

  const missing = REQUIRED.filter((name) => !all.get(name));
  if (missing.length > 0) throw malformed(`${missing.join(', ')} missing`);

  const method = all.get('oauth_signature_method');
  if (method !== 'HMAC-SHA1') {
    throw new MtlsError(
      ErrorCode.OAuthUnsupportedMethod,
      'oauth_signature_method must be HMAC-SHA1, the only method this gateway accepts',
    );
  }
  const version = all.get('oauth_version');
  if (version !== undefined && version !== '1.0') {
    throw new MtlsError(ErrorCode.OAuthUnsupportedVersion, 'oauth_version, when sent, must be 1.0');
  }
  checkUnsupported(all);

  const timestamp = all.get('oauth_timestamp') as string;
  if (!/^\d{1,12}$/.test(timestamp)) throw malformed('oauth_timestamp is not a number of seconds');
  const consumerKey = all.get('oauth_consumer_key') as string;
  const nonce = all.get('oauth_nonce') as string;
  if (consumerKey.length > MAX_KEY_LENGTH || nonce.length > MAX_NONCE_LENGTH) {
    throw malformed(
      `oauth_consumer_key and oauth_nonce are limited to ${MAX_NONCE_LENGTH} characters`,
    );
  }
  return {
    consumerKey,
    signature: all.get('oauth_signature') as string,
    timestamp: Number(timestamp),
    nonce,
    all,
  };
}

/**
 * Refuses what this gateway cannot honour rather than pretend to. It issues no tokens, so a
 * non-empty oauth_token names credentials it never granted (an empty one, which some two-legged
 * clients send, carries nothing and is signed like any parameter). It does not see the body of
 * non-form requests, so it could not check an oauth_body_hash.
 */
function checkUnsupported(all: Map<string, string>): void {
  if (all.get('oauth_token')) {
    throw new MtlsError(
      ErrorCode.OAuthUnsupportedParameter,
      'oauth_token is not accepted: this gateway takes two-legged requests signed with the ' +
        'consumer secret alone; leave oauth_token out',
    );
  }
  if (all.has('oauth_body_hash')) {
    throw new MtlsError(
      ErrorCode.OAuthUnsupportedParameter,
      'oauth_body_hash is not accepted: the gateway does not check request bodies; leave it out',
    );
  }
}

/** Query, form body and header parameters, less the signature and the realm (3.4.1.3.1). */
function signedParameters(request: OAuth1Request, header: Map<string, string>): SignedParameter[] {
  const parameters: SignedParameter[] = [];
  for (const [source, list] of [
    ['query', request.url.searchParams],
    ['form body', request.formParameters ?? new URLSearchParams()],
  ] as const) {
    for (const [name, value] of list) {
      if (name.startsWith('oauth_')) {
        throw malformed(`${name} in the ${source}: send OAuth parameters in the header only`);
      }
      parameters.push([name, value]);
    }
  }

  for (const [name, value] of header) {
    if (name !== 'oauth_signature' && name !== 'realm') parameters.push([name, value]);
  }
  return parameters;
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  // The length of an HMAC-SHA1 signature is public; only its bytes must be compared blind.
  return a.length === b.length && timingSafeEqual(a, b);
}

function malformed(detail: string): MtlsError {
  return new MtlsError(ErrorCode.OAuthMalformed, `malformed OAuth request: ${detail}`);
}
