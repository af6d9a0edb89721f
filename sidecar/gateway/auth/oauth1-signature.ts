import { createHmac } from 'node:crypto';

/** One request parameter as it enters the signature: decoded name and value. */
export type SignedParameter = readonly [name: string, value: string];

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * Percent-encodes a text as RFC 5849 section 3.6 asks: UTF-8 bytes, every byte but the
 * unreserved characters (ALPHA, DIGIT, `-`, `.`, `_`, `~`) as `%XX` in upper case.
 */
export function percentEncode(text: string): string {
  // encodeURIComponent differs from section 3.6 only by leaving these five characters alone.
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The base string URI of RFC 5849 section 3.4.1.2: scheme and host in lower case, the port only
 * when it is not the scheme's default, the path as sent; no query, no fragment.
 */
export function baseStringUri(url: URL): string {
  const scheme = url.protocol.toLowerCase();
  const host = url.hostname.toLowerCase();
  const port = url.port === '' || url.port === DEFAULT_PORTS[scheme] ? '' : `:${url.port}`;
  return `${scheme}//${host}${port}${url.pathname}`;
}

/**
 * The normalized parameter string of RFC 5849 section 3.4.1.3.2: every name and value encoded,
 * the pairs sorted by encoded name then encoded value, joined as `name=value&...`.
 */
export function normalizeParameters(parameters: Iterable<SignedParameter>): string {
  const encoded = [...parameters].map(([name, value]) => [
    percentEncode(name),
    percentEncode(value),
  ]);

  // Encoded text is plain ASCII, so code-unit order is the byte order the RFC asks for.
  encoded.sort(([nameA, valueA], [nameB, valueB]) =>
    compareAscii(nameA, nameB) === 0 ? compareAscii(valueA, valueB) : compareAscii(nameA, nameB),
  );
  return encoded.map(([name, value]) => `${name}=${value}`).join('&');
}

/** The signature base string of RFC 5849 section 3.4.1: method, base string URI, parameters. */
export function signatureBaseString(
  method: string,
  baseUri: string,
  parameters: Iterable<SignedParameter>,
): string {
  const normalized = normalizeParameters(parameters);
  return `${method.toUpperCase()}&${percentEncode(baseUri)}&${percentEncode(normalized)}`;
}

/**
 * The HMAC-SHA1 signature of RFC 5849 section 3.4.2, in base64: the key is the encoded client
 * secret and the encoded token secret joined by `&` (empty token secret when there is no token).
 */
export function hmacSha1Signature(
  baseString: string,
  consumerSecret: string,
  tokenSecret = '',
): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString, 'utf8').digest('base64');
}

function compareAscii(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
