import { DISPLAY_NAME_ANNOTATION } from '../../../core/resources/annotations';
import type { Condition, MtlsCertificate } from '../../../core/resources/types';

/** Whether a certificate can be used, as the hosted service words it. */
export type CertificateState = 'Available' | 'UnAvailable' | 'Expired';

/** A certificate as the API shows it: never the password, the file or the key. */
export type CertificateEntity = {
  /** The MtlsCertificate's uid. */
  id: string;
  name: string;
  displayName: string;
  status: CertificateState;
  /** notAfter of the leaf, once the operator has read the certificate. */
  expirationDate: string | null;
  /** Why the certificate is not Available, from its Ready condition. */
  statusMessage: string | null;
};

/** The Ready condition of an object's status. */
export function readyCondition(status?: { conditions?: Condition[] }): Condition | undefined {
  return status?.conditions?.find((condition) => condition.type === 'Ready');
}

/**
 * Available when the operator has synced the current generation; Expired when it says so;
 * UnAvailable otherwise, including before the operator has looked at it.
 */
export function certificateState(certificate: MtlsCertificate): CertificateState {
  if (certificate.metadata.deletionTimestamp) return 'UnAvailable';
  const ready = readyCondition(certificate.status);
  if (ready?.reason === 'Expired') return 'Expired';
  const current = certificate.status?.observedGeneration === certificate.metadata.generation;
  return ready?.status === 'True' && current ? 'Available' : 'UnAvailable';
}

/** The API's view of an MtlsCertificate. */
export function certificateEntity(certificate: MtlsCertificate): CertificateEntity {
  const { metadata, status } = certificate;
  const state = certificateState(certificate);
  const ready = readyCondition(status);
  const why = metadata.deletionTimestamp
    ? 'being deleted'
    : (ready?.message ?? 'not synced by the operator yet');
  return {
    id: metadata.uid ?? '',
    name: metadata.name,
    displayName: metadata.annotations?.[DISPLAY_NAME_ANNOTATION] ?? metadata.name,
    status: state,
    expirationDate: status?.notAfter ?? null,
    statusMessage: state === 'Available' ? null : why,
  };
}
