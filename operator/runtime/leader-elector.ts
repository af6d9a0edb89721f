import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import { CoreResources, collectionPath, objectPath } from '../../core/kube/api-paths';
import { isConflict, type KubeClient } from '../../core/kube/kube-client';
import type { Logger } from '../../core/log/logger';

/** The fields of a coordination.k8s.io/v1 Lease the election reads and writes. */
type LeaseSpec = {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime strings, as the apiserver sends and expects them. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
};

type Lease = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
};

/** Which Lease to contend for, how, and whom to tell. */
export type LeaderElectorOptions = {
  client: KubeClient;
  namespace: string;
  /** The Lease's name, shared by every replica that contends. */
  name: string;
  /** This replica's name in the Lease; default host name plus a random suffix. */
  identity?: string;
  /** How long others wait after the last renewal before taking over. Default 15. */
  leaseDurationSeconds?: number;
  /** A leader that cannot renew for this long stops leading. Default 10 000. */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. Default 2000. */
  retryPeriodMs?: number;
  logger: Logger;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** Called when the holder seen in the Lease changes (empty when it was released). */
  onNewLeader?: (identity: string) => void;
};

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: a replica takes the
 * Lease when it is free or its holder stopped renewing for a lease duration, the leader renews
 * every retry period, and every write carries the resourceVersion read, so of two replicas
 * racing only one wins (the other gets 409). Expiry compares the Lease's renewTime with this
 * machine's clock, so replicas' clocks must agree to well within the lease duration.
 */
export class LeaderElector {
  /** The name this replica writes into the Lease. */
  readonly identity: string;

  private readonly client: KubeClient;
  private readonly leasePath: string;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private leading = false;
  private running: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private observedHolder: string | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.client = options.client;
    this.leasePath = objectPath(CoreResources.leases, options.namespace, options.name);
    this.identity = options.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
    this.leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2000;
    if (this.renewDeadlineMs >= this.leaseDurationSeconds * 1000) {
      throw new Error('renewDeadlineMs must be shorter than the lease duration');
    }
    this.log = options.logger.child({ lease: options.name, namespace: options.namespace });
  }

  /** True while this replica holds the Lease and renews it in time. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen in the Lease; empty when free, undefined before the first read. */
  leader(): string | undefined {
    return this.observedHolder;
  }

  /** Starts contending for the Lease, and renewing it once held. */
  start(): void {
    if (this.running) return;
    this.running = new AbortController();
    this.loop = this.run(this.running.signal);
  }

  /**
   * Stops contending. A leader releases the Lease so another replica takes over at once, unless
   * `release` is false (as if this process died: the others wait for the lease to expire).
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running.abort();
    this.running = undefined;
    await this.loop;

    const wasLeading = this.leading;
    this.stopLeading('elector stopped');
    if (wasLeading && options.release !== false) await this.release();
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const held = await this.tryAcquireOrRenew();
      if (signal.aborted) return;

      if (held) {
        this.renewed();
      }
      await sleep(this.jittered(), undefined, { signal }).catch(() => undefined);
    }
  }

  private jittered(): number {
    // Candidates spread out their attempts so that they do not collide on every round.
    return this.leading ? this.retryPeriodMs : this.retryPeriodMs * (1 + Math.random() * 0.2);
  }

  private renewed(): void {
    clearTimeout(this.deadline);
    this.deadline = setTimeout(
      () => this.stopLeading('could not renew the lease in time'),
      this.renewDeadlineMs,
    );

    if (this.leading) return;
    this.leading = true;
    this.log.info('started leading', { identity: this.identity });
    this.options.onStartedLeading?.();
  }

  private stopLeading(reason: string): void {
    clearTimeout(this.deadline);
    if (!this.leading) return;

    this.leading = false;
    this.log.warn('stopped leading', { identity: this.identity, reason });
    this.options.onStoppedLeading?.();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    try {
      const lease = await this.client.get<Lease>(this.leasePath);
      if (!lease) return await this.create(now);
      const spec = lease.spec ?? {};
      this.observe(spec.holderIdentity ?? '');

      const holder = spec.holderIdentity ?? '';
      if (holder && holder !== this.identity && !isExpired(spec, now)) {
        this.stopLeading('another replica holds the lease');
        return false;
      }

      const ours = holder === this.identity;
      await this.client.replace(
        this.leasePath,
        this.lease(lease.metadata.resourceVersion, {
          holderIdentity: this.identity,
          leaseDurationSeconds: this.leaseDurationSeconds,
          acquireTime: ours && spec.acquireTime ? spec.acquireTime : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
        }),
      );
      this.observe(this.identity);
      return true;
    } catch (err) {
      // 409: another replica wrote the Lease since it was read, and holds it.
      if (!isConflict(err)) this.log.warn('lease request failed', { err });
      return false;
    }
  }

  private async create(now: Date): Promise<boolean> {
    const lease = this.lease(undefined, {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    });
    try {
      await this.client.create(collectionPath(CoreResources.leases, this.options.namespace), lease);
      this.observe(this.identity);
      return true;
    } catch (err) {
      // 409: another replica created it first and leads.
      if (!isConflict(err)) this.log.warn('lease create failed', { err });
      return false;
    }
  }

  private lease(resourceVersion: string | undefined, spec: LeaseSpec): Lease {
    const { namespace, name } = this.options;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, resourceVersion },
      spec,
    };
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.client.get<Lease>(this.leasePath);
      if (lease?.spec?.holderIdentity !== this.identity) return;

      const now = microTime(new Date());
      // No holder, renewed now with a one-second lease: others take over on their next try.
      await this.client.replace(
        this.leasePath,
        this.lease(lease.metadata.resourceVersion, {
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: lease.spec?.leaseTransitions ?? 0,
        }),
      );
      this.log.info('released the lease', { identity: this.identity });
    } catch (err) {
      this.log.warn('could not release the lease, others take over when it expires', { err });
    }
  }

  private observe(holder: string): void {
    if (holder === this.observedHolder) return;
    this.observedHolder = holder;
    this.options.onNewLeader?.(holder);
  }
}

/** True when the holder has not renewed within its lease duration. */
function isExpired(spec: LeaseSpec, now: Date): boolean {
  if (!spec.renewTime || !spec.leaseDurationSeconds) return true;
  const renewedAt = new Date(spec.renewTime).getTime();
  return renewedAt + spec.leaseDurationSeconds * 1000 < now.getTime();
}

/** A time as a MicroTime: RFC 3339 with exactly six fractional digits, which the API requires. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
