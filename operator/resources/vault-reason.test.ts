import { ErrorCode, MtlsError } from '../../core/errors/codes';
import { vaultFailure } from './vault-reason';

describe('vaultFailure', () => {
  it('gives a refused request, a conflict and an outage each their own reason', () => {
    const reasons = [
      ErrorCode.VaultRequestRefused,
      ErrorCode.VaultWriteConflict,
      ErrorCode.VaultUnavailable,
      ErrorCode.VaultForbidden,
      ErrorCode.VaultLoginFailed,
    ].map((code) => vaultFailure(new MtlsError(code, 'what Vault said'), 'kv').reason);

    expect(reasons).toEqual([
      'VaultRequestRefused',
      'VaultWriteConflict',
      'VaultUnavailable',
      'VaultForbidden',
      'VaultForbidden',
    ]);
  });

  it('tells what to do about a conflict and a policy refusal', () => {
    const conflict = vaultFailure(new MtlsError(ErrorCode.VaultWriteConflict, 'changed'), 'kv');
    expect(conflict.message).toBe('changed; the next try reads the new version');
    const forbidden = vaultFailure(new MtlsError(ErrorCode.VaultForbidden, 'refused'), 'kv');
    expect(forbidden.message).toContain('kv/data/mtls/* and kv/metadata/mtls/*');
  });
});
