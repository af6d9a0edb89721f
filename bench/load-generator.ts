import http from 'node:http';
import https from 'node:https';

import { Pool } from 'undici';

// Closed-loop and paced load against one loopback target, with latencies kept per request so
// that percentiles are exact. It runs in the bench process; every proxy runs in its own.

/** Where requests go: a port on 127.0.0.1, the request target, and mutual TLS if direct. */
export type LoadTarget = {
  port: number;
  /** `/` for a reverse proxy, `http://localhost:<port>/` for the sidecar's forward-proxy form. */
  path: string;
  /** The Host header, as the upstream's name. */
  hostHeader: string;
  /** Given when the client itself speaks mutual TLS to the upstream. */
  tls?: { cert: string; key: string; ca: string; servername: string };
};

/** How long to load: warm-up first (not counted), then the measured window. */
export type LoadWindow = { warmupMs: number; durationMs: number };

/**
 * What a run measured: completed requests per second, latency percentiles, failures, and every
 * request completed including the warm-up (to divide a peer's CPU time by).
 */
export type LoadResult = {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  completedWithWarmup: number;
};

/** One request's fate: its latency in milliseconds, or a failure. */
type Send = () => Promise<void>;

/** Keep-alive: `connections` request loops over an undici Pool of as many connections. */
export async function loadKeepAlive(
  target: LoadTarget,
  connections: number,
  window: LoadWindow,
): Promise<LoadResult> {
  const pool = poolFor(target, connections);
  try {
    const send: Send = async () => {
      const res = await pool.request({ path: target.path, method: 'GET', headers: hostOf(target) });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    };
    return await closedLoop(send, connections, window);
  } finally {
    await pool.close();
  }
}

/** A new TCP (and TLS, if direct) connection per request, `concurrency` loops at once. */
export async function loadNewConnection(
  target: LoadTarget,
  concurrency: number,
  window: LoadWindow,
): Promise<LoadResult> {
  const send: Send = () => requestOnFreshConnection(target);
  return closedLoop(send, concurrency, window);
}

/**
 * Open loop: one request every `1000 / rate` ms whether or not earlier ones have answered,
 * over a Pool of `connections`; latency counts from the moment each request is dispatched.
 */
export async function loadPaced(
  target: LoadTarget,
  rate: number,
  connections: number,
  window: LoadWindow,
): Promise<LoadResult> {
  const pool = poolFor(target, connections);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let failed = 0;
  let completed = 0;
  let completedWithWarmup = 0;
  const inFlight = new Set<Promise<void>>();

  const started = performance.now();
  const measuredFrom = started + window.warmupMs;
  const end = measuredFrom + window.durationMs;
  let next = started;
  try {
    while (next < end) {
      const now = performance.now();
      if (now < next) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - now - 0.5)));
        continue;
      }

      // Every request whose slot has come goes out now, even after a late timer.
      const counted = next >= measuredFrom;
      next += interval;
      const sentAt = performance.now();
      const request = pool
        .request({ path: target.path, method: 'GET', headers: hostOf(target) })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
          completedWithWarmup++;
          if (counted) {
            latencies.push(performance.now() - sentAt);
            completed++;
          }
        })
        .catch(() => {
          if (counted) failed++;
        })
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }

  return summarize(latencies, completed, failed, window.durationMs, completedWithWarmup);
}

async function closedLoop(send: Send, loops: number, window: LoadWindow): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  let completed = 0;
  let completedWithWarmup = 0;
  const started = performance.now();
  const measuredFrom = started + window.warmupMs;
  const end = measuredFrom + window.durationMs;

  const loop = async (): Promise<void> => {
    for (let now = performance.now(); now < end; now = performance.now()) {
      try {
        await send();
        completedWithWarmup++;
        if (now >= measuredFrom) {
          latencies.push(performance.now() - now);
          completed++;
        }
      } catch {
        if (now >= measuredFrom) failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));

  return summarize(latencies, completed, failed, window.durationMs, completedWithWarmup);
}

function summarize(
  latencies: number[],
  completed: number,
  failed: number,
  durationMs: number,
  completedWithWarmup: number,
): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number): number =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    rps: Math.round(completed / (durationMs / 1000)),
    p50Ms: round3(at(0.5)),
    p99Ms: round3(at(0.99)),
    failed,
    completedWithWarmup,
  };
}

function poolFor(target: LoadTarget, connections: number): Pool {
  if (target.tls) {
    return new Pool(`https://127.0.0.1:${target.port}`, {
      connections,
      connect: { ...target.tls },
    });
  }
  return new Pool(`http://127.0.0.1:${target.port}`, { connections });
}

function hostOf(target: LoadTarget): Record<string, string> {
  return { host: target.hostHeader };
}

function requestOnFreshConnection(target: LoadTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port: target.port,
      path: target.path,
      headers: { ...hostOf(target), connection: 'close' },
      agent: false as const,
    };
    const req = target.tls
      ? https.request({ ...options, ...target.tls }, onResponse)
      : http.request(options, onResponse);
    req.on('error', reject);
    req.end();

    function onResponse(res: http.IncomingMessage): void {
      res.resume();
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode === 200) resolve();
        else reject(new Error(`status ${res.statusCode}`));
      });
    }
  });
}

/** A figure to three decimals (microseconds, when in milliseconds). */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
