import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import * as k8s from '@kubernetes/client-node';
import vault from 'node-vault';

import { loadSidecarConfig } from '../../core/config/sidecar-config';
import { createLogger } from '../../core/log/logger';
import type { IndexedMapping, MappingIndexDocument } from '../../core/mapping/index-document';
import { certificateVaultPath, indexVaultPath, kvDataPath } from '../../core/vault/paths';
import { createSidecar, type Sidecar } from '../../sidecar/sidecar';
import { freePort } from '../fixtures/free-port';
import { callProxy } from '../fixtures/http-call';
import { MtlsUpstream } from '../fixtures/mtls-upstream';
import { LoopbackPki, type IssuedCertificate } from '../fixtures/loopback-pki';
import { recordingLogger, type LogLine } from '../fixtures/recording-logger';
import { adminKubeConfig, readGroundEnv, uniqueName } from './ground';
import { eventually as waitFor } from './eventually';
import { StandaloneOpenBao } from './openbao';

// The sidecar against the real OpenBao of the ground, logged in with a real ServiceAccount token
// from the real apiserver, reading what the operator writes.

type VaultClient = ReturnType<typeof vault>;

/** Writes a certificate as the operator does; returns its KV version. */
async function writeCertificate(
  bao: VaultClient,
  namespace: string,
  name: string,
  issued: IssuedCertificate,
): Promise<number> {
  const stored = {
    chainPem: issued.certPem,
    privateKeyPem: issued.keyPem,
    metadata: { subject: `CN=${name}`, notAfter: new Date(Date.now() + 86_400_000).toISOString() },
  };
  const written = await bao.write(kvDataPath('secret', certificateVaultPath(namespace, name)), {
    data: stored,
  });
  return written.data.version as number;
}

async function writeIndex(
  bao: VaultClient,
  namespace: string,
  mappings: IndexedMapping[],
): Promise<void> {
  const document: MappingIndexDocument = { namespace, mappings };
  await bao.write(kvDataPath('secret', indexVaultPath(namespace)), { data: document });
}

function mappingFor(
  namespace: string,
  name: string,
  host: string,
  port: number,
  certificate: string,
  version: number,
  ca: string,
): IndexedMapping {
  return {
    name,
    match: { scheme: 'https', host, port, pathPrefix: '/' },
    selector: { matchLabels: { app: 'shop' } },
    certificate: {
      name: certificate,
      vaultVersion: version,
      path: certificateVaultPath(namespace, certificate),
    },
    trustedCaPem: ca,
  };
}

const CHECK_INTERVAL_MS = 1_000;

/**
 * Gives an OpenBao of a test's own what the ground's has: KV v2 at secret/ and the Kubernetes
 * auth method checking tokens against the ground's apiserver.
 */
async function configureOpenBao(bao: VaultClient): Promise<void> {
  const env = readGroundEnv();
  const mounts = (await bao.read('sys/mounts')) as { data: Record<string, unknown> };
  if (!mounts.data['secret/']) {
    await bao.write('sys/mounts/secret', { type: 'kv', options: { version: '2' } });
  }

  const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  const reviewer = await core.createNamespacedServiceAccountToken({
    name: 'openbao-token-reviewer',
    namespace: 'kube-system',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  await bao.write('sys/auth/kubernetes', { type: 'kubernetes' });
  await bao.write('auth/kubernetes/config', {
    kubernetes_host: env.KUBE_API_URL,
    kubernetes_ca_cert: readFileSync(path.join(env.MTLS_CLUSTER_DIR, 'pki', 'ca.crt'), 'utf8'),
    token_reviewer_jwt: reviewer.status!.token,
    disable_local_ca_jwt: true,
  });
}

/** A policy and a Kubernetes auth role that let the namespace's `shop` account read its tree. */
async function grantNamespaceRead(
  bao: VaultClient,
  namespace: string,
  role: string,
  tokenTtl: string,
): Promise<void> {
  await bao.addPolicy({
    name: role,
    rules: `path "secret/data/mtls/${namespace}/*" { capabilities = ["read"] }`,
  });
  await bao.write(`auth/kubernetes/role/${role}`, {
    bound_service_account_names: ['shop'],
    bound_service_account_namespaces: [namespace],
    token_policies: [role],
    token_ttl: tokenTtl,
    token_max_ttl: tokenTtl,
  });
}

async function startVaultSidecar(flags: string[], lines?: LogLine[]): Promise<Sidecar> {
  const invocation = loadSidecarConfig(
    [
      '--listen-port',
      '0',
      '--admin-port',
      '0',
      '--pod-labels',
      'app=shop,tier=web',
      '--check-interval',
      `${CHECK_INTERVAL_MS}ms`,
      ...flags,
    ],
    {},
  );
  if (invocation.help) throw new Error('unexpected help');
  return createSidecar(invocation.config, {
    listenHost: '127.0.0.1',
    log: lines ? recordingLogger(lines) : createLogger('sidecar-it', 'error'),
    // The access log has its own sink; these tests read the logger's lines only.
    accessLogSink: { write: () => true },
  });
}

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

type LoadResult = { status: number | 'failed'; clientCn?: string };

/** Concurrent loops each sending one request after another through the proxy until stopped. */
class SteadyLoad {
  private readonly results: LoadResult[][] = [];
  private readonly loops: Promise<void>[] = [];
  private stopped = false;

  constructor(proxyPort: number, target: string, loops = 4) {
    for (let i = 0; i < loops; i++) {
      const results: LoadResult[] = [];
      this.results.push(results);
      this.loops.push(this.run(proxyPort, target, results));
    }
  }

  /** Whether any loop has been answered with this client certificate CN. */
  seen(clientCn: string): boolean {
    return this.results.some((loop) => loop.some((result) => result.clientCn === clientCn));
  }

  /** Whether every loop has been answered with this client certificate CN. */
  everyLoopSaw(clientCn: string): boolean {
    return this.results.every((loop) => loop.some((result) => result.clientCn === clientCn));
  }

  /** Stops the loops after their current request; resolves with each loop's results in order. */
  async stop(): Promise<LoadResult[][]> {
    this.stopped = true;
    await Promise.all(this.loops);
    return this.results;
  }

  private async run(proxyPort: number, target: string, results: LoadResult[]): Promise<void> {
    while (!this.stopped) {
      try {
        const answer = await callProxy(proxyPort, { path: target });
        const clientCn = answer.status === 200 ? JSON.parse(answer.body).clientCn : undefined;
        results.push({ status: answer.status, clientCn });
      } catch {
        results.push({ status: 'failed' });
      }
    }
  }
}

describe('the sidecar with the Vault source', () => {
  const env = readGroundEnv();
  const admin = vault({ endpoint: env.VAULT_ADDR, token: env.VAULT_TOKEN });
  const pki = new LoopbackPki();
  const upstream = new MtlsUpstream(pki);

  beforeAll(async () => {
    await upstream.start();
  });

  afterAll(async () => {
    await upstream.stop();
    pki.dispose();
  });

  /** A namespace, a ServiceAccount token in a file, and a Vault role reading the namespace. */
  async function prepareWorkload(
    tokenTtl: string,
    bao: VaultClient = admin,
  ): Promise<{ namespace: string; role: string; tokenFile: string }> {
    const namespace = uniqueName('sidecar');
    const role = uniqueName('sidecar-reader');
    const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'shop' } } });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: 'shop',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const tokenFile = path.join(pki.dir, `${namespace}-token`);
    writeFileSync(tokenFile, tokenRequest.status!.token);

    await grantNamespaceRead(bao, namespace, role, tokenTtl);
    return { namespace, role, tokenFile };
  }

  it('logs in with a ServiceAccount token, serves the index, picks up a new mapping', async () => {
    const { namespace, role, tokenFile } = await prepareWorkload('10m');

    const cert = pki.client('shop-cert', 'shop-from-vault');
    const version = await writeCertificate(admin, namespace, 'shop-cert', cert);
    const ca = pki.ca.certPem;
    await writeIndex(admin, namespace, [
      mappingFor(namespace, 'partner', 'localhost', upstream.port, 'shop-cert', version, ca),
    ]);

    const sidecar = await startVaultSidecar([
      '--namespace',
      namespace,
      '--vault-addr',
      env.VAULT_ADDR,
      '--vault-role',
      role,
      '--token-file',
      tokenFile,
    ]);
    try {
      const mapped = await callProxy(sidecar.proxyPort, {
        path: `http://localhost:${upstream.port}/hello`,
      });
      expect(mapped.status).toBe(200);
      expect(JSON.parse(mapped.body).clientCn).toBe('shop-from-vault');
      const byIp = `http://127.0.0.1:${upstream.port}/hello`;
      expect((await callProxy(sidecar.proxyPort, { path: byIp })).status).toBe(403);

      const other = pki.client('other-cert', 'other-from-vault');
      const otherVersion = await writeCertificate(admin, namespace, 'other-cert', other);
      await writeIndex(admin, namespace, [
        mappingFor(namespace, 'partner', 'localhost', upstream.port, 'shop-cert', version, ca),
        mappingFor(
          namespace,
          'partner-ip',
          '127.0.0.1',
          upstream.port,
          'other-cert',
          otherVersion,
          ca,
        ),
      ]);

      const picked = await eventually(
        () => callProxy(sidecar.proxyPort, { path: byIp }),
        (result) => result.status === 200,
      );
      expect(JSON.parse(picked.body).clientCn).toBe('other-from-vault');
    } finally {
      await sidecar.close();
    }
  });

  it('logs in again when its Vault token expires, and keeps following the index', async () => {
    const { namespace, role, tokenFile } = await prepareWorkload('2s');
    const ca = pki.ca.certPem;
    const version = await writeCertificate(
      admin,
      namespace,
      'shop-cert',
      pki.client('short', 'short-lived'),
    );
    await writeIndex(admin, namespace, [
      mappingFor(namespace, 'partner', 'localhost', upstream.port, 'shop-cert', version, ca),
    ]);
    const lines: LogLine[] = [];
    const sidecar = await startVaultSidecar(
      [
        '--namespace',
        namespace,
        '--vault-addr',
        env.VAULT_ADDR,
        '--vault-role',
        role,
        '--token-file',
        tokenFile,
      ],
      lines,
    );

    try {
      // Outlive the first token: every check from then on needs a new login.
      await eventually(
        async () => lines.filter((line) => line.message === 'logged into vault').length,
        (logins) => logins >= 3,
      );
      await writeIndex(admin, namespace, [
        mappingFor(namespace, 'partner', 'localhost', upstream.port, 'shop-cert', version, ca),
        mappingFor(namespace, 'partner-ip', '127.0.0.1', upstream.port, 'shop-cert', version, ca),
      ]);
      const picked = await eventually(
        () => callProxy(sidecar.proxyPort, { path: `http://127.0.0.1:${upstream.port}/late` }),
        (result) => result.status === 200,
      );

      expect(JSON.parse(picked.body).clientCn).toBe('short-lived');
      expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    } finally {
      await sidecar.close();
    }
  }, 30_000);

  it('rotation under load: no request fails, one in flight keeps the old certificate', async () => {
    const { namespace, role, tokenFile } = await prepareWorkload('10m');
    const ca = pki.ca.certPem;
    const mapped = (version: number) =>
      mappingFor(namespace, 'partner', 'localhost', upstream.port, 'shop-cert', version, ca);
    const before = pki.client('rotate-old', 'rotation-old');
    await writeIndex(admin, namespace, [
      mapped(await writeCertificate(admin, namespace, 'shop-cert', before)),
    ]);
    const sidecar = await startVaultSidecar([
      ...['--namespace', namespace, '--vault-addr', env.VAULT_ADDR],
      ...['--vault-role', role, '--token-file', tokenFile],
      // All the load comes from one source address: the rate limit is not under test here.
      ...['--rate', '1000000', '--burst', '1000000'],
    ]);
    const load = new SteadyLoad(sidecar.proxyPort, `http://localhost:${upstream.port}/steady`);

    try {
      await waitFor('the loops are answered', () => load.seen('rotation-old'));
      const held = callProxy(sidecar.proxyPort, {
        path: `http://localhost:${upstream.port}/held/across-rotation`,
      });
      // Awaited later: until then a failure must fail the test, not crash the worker.
      held.catch(() => undefined);
      await waitFor('the upstream holds a request', () => upstream.heldRequests === 1);

      const after = pki.client('rotate-new', 'rotation-new');
      await writeIndex(admin, namespace, [
        mapped(await writeCertificate(admin, namespace, 'shop-cert', after)),
      ]);
      await waitFor('every loop sees the new certificate', () => load.everyLoopSaw('rotation-new'));
      // The old pool closed its idle connections; only the one the held request is on is left.
      const oldConnections = () =>
        upstream.openConnectionCns().filter((cn) => cn === 'rotation-old').length;
      await waitFor('only the held request keeps an old connection', () => oldConnections() === 1);

      // Still the one request: it was not cut off and sent again on a connection of its own.
      expect(upstream.heldRequests).toBe(1);
      upstream.releaseHeld();
      const answer = await held;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).clientCn).toBe('rotation-old');
      const results = await load.stop();

      expect(results.flat().filter((result) => result.status !== 200)).toEqual([]);
      for (const cns of results.map((loop) => loop.map((result) => result.clientCn))) {
        const switched = cns.indexOf('rotation-new');
        expect(switched).toBeGreaterThan(0);
        expect(new Set(cns.slice(0, switched))).toEqual(new Set(['rotation-old']));
        expect(new Set(cns.slice(switched))).toEqual(new Set(['rotation-new']));
      }
      await waitFor('the old pool has closed its last connection', () => oldConnections() === 0);
    } finally {
      await load.stop();
      await sidecar.close();
    }
  }, 60_000);

  it('keeps serving the last good snapshot when Vault goes away', async () => {
    const port = await freePort();
    const token = `root-${uniqueName('t')}`;
    const address = `http://127.0.0.1:${port}`;
    const bao: ChildProcess = spawn(
      path.join(env.MTLS_CLUSTER_DIR, 'bin/bao'),
      [
        'server',
        '-dev',
        '-dev-listen-address',
        `127.0.0.1:${port}`,
        '-dev-root-token-id',
        token,
        '-dev-no-store-token',
      ],
      { stdio: 'ignore' },
    );
    let sidecar: Sidecar | undefined;
    try {
      await eventually(
        () =>
          fetch(`${address}/v1/sys/health`).then(
            (r) => r.status,
            () => 0,
          ),
        (status) => status === 200,
      );
      const own = vault({ endpoint: address, token });
      const namespace = 'gone';
      const version = await writeCertificate(
        own,
        namespace,
        'shop-cert',
        pki.client('gone-cert', 'last-good'),
      );
      await writeIndex(own, namespace, [
        mappingFor(
          namespace,
          'partner',
          'localhost',
          upstream.port,
          'shop-cert',
          version,
          pki.ca.certPem,
        ),
      ]);

      sidecar = await startVaultSidecar([
        '--namespace',
        namespace,
        '--vault-addr',
        address,
        '--vault-token',
        token,
      ]);
      const target = `http://localhost:${upstream.port}/still`;
      expect((await callProxy(sidecar.proxyPort, { path: target })).status).toBe(200);

      bao.kill('SIGTERM');
      const adminUrl = `http://127.0.0.1:${sidecar.adminPort}/metrics`;
      await eventually(
        () => fetch(adminUrl).then((r) => r.text()),
        (text) => /mtls_sidecar_vault_errors_total [1-9]/.test(text),
      );

      const after = await callProxy(sidecar.proxyPort, { path: target });
      expect(after.status).toBe(200);
      expect(JSON.parse(after.body).clientCn).toBe('last-good');
      expect((await fetch(`http://127.0.0.1:${sidecar.adminPort}/readyz`)).status).toBe(200);
    } finally {
      await sidecar?.close();
      bao.kill('SIGKILL');
    }
  });

  // An OpenBao of the test's own, killed and started again. The sidecar logs in with the
  // Kubernetes auth method, so coming back it must also log in again: its token went with the
  // rest of the dev server's memory.
  it('Vault back: a new mapping is picked up within the check interval', async () => {
    const bao = await StandaloneOpenBao.start();
    const own = vault({ endpoint: bao.address, token: bao.token });
    const ca = pki.ca.certPem;
    let sidecar: Sidecar | undefined;
    try {
      await configureOpenBao(own);
      const { namespace, role, tokenFile } = await prepareWorkload('10m', own);
      const cert = pki.client('back-cert', 'before-outage');
      const mapped = (version: number) =>
        mappingFor(namespace, 'partner', 'localhost', upstream.port, 'shop-cert', version, ca);
      await writeIndex(own, namespace, [
        mapped(await writeCertificate(own, namespace, 'shop-cert', cert)),
      ]);

      sidecar = await startVaultSidecar([
        '--namespace',
        namespace,
        '--vault-addr',
        bao.address,
        '--vault-role',
        role,
        '--token-file',
        tokenFile,
      ]);
      const proxyPort = sidecar.proxyPort;
      const byName = `http://localhost:${upstream.port}/before`;
      const byIp = `http://127.0.0.1:${upstream.port}/after`;
      expect((await callProxy(proxyPort, { path: byName })).status).toBe(200);

      // Long enough down for a backoff that doubles from the check interval to pass it by far.
      await bao.kill();
      const metricsUrl = `http://127.0.0.1:${sidecar.adminPort}/metrics`;
      await eventually(
        () => fetch(metricsUrl).then((r) => r.text()),
        (text) => Number(/mtls_sidecar_vault_errors_total (\d+)/.exec(text)?.[1] ?? 0) >= 5,
      );
      const during = await callProxy(proxyPort, { path: byName });
      expect(during.status).toBe(200);
      expect(JSON.parse(during.body).clientCn).toBe('before-outage');

      // A dev server comes back empty: its mount, auth method, role and data are made again.
      await bao.resume();
      await configureOpenBao(own);
      await grantNamespaceRead(own, namespace, role, '10m');
      const other = pki.client('after-cert', 'after-outage');
      const version = await writeCertificate(own, namespace, 'shop-cert', cert);
      const otherVersion = await writeCertificate(own, namespace, 'other-cert', other);
      await writeIndex(own, namespace, [
        mapped(version),
        mappingFor(
          namespace,
          'partner-ip',
          '127.0.0.1',
          upstream.port,
          'other-cert',
          otherVersion,
          ca,
        ),
      ]);
      const written = Date.now();

      // The bound is the point of this test: a wait measured in check intervals, not minutes.
      const budgetMs = CHECK_INTERVAL_MS * 3;
      let askedAt = Date.now();
      let picked = await callProxy(proxyPort, { path: byIp });
      while (picked.status !== 200 && Date.now() - written < budgetMs) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        askedAt = Date.now();
        picked = await callProxy(proxyPort, { path: byIp });
      }
      expect(picked.status).toBe(200);
      expect(askedAt - written).toBeLessThanOrEqual(budgetMs);
      expect(JSON.parse(picked.body).clientCn).toBe('after-outage');
      expect((await callProxy(proxyPort, { path: byName })).status).toBe(200);
    } finally {
      await sidecar?.close();
      await bao.kill();
    }
  }, 60_000);
});
