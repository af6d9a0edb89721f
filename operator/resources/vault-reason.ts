import { ErrorCode, MtlsError } from '../../core/errors/codes';

/** A condition reason and an actionable message for a Vault failure. */
export type VaultFailure = {
  reason: 'VaultUnavailable' | 'VaultForbidden' | 'VaultRequestRefused' | 'VaultWriteConflict';
  message: string;
};

/** True when the error is a failure of a call to Vault. */
export function isVaultError(err: unknown): err is MtlsError {
  return err instanceof MtlsError && err.code.startsWith('VAULT_');
}

/**
 * Words a Vault failure for a Ready condition: a refusal of the operator's identity (by a policy
 * or at login) or of the request (a wrong mount or path) needs a person to act, unlike an outage
 * or a write conflict, which the retries ride out.
 */
export function vaultFailure(err: MtlsError, vaultMount: string): VaultFailure {
  if (err.code === ErrorCode.VaultForbidden) {
    const paths = `${vaultMount}/data/mtls/* and ${vaultMount}/metadata/mtls/*`;
    return {
      reason: 'VaultForbidden',
      message:
        `${err.message}; the operator's Vault policy needs create, read, update, delete and ` +
        `list on ${paths}, and read on every adopted path (docs/install.md)`,
    };
  }
  if (err.code === ErrorCode.VaultLoginFailed) {
    return { reason: 'VaultForbidden', message: err.message };
  }
  if (err.code === ErrorCode.VaultRequestRefused) {
    return { reason: 'VaultRequestRefused', message: err.message };
  }
  if (err.code === ErrorCode.VaultWriteConflict) {
    return {
      reason: 'VaultWriteConflict',
      message: `${err.message}; the next try reads the new version`,
    };
  }
  return { reason: 'VaultUnavailable', message: err.message };
}
