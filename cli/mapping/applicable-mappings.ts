import { canonicalJson } from '../../core/json/canonical';
import type { IndexedMapping, UrlMatch } from '../../core/mapping/index-document';
import {
  hostMatches,
  MappingTable,
  pathMatches,
  selectorMatches,
  type Destination,
} from '../../core/mapping/mapping-table';
import { MappingUrlError, parseMappingUrl, urlMatchKey } from '../../core/mapping/url-match';
import { readyCondition } from '../../core/resources/conditions';
import type { MtlsMapping } from '../../core/resources/types';

/** A mapping that covers the URL but is not used for it, and why. */
export type PassedOver = { mapping: MtlsMapping; reason: string; message: string };

/** Which of a namespace's mappings a call to one destination uses, and why the others are not. */
export type MappingDecision = {
  /** One mapping per distinct workload selector, the most specific first. */
  applying: MtlsMapping[];
  passedOver: PassedOver[];
};

type Covering = { mapping: MtlsMapping; match: UrlMatch; selector: Record<string, string> };

/**
 * Decides as the sidecar and the operator do. The sidecar uses the Ready mappings whose
 * selector picks the workload and that cover the destination (same port, host equal or under a
 * `*.` wildcard, path prefix at a segment boundary), the most specific first. The operator lets
 * the oldest mapping (then the first by name) win a (selector, URL) claim. Without
 * `workloadLabels`, the answer is given for each selector the covering mappings name.
 */
export function decideMappings(
  mappings: readonly MtlsMapping[],
  destination: Destination,
  workloadLabels?: Record<string, string>,
): MappingDecision {
  const covering = mappings.flatMap((mapping) => coveringEntry(mapping, destination));
  const winners = claimWinners(covering);
  const passedOver: PassedOver[] = [];
  const active: Covering[] = [];

  for (const entry of covering) {
    const skipped = whyNotActive(entry, winners, workloadLabels);
    if (skipped) passedOver.push({ mapping: entry.mapping, ...skipped });
    else active.push(entry);
  }

  const indexed = active.map(asIndexed);
  const byName = new Map(active.map((entry) => [entry.mapping.metadata.name, entry.mapping]));
  const lookup = (labels: Record<string, string>) =>
    new MappingTable(indexed, labels).lookup(destination)?.name;
  const workloads = workloadLabels ? [workloadLabels] : active.map((entry) => entry.selector);
  const chosen = [...new Set(workloads.map(lookup).filter((name) => name !== undefined))];

  for (const entry of active) {
    const { name } = entry.mapping.metadata;
    if (chosen.includes(name)) continue;
    const winner = lookup(workloadLabels ?? entry.selector);
    passedOver.push({
      mapping: entry.mapping,
      reason: 'Shadowed',
      message:
        `MtlsMapping '${winner}' goes first for these workloads ` +
        '(exact host, then longest path prefix, then name)',
    });
  }
  return { applying: chosen.map((name) => byName.get(name)!), passedOver };
}

function coveringEntry(mapping: MtlsMapping, destination: Destination): Covering[] {
  let match: UrlMatch;
  try {
    match = parseMappingUrl(mapping.spec.url);
  } catch (err) {
    if (err instanceof MappingUrlError) return [];
    throw err;
  }
  const covers =
    match.port === destination.port &&
    hostMatches(match.host, destination.host) &&
    pathMatches(match.pathPrefix, destination.path);
  const selector = mapping.spec.workloadSelector?.matchLabels ?? {};
  return covers ? [{ mapping, match, selector }] : [];
}

// The operator's rule: among the mappings it found usable (Active, or Conflict for losing a
// claim), the oldest claim of a (selector, URL) pair wins, then the first by name. The answer
// maps each claimant's name to the winner of its claim.
function claimWinners(covering: Covering[]): Map<string, MtlsMapping> {
  const claimants = covering.filter((entry) => {
    const ready = readyCondition(entry.mapping.status);
    return ready?.status === 'True' || ready?.reason === 'Conflict';
  });
  const firstOfClaim = new Map<string, MtlsMapping>();
  const winnerOf = new Map<string, MtlsMapping>();
  for (const entry of claimants.sort((a, b) => byAgeThenName(a.mapping, b.mapping))) {
    const claim = `${canonicalJson({ matchLabels: entry.selector })} ${urlMatchKey(entry.match)}`;
    if (!firstOfClaim.has(claim)) firstOfClaim.set(claim, entry.mapping);
    winnerOf.set(entry.mapping.metadata.name, firstOfClaim.get(claim)!);
  }
  return winnerOf;
}

function whyNotActive(
  entry: Covering,
  winners: Map<string, MtlsMapping>,
  workloadLabels: Record<string, string> | undefined,
): { reason: string; message: string } | undefined {
  const { mapping, selector } = entry;
  if (workloadLabels && !selectorMatches(selector, workloadLabels)) {
    const wanted = describeLabels(selector);
    return { reason: 'WorkloadNotSelected', message: `it selects workloads labelled ${wanted}` };
  }
  if (mapping.spec.enabled === false) {
    return { reason: 'Disabled', message: 'spec.enabled is false' };
  }

  const winner = winners.get(mapping.metadata.name);
  if (winner && winner !== mapping) {
    const message =
      `MtlsMapping '${winner.metadata.name}' claims the same URL for the same workloads ` +
      'and is older (or first by name)';
    return { reason: 'Conflict', message };
  }

  const ready = readyCondition(mapping.status);
  if (!ready) return { reason: 'Pending', message: 'the operator has not reported on it yet' };
  if (ready.status !== 'True') return { reason: ready.reason, message: ready.message };
  return undefined;
}

function asIndexed(entry: Covering): IndexedMapping {
  return {
    name: entry.mapping.metadata.name,
    match: entry.match,
    selector: { matchLabels: entry.selector },
    certificate: { name: entry.mapping.spec.certificateName, vaultVersion: 0, path: '' },
  };
}

function byAgeThenName(a: MtlsMapping, b: MtlsMapping): number {
  const age = (a.metadata.creationTimestamp ?? '').localeCompare(
    b.metadata.creationTimestamp ?? '',
  );
  return age !== 0 ? age : a.metadata.name.localeCompare(b.metadata.name);
}

/** Labels as `app=shop,tier=web`, or `every pod` for an empty selector. */
export function describeLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
  return pairs.length > 0 ? pairs.join(',') : 'every pod';
}
