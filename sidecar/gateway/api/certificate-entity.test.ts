import type { Condition, MtlsCertificate } from '../../../core/resources/types';
import { certificateEntity, certificateState } from './certificate-entity';

// The API's status of a certificate: pure logic over the MtlsCertificate's metadata and status.

function ready(status: Condition['status'], reason: string, message = reason): Condition {
  return { type: 'Ready', status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' };
}

function certificate(
  conditions: Condition[],
  { generation = 2, observedGeneration = 2, deleting = false } = {},
): MtlsCertificate {
  return {
    apiVersion: 'mtls.io/v1alpha1',
    kind: 'MtlsCertificate',
    metadata: {
      name: 'partner',
      namespace: 'team',
      uid: 'uid-1',
      generation,
      ...(deleting ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}),
    },
    spec: { source: { pkcs12: { secretName: 'partner-p12' } } },
    status: { observedGeneration, conditions, notAfter: '2025-06-30T00:00:00Z' },
  };
}

describe('certificateState', () => {
  it('is Expired when the Ready reason is Expired, with the reason as the message', () => {
    const expired = certificate([
      ready('False', 'Expired', 'the certificate expired on 2025-06-30'),
    ]);
    expect(certificateState(expired)).toBe('Expired');
    expect(certificateEntity(expired)).toEqual({
      id: 'uid-1',
      name: 'partner',
      displayName: 'partner',
      status: 'Expired',
      expirationDate: '2025-06-30T00:00:00Z',
      statusMessage: 'the certificate expired on 2025-06-30',
    });
  });

  it('is Expired even before the operator has observed the newest generation', () => {
    const stale = certificate([ready('False', 'Expired')], { generation: 3 });
    expect(certificateState(stale)).toBe('Expired');
  });

  it('is UnAvailable, not Expired, while the certificate is being deleted', () => {
    const deleting = certificate([ready('False', 'Expired')], { deleting: true });
    expect(certificateState(deleting)).toBe('UnAvailable');
    expect(certificateEntity(deleting).statusMessage).toBe('being deleted');
  });

  it('is Available only when synced for the current generation, else UnAvailable', () => {
    expect(certificateState(certificate([ready('True', 'Synced')]))).toBe('Available');
    expect(certificateEntity(certificate([ready('True', 'Synced')])).statusMessage).toBeNull();
    expect(certificateState(certificate([ready('True', 'Synced')], { generation: 3 }))).toBe(
      'UnAvailable',
    );
    expect(certificateState(certificate([ready('False', 'SecretNotFound')]))).toBe('UnAvailable');
    const unseen = certificate([]);
    expect(certificateState(unseen)).toBe('UnAvailable');
    expect(certificateEntity(unseen).statusMessage).toBe('not synced by the operator yet');
  });
});
