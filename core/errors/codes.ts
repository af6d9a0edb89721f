/**
 * Every error the project reports carries one of these stable codes. docs/errors.md lists them
 * with what a user can do about each; a code, once published, keeps its meaning.
 */
export const ErrorCode = {
  ConfigInvalid: 'CONFIG_INVALID',
  VaultUnavailable: 'VAULT_UNAVAILABLE',
  VaultForbidden: 'VAULT_FORBIDDEN',
  VaultLoginFailed: 'VAULT_LOGIN_FAILED',
  VaultDataInvalid: 'VAULT_DATA_INVALID',
  SidecarConfigFileInvalid: 'SIDECAR_CONFIG_FILE_INVALID',
  ProxyRequestInvalid: 'PROXY_REQUEST_INVALID',
  ProxyDestinationBlocked: 'PROXY_DESTINATION_BLOCKED',
  ProxyDestinationUnmapped: 'PROXY_DESTINATION_UNMAPPED',
  ProxyRateLimited: 'PROXY_RATE_LIMITED',
  ProxyUpstreamUnreachable: 'PROXY_UPSTREAM_UNREACHABLE',
  ProxyUpstreamTimeout: 'PROXY_UPSTREAM_TIMEOUT',
  ProxyNotReady: 'PROXY_NOT_READY',
} as const;

/** A stable error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The base of every error the project raises on purpose: a stable code and an actionable message. */
export class MtlsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MtlsError';
  }
}

/** True when an error is one of ours with the given code. */
export function hasCode(err: unknown, code: ErrorCode): err is MtlsError {
  return err instanceof MtlsError && err.code === code;
}
