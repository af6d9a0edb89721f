import { spawn } from 'node:child_process';
import path from 'node:path';

import * as k8s from '@kubernetes/client-node';

import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { adminKubeConfig, readGroundEnv, uniqueName } from './ground';
import type { RunningOperator } from '../../operator/operator';
import { StandaloneOpenBao } from './openbao';
import { eventualValue } from './eventually';
import { adminVault, applyCrds, readKv, Resources, runOperator } from './operator-harness';

// Operating the operator: restarts, a Vault outage, and two replicas electing a leader.

const pki = useCorpusPki();

beforeAll(() => {
  applyCrds();
}, 120_000);

async function certificateIn(resources: Resources, name: string) {
  const file = exportPkcs12(pki.dir, pki.leaf, [pki.intermediate], P12_PROTECTIONS.modern);
  await resources.putSecret(name, { 'keystore.p12': file.bytes, password: P12_PASSWORD });
  await resources.createCertificate(name, { source: { pkcs12: { secretName: name } } });
}

async function metric(port: number, name: string): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(name));
}

it('a restarted operator writes nothing that is already in place', async () => {
  const resources = new Resources(uniqueName('restart'));
  await resources.createNamespace();
  const first = await runOperator();
  await certificateIn(resources, 'steady');
  await resources.createMapping('steady', {
    url: 'https://steady.example/',
    certificateName: 'steady',
  });
  await resources.waitForReason('mapping', 'steady', 'Active');
  const before = {
    certificate: (await resources.certificate('steady'))!.metadata.resourceVersion,
    mapping: (await resources.mapping('steady'))!.metadata.resourceVersion,
    vault: (await readKv(`mtls/${resources.namespace}/certificates/steady`))!.version,
    index: (await readKv(`mtls/${resources.namespace}/index`))!.version,
  };
  await first.stop();

  const second = await runOperator();
  // Both controllers have looked at their objects, so a duplicate write would have happened.
  for (const kind of ['MtlsCertificate', 'MtlsMapping']) {
    await eventualValue(async () => {
      const lines = await metric(second.probePort, `mtls_operator_reconcile_total{kind="${kind}"`);
      return lines.length > 0 ? true : undefined;
    }, `the restarted operator to reconcile its ${kind}s`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await second.stop();

  expect({
    certificate: (await resources.certificate('steady'))!.metadata.resourceVersion,
    mapping: (await resources.mapping('steady'))!.metadata.resourceVersion,
    vault: (await readKv(`mtls/${resources.namespace}/certificates/steady`))!.version,
    index: (await readKv(`mtls/${resources.namespace}/index`))!.version,
  }).toEqual(before);
});

it('stays ready through a Vault outage, reporting VaultUnavailable and vault_up 0', async () => {
  const bao = await StandaloneOpenBao.start();
  const resources = new Resources(uniqueName('outage'));
  await resources.createNamespace();
  const operator = await runOperator({
    vaultAddress: bao.address,
    vaultToken: bao.token,
    vaultTimeoutMs: 1000,
    resyncMs: 1000,
  });
  try {
    await certificateIn(resources, 'before');
    await resources.waitForReason('certificate', 'before', 'Synced');
    const stored = await readKv(
      `mtls/${resources.namespace}/certificates/before`,
      bao.address,
      bao.token,
    );

    await bao.kill();
    await certificateIn(resources, 'during');
    const unavailable = await resources.waitForReason('certificate', 'during', 'VaultUnavailable');
    expect(unavailable.status?.conditions?.[0].message).toContain(bao.address);
    // Readiness gates admission, which needs no Vault: the outage shows in the gauge instead.
    const readyz = await fetch(`http://127.0.0.1:${operator.probePort}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.text()).not.toContain('vault');
    expect(await metric(operator.probePort, 'mtls_operator_vault_up ')).toEqual([
      'mtls_operator_vault_up 0',
    ]);

    // The dev server comes back empty: the resync writes again what the outage lost.
    await bao.resume();
    await resources.waitForReason('certificate', 'during', 'Synced');
    const restored = await eventualValue(
      () => readKv(`mtls/${resources.namespace}/certificates/before`, bao.address, bao.token),
      'the certificate stored before the outage to be back in Vault',
    );
    expect(restored.data).toEqual(stored!.data);
    expect((await fetch(`http://127.0.0.1:${operator.probePort}/readyz`)).status).toBe(200);
    expect(await metric(operator.probePort, 'mtls_operator_vault_up ')).toEqual([
      'mtls_operator_vault_up 1',
    ]);
  } finally {
    await operator.stop();
    await bao.kill();
  }
}, 90_000);

it('times out on a Vault that stops answering, and recovers when it answers again', async () => {
  const bao = await StandaloneOpenBao.start();
  const resources = new Resources(uniqueName('frozen'));
  await resources.createNamespace();
  const operator = await runOperator({
    vaultAddress: bao.address,
    vaultToken: bao.token,
    vaultTimeoutMs: 500,
  });
  try {
    await certificateIn(resources, 'steady');
    await resources.waitForReason('certificate', 'steady', 'Synced');

    bao.freeze();
    await certificateIn(resources, 'stalled');
    const unavailable = await resources.waitForReason('certificate', 'stalled', 'VaultUnavailable');
    expect(unavailable.status?.conditions?.[0].message).toContain(bao.address);

    bao.thaw();
    await resources.waitForReason('certificate', 'stalled', 'Synced');
    expect(
      await readKv(`mtls/${resources.namespace}/certificates/stalled`, bao.address, bao.token),
    ).toBeDefined();
  } finally {
    bao.thaw();
    await operator.stop();
    await bao.kill();
  }
}, 90_000);

it('takes up an adopted Vault path once it is written, and each new version after', async () => {
  const resources = new Resources(uniqueName('adopt'));
  await resources.createNamespace();
  const operator = await runOperator({ adoptedRecheckMs: 500 });
  const path = `teams/${resources.namespace}/late`;
  const write = () =>
    adminVault().write(`secret/data/${path}`, {
      data: {
        certificate: pki.leaf.certPem + pki.intermediate.certPem,
        private_key: pki.leaf.keyPem,
      },
    });
  try {
    await resources.createCertificate('late', { source: { vault: { path } } });
    await resources.waitForReason('certificate', 'late', 'VaultPathNotFound');

    // Nothing about the certificate changes: only the recheck can see the path appear.
    await write();
    const synced = await resources.waitForReason('certificate', 'late', 'Synced');
    expect(synced.status).toMatchObject({ vaultPath: path, vaultVersion: 1 });

    await write();
    await eventualValue(async () => {
      const certificate = await resources.certificate('late');
      return certificate?.status?.vaultVersion === 2 ? true : undefined;
    }, 'the certificate to serve version 2 of the adopted path');
  } finally {
    await operator.stop();
  }
});

it('reports VaultForbidden, naming what to grant, when its Vault policy lacks mtls/*', async () => {
  const created = await adminVault().tokenCreate({ policies: ['default'], ttl: '10m' });
  const resources = new Resources(uniqueName('forbidden'));
  await resources.createNamespace();
  const operator = await runOperator({ vaultToken: created.auth.client_token });
  try {
    await certificateIn(resources, 'denied');

    const refused = await resources.waitForReason('certificate', 'denied', 'VaultForbidden');
    const ready = refused.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('HTTP 403');
    expect(ready.message).toContain('secret/data/mtls/*');
  } finally {
    await operator.stop();
  }
});

it('of two replicas only the leader writes, and a killed leader is replaced', async () => {
  const resources = new Resources(uniqueName('leader'));
  await resources.createNamespace();
  const lease = {
    leaderElection: 'on' as const,
    leaseName: uniqueName('lease'),
    leaseDurationMs: 3000,
  };
  const leader = await startOperatorProcess(lease.leaseName);
  const holder = () => leaseHolder(lease.leaseName);
  let follower: RunningOperator | undefined;
  try {
    await eventualValue(
      async () => ((await holder()) === 'process-leader' ? true : undefined),
      'a leader',
    );
    follower = await runOperator({ ...lease, identity: 'follower' });
    await certificateIn(resources, 'one');
    await resources.waitForReason('certificate', 'one', 'Synced');
    expect(follower.isLeader()).toBe(false);
    expect(await leaseHolder(lease.leaseName)).toBe('process-leader');
    expect(await metric(follower.probePort, 'mtls_operator_reconcile_total{')).toEqual([]);

    leader.kill('SIGKILL');
    await eventualValue(
      async () => (follower!.isLeader() ? true : undefined),
      'the follower to lead',
    );
    await certificateIn(resources, 'two');
    await resources.waitForReason('certificate', 'two', 'Synced');
    expect(await leaseHolder(lease.leaseName)).toBe('follower');
  } finally {
    leader.kill('SIGKILL');
    await follower?.stop();
  }
}, 90_000);

async function leaseHolder(name: string): Promise<string | undefined> {
  const api = adminKubeConfig().makeApiClient(k8s.CoordinationV1Api);
  try {
    const lease = await api.readNamespacedLease({ name, namespace: 'default' });
    return lease.spec?.holderIdentity || undefined;
  } catch {
    return undefined;
  }
}

// The leader runs as a process of its own, so that killing it is a real crash.
async function startOperatorProcess(leaseName: string) {
  const env = readGroundEnv();
  const child = spawn(
    process.execPath,
    [path.resolve(__dirname, '../../bin/mtls-operator.js'), '--probe-port', '0'],
    {
      env: {
        ...process.env,
        KUBECONFIG: env.KUBECONFIG,
        VAULT_ADDR: env.VAULT_ADDR,
        VAULT_TOKEN: env.VAULT_TOKEN,
        MTLS_LEASE_NAME: leaseName,
        MTLS_LEASE_DURATION: '3s',
        POD_NAME: 'process-leader',
        MTLS_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    },
  );
  return child;
}
