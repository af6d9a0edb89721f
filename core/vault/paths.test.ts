import { certificateVaultPath, reachesOtherNamespace } from './paths';

describe('reachesOtherNamespace', () => {
  it('allows paths outside the operator tree and below the namespace own part of it', () => {
    expect(reachesOtherNamespace('teams/payments/psd2', 'payments')).toBe(false);
    expect(reachesOtherNamespace('mtlsx/other/certificates/a', 'payments')).toBe(false);
    expect(reachesOtherNamespace(certificateVaultPath('payments', 'a'), 'payments')).toBe(false);
  });

  it("refuses another namespace's part of the operator tree, however it is spelled", () => {
    for (const path of [
      'mtls/billing/certificates/partner',
      '/mtls/billing/certificates/partner',
      'mtls//billing/certificates/partner',
      'mtls',
      'teams/../mtls/billing/certificates/partner',
      './mtls/payments/certificates/partner',
    ]) {
      expect([path, reachesOtherNamespace(path, 'payments')]).toEqual([path, true]);
    }
  });
});
