import type { IndexedMapping } from '../../../core/mapping/index-document';
import { MappingTable, type Destination } from '../../../core/mapping/mapping-table';
import { parseMappingUrl } from '../../../core/mapping/url-match';
import type { MtlsCertificate, MtlsMapping } from '../../../core/resources/types';
import { certificateState } from './certificate-entity';
import { mappingState, SERVICE_LABEL } from './mapping-entity';

/** One (service, URL) pair to check. */
export type CheckQuery = { service: string | null; url: string };

/** Whether a pair is mapped, with the mapping and certificate that decide it. */
export type CheckVerdict = {
  service: string | null;
  url: string;
  /** True when an Active mapping covers the URL for the service: a call would be mapped. */
  mapped: boolean;
  /** Active; the reason of the best mapping that is not; Missing; or InvalidUrl. */
  state: string;
  mapping: string | null;
  certificate: string | null;
  certificateStatus: string | null;
  message: string | null;
};

/**
 * Answers, for (service, URL) pairs of one namespace, which mapping a forwarded call would use.
 * It reads the MtlsMappings and MtlsCertificates themselves, so it can also say why a URL is not
 * mapped yet, and it matches as the gateway forwards: the service's selector label, the port,
 * the host (exact beats wildcard), then the longest path prefix.
 */
export function checkConfiguration(
  queries: readonly CheckQuery[],
  mappings: readonly MtlsMapping[],
  certificates: readonly MtlsCertificate[],
): CheckVerdict[] {
  const candidates = mappings.flatMap((mapping) => {
    try {
      return [{ mapping, indexed: asIndexed(mapping) }];
    } catch {
      return [];
    }
  });
  const byName = new Map(
    candidates.map((candidate) => [candidate.mapping.metadata.name, candidate]),
  );
  const active = candidates.filter(({ mapping }) => mappingState(mapping).state === 'Active');
  const certificateByName = new Map(certificates.map((c) => [c.metadata.name, c]));

  return queries.map((query) => {
    const base = { service: query.service, url: query.url };
    const destination = destinationOf(query.url);
    if (!destination) {
      return {
        ...base,
        mapped: false,
        state: 'InvalidUrl',
        mapping: null,
        certificate: null,
        certificateStatus: null,
        message: `'${query.url}' is not an absolute http or https URL`,
      };
    }

    const labels: Record<string, string> = query.service ? { [SERVICE_LABEL]: query.service } : {};
    const lookup = (list: typeof candidates) =>
      new MappingTable(
        list.map(({ indexed }) => indexed),
        labels,
      ).lookup(destination);
    const winner = lookup(active) ?? lookup(candidates);
    if (!winner) {
      return {
        ...base,
        mapped: false,
        state: 'Missing',
        mapping: null,
        certificate: null,
        certificateStatus: null,
        message: 'no mapping of the namespace covers this URL for this service',
      };
    }

    const mapping = byName.get(winner.name)!.mapping;
    const { state, message } = mappingState(mapping);
    const certificate = certificateByName.get(mapping.spec.certificateName);
    return {
      ...base,
      mapped: state === 'Active',
      state,
      mapping: mapping.metadata.name,
      certificate: mapping.spec.certificateName,
      certificateStatus: certificate ? certificateState(certificate) : 'Missing',
      message,
    };
  });
}

// The mapping as a sidecar would index it; only its match and selector matter here.
function asIndexed(mapping: MtlsMapping): IndexedMapping {
  return {
    name: mapping.metadata.name,
    match: parseMappingUrl(mapping.spec.url),
    selector: { matchLabels: mapping.spec.workloadSelector?.matchLabels ?? {} },
    certificate: { name: mapping.spec.certificateName, vaultVersion: 0, path: '' },
  };
}

/** Where a forwarded call to this URL would go, as the proxy reads LP-forward-url. */
function destinationOf(raw: string): Destination | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return { host, port: url.port ? Number(url.port) : 443, path: `${url.pathname}${url.search}` };
}
