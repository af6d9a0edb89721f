import type { ApiResource } from '../kube/api-paths';
import { GROUP, PLURAL, VERSION } from './types';

/** The kinds the operator watches. */
export const RESOURCES = {
  certificates: {
    group: GROUP,
    version: VERSION,
    plural: PLURAL.MtlsCertificate,
    kind: 'MtlsCertificate',
  },
  mappings: { group: GROUP, version: VERSION, plural: PLURAL.MtlsMapping, kind: 'MtlsMapping' },
  secrets: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
} satisfies Record<string, ApiResource>;
