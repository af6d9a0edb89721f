import type { Socket } from 'node:net';

import { ErrorCode } from '../../core/errors/codes';

import { upstreamRequestHead } from './header-policy';
import { parseRequestHead, type RequestHead, type ResponseHead } from './http1-head';
import { problemResponse, transportFailure } from './proxy-replies';
import type { ProxyContext } from './proxy-context';
import { RelayResponseWriter } from './relay-response-writer';
import type { Decision, Outcome } from './request-gate';
import { UpstreamExchange, type ResponseSink } from './upstream-exchange';

/** How long a kept-alive client connection may sit idle between requests (as Node's server). */
export const CLIENT_KEEP_ALIVE_MS = 5_000;

// Bytes of a next (pipelined) request held while the current one is served.
const PIPELINE_LIMIT = 64 * 1024;

/** Longest a client may take to send a whole request head (as Node's `headersTimeout`). */
export const HEAD_TIMEOUT_MS = 60_000;

/**
 * One application connection served by the proxy's own HTTP/1.1 relay: request heads are
 * parsed here, bodies and responses pass through as bytes (a chunked response keeps its
 * framing), and the upstream side is a pooled mutual-TLS connection. The first request the
 * relay does not serve itself (see parseRequestHead) hands the connection to Node's server.
 */
export class RelayConnection implements ResponseSink {
  private buffered: Buffer | undefined;
  private exchange: UpstreamExchange | undefined;
  private request: RequestHead | undefined;
  private route: (Decision & { kind: 'route' }) | undefined;
  private startedAt = 0;
  private bodyLeft = 0;
  private closeAfter = false;
  private responseStarted = false;
  private status = 0;
  private ended = false;
  private headStartedAt = 0;
  private readonly source: string;
  private readonly responseWriter: RelayResponseWriter;

  constructor(
    private readonly socket: Socket,
    private readonly context: ProxyContext,
    private readonly onDone: (connection: RelayConnection) => void,
  ) {
    this.source = socket.remoteAddress ?? 'unknown';
    this.responseWriter = new RelayResponseWriter(socket, CLIENT_KEEP_ALIVE_MS / 1000, () =>
      this.exchange?.resume(),
    );
    socket.setNoDelay(true);
    // Armed for the connection's life; it fires only after that long without any traffic.
    socket.setTimeout(CLIENT_KEEP_ALIVE_MS);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('timeout', this.onIdle);
  }

  /** True while a request is being served. */
  get busy(): boolean {
    return this.request !== undefined;
  }

  /** Closes the connection if no request is being served; else it closes after the response. */
  closeWhenIdle(): void {
    if (this.busy) this.closeAfter = true;
    else this.socket.end();
  }

  /** Drops the connection whatever it is doing. */
  destroy(): void {
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    // After the proxy ended the connection, whatever the client still sends is dropped.
    if (this.ended) return;
    if (this.bodyLeft > 0) {
      const body = chunk.length <= this.bodyLeft ? chunk : chunk.subarray(0, this.bodyLeft);
      this.bodyLeft -= body.length;
      if (body.length < chunk.length) this.hold(chunk.subarray(body.length));
      if (!(this.exchange as UpstreamExchange).write(body)) {
        this.socket.pause();
        this.exchange?.onWritable(this.resumeReading);
      }
      return;
    }
    this.hold(chunk);
    if (!this.busy) this.serveBuffered();
  };

  private readonly resumeReading = (): void => {
    this.socket.resume();
  };

  private hold(chunk: Buffer): void {
    this.buffered = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    if (this.busy && this.buffered.length > PIPELINE_LIMIT) this.socket.pause();
  }

  private serveBuffered(): void {
    if (this.buffered === undefined || this.ended) return;
    const head = parseRequestHead(this.buffered);
    if (head === 'incomplete') {
      // A head trickled in byte by byte would hold the connection forever otherwise.
      const now = performance.now();
      if (this.headStartedAt === 0) this.headStartedAt = now;
      else if (now - this.headStartedAt > HEAD_TIMEOUT_MS) this.socket.destroy();
      return;
    }
    this.headStartedAt = 0;
    if (head === 'unsupported') {
      this.handOver();
      return;
    }

    const rest = this.buffered.subarray(head.headBytes);
    this.buffered = rest.length > 0 ? rest : undefined;
    this.request = head;
    this.startedAt = performance.now();
    this.responseStarted = false;
    this.context.requestStarted();
    if (head.close) this.closeAfter = true;

    let decision: Decision | Promise<Decision>;
    try {
      decision = this.context.gate.decide(this.source, head);
    } catch (err) {
      this.failInternally(err);
      return;
    }
    if (decision instanceof Promise) {
      // A shared rate-limit store is asked over the network; what the client sends meanwhile
      // is held in `buffered`, as for a pipelined request.
      decision
        .then(
          (decided) => this.proceed(head, decided),
          (err: unknown) => this.failInternally(err),
        )
        .catch((err: unknown) => {
          this.context.log.error('proxy request failed unexpectedly', { err });
          this.socket.destroy();
        });
      return;
    }
    this.proceed(head, decision);
  }

  private proceed(head: RequestHead, decision: Decision): void {
    if (this.ended) {
      // The client left while the decision was pending.
      this.complete(decision.kind === 'reply' ? decision.outcome : { status: 499 });
      return;
    }
    if (decision.kind === 'reply') {
      // The body of a refused request is not read: the connection closes after the answer.
      if (head.bodyBytes > 0) this.closeAfter = true;
      this.socket.write(problemResponse(decision.problem, decision.headers, this.closeAfter));
      this.complete(decision.outcome);
      return;
    }
    this.forward(head, decision);
  }

  private forward(head: RequestHead, route: Decision & { kind: 'route' }): void {
    const { target, plan } = route;
    const { host, port, path } = target.destination;
    const hostHeader = host.includes(':') ? `[${host}]` : host;
    const text = upstreamRequestHead(head.method, path, head, {
      host: port === 443 ? hostHeader : `${hostHeader}:${port}`,
      authorization: target.authorizationOverride,
      body: head.headers['content-length'] === undefined ? undefined : head.bodyBytes,
    });

    // Body bytes that came with the head go out with it.
    let initial: Buffer | undefined;
    const buffered = this.buffered;
    if (head.bodyBytes > 0 && buffered !== undefined) {
      initial = buffered.length <= head.bodyBytes ? buffered : buffered.subarray(0, head.bodyBytes);
      this.buffered = initial === buffered ? undefined : buffered.subarray(initial.length);
    }
    this.bodyLeft = head.bodyBytes - (initial?.length ?? 0);
    this.route = route;
    // Reading may have paused while a pending decision let the body pile up.
    if (this.bodyLeft > 0 && this.socket.isPaused()) this.socket.resume();

    // Pool lookup and dispatch happen in the same tick, so a rotation cannot close the pool
    // between them; a closing pool still finishes what was started on it.
    const pool = this.context.pools.poolFor(plan.route);
    const timeoutMs = this.context.upstreamTimeoutMs;
    this.exchange = new UpstreamExchange(
      pool,
      head.method,
      text,
      head.bodyBytes,
      initial,
      this,
      true,
      timeoutMs,
    );
  }

  onResponseHead(response: ResponseHead): void {
    this.responseStarted = true;
    this.status = response.status;
    // A body that ends with the connection, or an answer before the whole upload: the
    // connection cannot carry another request after this one.
    if (response.framing === 'until-close' || this.bodyLeft > 0) this.closeAfter = true;
    this.responseWriter.head(response, this.closeAfter);
  }

  onResponseBody(chunk: Buffer): boolean {
    return this.responseWriter.body(chunk);
  }

  flush(): void {
    this.responseWriter.flush();
  }

  onResponseEnd(): void {
    this.flush();
    this.complete(this.outcomeOf(this.status));
  }

  onFailure(err: Error): void {
    const route = this.route as Decision & { kind: 'route' };
    this.responseWriter.discard();
    if (this.responseStarted) {
      // Headers are gone already: the only honest signal left is to cut the response short.
      this.context.log.warn('upstream response cut short', {
        host: route.target.destination.host,
        err,
      });
      this.socket.destroy();
      this.complete(this.outcomeOf(this.status));
      return;
    }
    if (this.socket.destroyed) {
      this.complete(this.outcomeOf(499));
      return;
    }

    const failure = transportFailure(err, route.target);
    this.context.log.warn('upstream call failed', { host: route.target.destination.host, err });
    // A request whose body was not read whole leaves the connection out of step.
    if (this.bodyLeft > 0) this.closeAfter = true;
    this.socket.write(problemResponse(failure.problem, failure.headers, this.closeAfter));
    this.complete(this.outcomeOf(failure.problem.status));
  }

  private outcomeOf(status: number): Outcome {
    const route = this.route as Decision & { kind: 'route' };
    return { status, plan: route.plan, target: route.target };
  }

  private failInternally(err: unknown): void {
    this.context.log.error('proxy request failed unexpectedly', { err });
    this.closeAfter = true;
    const message = 'the proxy failed on this request; see its log';
    const problem = { status: 500, code: ErrorCode.ProxyInternal, message };
    this.socket.write(problemResponse(problem, {}, true));
    this.complete({ status: 500 });
  }

  private complete(outcome: Outcome): void {
    const request = this.request as RequestHead;
    const seconds = (performance.now() - this.startedAt) / 1000;
    this.context.recorder.record(request.method, outcome, seconds);
    this.context.requestFinished();
    this.request = undefined;
    this.exchange = undefined;
    this.route = undefined;

    if (this.closeAfter || this.bodyLeft > 0 || this.context.isClosing()) {
      this.bodyLeft = 0;
      this.buffered = undefined;
      this.ended = true;
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buffered !== undefined) setImmediate(() => this.serveBuffered());
  }

  private handOver(): void {
    const socket = this.socket;
    socket.removeListener('data', this.onData);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('close', this.onClose);
    socket.removeListener('error', this.onError);
    socket.removeListener('timeout', this.onIdle);
    socket.setTimeout(0);
    const buffered = this.buffered;
    this.buffered = undefined;
    this.ended = true;
    this.onDone(this);
    this.context.handOver(socket, buffered);
  }

  private readonly onEnd = (): void => {
    // The client sent all it will: answer what is in flight, then close.
    if (this.bodyLeft > 0) {
      this.socket.destroy();
      return;
    }
    if (this.busy) this.closeAfter = true;
    else this.socket.end();
  };

  private readonly onClose = (): void => {
    this.ended = true;
    this.onDone(this);
    if (this.busy && this.exchange && !this.responseStarted) {
      this.exchange.abort();
      this.complete(this.outcomeOf(499));
    } else if (this.busy && this.exchange) {
      this.exchange.abort();
      this.complete(this.outcomeOf(this.status));
    }
  };

  private readonly onError = (): void => {
    // A reset from the client: 'close' follows and cleans up.
  };

  private readonly onIdle = (): void => {
    if (!this.busy) this.socket.destroy();
  };
}
