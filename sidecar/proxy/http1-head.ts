import type { IncomingHttpHeaders } from 'node:http';

// Strict parsing of HTTP/1.1 message heads for the proxy's own relay. Requests are parsed only
// as far as the common case goes: anything unusual (another version or method, chunked or
// expect-continue bodies, an upgrade, a repeated header, a control character, an oversized
// head) is `unsupported`, and the connection goes to Node's HTTP server, which answers it
// exactly as it answers every request of that kind.

/** Most bytes of a head, as Node's default `maxHeaderSize`. */
export const MAX_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Control characters but HTAB, and CR or LF anywhere but in a CRLF line end.
// eslint-disable-next-line no-control-regex
const STRAY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\r(?!\n)|(?<!\r)\n/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |$)/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout=(\d+)/i;
const DIGITS = /^\d{1,15}$/;
const RELAYED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
// Request headers whose body framing or semantics the relay leaves to Node's server.
const HANDED_OVER = new Set(['transfer-encoding', 'expect', 'upgrade']);

/** One header line as received: the name in its original case, the value trimmed. */
export type HeaderLines = { names: string[]; values: string[] };

/** A request head the relay serves itself. */
export type RequestHead = HeaderLines & {
  method: string;
  url: string;
  /** Lower-case names; every name appears once in a head the relay accepts. */
  headers: IncomingHttpHeaders;
  /** Bytes of the head, up to and including the blank line. */
  headBytes: number;
  /** Bytes of the body that follows (Content-Length, or 0). */
  bodyBytes: number;
  /** The client asked to close the connection after this exchange. */
  close: boolean;
};

/** How a response body is delimited. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'until-close';

/** A response head from an upstream. */
export type ResponseHead = HeaderLines & {
  status: number;
  headBytes: number;
  framing: BodyFraming;
  /** Body bytes when framing is `length`. */
  length: number;
  /** The Content-Length header as sent, also where it does not frame a body (HEAD, 304). */
  contentLength?: string;
  /** The upstream keeps the connection open after this response. */
  keepAlive: boolean;
  /** Seconds the upstream says it keeps an idle connection (`Keep-Alive: timeout=N`). */
  keepAliveSeconds?: number;
};

/** Thrown for an upstream response that is not valid HTTP/1.1. */
export class UpstreamProtocolError extends Error {
  readonly code = 'UPSTREAM_PROTOCOL_ERROR';

  constructor(what: string) {
    super(`the upstream sent an invalid response: ${what}`);
    this.name = 'UpstreamProtocolError';
  }
}

/** Where a head ends (after its blank line), or -1 when the bytes so far hold no whole head. */
export function headLength(buffer: Buffer): number {
  const at = buffer.indexOf(HEAD_END);
  return at < 0 ? -1 : at + 4;
}

/**
 * Parses a request head at the start of `buffer`: `incomplete` when more bytes are needed,
 * `unsupported` when the request should go to Node's server instead.
 */
export function parseRequestHead(buffer: Buffer): RequestHead | 'incomplete' | 'unsupported' {
  const headBytes = headLength(buffer);
  if (headBytes < 0) return buffer.length > MAX_HEAD_BYTES ? 'unsupported' : 'incomplete';
  if (headBytes > MAX_HEAD_BYTES) return 'unsupported';

  const lines = splitHead(buffer, headBytes);
  if (lines === undefined) return 'unsupported';
  const requestLine = lines[0].split(' ');
  if (requestLine.length !== 3 || requestLine[2] !== 'HTTP/1.1') return 'unsupported';
  const method = requestLine[0];
  if (!RELAYED_METHODS.has(method)) return 'unsupported';

  const names: string[] = [];
  const values: string[] = [];
  const headers: IncomingHttpHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return 'unsupported';
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return 'unsupported';
    const lower = name.toLowerCase();
    if (headers[lower] !== undefined || HANDED_OVER.has(lower)) return 'unsupported';
    const value = trimSpaces(line.slice(colon + 1));
    headers[lower] = value;
    names.push(name);
    values.push(value);
  }

  const length = headers['content-length'] as string | undefined;
  if (length !== undefined && !DIGITS.test(length)) return 'unsupported';
  const connection = headers.connection as string | undefined;
  return {
    method,
    url: requestLine[1],
    names,
    values,
    headers,
    headBytes,
    bodyBytes: length === undefined ? 0 : Number(length),
    close: connection !== undefined && hasToken(connection.toLowerCase(), 'close'),
  };
}

/**
 * Parses a response head at the start of `buffer`, for a request of `method`; undefined when
 * more bytes are needed. Throws UpstreamProtocolError for a malformed or ambiguous head.
 */
export function parseResponseHead(buffer: Buffer, method: string): ResponseHead | undefined {
  const headBytes = headLength(buffer);
  if (headBytes < 0) {
    if (buffer.length > MAX_HEAD_BYTES) throw new UpstreamProtocolError('head too large');
    return undefined;
  }

  const lines = splitHead(buffer, headBytes);
  if (lines === undefined) throw new UpstreamProtocolError('control character in the head');
  const statusLine = STATUS_LINE.exec(lines[0]);
  if (!statusLine) throw new UpstreamProtocolError('bad status line');
  const status = Number(statusLine[2]);

  const names: string[] = [];
  const values: string[] = [];
  let length: string | undefined;
  let transferEncoding: string | undefined;
  let connection = '';
  let keepAliveSeconds: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new UpstreamProtocolError('bad header line');
    const value = trimSpaces(line.slice(colon + 1));
    names.push(name);
    values.push(value);

    // Only names of these lengths can be the few headers that frame the message.
    if (name.length !== 10 && name.length !== 14 && name.length !== 17) continue;
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (!DIGITS.test(value) || (length !== undefined && length !== value)) {
        throw new UpstreamProtocolError('bad Content-Length');
      }
      length = value;
    } else if (lower === 'transfer-encoding') {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
    } else if (lower === 'connection') {
      connection += `,${value.toLowerCase()}`;
    } else if (lower === 'keep-alive') {
      const timeout = KEEP_ALIVE_TIMEOUT.exec(value);
      if (timeout) keepAliveSeconds = Number(timeout[1]);
    }
  }

  const head: ResponseHead = {
    names,
    values,
    status,
    headBytes,
    framing: 'until-close',
    length: 0,
    contentLength: length,
    keepAlive:
      statusLine[1] === '1' ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive'),
    keepAliveSeconds,
  };
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) {
    head.framing = 'none';
  } else if (transferEncoding !== undefined) {
    if (length !== undefined) throw new UpstreamProtocolError('Content-Length and chunked');
    if (transferEncoding.trim().toLowerCase() !== 'chunked') {
      throw new UpstreamProtocolError(`unsupported Transfer-Encoding ${transferEncoding}`);
    }
    head.framing = 'chunked';
  } else if (length !== undefined) {
    head.framing = 'length';
    head.length = Number(length);
  } else {
    head.keepAlive = false;
  }
  return head;
}

/**
 * The lines of a head (its blank line left out), or undefined when it holds a control
 * character other than HTAB, or a CR or LF that is not part of a line end.
 */
function splitHead(buffer: Buffer, headBytes: number): string[] | undefined {
  const text = buffer.toString('latin1', 0, headBytes - 4);
  if (STRAY_CONTROL.test(text)) return undefined;
  return text.split('\r\n');
}

function trimSpaces(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === ' ' || value[start] === '\t')) start++;
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** True when a comma-separated list (lower case) holds a token. */
export function hasToken(list: string, token: string): boolean {
  if (list === token) return true;
  if (!list.includes(token)) return false;
  return list.split(',').some((item) => item.trim() === token);
}
