import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ErrorCode, MtlsError } from '../errors/codes';
import { VaultKv } from './kv-client';

// A server that answers every request with one status and Vault's error body, to check what the
// client makes of each answer. Its reachability is real; only the answers are chosen.
async function answering(status: number, errors: string[] = []): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function stop(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function kvAt(server: Server | undefined, port?: number): VaultKv {
  const address = `http://127.0.0.1:${server ? (server.address() as AddressInfo).port : port}`;
  return new VaultKv({
    address,
    mount: 'kv',
    auth: { kind: 'token', token: 't' },
    timeoutMs: 2000,
  });
}

async function failureOf(request: Promise<unknown>): Promise<MtlsError> {
  const err = await request.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(err).toBeInstanceOf(MtlsError);
  return err as MtlsError;
}

describe('VaultKv errors', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await stop(server);
    server = undefined;
  });

  it('names the mount and path of a write refused with 404, and suggests the mount', async () => {
    server = await answering(404);
    const err = await failureOf(kvAt(server).write('mtls/ns/certificates/a', {}, 0));

    expect(err.code).toBe(ErrorCode.VaultRequestRefused);
    expect(err.message).toMatch(/^Vault refused the write of kv\/mtls\/ns\/certificates\/a/);
    expect(err.message).toContain("(HTTP 404): is 'kv' a KV v2 mount");
  });

  it("quotes Vault's own words for a 400", async () => {
    server = await answering(400, ['invalid request']);
    const err = await failureOf(kvAt(server).read('teams/x'));

    expect(err.code).toBe(ErrorCode.VaultRequestRefused);
    expect(err.message).toContain('the read of kv/teams/x (HTTP 400: invalid request)');
  });

  it('tells a check-and-set conflict apart, as a conflict the next try resolves', async () => {
    server = await answering(400, ['check-and-set parameter did not match the current version']);
    const err = await failureOf(kvAt(server).write('mtls/ns/index', {}, 3));

    expect(err.code).toBe(ErrorCode.VaultWriteConflict);
    expect(err.message).toBe('kv/mtls/ns/index changed in Vault since it was read');
  });

  it('names the path a policy refuses', async () => {
    server = await answering(403, ['permission denied']);
    const err = await failureOf(kvAt(server).destroy('mtls/ns/certificates/a'));

    expect(err.code).toBe(ErrorCode.VaultForbidden);
    expect(err.message).toContain('refused the delete of kv/mtls/ns/certificates/a (HTTP 403)');
  });

  it('calls a 5xx and a refused connection unavailable, naming what was asked', async () => {
    server = await answering(503, ['sealed']);
    const sealed = await failureOf(kvAt(server).read('mtls/ns/index'));
    expect(sealed.code).toBe(ErrorCode.VaultUnavailable);
    expect(sealed.message).toMatch(/is unavailable for the read of kv\/mtls\/ns\/index: HTTP 503$/);

    const port = (server.address() as AddressInfo).port;
    await stop(server);
    server = undefined;
    const down = await failureOf(kvAt(undefined, port).read('mtls/ns/index'));
    expect(down.code).toBe(ErrorCode.VaultUnavailable);
  });
});

// A Vault that grants a Kubernetes login and answers reads, refusing the first token it gave
// once `expireFirstToken` is set, as a token past its TTL is refused.
async function vaultWithKubernetesLogin(expireFirstToken = false): Promise<Server> {
  let logins = 0;
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/auth/kubernetes/login') {
      logins += 1;
      res.end(JSON.stringify({ auth: { client_token: `token-${logins}` } }));
    } else if (expireFirstToken && req.headers['x-vault-token'] === 'token-1') {
      res.writeHead(403).end(JSON.stringify({ errors: ['permission denied'] }));
    } else {
      const version = { version: 4 };
      const data = req.method === 'GET' ? { data: { a: 1 }, metadata: version } : version;
      res.end(JSON.stringify({ data }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function observedKvAt(server: Server, observed: string[]): VaultKv {
  return new VaultKv({
    address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mount: 'kv',
    auth: {
      kind: 'kubernetes',
      role: 'operator',
      authMount: 'kubernetes',
      readJwt: async () => 'service-account-jwt',
    },
    timeoutMs: 2000,
    observe: (operation, seconds, code) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      observed.push(code ? `${operation} ${code}` : operation);
    },
  });
}

describe('VaultKv request metrics', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await stop(server);
    server = undefined;
  });

  it('times a Kubernetes login as a login of its own, before the first read', async () => {
    server = await vaultWithKubernetesLogin();
    const observed: string[] = [];
    const kv = observedKvAt(server, observed);

    expect(await kv.read('teams/x')).toEqual({ data: { a: 1 }, version: 4 });
    await kv.read('teams/x');

    expect(observed).toEqual(['login', 'read', 'read']);
  });

  it('logs in again when its token is refused, not counting the refusal as an error', async () => {
    server = await vaultWithKubernetesLogin(true);
    const observed: string[] = [];

    expect(await observedKvAt(server, observed).write('teams/x', { a: 1 })).toBe(4);

    expect(observed).toEqual(['login', 'write', 'login', 'write']);
  });

  it('counts a refused login as a login error', async () => {
    server = await answering(403, ['permission denied']);
    const observed: string[] = [];

    const err = await failureOf(observedKvAt(server, observed).read('teams/x'));

    expect(err.code).toBe(ErrorCode.VaultLoginFailed);
    expect(observed).toEqual([`login ${ErrorCode.VaultLoginFailed}`]);
  });
});
