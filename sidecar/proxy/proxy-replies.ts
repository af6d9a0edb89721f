import type { ServerResponse } from 'node:http';

import { ErrorCode } from '../../core/errors/codes';
import { BlockedDestinationError } from './destination-guard';

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
