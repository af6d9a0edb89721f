import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as k8s from '@kubernetes/client-node';

import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import type { RunningOperator } from '../../operator/operator';
import { eventualValue } from './eventually';
import { adminKubeConfig, uniqueName } from './ground';
import { adminVault, applyCrds, Resources, runOperator, scrapeMetrics } from './operator-harness';

// What a Prometheus scrape of a running operator shows about the certificates and mappings it
// reconciles, against the real apiserver and OpenBao. Other suites may run operators beside this
// one, so counts are compared with lower bounds and series are picked by their labels. The
// operator logs in as it does in a cluster, with a ServiceAccount token and Kubernetes auth.

const pki = useCorpusPki();
const resources = new Resources(uniqueName('metrics'));
const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;
const tokenDir = mkdtempSync(path.join(tmpdir(), 'operator-metrics-'));
let operator: RunningOperator;
let serviceAccountToken = '';

/** The value of the series `name` whose labels include all of `labels`, if it is exported. */
function sample(scrape: string, name: string, labels: Record<string, string> = {}) {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = scrape
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .find((l) => wanted.every((pair) => l.slice(0, l.lastIndexOf('}') + 1).includes(pair)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function reconciles(scrape: string, kind: string, result: string): number {
  return sample(scrape, 'mtls_operator_reconcile_total', { kind, result }) ?? 0;
}

async function p12Certificate(name: string, password: string) {
  const file = exportPkcs12(pki.dir, pki.leaf, [pki.intermediate], P12_PROTECTIONS.modern);
  await resources.putSecret(name, { 'keystore.p12': file.bytes, password });
  await resources.createCertificate(name, { source: { pkcs12: { secretName: name } } });
}

/** A ServiceAccount token in a file, and a Vault role that lets it manage `mtls/`. */
async function operatorIdentity(): Promise<{ vaultRole: string; tokenFile: string }> {
  const namespace = resources.namespace;
  const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: 'operator' } },
  });
  const request = await core.createNamespacedServiceAccountToken({
    name: 'operator',
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const tokenFile = path.join(tokenDir, 'token');
  serviceAccountToken = request.status!.token;
  writeFileSync(tokenFile, serviceAccountToken);

  const vaultRole = uniqueName('operator');
  const bao = adminVault();
  await bao.addPolicy({
    name: vaultRole,
    rules:
      'path "secret/data/mtls/*" { capabilities = ["create", "read", "update"] }\n' +
      'path "secret/metadata/mtls/*" { capabilities = ["read", "delete"] }',
  });
  await bao.write(`auth/kubernetes/role/${vaultRole}`, {
    bound_service_account_names: ['operator'],
    bound_service_account_namespaces: [namespace],
    token_policies: [vaultRole],
    token_ttl: '10m',
  });
  return { vaultRole, tokenFile };
}

beforeAll(async () => {
  applyCrds();
  await resources.createNamespace();
  operator = await runOperator({ vaultToken: '', ...(await operatorIdentity()) });

  await p12Certificate('metered', P12_PASSWORD);
  await resources.createMapping('metered', {
    url: 'https://metered.example/',
    certificateName: 'metered',
  });
  await resources.waitForReason('mapping', 'metered', 'Active');
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  rmSync(tokenDir, { recursive: true, force: true });
});

describe("the operator's /metrics", () => {
  it('counts the reconciles of a certificate and a mapping that became Ready', async () => {
    const scrape = await scrapeMetrics(operator.probePort);

    // A Ready certificate is looked at again before it expires, so its reconcile is a requeue.
    const certificates =
      reconciles(scrape, 'MtlsCertificate', 'success') +
      reconciles(scrape, 'MtlsCertificate', 'requeue');
    expect(certificates).toBeGreaterThanOrEqual(1);
    expect(reconciles(scrape, 'MtlsMapping', 'success')).toBeGreaterThanOrEqual(1);
  });

  it("exports the certificate's expiry as its notAfter in seconds since the epoch", async () => {
    const certificate = await resources.certificate('metered');
    const notAfter = certificate!.status!.notAfter!;
    const scrape = await scrapeMetrics(operator.probePort);

    const expiry = sample(scrape, 'mtls_operator_certificate_expiry_timestamp_seconds', {
      namespace: resources.namespace,
      name: 'metered',
    });
    expect(expiry).toBe(Date.parse(notAfter) / 1000);
  });

  it('times the Vault requests it made, its Kubernetes login among them', async () => {
    const scrape = await scrapeMetrics(operator.probePort);

    for (const operation of ['login', 'read', 'write', 'ping']) {
      const count = sample(scrape, 'mtls_operator_vault_request_duration_seconds_count', {
        operation,
      });
      expect({ operation, count }).toEqual({ operation, count: expect.any(Number) });
      expect(count).toBeGreaterThanOrEqual(1);
    }
  });

  it('counts a certificate refused for a wrong password as refused, not as a success', async () => {
    const before = reconciles(
      await scrapeMetrics(operator.probePort),
      'MtlsCertificate',
      'refused',
    );

    await p12Certificate('refused', wrongPassword);
    await resources.waitForReason('certificate', 'refused', 'WrongPassword');

    const refused = await eventualValue(async () => {
      const scrape = await scrapeMetrics(operator.probePort);
      const count = reconciles(scrape, 'MtlsCertificate', 'refused');
      return count > before ? count : undefined;
    }, 'a refused MtlsCertificate reconcile to be counted');
    expect(refused).toBeGreaterThan(before);
    const scrape = await scrapeMetrics(operator.probePort);
    const expiry = sample(scrape, 'mtls_operator_certificate_expiry_timestamp_seconds', {
      namespace: resources.namespace,
      name: 'refused',
    });
    expect(expiry).toBeUndefined();
  });

  it('drops the expiry of a deleted certificate, so no alert fires for it', async () => {
    const expiryOf = async () =>
      sample(
        await scrapeMetrics(operator.probePort),
        'mtls_operator_certificate_expiry_timestamp_seconds',
        { namespace: resources.namespace, name: 'metered' },
      );
    expect(await expiryOf()).toBeDefined();

    await resources.delete('mtlscertificates', 'metered');
    await eventualValue(
      async () => ((await resources.certificate('metered')) ? undefined : true),
      'the certificate to be gone',
    );

    expect(await expiryOf()).toBeUndefined();
    const scrape = await scrapeMetrics(operator.probePort);
    const destroys = sample(scrape, 'mtls_operator_vault_request_duration_seconds_count', {
      operation: 'destroy',
    });
    expect(destroys).toBeGreaterThanOrEqual(1);
  });

  it('shows no key material, no PKCS#12 password and no token', async () => {
    const scrape = await scrapeMetrics(operator.probePort);

    expect(scrape).toContain('mtls_operator_reconcile_total');
    expect(scrape).not.toContain('PRIVATE KEY');
    expect(scrape).not.toContain(P12_PASSWORD);
    expect(scrape).not.toContain(wrongPassword);
    expect(scrape).not.toContain(serviceAccountToken);
  });
});
