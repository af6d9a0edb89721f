import { STATUS_CODES, type ServerResponse } from 'node:http';

import { ErrorCode } from '../../core/errors/codes';
import { BlockedDestinationError } from './destination-guard';
import type { RequestTarget } from './request-target';

/** A reply the proxy makes itself: status, stable code and a message the caller can act on. */
export type ProxyProblem = { status: number; code: ErrorCode; message: string };

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Sends a small JSON body `{code, message}` with the given status and extra headers. */
export function sendProblem(
  res: ServerResponse,
  problem: ProxyProblem,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ code: problem.code, message: problem.message });
  res.writeHead(problem.status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The status line of a response the proxy writes itself (the reason as Node would send it). */
export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

/** A whole problem response as bytes on the wire, for the relay that writes to the socket. */
export function problemResponse(
  problem: ProxyProblem,
  headers: Record<string, string> = {},
  close = false,
): string {
  const body = JSON.stringify({ code: problem.code, message: problem.message });
  let head = statusLine(problem.status);
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
  head += close ? 'connection: close\r\n' : 'connection: keep-alive\r\n';
  return `${head}\r\n${body}`;
}

/**
 * The answer to a failed upstream call, with the forwarding method's `LP-message-from-transport`
 * and `LP-error-from-transport` headers where they apply.
 */
export function transportFailure(
  err: unknown,
  target: RequestTarget,
): { problem: ProxyProblem; headers: Record<string, string> } {
  const forwardingMethod = target.form === 'forwarding-method';
  const problem = transportProblem(err, target.destination.host, forwardingMethod);
  const headers: Record<string, string> = forwardingMethod
    ? {
        'lp-message-from-transport': problem.message.replace(/[^\x20-\x7e]/g, ' '),
        'lp-error-from-transport': transportErrorCode(err).replace(/[^\x21-\x7e]/g, '_'),
      }
    : {};
  return { problem, headers };
}

/** The low-level code of a transport error (errno, undici or OpenSSL code). */
export function transportErrorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/**
 * What the caller sees when the upstream could not be reached or did not answer: 504 for a
 * timeout, 502 for a refused connection or a failed TLS handshake. The forwarding method reports
 * every transport failure as 424, as its callers expect.
 */
export function transportProblem(
  err: unknown,
  host: string,
  forwardingMethod: boolean,
): ProxyProblem {
  if (err instanceof BlockedDestinationError) {
    return { status: 403, code: err.code, message: err.message };
  }
  const low = transportErrorCode(err);
  const timedOut = TIMEOUT_CODES.has(low);
  const message = timedOut
    ? `${host} did not answer in time (${low})`
    : `could not reach ${host}: ${(err as Error).message} (${low})`;
  const code = timedOut ? ErrorCode.ProxyUpstreamTimeout : ErrorCode.ProxyUpstreamUnreachable;
  if (forwardingMethod) return { status: 424, code, message };
  return { status: timedOut ? 504 : 502, code, message };
}

/** The class of a status for a bounded metric label: `2xx`, `4xx`... */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
