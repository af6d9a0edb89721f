import { isIP } from 'node:net';
import tls from 'node:tls';

import type { UrlMatch } from './index-document';

/** The certificate and trust a live validation uses. */
export type ValidationCredentials = {
  chainPem: string;
  privateKeyPem: string;
  trustedCaPem?: string;
};

/**
 * Calls the mapping's URL over mutual TLS with its certificate (a HEAD request for the path
 * prefix) and resolves with undefined when the server answers HTTP, or with the transport
 * error's message. The request matters: with TLS 1.3 a server judges the client certificate
 * after the client considers the handshake done, so only an answer proves it was accepted.
 * Any status counts; the server accepted the certificate before it could answer. Wildcard hosts
 * cannot be dialled and are reported as such.
 */
export async function validateLive(
  match: UrlMatch,
  credentials: ValidationCredentials,
  timeoutMs: number,
): Promise<string | undefined> {
  if (match.host.startsWith('*.'))
    return `a wildcard host (${match.host}) cannot be validated live`;

  const { host, port } = match;
  const ca = credentials.trustedCaPem
    ? [...tls.rootCertificates, credentials.trustedCaPem]
    : undefined;
  const authority = isIP(host) === 6 ? `[${host}]` : host;
  const hostHeader = port === 443 ? authority : `${authority}:${port}`;

  return new Promise((resolve) => {
    let settled = false;
    const socket = tls.connect({
      host,
      port,
      // SNI carries host names only (RFC 6066).
      servername: isIP(host) ? undefined : host,
      cert: credentials.chainPem,
      key: credentials.privateKeyPem,
      ca,
      timeout: timeoutMs,
    });
    const finish = (problem: string | undefined): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(problem);
    };

    socket.once('secureConnect', () => {
      socket.write(
        `HEAD ${encodeURI(match.pathPrefix)} HTTP/1.1\r\nHost: ${hostHeader}\r\n` +
          'User-Agent: mtls-operator-validation\r\nConnection: close\r\n\r\n',
      );
    });
    socket.once('data', (chunk: Buffer) => {
      const http = chunk.subarray(0, 5).toString('latin1') === 'HTTP/';
      finish(http ? undefined : `${host}:${port} answered, but not with HTTP`);
    });
    socket.once('timeout', () => {
      finish(`no answer over mutual TLS from ${host}:${port} within ${timeoutMs} ms`);
    });
    socket.once('error', (err) => finish(`${host}:${port}: ${err.message}`));
    socket.once('close', () => finish(`${host}:${port} closed the connection without answering`));
  });
}
