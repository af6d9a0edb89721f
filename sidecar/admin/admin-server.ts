import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { SidecarMetrics } from './sidecar-metrics';

/** Serves /metrics, /healthz and /readyz; ready once the first certificate snapshot loaded. */
export class AdminServer {
  private readonly server: Server;

  /** `notReadyReason`, when not ready, is the text /readyz answers with its 503. */
  constructor(
    private readonly metrics: SidecarMetrics,
    private readonly isReady: () => boolean,
    private readonly notReadyReason = 'no certificate snapshot loaded yet',
  ) {
    this.server = createServer((req, res) => {
      void this.answer(req.url ?? '/', res);
    });
  }

  /** Starts listening; resolves with the port. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops listening and drops idle connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async answer(url: string, res: import('node:http').ServerResponse): Promise<void> {
    const path = url.split('?', 1)[0];

    if (path === '/metrics') {
      const body = await this.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = this.isReady();
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : `${this.notReadyReason}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }
}
