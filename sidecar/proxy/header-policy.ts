import type { HeaderLines } from './http1-head';

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

/** Names listed in the Connection headers of a message, lower case. */
function connectionTokens(lines: HeaderLines): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < lines.names.length; i++) {
    if (lines.names[i].toLowerCase() !== 'connection') continue;
    listed ??= new Set();
    for (const token of lines.values[i].split(',')) {
      const name = token.trim().toLowerCase();
      if (name) listed.add(name);
    }
  }
  return listed;
}

function isHopHeader(name: string, listed: Set<string> | undefined): boolean {
  return (
    HOP_BY_HOP.has(name) ||
    listed?.has(name) === true ||
    name.startsWith('proxy-') ||
    name.startsWith('lp-')
  );
}

/** What the proxy itself sets on the request the upstream receives. */
export type UpstreamRequestFraming = {
  host: string;
  /** Replaces every Authorization header of the application (LP-authorization-override). */
  authorization?: string;
  /** Content-Length of the body; `chunked` for a body of unknown length; absent: no body. */
  body?: number | 'chunked';
};

/**
 * The head of the request the upstream receives: the application's end-to-end headers in
 * their order, without hop-by-hop, Proxy-* and LP-* headers, with the proxy's Host, framing
 * and Authorization override.
 */
export function upstreamRequestHead(
  method: string,
  path: string,
  lines: HeaderLines,
  framing: UpstreamRequestFraming,
): string {
  const listed = connectionTokens(lines);
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${framing.host}\r\n`;
  for (let i = 0; i < lines.names.length; i++) {
    const lower = lines.names[i].toLowerCase();
    if (isHopHeader(lower, listed)) continue;
    if (framing.authorization !== undefined && lower === 'authorization') continue;
    head += `${lines.names[i]}: ${lines.values[i]}\r\n`;
  }
  if (framing.authorization !== undefined) head += `authorization: ${framing.authorization}\r\n`;
  if (framing.body === 'chunked') head += 'transfer-encoding: chunked\r\n';
  else if (framing.body !== undefined) head += `content-length: ${framing.body}\r\n`;
  return `${head}\r\n`;
}

/**
 * The upstream response headers the application receives, in their order: hop-by-hop headers
 * and the framing headers (which the relay sets itself) removed.
 */
export function downstreamHeaderLines(lines: HeaderLines): HeaderLines {
  const listed = connectionTokens(lines);
  const names: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < lines.names.length; i++) {
    if (isHopHeader(lines.names[i].toLowerCase(), listed)) continue;
    names.push(lines.names[i]);
    values.push(lines.values[i]);
  }
  return { names, values };
}

/** True when a header value carries a control character (CR, LF, NUL...) that could split it. */
export function hasControlCharacters(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value);
}
