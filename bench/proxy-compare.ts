import { writeFileSync } from 'node:fs';
import path from 'node:path';

import yaml from 'js-yaml';

import { LoopbackPki } from '../test/fixtures/loopback-pki';
import { withCpusAwake } from './awake-cpus';
import {
  loadKeepAlive,
  loadNewConnection,
  round3,
  type LoadResult,
  type LoadTarget,
  type LoadWindow,
} from './load-generator';
import { measurePacedLatency } from './paced-latency';
import {
  cpuSeconds,
  residentMemory,
  startNodePipe,
  startSidecar,
  startUpstream,
  type Peer,
} from './peers';
import { startGhostunnel, startNginx, startStunnel } from './reference-proxies';

// The sidecar next to a direct mutual-TLS client, nginx, ghostunnel and stunnel, all calling one
// upstream that demands a client certificate, on loopback: throughput and latency of each path
// for keep-alive and new-connection-per-request clients, latency added at a fixed rate (with a
// bare Node pipe as the floor of a Node proxy), memory.

const CONNECTIONS = 16;

/** The paths a request can take to the upstream. */
const PATHS = ['direct', 'sidecar', 'nginx', 'ghostunnel', 'stunnel'] as const;
type PathName = (typeof PATHS)[number];

/** How the client uses connections. */
const PATTERNS = ['keepalive', 'newconn'] as const;
type Pattern = (typeof PATTERNS)[number];

/** Options of one comparison run. */
export type ProxyCompareOptions = {
  window: LoadWindow;
  /** The ghostunnel program (`test/ground/build-tools.sh ghostunnel`). */
  ghostunnelBinary: string;
  /** Measure only the sidecar under keep-alive load (to compare two builds quickly). */
  sidecarOnly?: boolean;
  /**
   * Profile instead of compare: start the sidecar with `--cpu-prof` into this folder (written at
   * its exit) and load only it, keep-alive.
   */
  cpuProfileDir?: string;
};

/** Every figure, plus the rows of the human-readable table. */
export type ProxyComparison = {
  figures: Record<string, number>;
  rows: { path: PathName | string; pattern: string; result: LoadResult }[];
};

/** Runs the whole comparison; every process it starts is stopped, also on failure. */
export async function compareProxies(options: ProxyCompareOptions): Promise<ProxyComparison> {
  const pki = new LoopbackPki('Bench CA');
  const peers: Peer[] = [];
  try {
    const server = pki.server();
    const client = pki.client('bench-client');
    const certs = {
      caFile: pki.ca.certFile,
      serverCertFile: server.certFile,
      serverKeyFile: server.keyFile,
      clientCertFile: client.certFile,
      clientKeyFile: client.keyFile,
    };

    const upstream = await startUpstream(certs);
    peers.push(upstream);
    const sidecar = await startSidecar({
      configFile: writeSidecarConfig(pki, upstream.port),
      logFile: path.join(pki.dir, 'sidecar.log'),
      cpuProfileDir: options.cpuProfileDir,
    });
    peers.push(sidecar);
    const nginx = await startNginx(pki.dir, certs, upstream.port);
    peers.push(nginx);
    const ghostunnel = await startGhostunnel(
      pki.dir,
      certs,
      upstream.port,
      options.ghostunnelBinary,
    );
    peers.push(ghostunnel);
    const stunnel = await startStunnel(pki.dir, certs, upstream.port);
    peers.push(stunnel);
    const nodePipe = await startNodePipe(certs, upstream.port);
    peers.push(nodePipe);

    const upstreamName = `localhost:${upstream.port}`;
    const targets: Record<PathName, LoadTarget> = {
      direct: {
        port: upstream.port,
        path: '/',
        hostHeader: upstreamName,
        tls: {
          cert: client.certPem,
          key: client.keyPem,
          ca: pki.ca.certPem,
          servername: 'localhost',
        },
      },
      sidecar: { port: sidecar.port, path: `http://${upstreamName}/`, hostHeader: upstreamName },
      nginx: { port: nginx.port, path: '/', hostHeader: upstreamName },
      ghostunnel: { port: ghostunnel.port, path: '/', hostHeader: upstreamName },
      stunnel: { port: stunnel.port, path: '/', hostHeader: upstreamName },
    };

    // Idle: started, certificates loaded, one request served (its upstream pool exists).
    await loadKeepAlive(targets.sidecar, 1, { warmupMs: 0, durationMs: 50 });
    const idle = residentMemory(sidecar.pid);

    const figures: Record<string, number> = {};
    const rows: ProxyComparison['rows'] = [];

    // A profile (or a quick check) is of the sidecar under keep-alive load and nothing else.
    if (options.cpuProfileDir || options.sidecarOnly) {
      const cpuBefore = cpuSeconds(sidecar.pid);
      let loadRssMb = 0;
      const sampler = setInterval(() => {
        loadRssMb = Math.max(loadRssMb, residentMemory(sidecar.pid).rssMb);
      }, 200);
      const result = await loadKeepAlive(targets.sidecar, CONNECTIONS, options.window);
      clearInterval(sampler);
      figures.sidecar_idle_rss_mb = idle.rssMb;
      figures.sidecar_load_rss_mb = loadRssMb;
      rows.push({ path: 'sidecar', pattern: 'keepalive', result });
      record(figures, 'proxy_sidecar_keepalive', result);
      figures.sidecar_keepalive_cpu_us_per_request = cpuPerRequest(
        cpuSeconds(sidecar.pid) - cpuBefore,
        result,
      );
      figures.sidecar_cpu_us_per_request = figures.sidecar_keepalive_cpu_us_per_request;
      return { figures, rows };
    }

    let loadRssMb = 0;
    for (const pattern of PATTERNS) {
      for (const name of PATHS) {
        const sampler =
          name === 'sidecar'
            ? setInterval(() => {
                loadRssMb = Math.max(loadRssMb, residentMemory(sidecar.pid).rssMb);
              }, 200)
            : undefined;
        const proxy = { direct: undefined, sidecar, nginx, ghostunnel, stunnel }[name];
        const cpuBefore = proxy ? cpuSeconds(proxy.pid) : 0;
        const result = await load(pattern, targets[name], options.window);
        clearInterval(sampler);
        rows.push({ path: name, pattern, result });
        record(figures, `proxy_${name}_${pattern}`, result);
        if (proxy) {
          figures[`${name}_${pattern}_cpu_us_per_request`] = cpuPerRequest(
            cpuSeconds(proxy.pid) - cpuBefore,
            result,
          );
        }
      }
    }

    // What each hop adds at a fixed rate; then again with the CPUs kept from halting, which
    // shows how much of it is the machine waking a CPU rather than work of the proxy.
    const pacedTargets = { ...targets, nodePipe: { ...targets.nginx, port: nodePipe.port } };
    const paced = await measurePacedLatency(pacedTargets, CONNECTIONS, options.window);
    const awake = await withCpusAwake(() =>
      measurePacedLatency(pacedTargets, CONNECTIONS, options.window, 'awake'),
    );
    for (const run of awake ? [paced, awake] : [paced]) {
      Object.assign(figures, run.figures);
      rows.push(...run.rows);
    }
    const peak = residentMemory(sidecar.pid);

    figures.rps_vs_nginx_keepalive = round3(
      figures.proxy_sidecar_keepalive_rps / figures.proxy_nginx_keepalive_rps,
    );
    figures.rps_vs_ghostunnel_newconn = round3(
      figures.proxy_sidecar_newconn_rps / figures.proxy_ghostunnel_newconn_rps,
    );
    figures.rps_vs_stunnel_newconn = round3(
      figures.proxy_sidecar_newconn_rps / figures.proxy_stunnel_newconn_rps,
    );
    // The headline CPU figure: steadier than req/s on a shared machine.
    figures.sidecar_cpu_us_per_request = figures.sidecar_keepalive_cpu_us_per_request;
    figures.sidecar_idle_rss_mb = idle.rssMb;
    figures.sidecar_load_rss_mb = Math.max(loadRssMb, peak.rssMb);
    figures.sidecar_peak_rss_mb = peak.peakMb;
    figures.proxy_failed_requests = rows.reduce((sum, row) => sum + row.result.failed, 0);
    return { figures, rows };
  } finally {
    for (const peer of peers.reverse()) await peer.stop();
    pki.dispose();
  }
}

function load(pattern: Pattern, target: LoadTarget, window: LoadWindow): Promise<LoadResult> {
  return pattern === 'keepalive'
    ? loadKeepAlive(target, CONNECTIONS, window)
    : loadNewConnection(target, CONNECTIONS, window);
}

/** A proxy's CPU time per request served, in microseconds: steadier than req/s when shared. */
function cpuPerRequest(seconds: number, result: LoadResult): number {
  return Math.round((seconds * 1e6) / Math.max(1, result.completedWithWarmup));
}

function record(figures: Record<string, number>, prefix: string, result: LoadResult): void {
  figures[`${prefix}_rps`] = result.rps;
  figures[`${prefix}_p50_ms`] = result.p50Ms;
  figures[`${prefix}_p99_ms`] = result.p99Ms;
}

/** The sidecar's standalone file: the bench client certificate for localhost:<port>. */
function writeSidecarConfig(pki: LoopbackPki, upstreamPort: number): string {
  const file = path.join(pki.dir, 'sidecar.yaml');
  const document = {
    certificates: [{ name: 'bench', certFile: 'bench-client.crt', keyFile: 'bench-client.key' }],
    mappings: [
      {
        name: 'bench',
        match: { scheme: 'https', host: 'localhost', port: upstreamPort, pathPrefix: '/' },
        selector: { matchLabels: {} },
        certificate: { name: 'bench' },
        trustedCaFile: 'ca.crt',
      },
    ],
  };
  writeFileSync(file, yaml.dump(document));
  return file;
}
