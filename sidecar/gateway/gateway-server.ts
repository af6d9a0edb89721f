import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { ErrorCode } from '../../core/errors/codes';
import type { Logger } from '../../core/log/logger';
import type { SidecarMetrics } from '../admin/sidecar-metrics';
import { InFlightRequests } from '../proxy/in-flight-requests';
import { sendProblem } from '../proxy/proxy-replies';
import { isPendingDecision, type RateLimitStore } from '../proxy/rate-limit-store';
import type { ApiRouter } from './api/api-router';
import type { ClientAddress } from './client-address';
import type { ForwardingHandler } from './forwarding/forwarding-handler';

/** Options of the gateway's listener. */
export type GatewayServerOptions = {
  api: ApiRouter;
  forwarding: ForwardingHandler;
  /** The per-source rate limit, in memory or shared by the replicas. */
  limiter: RateLimitStore;
  /** Which source a request counts against (X-Forwarded-For from trusted proxies). */
  clientAddress: ClientAddress;
  /** Requests per second a source may send, for the message of a refusal. */
  rate: number;
  log: Logger;
  metrics: SidecarMetrics;
  /** How long a stop waits for requests in flight before it ends their connections. */
  shutdownTimeoutMs?: number;
};

const FORWARDING_PATH = /^\/mtls\/account\/([^/?]+)\/?(?:\?.*)?$/;

/**
 * The gateway's one port: the API under /api/ and the forwarding method under
 * /mtls/account/<namespace>, both behind the per-address rate limit. It is not a forward proxy
 * and takes no transparent traffic: it has no workload whose mappings those would use.
 */
export class GatewayServer {
  private readonly server: Server;
  private readonly inFlight = new InFlightRequests();

  constructor(private readonly options: GatewayServerOptions) {
    this.server = createServer({ requireHostHeader: false }, (req, res) => this.handle(req, res));
    this.server.on('connect', (_req: IncomingMessage, socket: Socket) => {
      refuseRaw(socket, '405 Method Not Allowed', 'the gateway opens no CONNECT tunnels');
    });
    this.server.on('clientError', (_err: Error, socket: Socket) => {
      if (socket.writable) refuseRaw(socket, '400 Bad Request', 'malformed HTTP request');
      else socket.destroy();
    });
  }

  /** Starts listening; resolves with the port. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /**
   * Stops accepting and lets the requests in flight finish, for at most the shutdown timeout,
   * after which their connections are ended.
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const finished = await this.inFlight.drainWithin(this.options.shutdownTimeoutMs);
    if (!finished) {
      this.options.log.warn('shutdown timeout passed, ending requests in flight', {
        inFlight: this.inFlight.size,
      });
    }
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight.started();
    res.once('close', () => this.inFlight.finished());

    this.route(req, res).catch((err: unknown) => {
      this.options.log.error('gateway request failed unexpectedly', { err });
      if (!res.headersSent) {
        const message = 'the gateway failed on this request; see its log';
        sendProblem(res, { status: 500, code: ErrorCode.ProxyInternal, message });
      } else res.destroy();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const taken = this.options.limiter.take(this.options.clientAddress.of(req));
    const decision = isPendingDecision(taken) ? await taken : taken;
    if (!decision.allowed) {
      const retryAfter = { 'retry-after': String(decision.retryAfterSeconds) };
      if (decision.storeUnavailable) {
        const message =
          'the shared rate limit cannot be checked (Redis unreachable); retry shortly';
        const code = ErrorCode.ProxyRateLimitUnavailable;
        sendProblem(res, { status: 503, code, message }, retryAfter);
        return;
      }
      this.options.metrics.throttled.inc();
      const message = `more than ${this.options.rate} requests per second from this address`;
      sendProblem(res, { status: 429, code: ErrorCode.ProxyRateLimited, message }, retryAfter);
      return;
    }

    const target = req.url ?? '/';
    if (target === '/api' || target.startsWith('/api/')) {
      await this.options.api.handle(req, res);
      return;
    }
    const forwarding = FORWARDING_PATH.exec(target);
    if (forwarding) {
      const namespace = decodeNamespace(forwarding[1]);
      if (namespace !== undefined) {
        await this.options.forwarding.handle(req, res, namespace);
        return;
      }
    }

    const message =
      'the gateway serves its API under /api/ and the forwarding method at ' +
      '/mtls/account/<namespace> with LP-forward-url; it is not a forward proxy';
    const status = target.startsWith('/') ? 404 : 400;
    sendProblem(res, { status, code: ErrorCode.ProxyRequestInvalid, message });
  }
}

function decodeNamespace(segment: string): string | undefined {
  try {
    const namespace = decodeURIComponent(segment);
    return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace) ? namespace : undefined;
  } catch {
    return undefined;
  }
}

// Answers on a socket the HTTP server no longer handles (a tunnel request, a parse error).
function refuseRaw(socket: Socket, statusLine: string, message: string): void {
  const body = JSON.stringify({ code: ErrorCode.ProxyRequestInvalid, message });
  socket.end(
    `HTTP/1.1 ${statusLine}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
