import vault from 'node-vault';

import { ErrorCode, MtlsError } from '../errors/codes';
import { kvDataPath, kvMetadataPath } from './paths';

/** How the client proves who it is: a token, or a ServiceAccount token exchanged at login. */
export type VaultAuth =
  | { kind: 'token'; token: string }
  | { kind: 'kubernetes'; role: string; authMount: string; readJwt: () => Promise<string> };

/** Where Vault is and how to reach it. */
export type VaultKvOptions = {
  address: string;
  /** The KV v2 mount, e.g. `secret`. */
  mount: string;
  auth: VaultAuth;
  /** Bound on every request to Vault. */
  timeoutMs: number;
  /** Told of every request: its operation, duration, and error code when it failed. */
  observe?: (operation: VaultOperation, seconds: number, errorCode?: string) => void;
};

/** The `operation` label of a Vault request's metrics. */
export type VaultOperation = 'read' | 'write' | 'destroy' | 'ping' | 'login';

/** One version of a KV v2 secret. */
export type KvSecret<T> = { data: T; version: number };

type VaultResponseError = Error & { response?: { statusCode?: number; body?: unknown } };

const TOKEN_REFUSED = Symbol('token refused');

/**
 * A small KV v2 client: every call has a timeout, and failures become MtlsErrors whose codes say
 * whether Vault was unreachable, refused the caller, or rejected a check-and-set.
 */
export class VaultKv {
  private readonly client: vault.client;
  private loggedIn: boolean;

  constructor(private readonly options: VaultKvOptions) {
    this.client = vault({
      endpoint: options.address,
      requestOptions: { timeout: options.timeoutMs },
    });
    this.loggedIn = options.auth.kind === 'token';
    if (options.auth.kind === 'token') this.client.token = options.auth.token;
  }

  /**
   * Reads the latest version of a secret, or the one given, or undefined when it does not exist,
   * was deleted or destroyed.
   */
  async read<T>(logicalPath: string, version?: number): Promise<KvSecret<T> | undefined> {
    const query = version === undefined ? '' : `?version=${version}`;
    const body = await this.call(
      'read',
      { operation: 'read', logicalPath },
      () => this.client.read(`${this.dataPath(logicalPath)}${query}`),
      true,
    );
    if (!body?.data?.data) return undefined;
    return { data: body.data.data as T, version: body.data.metadata.version as number };
  }

  /**
   * Writes a new version and returns its number. With `cas`, the write happens only if the
   * secret's current version is `cas` (0: only if it does not exist yet).
   */
  async write<T>(logicalPath: string, data: T, cas?: number): Promise<number> {
    const payload = cas === undefined ? { data } : { data, options: { cas } };
    const body = await this.call('write', { operation: 'write', logicalPath }, () =>
      this.client.write(this.dataPath(logicalPath), payload),
    );
    return body.data.version as number;
  }

  /** Removes every version and the metadata of a secret; nothing happens when it is absent. */
  async destroy(logicalPath: string): Promise<void> {
    await this.call(
      'destroy',
      { operation: 'delete', logicalPath },
      () => this.client.delete(kvMetadataPath(this.options.mount, logicalPath)),
      true,
    );
  }

  /** Checks that Vault answers and the caller's credentials work. */
  async ping(): Promise<void> {
    await this.call('ping', { operation: 'token lookup' }, () => this.client.tokenLookupSelf());
  }

  private async timed<R>(operation: VaultOperation, request: () => Promise<R>): Promise<R> {
    const startedAt = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - startedAt) / 1e9;
    try {
      const result = await request();
      this.options.observe?.(operation, seconds());
      return result;
    } catch (err) {
      this.options.observe?.(operation, seconds(), (err as MtlsError).code ?? 'UNKNOWN');
      throw err;
    }
  }

  private dataPath(logicalPath: string): string {
    return kvDataPath(this.options.mount, logicalPath);
  }

  // Runs a request, logging in first when needed and once more when the token was refused. Each
  // login is timed as a `login` of its own, so the request's time is the request's alone.
  private async call<R>(
    operation: VaultOperation,
    target: RequestTarget,
    request: () => Promise<R>,
    notFoundIsEmpty = false,
  ): Promise<R> {
    if (!this.loggedIn) await this.timed('login', () => this.login());
    const answer = await this.timed(operation, () =>
      this.send(target, request, notFoundIsEmpty, true),
    );
    if (answer !== TOKEN_REFUSED) return answer;

    this.loggedIn = false;
    await this.timed('login', () => this.login());
    return this.timed(operation, () =>
      this.send(target, request, notFoundIsEmpty, false),
    ) as Promise<R>;
  }

  // A token refused with a Kubernetes login to fall back on is no failure yet: the caller logs
  // in again and retries, so it is answered apart and not counted as an error.
  private async send<R>(
    target: RequestTarget,
    request: () => Promise<R>,
    notFoundIsEmpty: boolean,
    mayLogIn: boolean,
  ): Promise<R | typeof TOKEN_REFUSED> {
    try {
      return await request();
    } catch (err) {
      const status = (err as VaultResponseError).response?.statusCode;
      if (status === 404 && notFoundIsEmpty) return undefined as R;
      if (status === 403 && mayLogIn && this.options.auth.kind === 'kubernetes') {
        return TOKEN_REFUSED;
      }
      throw toVaultError(err, this.options, target);
    }
  }

  private async login(): Promise<void> {
    const auth = this.options.auth;
    if (auth.kind !== 'kubernetes') return;

    const jwt = await auth.readJwt();
    try {
      const answer = await this.client.write(`auth/${auth.authMount}/login`, {
        role: auth.role,
        jwt,
      });
      this.client.token = answer.auth.client_token;
      this.loggedIn = true;
    } catch (err) {
      const status = (err as VaultResponseError).response?.statusCode;
      if (status === undefined || status >= 500) {
        throw toVaultError(err, this.options, { operation: 'login' });
      }
      throw new MtlsError(
        ErrorCode.VaultLoginFailed,
        `Vault refused the Kubernetes login for role '${auth.role}' (HTTP ${status}): check ` +
          `the role's bound ServiceAccount and namespace`,
        { cause: err },
      );
    }
  }
}

/** What a request to Vault was for, to name it in an error. */
type RequestTarget = { operation: string; logicalPath?: string };

/**
 * Turns a failed request into an MtlsError whose code tells an outage (retried until Vault
 * answers) from a refusal (a person has to fix a policy, a mount or a path), and whose message
 * names the mount and path asked for.
 */
export function toVaultError(
  err: unknown,
  vault: Pick<VaultKvOptions, 'address' | 'mount'>,
  target: RequestTarget,
): MtlsError {
  const status = (err as VaultResponseError).response?.statusCode;
  const reply = (err as Error).message;
  const what = target.logicalPath
    ? `the ${target.operation} of ${vault.mount}/${target.logicalPath}`
    : `the ${target.operation}`;
  if (status === 403) {
    return new MtlsError(
      ErrorCode.VaultForbidden,
      `Vault refused ${what} (HTTP 403): the policy of this identity does not allow it`,
      { cause: err },
    );
  }
  if (status === 400 && /check-and-set/i.test(reply)) {
    return new MtlsError(
      ErrorCode.VaultWriteConflict,
      `${vault.mount}/${target.logicalPath} changed in Vault since it was read`,
      { cause: err },
    );
  }
  if (status !== undefined && status >= 400 && status < 500) {
    // Vault's own words, when it gave any, say more than the status code.
    const said = reply && reply !== `Status ${status}` ? `: ${reply}` : '';
    const hint =
      status === 404
        ? `is '${vault.mount}' a KV v2 mount at ${vault.address}? check --vault-mount`
        : 'check the mount and the path';
    return new MtlsError(
      ErrorCode.VaultRequestRefused,
      `Vault refused ${what} (HTTP ${status}${said}): ${hint}`,
      { cause: err },
    );
  }
  const detail = status === undefined ? reply : `HTTP ${status}`;
  return new MtlsError(
    ErrorCode.VaultUnavailable,
    `Vault at ${vault.address} is unavailable for ${what}: ${detail}`,
    { cause: err },
  );
}
