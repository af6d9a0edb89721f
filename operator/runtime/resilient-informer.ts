import { isGone, MetadataOnly, type KubeClient } from '../../core/kube/kube-client';
import type { Logger } from '../../core/log/logger';
import { collectionPath, listCollection, type ApiResource } from './api-resource';
import { Backoff, type BackoffOptions } from './backoff';
import { objectKey, type InformedObject } from './object-key';
import { ObjectStore, type StoreHandlers } from './object-store';

/** What a ResilientInformer watches and how it recovers. */
export type ResilientInformerOptions<T extends InformedObject = InformedObject> = {
  client: KubeClient;
  resource: ApiResource;
  /** Watch one namespace; every namespace when absent. */
  namespace?: string;
  /** Only objects matching this label selector, e.g. `app=web,tier!=db`. */
  labelSelector?: string;
  logger: Logger;
  /** Delay before reconnecting after a failure: default 1 s doubling up to 30 s. */
  backoff?: BackoffOptions;
  /** The apiserver closes each watch after this long, so idle connections are renewed. */
  watchTimeoutSeconds?: number;
  /** Ask for metadata only, for handlers that need to know what changed, not the content. */
  metadataOnly?: boolean;
  /**
   * Shapes each object before it is cached, to keep only what the handlers read. Default: drop
   * metadata.managedFields, which no controller here reads and which is often half an object.
   */
  transform?: (object: T) => T;
};

/** The default transform: the object without metadata.managedFields. */
export function withoutManagedFields<T extends InformedObject>(object: T): T {
  const metadata = object.metadata as { managedFields?: unknown } | undefined;
  if (metadata?.managedFields) delete metadata.managedFields;
  return object;
}

/** The default reconnect backoff, the same bounds client-node's informer documents. */
export const DEFAULT_INFORMER_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

/** The Status object of a watch ERROR event. */
type WatchStatus = { code?: number; message?: string };

// A watch that ends this quickly without any event counts as a failure, so it backs off.
const SHORT_WATCH_MS = 1000;

/**
 * Keeps a local copy of a collection current through list + watch, and tells handlers what
 * changed. Unlike client-node's informer it never gives up: a failed watch reconnects with
 * backoff from the last resourceVersion it saw, and lists again only when the apiserver answers
 * 410 Gone. Reconnects do not replay objects to handlers: an object is reported as added once,
 * as updated when its resourceVersion changes, and as deleted when a relist no longer has it.
 */
export class ResilientInformer<T extends InformedObject = InformedObject> {
  /** Resolves once the first list has been delivered to the handlers (never if stopped before). */
  readonly synced: Promise<void>;

  private readonly store: ObjectStore<T>;
  private readonly path: string;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private resourceVersion = '';
  private generation = 0;
  private running = false;
  private hasListed = false;
  private markSynced: () => void = () => undefined;
  private abortWatch: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ResilientInformerOptions<T>) {
    this.path = collectionPath(options.resource, options.namespace);
    this.backoff = new Backoff(options.backoff ?? DEFAULT_INFORMER_BACKOFF);
    this.log = options.logger.child({ kind: options.resource.kind });
    this.store = new ObjectStore<T>(this.log);
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  /** Registers a handler for objects added, updated (with the previous copy) or deleted. */
  on<E extends keyof StoreHandlers<T>>(event: E, handler: StoreHandlers<T>[E]): void {
    this.store.on(event, handler);
  }

  /** True once the first list has been delivered to the handlers. */
  hasSynced(): boolean {
    return this.hasListed;
  }

  /** The cached object, if the informer knows it. Treat it as read-only. */
  get(name: string, namespace?: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  /** The cached objects, of one namespace or all. Treat them as read-only. */
  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }

  /** The resourceVersion the next watch resumes from; empty when a relist is due. */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Lists and starts watching. Returns at once; await `synced` for the first list. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  /** Stops watching. The cache keeps its last contents. */
  stop(): void {
    this.running = false;
    this.generation += 1;
    clearTimeout(this.retryTimer);
    this.abortWatch?.abort();
    this.abortWatch = undefined;
  }

  /**
   * Drops the current watch and reconnects now, as after a lost connection: from the last
   * resourceVersion, or with a full relist when `relist` is set (as after 410 Gone).
   */
  reconnect(options: { relist?: boolean } = {}): void {
    if (!this.running) return;
    if (options.relist) this.resourceVersion = '';
    clearTimeout(this.retryTimer);
    const dropped = this.abortWatch;
    // The new generation first, so the dropped watch's last callbacks are recognised as stale.
    this.reconnectNow();
    dropped?.abort();
  }

  private async connect(): Promise<void> {
    const generation = this.generation;
    try {
      if (!this.resourceVersion) await this.relist(generation);
      if (generation !== this.generation) return;
      await this.watch(generation);
    } catch (err) {
      this.retryLater(generation, err);
    }
  }

  private async relist(generation: number): Promise<void> {
    const list = await listCollection<T>(this.options.client, this.path, {
      labelSelector: this.options.labelSelector,
      accept: this.options.metadataOnly ? MetadataOnly.list : undefined,
      transform: (item) => this.transform(item),
    });
    if (generation !== this.generation) return;

    this.store.replace(list.items);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.backoff.reset();
    this.log.debug('informer listed', { count: list.items.length });

    if (!this.hasListed) {
      this.hasListed = true;
      this.markSynced();
    }
  }

  private async watch(generation: number): Promise<void> {
    const startedAt = Date.now();
    let events = 0;
    const query = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
      labelSelector: this.options.labelSelector,
    };

    let streamError: WatchStatus | undefined;

    const onEvent = (type: string, object: T): void => {
      if (generation !== this.generation) return;
      events += 1;
      if (type === 'ERROR') streamError = object as WatchStatus;
      else this.apply(type, object);
    };
    const onDone = (err?: unknown): void => {
      if (generation !== this.generation) return;
      if (streamError?.code === 410) {
        // The resourceVersion is too old to resume from: list afresh, no need to wait.
        this.log.info('informer watch expired, relisting', { reason: streamError.message });
        this.resourceVersion = '';
        this.reconnectNow();
      } else if (err || streamError) {
        this.retryLater(generation, err ?? new Error(streamError?.message ?? 'watch error'));
      } else if (events === 0 && Date.now() - startedAt < SHORT_WATCH_MS) {
        this.retryLater(generation, new Error('the watch closed at once without events'));
      } else {
        // The apiserver ends every watch after timeoutSeconds: carry on from where it stopped.
        this.reconnectNow();
      }
    };

    const abort = await this.options.client.watch<T>(
      this.path,
      query,
      { onEvent, onDone },
      { accept: this.options.metadataOnly ? MetadataOnly.object : undefined },
    );
    // Stopped or reconnected while the request was being made: that watch is not ours any more.
    if (generation !== this.generation) abort.abort();
    else this.abortWatch = abort;
  }

  private transform(object: T): T {
    return (this.options.transform ?? withoutManagedFields)(object);
  }

  private apply(type: string, object: T): void {
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.store.upsert(this.transform(object));
        this.backoff.reset();
        break;
      case 'DELETED':
        this.store.remove(object);
        break;
      case 'BOOKMARK':
        break;
      default:
        this.log.warn('informer ignored an unknown watch event', { type, key: objectKey(object) });
        return;
    }
    this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
  }

  private reconnectNow(): void {
    this.generation += 1;
    this.abortWatch = undefined;
    void this.connect();
  }

  private retryLater(generation: number, err: unknown): void {
    if (generation !== this.generation || !this.running) return;

    if (isGone(err)) this.resourceVersion = '';

    this.generation += 1;
    this.abortWatch?.abort();
    this.abortWatch = undefined;
    const delayMs = this.backoff.next();
    this.log.warn('informer watch failed, reconnecting', {
      err,
      delayMs,
      relist: !this.resourceVersion,
    });
    this.retryTimer = setTimeout(() => void this.connect(), delayMs);
  }
}
