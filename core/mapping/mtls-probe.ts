import https from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates, type TLSSocket } from 'node:tls';

import type { Destination } from './mapping-table';

/** The client certificate and the CAs a probe uses. */
export type ProbeCredentials = {
  chainPem: string;
  privateKeyPem: string;
  /** CAs trusted for the upstream besides the system roots (a mapping's, a user's file). */
  extraCaPems: string[];
};

/** What a live probe found: the handshake and the HTTP answer, or why it failed. */
export type ProbeOutcome = {
  ok: boolean;
  /** The negotiated TLS version, once the handshake completed. */
  tlsVersion?: string;
  /** The subject of the server's certificate, once the handshake completed. */
  serverSubject?: string;
  httpStatus?: number;
  error?: string;
};

/**
 * Calls the destination over mutual TLS with the certificate, as the sidecar would: SNI for host
 * names, the server verified against the system roots and the extra CAs. It sends a HEAD request
 * and waits for the answer, because under TLS 1.3 a server refuses a client certificate only
 * after the client has seen the handshake complete; any HTTP status means the server accepted it.
 */
export function probeMutualTls(
  destination: Destination,
  credentials: ProbeCredentials,
  timeoutMs: number,
  userAgent: string,
): Promise<ProbeOutcome> {
  const { host, port, path } = destination;
  const { extraCaPems } = credentials;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;

  return new Promise((resolve) => {
    const seen: ProbeOutcome = { ok: false };
    const request = https.request({
      host,
      port,
      path,
      method: 'HEAD',
      headers: { 'user-agent': userAgent },
      cert: credentials.chainPem,
      key: credentials.privateKeyPem,
      // Without extra CAs Node's default store applies, NODE_EXTRA_CA_CERTS included.
      ca: extraCaPems.length > 0 ? [...rootCertificates, ...extraCaPems] : undefined,
      servername: isIP(host) ? '' : host,
      agent: false,
      timeout: timeoutMs,
    });

    request.on('socket', (socket) => {
      socket.once('secureConnect', () => {
        const tlsSocket = socket as TLSSocket;
        seen.tlsVersion = tlsSocket.getProtocol() ?? undefined;
        seen.serverSubject = subjectOf(tlsSocket);
      });
    });
    request.on('response', (response) => {
      response.resume();
      request.destroy();
      resolve({ ...seen, ok: true, httpStatus: response.statusCode });
    });
    request.on('timeout', () => {
      request.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    request.on('error', (err) => {
      const afterHandshake = seen.tlsVersion
        ? 'the server ended the connection after the handshake, which is how it refuses a ' +
          'client certificate: '
        : '';
      resolve({ ...seen, ok: false, error: `${where}: ${afterHandshake}${err.message}` });
    });
    request.end();
  });
}

function subjectOf(socket: TLSSocket): string | undefined {
  const subject = socket.getPeerCertificate()?.subject;
  if (!subject) return undefined;
  return Object.entries(subject)
    .map(([field, value]) => `${field}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(',');
}
