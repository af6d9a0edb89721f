import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import type { Logger } from '../../core/log/logger';

/** One readiness condition: true when met. A throw or a rejection counts as not met. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/** Where the probe server listens and what it reports. */
export type ProbeServerOptions = {
  /** 0 picks a free port (tests); read it from `port` after `start`. */
  port: number;
  /** Default all interfaces, since the kubelet and Prometheus call from outside the pod. */
  host?: string;
  registry: Registry;
  /** Named conditions `/readyz` requires, e.g. `informers` and `webhook`. */
  readiness?: Record<string, ReadinessCheck>;
  /** A readiness check that has not answered within this long has failed. Default 5000. */
  checkTimeoutMs?: number;
  logger: Logger;
};

/**
 * Serves the endpoints a Kubernetes deployment expects: `/metrics` (Prometheus text from the
 * registry given), `/healthz` (the process answers) and `/readyz` (every readiness check passes;
 * the body lists each check with `[+]` or `[-]`, like the apiserver's own `/readyz?verbose`).
 */
export class ProbeServer {
  private readonly server: http.Server;

  constructor(private readonly options: ProbeServerOptions) {
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((err) => {
        options.logger.error('probe request failed', { err, path: request.url });
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
  }

  /** The port listened on, once started. */
  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Starts listening and resolves with the port. */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        this.options.logger.info('probe server listening', { port: this.port });
        resolve(this.port);
      });
    });
  }

  /** Stops accepting connections and resolves once the requests under way are answered. */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      // Idle keep-alive connections would otherwise hold the close open until they time out.
      this.server.closeIdleConnections();
    });
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain', 'method not allowed\n');
      return;
    }

    const path = new URL(request.url ?? '/', 'http://probe').pathname;
    switch (path) {
      case '/healthz':
        send(response, 200, 'text/plain', 'ok\n');
        return;
      case '/readyz': {
        const { ready, report } = await this.readiness();
        send(response, ready ? 200 : 503, 'text/plain', report);
        return;
      }
      case '/metrics': {
        const registry = this.options.registry;
        send(response, 200, registry.contentType, await registry.metrics());
        return;
      }
      default:
        send(response, 404, 'text/plain', 'not found\n');
    }
  }

  private async readiness(): Promise<{ ready: boolean; report: string }> {
    const checks = Object.entries(this.options.readiness ?? {});
    const results = await Promise.all(
      checks.map(async ([name, check]) => ({ name, passed: await this.passes(name, check) })),
    );

    const ready = results.every((result) => result.passed);
    const lines = results.map(
      ({ name, passed }) => `[${passed ? '+' : '-'}]${name} ${passed ? 'ok' : 'failed'}`,
    );
    lines.push(ready ? 'readyz check passed' : 'readyz check failed');
    return { ready, report: `${lines.join('\n')}\n` };
  }

  private async passes(name: string, check: ReadinessCheck): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.options.checkTimeoutMs ?? 5000);
    });
    try {
      return await Promise.race([Promise.resolve().then(check), timeout]);
    } catch (err) {
      this.options.logger.warn('readiness check failed', { check: name, err });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}

function send(response: http.ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
}
