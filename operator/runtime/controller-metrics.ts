import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How a reconcile ended, as the `result` label reports it. */
export type ReconcileOutcome =
  'success' | 'requeue' | 'refused' | 'conflict' | 'error' | 'terminal';

/**
 * The controllers' metrics, registered once in the registry given (never prom-client's global
 * one) and shared by every controller, which tells them apart by the `kind` label.
 */
export class ControllerMetrics {
  private readonly reconciles: Counter<'kind' | 'result'>;
  private readonly durations: Histogram<'kind'>;
  private readonly queues = new Map<string, () => number>();

  constructor(registry: Registry) {
    this.reconciles = new Counter({
      name: 'mtls_operator_reconcile_total',
      help:
        'Reconciles run, by kind and result ' +
        '(success, requeue, refused, conflict, error, terminal).',
      labelNames: ['kind', 'result'],
      registers: [registry],
    });
    this.durations = new Histogram({
      name: 'mtls_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took, by kind of object.',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });

    // Read at scrape time, so the gauge is never stale and the queue does not report to it.
    const queues = this.queues;
    new Gauge({
      name: 'mtls_operator_workqueue_depth',
      help: 'Keys waiting in a controller work queue, by kind of object.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        for (const [kind, depth] of queues) this.set({ kind }, depth());
      },
    });
  }

  /** Reports the depth of a controller's queue under `kind` from now on. */
  watchQueue(kind: string, depth: () => number): void {
    this.queues.set(kind, depth);
  }

  /** Counts one finished reconcile and records how long it took. */
  observeReconcile(kind: string, outcome: ReconcileOutcome, seconds: number): void {
    this.reconciles.inc({ kind, result: outcome });
    this.durations.observe({ kind }, seconds);
  }
}
