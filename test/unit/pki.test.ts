import { X509Certificate } from 'node:crypto';

import { TestPki } from '../fixtures/pki';

describe('the test PKI', () => {
  const pki = new TestPki();
  afterAll(() => pki.dispose());

  it('issues chained, dated and EC certificates and packs PKCS#12 files', () => {
    const ca = pki.ca();
    const expired = pki.issue({ commonName: 'old', ca, startOffsetDays: -60, days: 30 });
    const ec = pki.issue({
      commonName: 'ec',
      ca,
      keyOptions: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    });

    const old = new X509Certificate(expired.certPem);
    expect(old.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(new Date(old.validTo).getTime()).toBeLessThan(Date.now());
    expect(new X509Certificate(ec.certPem).publicKey.asymmetricKeyType).toBe('ec');
    expect(pki.pkcs12(ec, 'pw', { legacy: true, chain: [ca] }).length).toBeGreaterThan(500);
  });
});
