import type { MtlsCertificate, MtlsMapping } from '../../../core/resources/types';
import { checkConfiguration } from './configuration-check';

function mapping(name: string, url: string, reason = 'Active', service?: string): MtlsMapping {
  return {
    apiVersion: 'mtls.io/v1alpha1',
    kind: 'MtlsMapping',
    metadata: { name, namespace: 'shop', generation: 1 },
    spec: {
      url,
      certificateName: 'partner',
      ...(service ? { workloadSelector: { matchLabels: { 'mtls.io/service': service } } } : {}),
    },
    status: {
      observedGeneration: 1,
      conditions: [
        {
          type: 'Ready',
          status: reason === 'Active' ? 'True' : 'False',
          reason,
          message: reason === 'Active' ? 'ok' : `${reason} because`,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
}

const partner: MtlsCertificate = {
  apiVersion: 'mtls.io/v1alpha1',
  kind: 'MtlsCertificate',
  metadata: { name: 'partner', namespace: 'shop', generation: 1 },
  spec: { source: { pkcs12: { secretName: 'partner.p12' } } },
  status: {
    observedGeneration: 1,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Synced',
        message: 'stored',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  },
};

describe('checkConfiguration', () => {
  const mappings = [
    mapping('wide', 'https://*.bank.example/'),
    mapping('exact', 'https://api.bank.example/'),
    mapping('deeper', 'https://api.bank.example/v2/'),
    mapping('billing', 'https://pay.example/', 'Active', 'billing'),
    mapping('broken', 'https://down.example/', 'CertificateNotReady'),
    mapping('unparsable', 'http://plain.example/'),
  ];
  const check = (service: string | null, url: string) =>
    checkConfiguration([{ service, url }], mappings, [partner])[0];

  it('picks the mapping a forwarded call would use', () => {
    expect(check(null, 'https://api.bank.example/v2/x').mapping).toBe('deeper');
    expect(check(null, 'https://api.bank.example/v1/x').mapping).toBe('exact');
    expect(check(null, 'https://www.bank.example/').mapping).toBe('wide');
    expect(check(null, 'https://api.bank.example:8443/').state).toBe('Missing');
    expect(check(null, 'http://api.bank.example/v2/list').mapping).toBe('deeper');
  });

  it("applies a service's mappings to that service only", () => {
    expect(check('billing', 'https://pay.example/')).toMatchObject({
      mapped: true,
      mapping: 'billing',
      certificate: 'partner',
      certificateStatus: 'Available',
    });
    expect(check('shop', 'https://pay.example/').state).toBe('Missing');
    expect(check(null, 'https://pay.example/').state).toBe('Missing');
  });

  it('says why a URL is not mapped yet', () => {
    expect(check(null, 'https://down.example/')).toMatchObject({
      mapped: false,
      state: 'CertificateNotReady',
      mapping: 'broken',
      message: 'CertificateNotReady because',
    });
    expect(check(null, 'ftp://x/').state).toBe('InvalidUrl');
    expect(check(null, 'https://plain.example/').state).toBe('Missing');
  });
});
