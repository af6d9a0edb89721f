import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';

import { ErrorCode } from '../../core/errors/codes';
import type { Logger } from '../../core/log/logger';
import type { SidecarMetrics } from '../admin/sidecar-metrics';
import type { CertificateSnapshot } from '../source/certificate-source';
import { AccessLog, type AccessLogSink } from './access-log';
import { InFlightRequests } from './in-flight-requests';
import { serveWithNode } from './node-http-front';
import type { ProxyContext } from './proxy-context';
import { transportErrorCode } from './proxy-replies';
import type { RateLimitStore } from './rate-limit-store';
import { RateLimiter } from './rate-limiter';
import { RelayConnection } from './relay-connection';
import { RequestGate } from './request-gate';
import { RequestRecorder } from './request-recorder';
import { RoutePlanner, type UnmappedPolicy } from './route-planner';
import { UpstreamPools } from './upstream-pools';

/** Options of the proxy listener. */
export type ProxyServerOptions = {
  namespace: string;
  /** Labels of the calling workload, matched against mapping selectors. */
  workloadLabels: Record<string, string>;
  unmapped: UnmappedPolicy;
  rate: number;
  burst: number;
  upstreamTimeoutMs: number;
  /** How long close() lets requests in flight run before it ends them; no limit when absent. */
  shutdownTimeoutMs?: number;
  /** CAs trusted for every upstream besides the system roots. */
  extraCaPem?: string;
  log: Logger;
  metrics: SidecarMetrics;
  /** Where access-log lines go (standard error when absent); none when `accessLog` is false. */
  accessLogSink?: AccessLogSink;
  /** Write an access-log line per request (the log level is `info` or `debug`). */
  accessLog?: boolean;
  /** Most source addresses the rate limiter tracks at once. */
  maxRateLimitEntries?: number;
  /** Where rates are counted; an in-memory RateLimiter of `rate` and `burst` when absent. */
  rateLimitStore?: RateLimitStore;
};

/**
 * The plain-HTTP proxy the application talks to. Every request form (forward proxy, transparent
 * redirect, forwarding method) goes through one path: rate limit, resolve the target, plan the
 * route from the current snapshot, then stream the request to the upstream over (mutual) TLS
 * and the response back.
 *
 * Connections are served by the proxy's own HTTP/1.1 relay, which keeps the common requests
 * cheap; a request it does not serve itself (chunked or expect-continue uploads, HTTP/1.0,
 * anything malformed) hands its connection to Node's HTTP server, which parses and answers it
 * as strictly as ever, over the same upstream pools.
 */
export class ProxyServer {
  private readonly server: NetServer;
  private readonly nodeServer: Server;
  private readonly relays = new Set<RelayConnection>();
  private readonly pools: UpstreamPools;
  private readonly gate: RequestGate;
  private readonly accessLog: AccessLog;
  private readonly context: ProxyContext;
  private closing = false;
  private readonly inFlight = new InFlightRequests();

  constructor(private readonly options: ProxyServerOptions) {
    this.pools = new UpstreamPools({
      timeoutMs: options.upstreamTimeoutMs,
      extraCaPem: options.extraCaPem,
      log: options.log,
      onHandshake: () => options.metrics.tlsHandshakes.inc(),
    });
    const limiter: RateLimitStore =
      options.rateLimitStore ??
      new RateLimiter({
        rate: options.rate,
        burst: options.burst,
        maxEntries: options.maxRateLimitEntries,
      });
    this.gate = new RequestGate(limiter, options.namespace, options.rate, () =>
      options.metrics.throttled.inc(),
    );
    this.accessLog = new AccessLog(
      options.accessLogSink ?? process.stderr,
      'sidecar',
      options.accessLog ?? true,
    );

    this.context = {
      gate: this.gate,
      pools: this.pools,
      recorder: new RequestRecorder(options.metrics, this.accessLog),
      upstreamTimeoutMs: options.upstreamTimeoutMs,
      log: options.log,
      isClosing: () => this.closing,
      handOver: (socket, buffered) => this.handOver(socket, buffered),
      requestStarted: () => this.inFlight.started(),
      requestFinished: () => this.inFlight.finished(),
    };

    this.nodeServer = createHttpServer({ requireHostHeader: false }, (req, res) =>
      serveWithNode(this.context, req, res),
    );
    this.nodeServer.on('connect', (_req: IncomingMessage, socket: Socket) => refuseTunnel(socket));
    this.nodeServer.on('clientError', (err: Error, socket: Socket) => refuseMalformed(err, socket));
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Uses a new snapshot for the next requests; pools of replaced certificates close when idle. */
  useSnapshot(snapshot: CertificateSnapshot): void {
    const { workloadLabels, unmapped } = this.options;
    const planner = new RoutePlanner(snapshot, workloadLabels, unmapped);
    this.gate.planner = planner;
    this.pools.retire(planner.currentIdentities());
  }

  /** True once a snapshot is in use. */
  get ready(): boolean {
    return this.gate.planner !== undefined;
  }

  /** Starts listening; resolves with the port. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** The address and port the proxy listens on, once it does. */
  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /**
   * Stops accepting, lets in-flight requests finish (for at most the shutdown timeout, after
   * which their connections are ended), then closes the upstream pools.
   */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const relay of this.relays) relay.closeWhenIdle();
    this.nodeServer.closeIdleConnections();

    const finished = await this.inFlight.drainWithin(this.options.shutdownTimeoutMs);
    if (!finished) {
      this.options.log.warn('shutdown timeout passed, ending requests in flight', {
        inFlight: this.inFlight.size,
      });
      this.pools.destroy();
    }
    for (const relay of this.relays) relay.destroy();
    this.nodeServer.closeAllConnections();
    await closed;
    await this.pools.close();
    this.accessLog.flush();
  }

  /**
   * Serves one request that another listener accepted: the gateway hands over the requests of
   * its forwarding lanes. They go through Node's front end, with the same gate and pools.
   * `body` is the whole request body when the gateway had to read it already.
   */
  handle(req: IncomingMessage, res: ServerResponse, body?: Buffer): void {
    serveWithNode(this.context, req, res, body);
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const relay = new RelayConnection(socket, this.context, (done) => this.relays.delete(done));
    this.relays.add(relay);
  }

  private handOver(socket: Socket, buffered: Buffer | undefined): void {
    if (buffered) socket.unshift(buffered);
    this.nodeServer.emit('connection', socket);
  }
}

function refuseTunnel(socket: Socket): void {
  const body = JSON.stringify({
    code: ErrorCode.ProxyRequestInvalid,
    message:
      'CONNECT tunnels cannot carry a client certificate; call http:// URLs through the proxy',
  });
  socket.end(
    `HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function refuseMalformed(err: Error, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({
    code: ErrorCode.ProxyRequestInvalid,
    message: `malformed HTTP request (${transportErrorCode(err)})`,
  });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
