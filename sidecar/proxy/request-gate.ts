import { ErrorCode } from '../../core/errors/codes';
import type { ProxyProblem } from './proxy-replies';
import { ProxyRequestError } from './proxy-request-errors';
import type { RateLimiter } from './rate-limiter';
import { resolveRequestTarget, type RequestLine, type RequestTarget } from './request-target';
import type { RoutePlan, RoutePlanner } from './route-planner';

/** What became of a request, for the access log and the metrics. */
export type Outcome = { status: number; plan?: RoutePlan; target?: RequestTarget };

/** The gate's verdict: answer the request right away, or route it upstream. */
export type Decision =
  | { kind: 'reply'; problem: ProxyProblem; headers?: Record<string, string>; outcome: Outcome }
  | { kind: 'route'; target: RequestTarget; plan: RoutePlan & { kind: 'route' } };

/**
 * Everything the proxy decides before calling an upstream, the same for every request form
 * and for both HTTP front ends: rate limit, the request's target, and its route from the
 * current certificate snapshot.
 */
export class RequestGate {
  /** Replaced with each snapshot; undefined until the first one loads. */
  planner: RoutePlanner | undefined;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly namespace: string,
    private readonly rate: number,
    private readonly onThrottled: () => void,
  ) {}

  /** Decides about one request from a source address. */
  decide(source: string, request: RequestLine): Decision {
    const verdict = this.limiter.take(source);
    if (!verdict.allowed) {
      this.onThrottled();
      const message = `more than ${this.rate} requests per second from this address`;
      return {
        kind: 'reply',
        problem: { status: 429, code: ErrorCode.ProxyRateLimited, message },
        headers: { 'retry-after': String(verdict.retryAfterSeconds) },
        outcome: { status: 429 },
      };
    }

    let target: RequestTarget;
    try {
      target = resolveRequestTarget(request, this.namespace);
    } catch (err) {
      if (!(err instanceof ProxyRequestError)) throw err;
      const problem = { status: err.status, code: err.code, message: err.message };
      return { kind: 'reply', problem, outcome: { status: err.status } };
    }

    if (!this.planner) {
      const message = 'no certificates loaded yet; retry shortly';
      const problem = { status: 503, code: ErrorCode.ProxyNotReady, message };
      return { kind: 'reply', problem, outcome: { status: 503, target } };
    }
    const plan = this.planner.plan(target);
    if (plan.kind === 'refuse') {
      const outcome = { status: plan.problem.status, plan, target };
      return { kind: 'reply', problem: plan.problem, outcome };
    }
    return { kind: 'route', target, plan };
  }
}
