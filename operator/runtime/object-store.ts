import type { Logger } from '../../core/log/logger';
import { objectKey, parseObjectKey, type InformedObject } from './object-key';

/** What an informer tells its handlers. */
export type StoreHandlers<T> = {
  add: (object: T) => void;
  update: (object: T, previous: T) => void;
  delete: (object: T) => void;
};

type HandlerLists<T> = { [E in keyof StoreHandlers<T>]: StoreHandlers<T>[E][] };

/**
 * An informer's cache, keyed by `namespace/name`. It decides what changed: an object is added
 * when its key is new (or its uid is, after a delete and re-create that a watch gap hid), updated
 * when its resourceVersion differs, and nothing when it is the copy already held.
 */
export class ObjectStore<T extends InformedObject> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: HandlerLists<T> = { add: [], update: [], delete: [] };

  constructor(private readonly log: Logger) {}

  /** Registers a handler for one kind of change. */
  on<E extends keyof StoreHandlers<T>>(event: E, handler: StoreHandlers<T>[E]): void {
    this.handlers[event].push(handler);
  }

  /** The object under a `namespace/name` key. */
  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  /** The objects of one namespace, or all. */
  list(namespace?: string): T[] {
    const all = [...this.objects.values()];
    if (!namespace) return all;
    return all.filter((object) => object.metadata?.namespace === namespace);
  }

  /** Records an object seen in a list or a watch event, telling handlers if it is news. */
  upsert(object: T): void {
    const key = objectKey(object);
    const previous = this.objects.get(key);
    this.objects.set(key, object);

    if (!previous) {
      this.emit('add', object);
    } else if (previous.metadata?.uid !== object.metadata?.uid) {
      this.emit('delete', previous);
      this.emit('add', object);
    } else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
      this.emit('update', object, previous);
    }
  }

  /** Forgets a deleted object, telling handlers if it was known. */
  remove(object: T): void {
    const key = objectKey(object);
    const previous = this.objects.get(key);
    if (!previous) return;

    this.objects.delete(key);
    this.emit('delete', object);
  }

  /** Makes the store hold a fresh list: new objects added, changed updated, gone deleted. */
  replace(objects: T[]): void {
    const listed = new Set<string>();
    for (const object of objects) {
      listed.add(objectKey(object));
      this.upsert(object);
    }

    for (const [key, previous] of this.objects) {
      if (listed.has(key)) continue;
      this.objects.delete(key);
      this.emit('delete', previous);
    }
  }

  private emit<E extends keyof StoreHandlers<T>>(
    event: E,
    ...args: Parameters<StoreHandlers<T>[E]>
  ): void {
    for (const handler of this.handlers[event]) {
      try {
        (handler as (...values: Parameters<StoreHandlers<T>[E]>) => void)(...args);
      } catch (err) {
        // One failing handler must not stop the others or the watch that feeds them.
        const { namespace, name } = parseObjectKey(objectKey(args[0] as T));
        this.log.error('informer handler failed', { event, namespace, name, err });
      }
    }
  }
}
