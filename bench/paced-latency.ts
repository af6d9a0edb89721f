import {
  loadPaced,
  round3,
  type LoadResult,
  type LoadTarget,
  type LoadWindow,
} from './load-generator';

// The latency a hop adds at a fixed request rate, the figure the sidecar's target is set in. The
// direct path and the hops through the sidecar, nginx and the bare Node pipe take turns over a
// few rounds, and each hop's addition is taken against the direct path of its own round: the
// machine's latency drifts over minutes by more than the differences measured.

const PACED_RATE = 500;
const ROUNDS = 3;

/**
 * The hops measured: the name of their path in figures (`proxy_<path>_paced500_p50_ms`) and the
 * prefix of what they add (`<prefix>_p50_added_ms`; `proxy_` is the sidecar's, the headline).
 */
const HOPS = {
  sidecar: { path: 'sidecar', prefix: 'proxy' },
  nginx: { path: 'nginx', prefix: 'nginx' },
  nodePipe: { path: 'node_pipe', prefix: 'node_pipe' },
} as const;
type Hop = keyof typeof HOPS;

/** Where each path's requests go. */
export type PacedTargets = Record<'direct' | Hop, LoadTarget>;

/** Figures by name and one row per path (its median round) for the table. */
export type PacedLatency = {
  figures: Record<string, number>;
  rows: { path: string; pattern: string; result: LoadResult }[];
};

/**
 * Measures every path at PACED_RATE over `connections` for ROUNDS rounds of `window`. `label`
 * ends the figure names and names the pattern in the table (empty for the plain run).
 */
export async function measurePacedLatency(
  targets: PacedTargets,
  connections: number,
  window: LoadWindow,
  label = '',
): Promise<PacedLatency> {
  const paths = ['direct', ...Object.keys(HOPS)] as ('direct' | Hop)[];
  const results = new Map(paths.map((path) => [path, [] as LoadResult[]]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const path of paths) {
      const result = await loadPaced(targets[path], PACED_RATE, connections, window);
      results.get(path)?.push(result);
    }
  }

  const suffix = label === '' ? '' : `_${label}`;
  const figures: Record<string, number> = {};
  const rows: PacedLatency['rows'] = [];
  const direct = results.get('direct') ?? [];
  for (const path of paths) {
    const own = results.get(path) ?? [];
    const name = path === 'direct' ? 'direct' : HOPS[path].path;
    for (const percentile of ['p50', 'p99'] as const) {
      const key = `${percentile}Ms` as const;
      figures[`proxy_${name}_paced${PACED_RATE}${suffix}_${percentile}_ms`] = median(
        own.map((result) => result[key]),
      );
      if (path === 'direct') continue;
      const added = own.map((result, round) => result[key] - direct[round][key]);
      figures[`${HOPS[path].prefix}_${percentile}_added${suffix}_ms`] = round3(median(added));
    }

    // The table shows the round of median p50, with the failures of every round.
    const middle = [...own].sort((a, b) => a.p50Ms - b.p50Ms)[Math.floor(own.length / 2)];
    const failed = own.reduce((sum, result) => sum + result.failed, 0);
    rows.push({
      path: path === 'nodePipe' ? 'node pipe' : path,
      pattern: `paced ${PACED_RATE}/s${label === '' ? '' : ` ${label}`}`,
      result: { ...middle, failed },
    });
  }
  return { figures, rows };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}
