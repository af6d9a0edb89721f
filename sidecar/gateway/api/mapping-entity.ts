import type { MtlsMapping } from '../../../core/resources/types';
import { readyCondition } from './certificate-entity';

/**
 * The label through which a mapping's workload selector names a service. Sidecars match it
 * against their pod's labels; the gateway against the caller's LP-service-name.
 */
export const SERVICE_LABEL = 'mtls.io/service';

/** A mapping as the API shows it. */
export type MappingEntity = {
  /** The MtlsMapping's uid. */
  id: string;
  name: string;
  url: string;
  certificateName: string;
  /** The service it applies to; null when it applies to every caller of the namespace. */
  serviceName: string | null;
  enabled: boolean;
  /** Active once the operator made it Ready; else its reason, or Pending before any verdict. */
  state: string;
  message: string | null;
};

/** The state of a mapping: the Ready condition's reason for its current generation. */
export function mappingState(mapping: MtlsMapping): { state: string; message: string | null } {
  const ready = readyCondition(mapping.status);
  const current = mapping.status?.observedGeneration === mapping.metadata.generation;
  if (!ready || !current) return { state: 'Pending', message: 'not judged by the operator yet' };
  return { state: ready.reason, message: ready.status === 'True' ? null : ready.message };
}

/** The API's view of an MtlsMapping. */
export function mappingEntity(mapping: MtlsMapping): MappingEntity {
  const { metadata, spec } = mapping;
  return {
    id: metadata.uid ?? '',
    name: metadata.name,
    url: spec.url,
    certificateName: spec.certificateName,
    serviceName: spec.workloadSelector?.matchLabels?.[SERVICE_LABEL] ?? null,
    enabled: spec.enabled !== false,
    ...mappingState(mapping),
  };
}
