import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import type { RunningOperator } from '../../operator/operator';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { assertBuilt, KUBECTL_MTLS, runKubectlMtls } from '../fixtures/kubectl-mtls-bin';
import { LoopbackPki } from '../fixtures/loopback-pki';
import { MtlsUpstream } from '../fixtures/mtls-upstream';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { kubectl, readGroundEnv, uniqueName } from './ground';
import { applyCrds, readKv, Resources, runOperator } from './operator-harness';

// kubectl-mtls as a user runs it, against the real apiserver and OpenBao with the real operator
// making the certificates Ready, and a real mutual-TLS upstream for the live check.

const corpus = useCorpusPki();
const upstreamPki = new LoopbackPki('Partner CA');
const upstream = new MtlsUpstream(upstreamPki);
const resources = new Resources(uniqueName('plugin'));
const namespace = resources.namespace;
let operator: RunningOperator;
let passwordFile: string;

beforeAll(async () => {
  assertBuilt();
  applyCrds();
  await resources.createNamespace();
  operator = await runOperator();
  await upstream.start();
  passwordFile = path.join(corpus.dir, 'password.txt');
  writeFileSync(passwordFile, `${P12_PASSWORD}\n`);
}, 120_000);

afterAll(async () => {
  await operator.stop();
  await upstream.stop();
  upstreamPki.dispose();
});

/** Runs the plugin with the ground's kubeconfig and Vault in its environment, as a user would. */
function plugin(...args: string[]) {
  const env = readGroundEnv();
  return runKubectlMtls([...args, '-n', namespace], {
    env: { KUBECONFIG: env.KUBECONFIG, VAULT_ADDR: env.VAULT_ADDR, VAULT_TOKEN: env.VAULT_TOKEN },
  });
}

function p12(leaf = corpus.leaf, protection: keyof typeof P12_PROTECTIONS = 'legacyRc2') {
  return exportPkcs12(corpus.dir, leaf, [corpus.intermediate], P12_PROTECTIONS[protection]).path;
}

// A PKCS#12 file of a client certificate the upstream's CA issued.
function partnerP12(name: string): string {
  const client = upstreamPki.client(name);
  const file = path.join(upstreamPki.dir, `${name}.p12`);
  execFileSync('openssl', [
    'pkcs12',
    '-export',
    '-inkey',
    client.keyFile,
    '-in',
    client.certFile,
    '-passout',
    `pass:${P12_PASSWORD}`,
    '-out',
    file,
  ]);
  return file;
}

function secretOf(name: string): {
  data: Record<string, string>;
  metadata: {
    resourceVersion: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string }[];
  };
} {
  return JSON.parse(kubectl('get', 'secret', name, '-n', namespace, '-o', 'json'));
}

function secretExists(name: string): boolean {
  const found = kubectl('get', 'secrets', '-n', namespace, '-o', 'name');
  return found.split('\n').includes(`secret/${name}`);
}

describe('kubectl mtls upload', () => {
  it('creates the Secret and the MtlsCertificate, which the operator makes Ready', async () => {
    const file = p12();
    const run = await plugin(
      'upload',
      file,
      '--name',
      'partner',
      '--display-name',
      'Partner Bank (production)',
      '--password-file',
      passwordFile,
      '--wait',
    );

    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('secret/partner-p12 created\n');
    expect(run.stdout).toContain('mtlscertificate.mtls.io/partner created\n');
    expect(run.stdout).toContain('mtlscertificate.mtls.io/partner Ready=True (Synced)');
    expect(run.status).toBe(0);

    await resources.waitForReason('certificate', 'partner', 'Synced');
    const certificate = (await resources.certificate('partner'))!;
    expect(certificate.spec.source).toEqual({
      pkcs12: { secretName: 'partner-p12', fileKey: 'keystore.p12', passwordKey: 'password' },
    });
    expect(certificate.metadata.annotations?.['mtls.io/display-name']).toBe(
      'Partner Bank (production)',
    );
    const secret = secretOf('partner-p12');
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe(P12_PASSWORD);
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'MtlsCertificate', name: 'partner' }),
    ]);
    const stored = await readKv(`mtls/${namespace}/certificates/partner`);
    expect(stored?.data.chainPem).toContain('BEGIN CERTIFICATE');
  });

  it('changes nothing when the name exists, and updates both with --overwrite', async () => {
    const before = secretOf('partner-p12').metadata.resourceVersion;
    const refused = await plugin(
      'upload',
      p12(corpus.ecLeaf),
      '--name',
      'partner',
      '--password',
      P12_PASSWORD,
    );

    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `MtlsCertificate ${namespace}/partner and Secret ${namespace}/partner-p12 already exist; ` +
        'nothing was changed',
    );
    expect(secretOf('partner-p12').metadata.resourceVersion).toBe(before);

    const renewed = p12(corpus.ecLeaf, 'modern');
    const run = await plugin(
      'upload',
      renewed,
      '--name',
      'partner',
      '--password-file',
      passwordFile,
      '--overwrite',
      '--wait',
    );
    expect(run.stdout).toContain('secret/partner-p12 configured\n');
    expect(run.stdout).toContain('mtlscertificate.mtls.io/partner configured\n');
    expect(run.status).toBe(0);
    const certificate = await resources.certificate('partner');
    expect(certificate?.status?.fingerprintSha256).toBe(
      new X509Certificate(corpus.ecLeaf.certPem).fingerprint256,
    );
    expect(certificate?.status?.keyAlgorithm).toBe('EC');
  });

  it('never overwrites a Secret that neither kubectl-mtls nor the gateway made', async () => {
    kubectl(
      'create',
      'secret',
      'generic',
      'imported-p12',
      '-n',
      namespace,
      '--from-literal=keystore.p12=theirs',
    );
    kubectl(
      'label',
      'secret',
      'imported-p12',
      '-n',
      namespace,
      'app.kubernetes.io/managed-by=Helm',
    );
    const before = secretOf('imported-p12');

    for (const target of [
      ['--name', 'imported'],
      ['--name', 'elsewhere', '--secret-name', 'imported-p12'],
    ]) {
      const run = await plugin(
        'upload',
        p12(),
        ...target,
        '--password',
        P12_PASSWORD,
        '--overwrite',
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        `Secret ${namespace}/imported-p12 was made neither by kubectl-mtls nor by the gateway`,
      );
    }

    const after = secretOf('imported-p12');
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'Helm' });
    expect(after.metadata.ownerReferences).toBeUndefined();
    expect(await resources.certificate('imported')).toBeUndefined();
    expect(await resources.certificate('elsewhere')).toBeUndefined();
  });

  it('refuses an unusable file with its report and creates nothing', async () => {
    const run = await plugin(
      'upload',
      p12(corpus.expiredLeaf, 'modern'),
      '--name',
      'stale',
      '--password-file',
      passwordFile,
    );

    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^Usable: +no$/m);
    expect(run.stdout).toContain('CERT_EXPIRED');
    expect(run.stderr).toContain('is not usable; nothing was created');
    expect(await resources.certificate('stale')).toBeUndefined();
    expect(secretExists('stale-p12')).toBe(false);

    const wrongPassword = await plugin('upload', p12(), '--name', 'stale', '--password', 'nope');
    expect(wrongPassword.status).toBe(1);
    expect(wrongPassword.stdout).toContain('P12_BAD_PASSWORD');
    expect(await resources.certificate('stale')).toBeUndefined();
  });
});

describe('kubectl mtls status', () => {
  it('shows the certificates with Ready, the reason and the time left', async () => {
    const run = await plugin('status');

    expect(run.status).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME +READY +REASON +EXPIRES IN$/);
    expect(rows).toContainEqual(expect.stringMatching(/^partner +True +Synced +36[45]d$/));

    const json = JSON.parse((await plugin('status', '-o', 'json')).stdout);
    expect(json.certificates).toContainEqual(
      expect.objectContaining({
        namespace,
        name: 'partner',
        ready: 'True',
        reason: 'Synced',
        displayName: 'Partner Bank (production)',
        source: 'pkcs12:partner-p12',
        key: 'EC 256',
      }),
    );

    const all = await plugin('status', '-A', '-o', 'wide');
    expect(all.stdout.split('\n')[0]).toMatch(/^NAMESPACE +NAME +READY +REASON +EXPIRES IN +KEY/);
    expect(all.stdout).toMatch(new RegExp(`^${namespace} +partner +True +Synced`, 'm'));
  });
});

describe('kubectl mtls', () => {
  it('runs as a kubectl plugin when bin/ is on PATH', () => {
    const env = readGroundEnv();
    const shown = execFileSync(
      path.join(env.MTLS_CLUSTER_DIR, 'bin/kubectl'),
      ['mtls', 'status', '-n', namespace],
      {
        env: {
          ...process.env,
          KUBECONFIG: env.KUBECONFIG,
          PATH: `${path.dirname(KUBECTL_MTLS)}${path.delimiter}${process.env.PATH}`,
        },
        encoding: 'utf8',
      },
    );
    expect(shown).toMatch(/^partner +True +Synced +36[45]d$/m);
  });
});

describe('kubectl mtls check', () => {
  const url = () => `https://localhost:${upstream.port}/v2/`;

  beforeAll(async () => {
    const caFile = path.join(upstreamPki.dir, 'partner-ca.crt');
    writeFileSync(caFile, upstreamPki.ca.certPem);
    kubectl('create', 'configmap', 'partner-ca', `--from-file=ca.crt=${caFile}`, '-n', namespace);
    const upload = await plugin(
      'upload',
      partnerP12('checkout-client'),
      '--name',
      'partner-client',
      '--trusted-ca-configmap',
      'partner-ca',
      '--password-file',
      passwordFile,
      '--wait',
    );
    expect(upload.status).toBe(0);

    await resources.createMapping('partner-api', {
      url: url(),
      certificateName: 'partner-client',
      workloadSelector: { matchLabels: { app: 'checkout' } },
    });
    await resources.createMapping('partner-api-again', {
      url: url(),
      certificateName: 'partner',
      workloadSelector: { matchLabels: { app: 'checkout' } },
    });
    await resources.waitForReason('mapping', 'partner-api', 'Active');
    await resources.waitForReason('mapping', 'partner-api-again', 'Conflict');
  }, 120_000);

  it('names the mapping that applies and its certificate, and the one that conflicts', async () => {
    const run = await plugin('check', `${url()}payments?id=7`, '-l', 'app=checkout,tier=web');

    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Mapping: +partner-api$/m);
    expect(run.stdout).toMatch(/^ {2}Ready: +True \(Active\)/m);
    expect(run.stdout).toMatch(/^Certificate: +partner-client$/m);
    // The test PKI's certificates last two days: within the operator's 30-day warning window.
    expect(run.stdout).toMatch(/^ {2}Ready: +True \(ExpiringSoon\) stored in Vault/m);
    expect(run.stdout).toMatch(/^ {2}Expires: +\S+ \(in 1 day\)$/m);
    expect(run.stdout).toContain(
      'partner-api-again (' + url() + "): Conflict: MtlsMapping 'partner-api' claims the same URL",
    );

    const json = JSON.parse(
      (await plugin('check', `${url()}payments`, '-l', 'app=checkout', '-o', 'json')).stdout,
    );
    expect(json).toMatchObject({
      applies: true,
      destination: { host: 'localhost', port: upstream.port, path: '/v2/payments' },
      mappings: [
        {
          name: 'partner-api',
          ready: 'True',
          certificate: { name: 'partner-client', ready: 'True', reason: 'ExpiringSoon' },
        },
      ],
    });
  });

  it('exits 1 when no mapping applies, naming the mappings passed over', async () => {
    const otherPath = await plugin('check', `https://localhost:${upstream.port}/v3/`);
    expect(otherPath.status).toBe(1);
    expect(otherPath.stdout).toMatch(/^Mapping: +none applies/m);

    const otherWorkload = await plugin('check', url(), '-l', 'app=billing');
    expect(otherWorkload.status).toBe(1);
    expect(otherWorkload.stdout).toContain(
      'partner-api (' +
        url() +
        '): WorkloadNotSelected: it selects workloads labelled app=checkout',
    );
  });

  it('--live calls the upstream over mutual TLS with the certificate from Vault', async () => {
    const handshakes = upstream.handshakes;
    const run = await plugin('check', `${url()}status`, '-l', 'app=checkout', '--live');

    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /^Live: +OK: TLSv1\.3 mutual TLS, server CN=localhost; HEAD \/v2\/status answered 200$/m,
    );
    expect(run.status).toBe(0);
    expect(upstream.handshakes).toBeGreaterThan(handshakes);
    expect(upstream.seenCns.at(-1)).toBe('checkout-client');
  });

  it('--live fails when the upstream refuses the certificate', async () => {
    await resources.createMapping('partner-with-wrong-cert', {
      url: `https://localhost:${upstream.port}/v9/`,
      certificateName: 'partner',
    });
    await resources.waitForReason('mapping', 'partner-with-wrong-cert', 'Active');
    const caFile = path.join(upstreamPki.dir, 'partner-ca.crt');

    const run = await plugin(
      'check',
      `https://localhost:${upstream.port}/v9/`,
      '--live',
      '--ca-file',
      caFile,
    );

    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^Mapping: +partner-with-wrong-cert$/m);
    expect(run.stdout).toMatch(/^Live: +FAILED: localhost:\d+: the server ended the connection/m);
  });
});
