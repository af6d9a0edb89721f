import { ErrorCode } from '../../core/errors/codes';
import type { IndexedMapping } from '../../core/mapping/index-document';
import { MappingTable } from '../../core/mapping/mapping-table';
import type { CertificateSnapshot } from '../source/certificate-source';
import { isBlockedHost } from './destination-guard';
import type { ProxyProblem } from './proxy-replies';
import type { RequestTarget } from './request-target';
import type { UpstreamRoute } from './upstream-pools';

/** What to do with unmapped destinations: refuse them, or call them without a client cert. */
export type UnmappedPolicy = 'deny' | 'passthrough';

/** The decision for one request: a route upstream (with its mapping, if any) or a refusal. */
export type RoutePlan =
  | { kind: 'route'; route: UpstreamRoute; mapping?: IndexedMapping }
  | { kind: 'refuse'; problem: ProxyProblem };

/**
 * Turns a request target into a route, from one certificate snapshot as seen by one workload.
 * Built once per snapshot, so the per-request work is a lookup.
 */
export class RoutePlanner {
  private readonly table: MappingTable;

  constructor(
    private readonly snapshot: CertificateSnapshot,
    workloadLabels: Record<string, string>,
    private readonly unmapped: UnmappedPolicy,
  ) {
    this.table = new MappingTable(snapshot.mappings, workloadLabels);
  }

  /** The `name@version` of every certificate the snapshot's mappings use. */
  currentIdentities(): Set<string> {
    return new Set(
      [...this.snapshot.certificates].map(
        ([name, certificate]) => `${name}@${certificate.version}`,
      ),
    );
  }

  /** Decides where a request goes. */
  plan(target: RequestTarget): RoutePlan {
    const { host, port } = target.destination;
    const { namespace } = this.snapshot;
    // A mapping opens a blocked host on its own port only: one for localhost:8443 must not let
    // a passthrough call reach every other service on loopback.
    const namedExactly = this.table.namesOriginExactly(host, port);

    if (isBlockedHost(host) && !namedExactly) {
      return refuse(
        403,
        ErrorCode.ProxyDestinationBlocked,
        `calls to ${host} are refused: loopback, link-local and cloud metadata addresses ` +
          'are reachable only through a mapping that names them and the port',
      );
    }

    const mapping = this.table.lookup(target.destination);
    const certificate = mapping && this.snapshot.certificates.get(mapping.certificate.name);
    if (mapping && certificate) {
      const identity = { certificateName: mapping.certificate.name, ...certificate };
      const guardResolution = mapping.match.host !== host;
      return {
        kind: 'route',
        mapping,
        route: { host, port, identity, trustedCaPem: mapping.trustedCaPem, guardResolution },
      };
    }

    if (target.stopIfUnmapped || this.unmapped === 'deny') {
      const why = mapping
        ? `mapping ${mapping.name} names certificate ${mapping.certificate.name}, ` +
          'which is not loaded'
        : `no mapping of namespace ${namespace} covers https://${host}:${port}`;
      return refuse(
        403,
        ErrorCode.ProxyDestinationUnmapped,
        `${why}; create an MtlsMapping for this URL or ask for --unmapped passthrough`,
      );
    }
    return { kind: 'route', route: { host, port, guardResolution: !namedExactly } };
  }
}

function refuse(status: number, code: ErrorCode, message: string): RoutePlan {
  return { kind: 'refuse', problem: { status, code, message } };
}
