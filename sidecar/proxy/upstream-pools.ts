import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';

import type { Logger } from '../../core/log/logger';
import { guardedLookup } from './destination-guard';
import { TlsPool } from './tls-pool';

/** The client certificate a connection presents; absent for passthrough. */
export type ClientIdentity = {
  certificateName: string;
  version: number;
  chainPem: string;
  privateKeyPem: string;
};

/** How to reach one upstream origin. */
export type UpstreamRoute = {
  host: string;
  port: number;
  identity?: ClientIdentity;
  /** Extra CAs trusted for this upstream (the mapping's), besides the system roots. */
  trustedCaPem?: string;
  /** Resolve the host through the guard that refuses loopback, link-local and metadata ranges. */
  guardResolution: boolean;
};

/** Options shared by every pool. */
export type UpstreamPoolsOptions = {
  timeoutMs: number;
  /** CAs trusted for every upstream besides the system roots. */
  extraCaPem?: string;
  /** Most pools kept open; the least recently used closes beyond it. */
  maxPools?: number;
  log: Logger;
  onHandshake?: () => void;
};

type Entry = { pool: TlsPool; identityKey: string; usedAt: number };

/**
 * Keep-alive connection pools, one per (origin, certificate name and version, trusted CAs).
 * A new certificate version gets a new pool, so rotation never mixes identities on a socket;
 * pools of versions no longer current are closed gracefully, letting their requests finish.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Entry>();
  /** Pools closing gracefully, which a forced stop ends too. */
  private readonly closing = new Set<TlsPool>();
  private uses = 0;

  // Digests of trusted-CA PEMs: hashing one on every request was a visible share of the CPU.
  private readonly caKeys = new Map<string, string>();

  constructor(private readonly options: UpstreamPoolsOptions) {}

  /** The pool for a route, created on first use. */
  poolFor(route: UpstreamRoute): TlsPool {
    const identityKey = route.identity
      ? `${route.identity.certificateName}@${route.identity.version}`
      : 'passthrough';
    const caKey = route.trustedCaPem ? this.caKeyOf(route.trustedCaPem) : '';
    const key = `${route.host}:${route.port}|${identityKey}|${caKey}|${route.guardResolution}`;

    const found = this.pools.get(key);
    if (found) {
      found.usedAt = ++this.uses;
      return found.pool;
    }

    const pool = this.createPool(route);
    this.pools.set(key, { pool, identityKey, usedAt: ++this.uses });
    this.closeBeyondLimit();
    return pool;
  }

  /**
   * Closes the pools of certificate versions not in `current` (keys `name@version`). Requests
   * already on them finish first.
   */
  retire(current: ReadonlySet<string>): void {
    this.caKeys.clear();
    for (const [key, entry] of this.pools) {
      if (entry.identityKey === 'passthrough' || current.has(entry.identityKey)) continue;
      this.pools.delete(key);
      this.closeQuietly(entry.pool);
    }
  }

  /** How many pools are open. */
  get size(): number {
    return this.pools.size;
  }

  /** Closes every pool after its in-flight requests finish. */
  async close(): Promise<void> {
    const closing = [...this.pools.values()].map((entry) => this.closeTracked(entry.pool));
    this.pools.clear();
    await Promise.all(closing);
  }

  /** Ends every upstream connection now, the busy ones too; close() then resolves at once. */
  destroy(): void {
    for (const entry of this.pools.values()) entry.pool.destroy();
    for (const pool of this.closing) pool.destroy();
  }

  private caKeyOf(trustedCaPem: string): string {
    let key = this.caKeys.get(trustedCaPem);
    if (key === undefined) {
      key = digest(trustedCaPem);
      this.caKeys.set(trustedCaPem, key);
    }
    return key;
  }

  private createPool(route: UpstreamRoute): TlsPool {
    const { timeoutMs, extraCaPem } = this.options;

    // The context starts from Node's root store, shared by every context; adding a CA gives it a
    // store of its own that refers to the parsed roots instead of parsing them all again, which
    // passing every root as `ca` did (about 1 MB and tens of milliseconds per pool).
    const identity = route.identity;
    const secureContext = createSecureContext(
      identity ? { cert: identity.chainPem, key: identity.privateKeyPem } : {},
    );
    const native = secureContext.context as { addCACert(pem: string): void };
    if (extraCaPem) native.addCACert(extraCaPem);
    if (route.trustedCaPem) native.addCACert(route.trustedCaPem);

    return new TlsPool({
      host: route.host,
      port: route.port,
      // SNI carries host names only; an IP literal is sent without it.
      servername: isIP(route.host) === 0 ? route.host : undefined,
      secureContext,
      lookup: route.guardResolution ? guardedLookup : undefined,
      timeoutMs,
      maxConnections: 256,
      idleMs: 30_000,
      onHandshake: this.options.onHandshake,
    });
  }

  private closeBeyondLimit(): void {
    const limit = this.options.maxPools ?? 512;
    while (this.pools.size > limit) {
      // Rare (a new origin beyond the limit): a scan for the least recently used is cheaper
      // overall than keeping the map in use order on every request.
      let oldest: [string, Entry] | undefined;
      for (const entry of this.pools)
        if (!oldest || entry[1].usedAt < oldest[1].usedAt) oldest = entry;
      const [key, entry] = oldest as [string, Entry];
      this.pools.delete(key);
      this.closeQuietly(entry.pool);
    }
  }

  private closeQuietly(pool: TlsPool): void {
    this.closeTracked(pool).catch((err: unknown) =>
      this.options.log.warn('pool close failed', { err }),
    );
  }

  private async closeTracked(pool: TlsPool): Promise<void> {
    this.closing.add(pool);
    try {
      await pool.close();
    } finally {
      this.closing.delete(pool);
    }
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
