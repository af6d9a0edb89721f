import type { SidecarMetrics } from '../admin/sidecar-metrics';
import type { AccessLog } from './access-log';
import { statusClass } from './proxy-replies';
import type { Outcome } from './request-gate';

type HistogramChild = { observe(value: number): void };

/**
 * Counts every request in the metrics and writes its access-log line. The duration
 * histogram's children are looked up once per label set: resolving labels on every request was
 * a visible share of the proxy's CPU.
 */
export class RequestRecorder {
  private readonly durations = new Map<string, HistogramChild>();

  constructor(
    private readonly metrics: SidecarMetrics,
    private readonly accessLog: AccessLog,
  ) {}

  /** Records a finished request: its method, what became of it, and how long it took. */
  record(method: string | undefined, outcome: Outcome, seconds: number): void {
    const mapping = outcome.plan?.kind === 'route' ? outcome.plan.mapping : undefined;
    const mapped = mapping ? 'true' : 'false';
    const host = mapping ? mapping.match.host : 'unmapped';
    this.metrics.countRequest(mapped, host, statusClass(outcome.status));
    this.duration(mapped).observe(seconds);

    this.accessLog.write({
      method,
      host: outcome.target?.destination.host,
      form: outcome.target?.form,
      service: outcome.target?.serviceName,
      status: outcome.status,
      durationMs: Math.round(seconds * 1000),
      mapping: mapping?.name,
      certificate: mapping?.certificate.name,
    });
  }

  private duration(mapped: string): HistogramChild {
    let child = this.durations.get(mapped);
    if (child === undefined) {
      child = this.metrics.duration.labels({ mapped });
      this.durations.set(mapped, child);
    }
    return child;
  }
}
