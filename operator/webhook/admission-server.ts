import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import { ErrorCode, hasCode } from '../../core/errors/codes';
import type { Logger } from '../../core/log/logger';
import { readAdmissionRequest, type AdmissionRequest } from './admission-review';
import type { PodAdmission } from './pod-admission';
import type { AdmissionResult } from './webhook-metrics';

/** The path the webhook configuration names. */
export const MUTATE_PODS_PATH = '/mutate-pods';

// An AdmissionReview carries one object of at most the apiserver's 3 MiB request limit.
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A key and certificate chain in PEM, to serve with. */
export type ServingIdentity = { keyPem: string; certPem: string };

/** What the admission server needs. */
export type AdmissionServerOptions = {
  identity: ServingIdentity;
  admit: (request: AdmissionRequest) => Promise<PodAdmission>;
  log: Logger;
  onAnswered?: (result: AdmissionResult) => void;
  maxBodyBytes?: number;
};

/**
 * The webhook's HTTPS server: AdmissionReview v1 in, AdmissionReview v1 out, at one path. Bad
 * input gets a 4xx answer and a failure of our own a 500, never a crash; the certificate can be
 * swapped while it serves.
 */
export class AdmissionServer {
  private readonly server: https.Server;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: AdmissionServerOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.server = https.createServer(
      { key: options.identity.keyPem, cert: options.identity.certPem, minVersion: 'TLSv1.2' },
      (request, response) => void this.handle(request, response),
    );
    // The apiserver gives a webhook 10 s by default; a slower client is not one of its calls.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    // Idle connections are closed by the apiserver (90 s) before the server would: a POST on a
    // connection the server has just closed fails instead of being retried.
    this.server.keepAliveTimeout = 120_000;
  }

  /** Whether the server accepts connections: from `listen` until `close`. */
  get listening(): boolean {
    return this.server.listening;
  }

  /** Starts listening and returns the port. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Serves new connections with another key and certificate; open ones keep theirs. */
  setIdentity(identity: ServingIdentity): void {
    this.server.setSecureContext({ key: identity.keyPem, cert: identity.certPem });
  }

  /** Stops accepting connections and closes the open ones once their requests are answered. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse) {
    const url = new URL(request.url ?? '/', 'https://webhook');
    if (url.pathname !== MUTATE_PODS_PATH) return this.plain(response, 404, 'not found');
    if (request.method !== 'POST') return this.plain(response, 405, 'use POST');

    let body: unknown;
    try {
      body = JSON.parse(await this.readBody(request));
    } catch (err) {
      const tooLarge = err instanceof BodyTooLarge;
      if (tooLarge) response.setHeader('connection', 'close');
      return this.plain(response, tooLarge ? 413 : 400, (err as Error).message);
    }

    let admission: PodAdmission;
    try {
      admission = await this.options.admit(readAdmissionRequest(body));
    } catch (err) {
      if (hasCode(err, ErrorCode.AdmissionRequestInvalid))
        return this.plain(response, 400, (err as Error).message);
      this.options.log.error('admission failed', { err });
      this.options.onAnswered?.('error');
      return this.plain(response, 500, `admission failed: ${(err as Error).message}`);
    }

    this.options.onAnswered?.(admission.result);
    const text = JSON.stringify(admission.review);
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  }

  private readBody(request: http.IncomingMessage): Promise<string> {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) return Promise.reject(new BodyTooLarge(this.maxBodyBytes));

    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          request.removeAllListeners('data');
          request.resume();
          reject(new BodyTooLarge(this.maxBodyBytes));
          return;
        }
        chunks.push(chunk);
      });
      request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      request.on('error', reject);
    });
  }

  private plain(response: http.ServerResponse, status: number, message: string): void {
    if (response.headersSent) return;
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`${message}\n`);
  }
}

class BodyTooLarge extends Error {
  constructor(limit: number) {
    super(`the body is over ${limit} bytes`);
  }
}
