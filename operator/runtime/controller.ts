import { randomUUID } from 'node:crypto';

import { isConflict } from '../../core/kube/kube-client';
import type { Logger } from '../../core/log/logger';
import type { ControllerMetrics, ReconcileOutcome } from './controller-metrics';
import { objectKey, parseObjectKey, type InformedObject } from './object-key';
import type { ResilientInformer } from './resilient-informer';
import { isTerminalError } from './terminal-error';
import { WorkQueue, type WorkQueueOptions } from './work-queue';

/**
 * What a reconcile asks for when it succeeds: nothing, or another look after a delay. `refused`
 * says the object's input was invalid and that was recorded on its status, so the metrics count
 * the reconcile as `refused` and not as a success.
 */
export type ReconcileResult = { requeueAfterMs?: number; refused?: boolean };

/** Who is being reconciled, and a logger already carrying reconcileId, namespace, name, kind. */
export type ReconcileContext = {
  kind: string;
  namespace: string;
  name: string;
  log: Logger;
};

/**
 * Makes the world agree with the object under `key` (`namespace/name`), reading both afresh.
 * Throwing retries with backoff; throwing a terminal error (see TerminalError) does not retry.
 */
export type Reconciler = (
  key: string,
  reconcileId: string,
  context: ReconcileContext,
) => Promise<ReconcileResult | void>;

/**
 * A secondary resource whose changes concern primary objects: `toKeys` names the primary keys
 * an object of it affects (for example the certificates that reference a changed Secret).
 */
// Each watched resource has its own object type, which the controller never looks into.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WatchedResource<S extends InformedObject = any> = {
  informer: ResilientInformer<S>;
  toKeys: (object: S) => string[];
};

/** How a Controller is wired. */
export type ControllerOptions<T extends InformedObject> = {
  /** The primary kind, used as the `kind` label and log field, e.g. `MtlsCertificate`. */
  kind: string;
  informer: ResilientInformer<T>;
  watches?: WatchedResource[];
  reconcile: Reconciler;
  logger: Logger;
  metrics?: ControllerMetrics;
  /** Keys reconciled at the same time (never the same key twice at once). Default 2. */
  workers?: number;
  queue?: WorkQueueOptions;
  /** Whether an update of a primary object is worth a reconcile; default every update. */
  updateFilter?: (object: T, previous: T) => boolean;
  /**
   * The queue key of a primary object; default `namespace/name`. A controller that decides a
   * whole namespace at once keys by `namespace/`.
   */
  keyOf?: (object: T) => string;
  /**
   * Reconcile every key again this often, so that what changed outside the watched objects
   * (data lost in Vault, a ConfigMap nothing watches) is repaired. None when absent.
   */
  resyncMs?: number;
  /** The keys a resync queues; default the key of every primary object. */
  resyncKeys?: () => string[];
};

/** An update filter that skips changes to status and metadata alone, like a generation bump. */
export function generationChanged(object: InformedObject, previous: InformedObject): boolean {
  return object.metadata?.generation !== previous.metadata?.generation;
}

/**
 * Feeds the keys of changed objects into a work queue and runs the reconciler on them, in the
 * manner of controller-runtime: level-based, one key at a time per object, failures retried with
 * per-key backoff, terminal errors reported and left until the object changes again.
 */
export class Controller<T extends InformedObject = InformedObject> {
  private readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private stopped = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private markStopped: () => void = () => undefined;
  private readonly stopRequested = new Promise<void>((resolve) => (this.markStopped = resolve));

  constructor(private readonly options: ControllerOptions<T>) {
    this.queue = new WorkQueue<string>(options.queue);
    this.log = options.logger.child({ kind: options.kind });
    options.metrics?.watchQueue(options.kind, () => this.queue.depth);

    const keyOf = options.keyOf ?? objectKey;
    const enqueueObject = (object: T): void => this.enqueue(keyOf(object));
    options.informer.on('add', enqueueObject);
    options.informer.on('delete', enqueueObject);
    options.informer.on('update', (object, previous) => {
      if (!options.updateFilter || options.updateFilter(object, previous)) enqueueObject(object);
    });

    for (const watched of options.watches ?? []) {
      const enqueueMapped = (...objects: InformedObject[]): void => {
        const keys = new Set(objects.flatMap((object) => watched.toKeys(object)));
        for (const key of keys) this.enqueue(key);
      };
      watched.informer.on('add', (object) => enqueueMapped(object));
      watched.informer.on('delete', (object) => enqueueMapped(object));
      // A reference may have been dropped by the update, so the old copy's keys count too.
      watched.informer.on('update', (object, previous) => enqueueMapped(object, previous));
    }
  }

  /** Keys waiting to be reconciled. */
  get depth(): number {
    return this.queue.depth;
  }

  /** Queues a reconcile of `namespace/name`. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Starts the informers, waits until each has listed once, then starts the workers. */
  async start(): Promise<void> {
    const informers = [
      this.options.informer,
      ...(this.options.watches ?? []).map((w) => w.informer),
    ];
    for (const informer of informers) informer.start();

    // A stop before the first lists arrive must not leave start() waiting forever.
    await Promise.race([
      Promise.all(informers.map((informer) => informer.synced)),
      this.stopRequested,
    ]);
    if (this.stopped) return;

    const workers = this.options.workers ?? 2;
    this.queue.run((key) => this.reconcileKey(key), workers);
    this.startResync();
    this.log.info('controller started', { workers });
  }

  /**
   * Stops the informers and the queue, and resolves when the reconciles under way are done.
   * A stopped controller does not start again: the operator exits when it stops leading.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.markStopped();
    clearInterval(this.resyncTimer);
    this.options.informer.stop();
    for (const watched of this.options.watches ?? []) watched.informer.stop();

    await this.queue.shutDown();
    this.log.info('controller stopped');
  }

  // Level-based reconciles make a resync cheap: each reads the world and writes only what differs.
  private startResync(): void {
    const { resyncMs, resyncKeys } = this.options;
    if (!resyncMs) return;
    const keyOf = this.options.keyOf ?? objectKey;
    const keys = resyncKeys ?? (() => this.options.informer.list().map(keyOf));
    this.resyncTimer = setInterval(() => {
      const queued = new Set(keys());
      for (const key of queued) this.enqueue(key);
      this.log.debug('resync queued', { keys: queued.size });
    }, resyncMs);
    this.resyncTimer.unref();
  }

  private async reconcileKey(key: string): Promise<void> {
    const reconcileId = randomUUID();
    const { namespace, name } = parseObjectKey(key);
    const kind = this.options.kind;
    const log = this.log.child({ reconcileId, namespace, name });
    const startedAt = process.hrtime.bigint();
    let outcome: ReconcileOutcome;

    try {
      const result = await this.options.reconcile(key, reconcileId, { kind, namespace, name, log });
      this.queue.forget(key);
      const requeueAfterMs = result?.requeueAfterMs ?? 0;
      if (requeueAfterMs > 0) this.queue.addAfter(key, requeueAfterMs);
      outcome = result?.refused ? 'refused' : requeueAfterMs > 0 ? 'requeue' : 'success';
      log.debug('reconciled', { requeueAfterMs });
    } catch (err) {
      outcome = this.handleFailure(key, err, log);
    }

    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    this.options.metrics?.observeReconcile(kind, outcome, seconds);
  }

  private handleFailure(key: string, err: unknown, log: Logger): ReconcileOutcome {
    if (isTerminalError(err)) {
      this.queue.forget(key);
      log.error('reconcile failed, not retrying until the object changes', { err });
      return 'terminal';
    }

    const retries = this.queue.retries(key);
    const delayMs = this.queue.addRateLimited(key);
    // Another writer got there first: expected under concurrency, so not an error.
    if (isConflict(err)) {
      log.info('reconcile hit a conflict, retrying', { delayMs, retries });
      return 'conflict';
    }
    log.error('reconcile failed, retrying', { err, delayMs, retries });
    return 'error';
  }
}
