import { ErrorCode, MtlsError } from '../../core/errors/codes';
import { kvDataPath } from '../../core/vault/paths';

/** A failed Vault call; `status` is the HTTP status, absent when Vault was not reached. */
export class VaultCallError extends MtlsError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'VaultCallError';
  }
}

/**
 * A KV v2 secret as read: its data, the version it is, and when that version was written (which
 * tells a version apart from one of the same number after Vault's history was replaced).
 */
export type KvSecret = { data: unknown; version: number; createdTime?: string };

/** The result of a login: the client token and when it should be renewed by a new login. */
export type VaultLogin = { token: string; renewAt: number };

/**
 * The few Vault HTTP calls the sidecar makes, each with a timeout. Uses fetch rather than a
 * client library so that the timeout and the error mapping are explicit.
 */
export class VaultClient {
  constructor(
    private readonly address: string,
    private readonly timeoutMs: number,
  ) {}

  /** Kubernetes auth: trades a ServiceAccount token for a Vault token. */
  async kubernetesLogin(authMount: string, role: string, jwt: string): Promise<VaultLogin> {
    const body = await this.call('POST', `auth/${authMount}/login`, undefined, { role, jwt });
    const auth = (body as { auth?: { client_token?: string; lease_duration?: number } }).auth;
    if (!auth?.client_token) {
      throw new VaultCallError(ErrorCode.VaultLoginFailed, 'Vault login answered without a token');
    }
    // Log in again at two thirds of the lease, well before the token expires.
    const leaseMs = (auth.lease_duration ?? 0) * 1000;
    const renewAt = leaseMs > 0 ? Date.now() + (leaseMs * 2) / 3 : Number.POSITIVE_INFINITY;
    return { token: auth.client_token, renewAt };
  }

  /** Reads a KV v2 secret (a given version, or the latest); undefined when it does not exist. */
  async readKv(
    token: string,
    mount: string,
    logicalPath: string,
    version?: number,
  ): Promise<KvSecret | undefined> {
    const query = version === undefined ? '' : `?version=${version}`;
    const body = (await this.call('GET', `${kvDataPath(mount, logicalPath)}${query}`, token)) as {
      data?: { data?: unknown; metadata?: { version?: number; created_time?: string } };
    } | null;
    if (body === null) return undefined;
    const metadata = body.data?.metadata;
    return {
      data: body.data?.data,
      version: metadata?.version ?? 0,
      createdTime: metadata?.created_time,
    };
  }

  private async call(
    method: string,
    apiPath: string,
    token?: string,
    payload?: unknown,
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.address}/v1/${apiPath}`, {
        method,
        headers: {
          ...(token ? { 'x-vault-token': token } : {}),
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
        body: payload ? JSON.stringify(payload) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new VaultCallError(
        ErrorCode.VaultUnavailable,
        `Vault at ${this.address} did not answer: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }

    if (response.status === 404 && method === 'GET') {
      await response.body?.cancel();
      return null;
    }
    const text = await response.text();
    if (response.ok) return text ? JSON.parse(text) : {};

    const login = apiPath.startsWith('auth/');
    const code =
      response.status === 403 || response.status === 400 || response.status === 401
        ? login
          ? ErrorCode.VaultLoginFailed
          : ErrorCode.VaultForbidden
        : ErrorCode.VaultUnavailable;
    // The path is safe to report; the body may echo input, so only Vault's error list is kept.
    const errors = safeErrors(text);
    throw new VaultCallError(
      code,
      `Vault refused ${method} ${apiPath} with ${response.status}${errors}`,
      response.status,
    );
  }
}

function safeErrors(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: unknown }).errors;
    return Array.isArray(errors) && errors.length > 0 ? `: ${errors.join('; ')}` : '';
  } catch {
    return '';
  }
}
