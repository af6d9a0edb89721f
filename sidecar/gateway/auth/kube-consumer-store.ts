import { setTimeout as sleep } from 'node:timers/promises';

import { ErrorCode } from '../../../core/errors/codes';
import { collectionPath, CoreResources } from '../../../core/kube/api-paths';
import type { KubeClient } from '../../../core/kube/kube-client';
import type { Logger } from '../../../core/log/logger';
import { GatewayError } from '../gateway-error';
import type { OAuth1Consumer, OAuth1ConsumerStore } from './oauth1-verifier';

/** The label that marks a Secret of the gateway's namespace as an OAuth 1.0 consumer. */
export const CONSUMER_LABEL = 'mtls.io/oauth1-consumer';

type ConsumerSecret = {
  metadata: { name: string; resourceVersion?: string };
  data?: Record<string, string>;
};
type SecretList = { metadata: { resourceVersion: string }; items: ConsumerSecret[] };

/** Options of the consumer store. */
export type KubeConsumerStoreOptions = {
  kube: KubeClient;
  /** The gateway's own namespace, where consumer Secrets live. */
  namespace: string;
  log: Logger;
  /** Pause before listing again after a failed list or watch. */
  retryMs?: number;
};

// The apiserver ends a watch after this long; the store then lists and watches again.
const WATCH_SECONDS = 300;

/**
 * OAuth 1.0 consumers from Secrets of the gateway's namespace labelled
 * `mtls.io/oauth1-consumer=true`, with data keys `consumerKey`, `consumerSecret` and
 * `namespaces` (a comma list). The Secrets are listed, then watched, so a new or revoked
 * consumer counts within moments; while the apiserver is away the last list stays in use.
 */
export class KubeConsumerStore implements OAuth1ConsumerStore {
  private readonly secrets = new Map<string, ConsumerSecret>();
  private byKey = new Map<string, OAuth1Consumer>();
  private synced = false;
  private firstSync: Promise<void>;
  private signalFirstSync: () => void = () => {};
  private watch: AbortController | undefined;
  private stopped = false;

  constructor(private readonly options: KubeConsumerStoreOptions) {
    this.firstSync = new Promise((resolve) => (this.signalFirstSync = resolve));
  }

  /** Starts listing and watching; resolves after the first list, or its first failure. */
  start(): Promise<void> {
    return new Promise((resolve) => void this.run(resolve));
  }

  /** Stops the watch. */
  stop(): void {
    this.stopped = true;
    this.watch?.abort();
    this.signalFirstSync();
  }

  async find(key: string): Promise<OAuth1Consumer | undefined> {
    if (!this.synced) await Promise.race([this.firstSync, sleep(5_000)]);
    if (!this.synced) {
      throw new GatewayError(
        503,
        ErrorCode.AuthUnavailable,
        `the OAuth consumers of namespace ${this.options.namespace} could not be listed yet`,
      );
    }
    return this.byKey.get(key);
  }

  private async run(started: () => void): Promise<void> {
    const { kube, namespace, log } = this.options;
    const path = collectionPath(CoreResources.secrets, namespace);
    const labelSelector = `${CONSUMER_LABEL}=true`;

    while (!this.stopped) {
      try {
        const list = await kube.request<SecretList>('GET', path, { query: { labelSelector } });
        this.secrets.clear();
        for (const secret of list.items) this.secrets.set(secret.metadata.name, secret);
        this.rebuild();
        started();

        const ended = new Promise<unknown>((resolve) => {
          void kube
            .watch<ConsumerSecret>(
              path,
              {
                labelSelector,
                resourceVersion: list.metadata.resourceVersion,
                timeoutSeconds: WATCH_SECONDS,
              },
              { onEvent: (type, secret) => this.apply(type, secret), onDone: resolve },
            )
            .then((watch) => (this.watch = watch), resolve);
        });
        const err = await ended;
        if (err) throw err;
      } catch (err) {
        started();
        if (this.stopped) return;
        log.warn('oauth consumer secrets could not be read; retrying', { namespace, err });
        await sleep(this.options.retryMs ?? 2_000);
      }
    }
  }

  private apply(type: string, secret: ConsumerSecret): void {
    // An ERROR event (410 Gone: the version is too old) ends this watch; the loop lists again.
    if (type === 'ERROR') {
      this.watch?.abort();
      return;
    }
    if (type === 'BOOKMARK') return;
    if (type === 'DELETED') this.secrets.delete(secret.metadata.name);
    else this.secrets.set(secret.metadata.name, secret);
    this.rebuild();
  }

  private rebuild(): void {
    const byKey = new Map<string, OAuth1Consumer>();
    const duplicates = new Set<string>();
    for (const secret of this.secrets.values()) {
      const consumer = readConsumer(secret);
      if (!consumer) {
        this.options.log.warn('oauth consumer secret lacks consumerKey or consumerSecret', {
          namespace: this.options.namespace,
          name: secret.metadata.name,
        });
        continue;
      }
      if (byKey.has(consumer.key)) duplicates.add(consumer.key);
      byKey.set(consumer.key, consumer);
    }

    // Two Secrets claiming one key: neither is trusted until one of them goes.
    for (const key of duplicates) {
      byKey.delete(key);
      this.options.log.warn('oauth consumer key in more than one secret; refused', {
        namespace: this.options.namespace,
      });
    }
    this.byKey = byKey;
    this.synced = true;
    this.signalFirstSync();
  }
}

function readConsumer(secret: ConsumerSecret): OAuth1Consumer | undefined {
  const field = (name: string): string | undefined => {
    const value = secret.data?.[name];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8').trim();
  };
  const key = field('consumerKey');
  const consumerSecret = field('consumerSecret');
  if (!key || !consumerSecret) return undefined;
  const namespaces = (field('namespaces') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return { key, secret: consumerSecret, namespaces };
}
