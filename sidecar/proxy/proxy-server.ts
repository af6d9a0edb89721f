import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { ErrorCode } from '../../core/errors/codes';
import type { Logger } from '../../core/log/logger';
import type { SidecarMetrics } from '../admin/sidecar-metrics';
import type { CertificateSnapshot } from '../source/certificate-source';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './header-policy';
import { sendProblem, statusClass, transportErrorCode, transportProblem } from './proxy-replies';
import { ProxyRequestError } from './proxy-request-errors';
import { isPendingDecision, type RateLimitStore } from './rate-limit-store';
import { RateLimiter, type RateDecision } from './rate-limiter';
import { relayBody } from './response-relay';
import { resolveRequestTarget, type RequestTarget } from './request-target';
import { RoutePlanner, type RoutePlan, type UnmappedPolicy } from './route-planner';
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
  /** CAs trusted for every upstream besides the system roots. */
  extraCaPem?: string;
  log: Logger;
  metrics: SidecarMetrics;
  /** Most source addresses the rate limiter tracks at once. */
  maxRateLimitEntries?: number;
  /** Where rates are counted; an in-memory RateLimiter of `rate` and `burst` when absent. */
  rateLimitStore?: RateLimitStore;
};

type Outcome = { status: number; plan?: RoutePlan; target?: RequestTarget };

/**
 * The plain-HTTP proxy the application talks to. Every request form (forward proxy, transparent
 * redirect, forwarding method) goes through one path: rate limit, resolve the target, plan the
 * route from the current snapshot, then stream the request to the upstream over (mutual) TLS
 * and the response back.
 */
export class ProxyServer {
  private readonly server: Server;
  private readonly pools: UpstreamPools;
  private readonly limiter: RateLimitStore;
  private planner: RoutePlanner | undefined;
  private inFlight = 0;
  private drained: (() => void) | undefined;

  constructor(private readonly options: ProxyServerOptions) {
    this.pools = new UpstreamPools({
      timeoutMs: options.upstreamTimeoutMs,
      extraCaPem: options.extraCaPem,
      log: options.log,
      onHandshake: () => options.metrics.tlsHandshakes.inc(),
    });
    this.limiter =
      options.rateLimitStore ??
      new RateLimiter({
        rate: options.rate,
        burst: options.burst,
        maxEntries: options.maxRateLimitEntries,
      });
    this.server = createServer({ requireHostHeader: false }, (req, res) => this.handle(req, res));
    this.server.on('connect', (_req: IncomingMessage, socket: Socket) => refuseTunnel(socket));
    this.server.on('clientError', (err: Error, socket: Socket) => refuseMalformed(err, socket));
  }

  /** Uses a new snapshot for the next requests; pools of replaced certificates close when idle. */
  useSnapshot(snapshot: CertificateSnapshot): void {
    const { workloadLabels, unmapped } = this.options;
    this.planner = new RoutePlanner(snapshot, workloadLabels, unmapped);
    this.pools.retire(this.planner.currentIdentities());
  }

  /** True once a snapshot is in use. */
  get ready(): boolean {
    return this.planner !== undefined;
  }

  /** Starts listening; resolves with the port. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops accepting, lets in-flight requests finish, then closes the upstream pools. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.server.closeAllConnections();
    await closed;
    await this.pools.close();
  }

  /** Serves one request; the gateway hands over the requests its own listener accepted. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    this.inFlight++;

    this.serve(req, res)
      .catch((err: unknown) => {
        this.options.log.error('proxy request failed unexpectedly', { err });
        if (!res.headersSent) {
          sendProblem(res, {
            status: 500,
            code: ErrorCode.ProxyInternal,
            message: 'the proxy failed on this request; see its log',
          });
        } else res.destroy();
        return { status: 500 } as Outcome;
      })
      .then((outcome) => {
        this.record(req, outcome, (performance.now() - started) / 1000);
        if (--this.inFlight === 0) this.drained?.();
      });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<Outcome> {
    const source = req.socket.remoteAddress ?? 'unknown';
    const taken = this.limiter.take(source);
    // The in-memory limiter answers at once: no await, so no extra turn of the event loop.
    const decision = isPendingDecision(taken) ? await taken : taken;
    if (!decision.allowed) return this.refuseOverRate(res, decision);

    let target: RequestTarget;
    try {
      target = resolveRequestTarget(req, this.options.namespace);
    } catch (err) {
      if (!(err instanceof ProxyRequestError)) throw err;
      sendProblem(res, { status: err.status, code: err.code, message: err.message });
      return { status: err.status };
    }

    if (!this.planner) {
      const message = 'no certificates loaded yet; retry shortly';
      sendProblem(res, { status: 503, code: ErrorCode.ProxyNotReady, message });
      return { status: 503, target };
    }
    const plan = this.planner.plan(target);
    if (plan.kind === 'refuse') {
      sendProblem(res, plan.problem);
      return { status: plan.problem.status, plan, target };
    }
    return { status: await this.forward(req, res, target, plan), plan, target };
  }

  private refuseOverRate(
    res: ServerResponse,
    decision: RateDecision & { allowed: false },
  ): Outcome {
    const retryAfter = { 'retry-after': String(decision.retryAfterSeconds) };
    if (decision.storeUnavailable) {
      const message = 'the shared rate limit cannot be checked (Redis unreachable); retry shortly';
      sendProblem(
        res,
        { status: 503, code: ErrorCode.ProxyRateLimitUnavailable, message },
        retryAfter,
      );
      return { status: 503 };
    }

    this.options.metrics.throttled.inc();
    const message = `more than ${this.options.rate} requests per second from this address`;
    sendProblem(res, { status: 429, code: ErrorCode.ProxyRateLimited, message }, retryAfter);
    return { status: 429 };
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    target: RequestTarget,
    plan: RoutePlan & { kind: 'route' },
  ): Promise<number> {
    const { host, port, path } = target.destination;
    const headers = upstreamRequestHeaders(req.headers);
    headers.host = port === 443 ? hostHeader(host) : `${hostHeader(host)}:${port}`;
    if (target.authorizationOverride !== undefined)
      headers.authorization = target.authorizationOverride;
    const length = req.headers['content-length'];
    const hasBody =
      (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (length !== undefined && hasBody) headers['content-length'] = length;

    // A client that hangs up aborts the upstream call instead of leaving it to run on.
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });

    // Pool lookup and dispatch happen in the same tick, so a rotation cannot close the pool
    // between them; a closing pool still finishes what was queued on it.
    let upstream;
    try {
      upstream = await this.pools.poolFor(plan.route).request({
        path,
        method: req.method as 'GET',
        headers,
        body: hasBody ? req : null,
        signal: abort.signal,
      });
    } catch (err) {
      if (res.destroyed) return 499;
      const forwardingMethod = target.form === 'forwarding-method';
      const problem = transportProblem(err, host, forwardingMethod);
      this.options.log.warn('upstream call failed', { host, err });
      const lp: Record<string, string> = forwardingMethod
        ? {
            'lp-message-from-transport': problem.message.replace(/[^\x20-\x7e]/g, ' '),
            'lp-error-from-transport': transportErrorCode(err),
          }
        : {};
      sendProblem(res, problem, lp);
      return problem.status;
    }

    res.writeHead(upstream.statusCode, downstreamResponseHeaders(upstream.headers));
    try {
      await relayBody(upstream.body, res);
    } catch (err) {
      // Headers are gone already: the only honest signal left is to cut the response short.
      this.options.log.warn('upstream response cut short', { host, err });
      res.destroy();
    }
    return upstream.statusCode;
  }

  private record(req: IncomingMessage, outcome: Outcome, seconds: number): void {
    const mapping = outcome.plan?.kind === 'route' ? outcome.plan.mapping : undefined;
    const mapped = mapping ? 'true' : 'false';
    this.options.metrics.requests.inc({
      mapped,
      upstream_host: mapping ? mapping.match.host : 'unmapped',
      status_class: statusClass(outcome.status),
    });
    this.options.metrics.duration.observe({ mapped }, seconds);
    this.options.log.info('request', {
      method: req.method,
      host: outcome.target?.destination.host,
      form: outcome.target?.form,
      service: outcome.target?.serviceName,
      status: outcome.status,
      durationMs: Math.round(seconds * 1000),
      mapping: mapping?.name,
      certificate: mapping?.certificate.name,
    });
  }
}

function hostHeader(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
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
