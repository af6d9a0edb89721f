import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// Headers that describe one hop, never forwarded (RFC 9110 section 7.6.1), plus Host and
// Content-Length which the proxy sets itself for the upstream hop.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  // Node answers `Expect: 100-continue` itself; the upstream hop sends the body straight away.
  'expect',
]);

/** The forwarding method's control headers, which never leave the proxy. */
export const LP_HEADERS = {
  forwardUrl: 'lp-forward-url',
  serviceName: 'lp-service-name',
  authorizationOverride: 'lp-authorization-override',
  stopIfCertificateNotFound: 'lp-stop-if-certificate-not-found',
} as const;

/** Headers that may carry secrets; their values never reach a log line. */
export const SECRET_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

function connectionTokens(headers: IncomingHttpHeaders | Record<string, unknown>): Set<string> {
  const value = headers.connection;
  const text = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : '';
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}

function isHopHeader(name: string, listed: Set<string>): boolean {
  return (
    HOP_BY_HOP.has(name) || listed.has(name) || name.startsWith('proxy-') || name.startsWith('lp-')
  );
}

/** The request headers the upstream receives: hop-by-hop, Proxy-* and LP-* headers removed. */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
): Record<string, string | string[]> {
  const listed = connectionTokens(headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || isHopHeader(name, listed)) continue;
    out[name] = value;
  }
  return out;
}

/** The response headers the application receives: hop-by-hop headers of the upstream removed. */
export function downstreamResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const listed = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (name === 'content-length') out[name] = Array.isArray(value) ? value[0] : value;
    else if (!isHopHeader(name, listed)) out[name] = value;
  }
  return out;
}

/** True when a header value carries a control character (CR, LF, NUL...) that could split it. */
export function hasControlCharacters(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value);
}
