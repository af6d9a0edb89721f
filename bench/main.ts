import { measureOperatorColdStart } from './operator-cold-start';
import { compareProxies, type ProxyComparison } from './proxy-compare';

// `make bench`: every figure, then one JSON object of them all as the last line.
//
// BENCH_ONLY=operator|proxy runs one part (sidecar: only the sidecar under keep-alive load);
// BENCH_SECONDS sets the measured seconds of each
// proxy case (default 5, after 1 s of warm-up); BENCH_PROFILE_DIR makes the sidecar write a CPU
// profile there (summarize it with `node dist/bench/cpu-profile-summary.js <file>`).
async function main(envFile: string | undefined): Promise<void> {
  const only = process.env.BENCH_ONLY ?? '';
  const figures: Record<string, number> = {};

  // The proxies first, while the control plane is still idle.
  if (only === '' || only === 'proxy' || only === 'sidecar') {
    const seconds = Number(process.env.BENCH_SECONDS ?? 5);
    const ghostunnelBinary = process.env.BENCH_GHOSTUNNEL;
    if (!ghostunnelBinary) throw new Error('BENCH_GHOSTUNNEL names no ghostunnel: run make bench');
    const proxies = await compareProxies({
      ghostunnelBinary,
      window: { warmupMs: 1000, durationMs: seconds * 1000 },
      cpuProfileDir: process.env.BENCH_PROFILE_DIR || undefined,
      sidecarOnly: only === 'sidecar',
    });
    process.stdout.write(proxyTable(proxies));
    Object.assign(figures, proxies.figures);
  }

  if (only === '' || only === 'operator') {
    if (!envFile) throw new Error('the operator part needs the env file of a control plane');
    const operator = await measureOperatorColdStart(envFile);
    process.stdout.write(
      `operator cold start: 1,000 certificates Ready in ${operator.operator_1000_ready_s} s, ` +
        `peak RSS ${operator.operator_peak_rss_mb} MB (targets: under 60 s, under 200 MB)\n`,
    );
    Object.assign(figures, operator);
  }

  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function proxyTable({ rows, figures }: ProxyComparison): string {
  const lines = [
    'proxy comparison on loopback (upstream demands a client certificate; 16 connections;',
    'nginx runs 1 worker, like the sidecar 1 event loop)',
    '',
    `${'path'.padEnd(12)}${'client pattern'.padEnd(20)}${'req/s'.padStart(8)}` +
      `${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'failed'.padStart(8)}`,
  ];
  for (const { path, pattern, result } of rows) {
    lines.push(
      `${path.padEnd(12)}${pattern.padEnd(20)}${String(result.rps).padStart(8)}` +
        `${result.p50Ms.toFixed(3).padStart(10)}${result.p99Ms.toFixed(3).padStart(10)}` +
        `${String(result.failed).padStart(8)}`,
    );
  }
  if (figures.proxy_p50_added_ms === undefined) return `${lines.join('\n')}\n\n`;
  const added = (hop: string, run = '') =>
    `${figures[`${hop}_p50_added${run}_ms`]} / ${figures[`${hop}_p99_added${run}_ms`]}`;
  const cpu = (peer: string) =>
    `${figures[`${peer}_keepalive_cpu_us_per_request`]} / ` +
    `${figures[`${peer}_newconn_cpu_us_per_request`]}`;
  lines.push(
    '',
    `added at 500 req/s (median of 3 rounds), p50 / p99 ms: sidecar ${added('proxy')} ` +
      `(targets 0.25 / 1.5), nginx ${added('nginx')}, bare Node pipe ${added('node_pipe')}`,
    figures.proxy_p50_added_awake_ms === undefined
      ? 'CPUs kept awake: not measured (no chrt)'
      : `with the CPUs kept from halting: sidecar ${added('proxy', '_awake')}, ` +
          `nginx ${added('nginx', '_awake')}, bare Node pipe ${added('node_pipe', '_awake')}`,
    `keep-alive req/s, sidecar / nginx: ${figures.rps_vs_nginx_keepalive} (target >= 0.5)`,
    `new connection per request req/s, sidecar / ghostunnel: ` +
      `${figures.rps_vs_ghostunnel_newconn} (target >= 3); sidecar / stunnel: ` +
      `${figures.rps_vs_stunnel_newconn}`,
    `proxy CPU per request, keep-alive / new connection (us): sidecar ` +
      [
        `${cpu('sidecar')}, `,
        `nginx ${cpu('nginx')}, `,
        `ghostunnel ${cpu('ghostunnel')}, `,
        `stunnel ${cpu('stunnel')}`,
      ].join(''),
    `sidecar RSS: idle ${figures.sidecar_idle_rss_mb} MB (target <= 60), under load ` +
      `${figures.sidecar_load_rss_mb} MB (target <= 90), peak ${figures.sidecar_peak_rss_mb} MB`,
    '',
  );
  return `${lines.join('\n')}\n`;
}

main(process.argv[2]).catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
