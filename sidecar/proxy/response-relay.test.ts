import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';

import { relayBody } from './response-relay';

describe('relayBody', () => {
  let server: Server;
  let port = 0;
  let respond: (res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((_req, res) => respond(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('streams the whole body to the client and then resolves', async () => {
    let relayed: Promise<void> | undefined;
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      relayed = relayBody(Readable.from(['first ', 'second']), res);
    };

    const answer = await get(port);
    expect(answer).toEqual({ status: 200, body: 'first second' });
    await expect(relayed).resolves.toBeUndefined();
  });

  it('rejects when the upstream body fails, so the caller can cut the response short', async () => {
    let relayed: Promise<void> | undefined;
    respond = (res) => {
      res.writeHead(200, { 'content-length': '100' });
      const body = new PassThrough();
      relayed = relayBody(body, res);
      relayed.catch(() => res.destroy());
      body.write('partial');
      setImmediate(() => body.destroy(new Error('upstream reset')));
    };

    await expect(get(port)).rejects.toThrow();
    await expect(relayed).rejects.toThrow('upstream reset');
  });

  it('stops reading the upstream body when the client leaves first', async () => {
    const body = new PassThrough();
    let relayed: Promise<void> | undefined;
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      relayed = relayBody(body, res);
      body.write('more to come');
    };

    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.end();
    });

    await expect(relayed).rejects.toThrow(/client closed/);
    expect(body.destroyed).toBe(true);
  });
});

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
