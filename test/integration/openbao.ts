import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { freePort } from '../fixtures/free-port';
import { readGroundEnv } from './ground';

/** A throw-away OpenBao dev server of one test's own, which it may stop and start at will. */
export class StandaloneOpenBao {
  readonly token = 'standalone-root';
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Starts a dev server on a free loopback port. */
  static async start(): Promise<StandaloneOpenBao> {
    const bao = new StandaloneOpenBao(await freePort());
    await bao.resume();
    return bao;
  }

  get address(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port: a dev server comes back empty. */
  async resume(): Promise<void> {
    const binary = path.join(readGroundEnv().MTLS_CLUSTER_DIR, 'bin', 'bao');
    const args = ['server', '-dev', `-dev-listen-address=127.0.0.1:${this.port}`];
    this.process = spawn(
      binary,
      [...args, `-dev-root-token-id=${this.token}`, '-dev-no-store-token'],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const healthy = await fetch(`${this.address}/v1/sys/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (healthy) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`OpenBao did not start on port ${this.port}`);
  }

  /** Freezes the server: connections are accepted by the kernel and never answered. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  /** Lets a frozen server run again, with its data intact. */
  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  /** Kills the server at once, as a crash or a network cut would look to its clients. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
