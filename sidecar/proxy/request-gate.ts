import { ErrorCode } from '../../core/errors/codes';
import type { ProxyProblem } from './proxy-replies';
import { ProxyRequestError } from './proxy-request-errors';
import { isPendingDecision, type RateLimitStore } from './rate-limit-store';
import type { RateDecision } from './rate-limiter';
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
    private readonly limiter: RateLimitStore,
    private readonly namespace: string,
    private readonly rate: number,
    private readonly onThrottled: () => void,
  ) {}

  /**
   * Decides about one request from a source address. The in-memory limiter answers at once, and
   * so does the gate (no extra turn of the event loop); a shared store makes it a promise.
   */
  decide(source: string, request: RequestLine): Decision | Promise<Decision> {
    const taken = this.limiter.take(source);
    if (isPendingDecision(taken)) return taken.then((verdict) => this.decideRest(verdict, request));
    return this.decideRest(taken, request);
  }

  private decideRest(verdict: RateDecision, request: RequestLine): Decision {
    if (!verdict.allowed) return this.refuseOverRate(verdict);

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

  private refuseOverRate(verdict: RateDecision & { allowed: false }): Decision {
    const headers = { 'retry-after': String(verdict.retryAfterSeconds) };
    if (verdict.storeUnavailable) {
      const message = 'the shared rate limit cannot be checked (Redis unreachable); retry shortly';
      const problem = { status: 503, code: ErrorCode.ProxyRateLimitUnavailable, message };
      return { kind: 'reply', problem, headers, outcome: { status: 503 } };
    }

    this.onThrottled();
    const message = `more than ${this.rate} requests per second from this address`;
    const problem = { status: 429, code: ErrorCode.ProxyRateLimited, message };
    return { kind: 'reply', problem, headers, outcome: { status: 429 } };
  }
}
