import { isIP } from 'node:net';
import tls from 'node:tls';

import type { UrlMatch } from '../../core/mapping/index-document';

/** The certificate and trust a live validation uses. */
export type ValidationCredentials = {
  chainPem: string;
  privateKeyPem: string;
  trustedCaPem?: string;
};

/**
 * Completes a mutual-TLS handshake with the mapping's host using its certificate, and resolves
 * with undefined on success or with the transport error's message. Wildcard hosts cannot be
 * dialled and are reported as such.
 */
export async function validateLive(
  match: UrlMatch,
  credentials: ValidationCredentials,
  timeoutMs: number,
): Promise<string | undefined> {
  if (match.host.startsWith('*.'))
    return `a wildcard host (${match.host}) cannot be validated live`;

  const ca = credentials.trustedCaPem
    ? [...tls.rootCertificates, credentials.trustedCaPem]
    : undefined;
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: match.host,
      port: match.port,
      // SNI carries host names only (RFC 6066).
      servername: isIP(match.host) ? undefined : match.host,
      cert: credentials.chainPem,
      key: credentials.privateKeyPem,
      ca,
      timeout: timeoutMs,
    });
    socket.once('secureConnect', () => {
      socket.end();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no TLS handshake with ${match.host}:${match.port} within ${timeoutMs} ms`);
    });
    socket.once('error', (err) => resolve(`${match.host}:${match.port}: ${err.message}`));
  });
}
