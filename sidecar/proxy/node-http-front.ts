import type { IncomingMessage, ServerResponse } from 'node:http';

import { ErrorCode } from '../../core/errors/codes';
import { downstreamHeaderLines, upstreamRequestHead } from './header-policy';
import type { HeaderLines, ResponseHead } from './http1-head';
import type { ProxyContext } from './proxy-context';
import { sendProblem, transportFailure } from './proxy-replies';
import type { Decision, Outcome } from './request-gate';
import { UpstreamExchange, type ResponseSink } from './upstream-exchange';

const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * Serves a request that came through Node's HTTP server: the requests the relay hands over
 * (chunked or expect-continue uploads, HTTP/1.0, and anything malformed, which Node answers).
 * The upstream side is the same pooled exchange as the relay's, with decoded bodies. `body`,
 * when given, is the whole request body, already read from `req`.
 */
export function serveWithNode(
  context: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  body?: Buffer,
): void {
  const startedAt = performance.now();
  context.requestStarted();
  const finish = (outcome: Outcome): void => {
    context.recorder.record(req.method, outcome, (performance.now() - startedAt) / 1000);
    context.requestFinished();
  };

  const fail = (err: unknown): void => {
    context.log.error('proxy request failed unexpectedly', { err });
    const message = 'the proxy failed on this request; see its log';
    sendProblem(res, { status: 500, code: ErrorCode.ProxyInternal, message });
    finish({ status: 500 });
  };

  let decision: Decision | Promise<Decision>;
  try {
    decision = context.gate.decide(req.socket.remoteAddress ?? 'unknown', req);
  } catch (err) {
    fail(err);
    return;
  }
  if (decision instanceof Promise) {
    decision
      .then((decided) => proceed(context, req, res, decided, finish, body), fail)
      .catch((err: unknown) => {
        context.log.error('proxy request failed unexpectedly', { err });
        res.destroy();
      });
    return;
  }
  proceed(context, req, res, decision, finish, body);
}

function proceed(
  context: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  decision: Decision,
  finish: (outcome: Outcome) => void,
  body: Buffer | undefined,
): void {
  if (decision.kind === 'reply') {
    sendProblem(res, decision.problem, decision.headers);
    finish(decision.outcome);
    return;
  }
  if (res.destroyed) {
    // The client left while a shared rate-limit store was asked.
    finish({ status: 499, plan: decision.plan, target: decision.target });
    return;
  }
  new NodeExchange(context, req, res, decision, finish).start(body);
}

class NodeExchange implements ResponseSink {
  private exchange: UpstreamExchange | undefined;
  private status = 0;

  constructor(
    private readonly context: ProxyContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly route: Decision & { kind: 'route' },
    private readonly finish: (outcome: Outcome) => void,
  ) {}

  start(readBody: Buffer | undefined): void {
    const { req, res } = this;
    const { target, plan } = this.route;
    const { host, port, path } = target.destination;
    const length = readBody === undefined ? req.headers['content-length'] : readBody.length;
    const chunked = length === undefined && req.headers['transfer-encoding'] !== undefined;
    const bodyBytes = chunked ? -1 : length === undefined ? 0 : Number(length);
    const hostHeader = host.includes(':') ? `[${host}]` : host;
    const head = upstreamRequestHead(req.method ?? 'GET', path, headerLinesOf(req.rawHeaders), {
      host: port === 443 ? hostHeader : `${hostHeader}:${port}`,
      authorization: target.authorizationOverride,
      body: chunked ? 'chunked' : length === undefined ? undefined : bodyBytes,
    });

    const pool = this.context.pools.poolFor(plan.route);
    const exchange = new UpstreamExchange(
      pool,
      req.method ?? 'GET',
      head,
      bodyBytes,
      readBody !== undefined && readBody.length > 0 ? readBody : undefined,
      this,
      false,
      this.context.upstreamTimeoutMs,
    );
    this.exchange = exchange;

    // A client that hangs up aborts the upstream call instead of leaving it to run on.
    res.on('close', () => {
      if (res.writableFinished || this.exchange === undefined) return;
      this.exchange.abort();
      this.exchange = undefined;
      this.finish(this.outcomeOf(this.status || 499));
    });

    if (bodyBytes === 0 || readBody !== undefined) return;
    req.on('data', (chunk: Buffer) => {
      if (chunk.length === 0) return;
      const writable = chunked
        ? exchange.write(Buffer.from(`${chunk.length.toString(16)}\r\n`)) &&
          exchange.write(chunk) &&
          exchange.write(CRLF)
        : exchange.write(chunk);
      if (!writable) {
        req.pause();
        exchange.onWritable(() => req.resume());
      }
    });
    if (chunked) req.on('end', () => exchange.write(LAST_CHUNK, true));
  }

  onResponseHead(response: ResponseHead): void {
    this.status = response.status;
    const kept = downstreamHeaderLines(response);
    const flat: string[] = [];
    for (let i = 0; i < kept.names.length; i++) flat.push(kept.names[i], kept.values[i]);
    if (response.framing !== 'chunked' && response.contentLength !== undefined) {
      flat.push('content-length', response.contentLength);
    }
    this.res.writeHead(response.status, flat);
  }

  onResponseBody(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', () => this.exchange?.resume());
    return false;
  }

  flush(): void {
    // ServerResponse writes (and corks) as it goes.
  }

  onResponseEnd(): void {
    this.exchange = undefined;
    this.res.end();
    this.finish(this.outcomeOf(this.status));
  }

  onFailure(err: Error): void {
    this.exchange = undefined;
    const { target } = this.route;
    if (this.res.headersSent) {
      this.context.log.warn('upstream response cut short', { host: target.destination.host, err });
      this.res.destroy();
      this.finish(this.outcomeOf(this.status));
      return;
    }
    const failure = transportFailure(err, target);
    this.context.log.warn('upstream call failed', { host: target.destination.host, err });
    sendProblem(this.res, failure.problem, failure.headers);
    this.finish(this.outcomeOf(failure.problem.status));
  }

  private outcomeOf(status: number): Outcome {
    return { status, plan: this.route.plan, target: this.route.target };
  }
}

function headerLinesOf(raw: string[]): HeaderLines {
  const names: string[] = [];
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    names.push(raw[i]);
    values.push(raw[i + 1]);
  }
  return { names, values };
}
