import type { IndexedMapping } from './index-document';

/** Where a request is going, after the proxy worked out its form. */
export type Destination = {
  /** Lower-case host name or IP literal, without brackets. */
  host: string;
  port: number;
  /** Path and query as sent upstream, starting with `/`. */
  path: string;
};

/** True when a mapping's host (exact, or `*.example.com` for one label) covers a host. */
export function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  const label = host.slice(0, host.length - suffix.length);
  return host.endsWith(suffix) && label.length > 0 && !label.includes('.');
}

/** True when a prefix covers a path at a segment boundary (`/api` covers `/api/x`, not `/apis`). */
export function pathMatches(prefix: string, path: string): boolean {
  const pathname = path.split('?', 1)[0];
  if (prefix === '/' || pathname === prefix) return true;
  if (!pathname.startsWith(prefix)) return false;
  return prefix.endsWith('/') || pathname[prefix.length] === '/';
}

/** True when every label of a selector is on the calling workload; an empty one selects all. */
export function selectorMatches(
  matchLabels: Record<string, string>,
  workload: Record<string, string>,
): boolean {
  return Object.entries(matchLabels).every(([key, value]) => workload[key] === value);
}

/**
 * The mappings of one snapshot, as seen by one workload. Lookup picks the most specific mapping:
 * an exact host beats a wildcard, then the longest path prefix wins, then the name decides so
 * that the choice never depends on the order of the index.
 */
export class MappingTable {
  private readonly mappings: IndexedMapping[];

  constructor(mappings: readonly IndexedMapping[], workloadLabels: Record<string, string>) {
    this.mappings = mappings
      .filter((mapping) => selectorMatches(mapping.selector.matchLabels, workloadLabels))
      .sort(bySpecificity);
  }

  /** The winning mapping for a destination, or undefined when none covers it. */
  lookup(destination: Destination): IndexedMapping | undefined {
    return this.mappings.find(
      ({ match }) =>
        match.port === destination.port &&
        hostMatches(match.host, destination.host) &&
        pathMatches(match.pathPrefix, destination.path),
    );
  }

  /** True when some mapping names this host exactly (not through a wildcard) on this port. */
  namesOriginExactly(host: string, port: number): boolean {
    return this.mappings.some(
      (mapping) => mapping.match.host === host && mapping.match.port === port,
    );
  }
}

function bySpecificity(a: IndexedMapping, b: IndexedMapping): number {
  const wildcard = Number(a.match.host.startsWith('*.')) - Number(b.match.host.startsWith('*.'));
  if (wildcard !== 0) return wildcard;
  const prefix = b.match.pathPrefix.length - a.match.pathPrefix.length;
  if (prefix !== 0) return prefix;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
