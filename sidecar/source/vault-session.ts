import { readFile } from 'node:fs/promises';

import { ErrorCode } from '../../core/errors/codes';
import type { Logger } from '../../core/log/logger';
import { VaultCallError, VaultClient, type VaultLogin } from './vault-client';

/** How a session logs into Vault. */
export type VaultSessionOptions = {
  address: string;
  authMount: string;
  role: string;
  /** A static token for local runs; the Kubernetes login is used when absent. */
  staticToken?: string;
  /** The ServiceAccount token file, read again at every login (projected tokens rotate). */
  tokenFile: string;
  requestTimeoutMs: number;
  log: Logger;
};

/**
 * One Vault identity and its token: logs in with the Kubernetes auth method when needed and
 * again when Vault refuses the token. The sidecar has one per process; the gateway shares one
 * across every namespace it serves, so that a hundred namespaces cost one login.
 */
export class VaultSession {
  readonly client: VaultClient;
  private login: VaultLogin | undefined;
  private loggingIn: Promise<VaultLogin> | undefined;

  constructor(private readonly options: VaultSessionOptions) {
    this.client = new VaultClient(options.address, options.requestTimeoutMs);
  }

  /** Runs a call with a valid token; logs in again once when Vault says the token is refused. */
  async withToken<T>(call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token();
    try {
      return await call(token);
    } catch (err) {
      const refused = err instanceof VaultCallError && err.code === ErrorCode.VaultForbidden;
      if (!refused || this.options.staticToken) throw err;
      if (this.login?.token === token) this.login = undefined;
      return call(await this.token());
    }
  }

  private async token(): Promise<string> {
    if (this.options.staticToken) return this.options.staticToken;
    if (this.login && Date.now() < this.login.renewAt) return this.login.token;

    // Callers that need a token at the same moment share one login.
    this.loggingIn ??= this.logIn().finally(() => (this.loggingIn = undefined));
    return (await this.loggingIn).token;
  }

  private async logIn(): Promise<VaultLogin> {
    const { authMount, role, tokenFile, log } = this.options;
    const jwt = (await readFile(tokenFile, 'utf8')).trim();
    this.login = await this.client.kubernetesLogin(authMount, role, jwt);
    log.info('logged into vault', { role });
    return this.login;
  }
}
