import type { MtlsCertificate } from '../../core/resources/types';
import { statusTable, summarize } from './status';

const NOW = new Date('2027-06-01T12:00:00Z');

function certificate(
  name: string,
  source: MtlsCertificate['spec']['source'],
  status?: MtlsCertificate['status'],
  annotations?: Record<string, string>,
): MtlsCertificate {
  return {
    apiVersion: 'mtls.io/v1alpha1',
    kind: 'MtlsCertificate',
    metadata: { name, namespace: 'payments', ...(annotations ? { annotations } : {}) },
    spec: { source },
    ...(status ? { status } : {}),
  };
}

function ready(status: 'True' | 'False', reason: string) {
  return [{ type: 'Ready', status, reason, message: `${reason}.`, lastTransitionTime: '' }];
}

const certificates = [
  certificate(
    'partner',
    { pkcs12: { secretName: 'partner-p12' } },
    {
      conditions: ready('True', 'Synced'),
      notAfter: '2027-07-12T12:00:00.000Z',
      keyAlgorithm: 'EC',
      keySize: 256,
      subject: 'CN=checkout',
    },
    { 'mtls.io/display-name': 'Partner Bank' },
  ),
  certificate(
    'broken',
    { pem: { secretName: 'broken-tls' } },
    { conditions: ready('False', 'InvalidCertificate') },
  ),
  certificate('adopted', { vault: { path: 'teams/payments/psd2' } }),
];

describe('status', () => {
  it('summarizes each certificate from its status, Unknown before the first report', () => {
    const [partner, broken, adopted] = certificates.map((c) => summarize(c, NOW));

    expect(partner).toMatchObject({
      name: 'partner',
      displayName: 'Partner Bank',
      ready: 'True',
      reason: 'Synced',
      daysLeft: 41,
      key: 'EC 256',
      source: 'pkcs12:partner-p12',
    });
    expect(broken).toMatchObject({ ready: 'False', reason: 'InvalidCertificate' });
    expect(broken.source).toBe('pem:broken-tls');
    expect(adopted).toMatchObject({
      ready: 'Unknown',
      reason: 'Pending',
      source: 'vault:teams/payments/psd2',
    });
    expect(adopted.daysLeft).toBeUndefined();
  });

  it('prints NAME, READY, REASON and EXPIRES IN like kubectl', () => {
    const summaries = certificates.map((c) => summarize(c, NOW));
    expect(statusTable(summaries, NOW, { all: false, wide: false })).toBe(
      [
        'NAME      READY     REASON               EXPIRES IN',
        'partner   True      Synced               41d',
        'broken    False     InvalidCertificate   <none>',
        'adopted   Unknown   Pending              <none>',
        '',
      ].join('\n'),
    );
  });

  it('adds the namespace with -A, and the key, source and subject when wide', () => {
    const [partner] = certificates.map((c) => summarize(c, NOW));
    const [header, row] = statusTable([partner], NOW, { all: true, wide: true }).split('\n');
    expect(header.split(/ {3,}/)).toEqual([
      'NAMESPACE',
      'NAME',
      'READY',
      'REASON',
      'EXPIRES IN',
      'KEY',
      'SOURCE',
      'SUBJECT',
    ]);
    expect(row.split(/ {3,}/)).toEqual([
      'payments',
      'partner',
      'True',
      'Synced',
      '41d',
      'EC 256',
      'pkcs12:partner-p12',
      'CN=checkout',
    ]);
  });
});
