import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { collectionPath, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { MtlsCertificate } from '../../core/resources/types';
import type { RunningOperator } from '../../operator/operator';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { assertBuilt, runKubectlMtls } from '../fixtures/kubectl-mtls-bin';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { eventualValue } from './eventually';
import {
  adminKube,
  ALL_RIGHTS,
  callGateway,
  createNamespace,
  serviceAccountWith,
  startGateway,
} from './gateway-harness';
import { readGroundEnv } from './ground';
import { applyCrds, runOperator } from './operator-harness';

// One certificate written by kubectl-mtls and by the gateway's API in turn keeps one Secret:
// each client updates the Secret the certificate names, and the operator syncs its content.

const pki = useCorpusPki();
let operator: RunningOperator;
let gateway: Gateway;
let kube: KubeClient;

beforeAll(async () => {
  assertBuilt();
  applyCrds();
  operator = await runOperator();
  gateway = await startGateway();
  kube = adminKube();
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await operator?.stop();
  kube?.close();
});

type SecretList = { items: { metadata: { name: string }; data: Record<string, string> }[] };

function p12(leaf = pki.leaf): { bytes: Buffer; path: string } {
  return exportPkcs12(pki.dir, leaf, [pki.intermediate], P12_PROTECTIONS.modern);
}

function plugin(namespace: string, ...args: string[]) {
  const env = readGroundEnv();
  return runKubectlMtls([...args, '-n', namespace], {
    env: { KUBECONFIG: env.KUBECONFIG, VAULT_ADDR: env.VAULT_ADDR, VAULT_TOKEN: env.VAULT_TOKEN },
  });
}

async function secretsOf(namespace: string) {
  return (await kube.request<SecretList>('GET', collectionPath(RESOURCES.secrets, namespace)))
    .items;
}

// The certificate once the operator has synced the leaf into Vault.
function synced(namespace: string, leafPem: string) {
  const fingerprint = new X509Certificate(leafPem).fingerprint256;
  return eventualValue(async () => {
    const path = objectPath(RESOURCES.certificates, namespace, 'partner');
    const certificate = await kube.get<MtlsCertificate>(path);
    const status = certificate?.status;
    const ready = status?.conditions?.find((condition) => condition.type === 'Ready');
    const done = status?.fingerprintSha256 === fingerprint && ready?.reason === 'Synced';
    return done ? certificate : undefined;
  }, `partner synced with ${fingerprint}`);
}

describe('a certificate written by kubectl-mtls and the gateway in turn', () => {
  it('keeps one Secret, which each update replaces, and syncs the newest file', async () => {
    const namespace = await createNamespace(kube, 'gw-secret');
    const { token } = await serviceAccountWith(kube, namespace, ALL_RIGHTS);
    const certificates = `/api/v1/accounts/${namespace}/certificates`;
    const passwordFile = path.join(pki.dir, `${namespace}-password.txt`);
    writeFileSync(passwordFile, `${P12_PASSWORD}\n`);

    const first = p12();
    const uploaded = await plugin(
      namespace,
      'upload',
      first.path,
      '--name',
      'partner',
      '--password-file',
      passwordFile,
    );
    expect(uploaded.stderr).toBe('');
    expect(uploaded.status).toBe(0);
    await synced(namespace, pki.leaf.certPem);

    const renewed = p12(pki.ecLeaf);
    const updated = await callGateway(gateway, `${certificates}/partner`, {
      method: 'PUT',
      token,
      json: { password: P12_PASSWORD, p12: renewed.bytes.toString('base64') },
    });
    expect(updated.status).toBe(200);
    const certificate = await synced(namespace, pki.ecLeaf.certPem);
    expect(certificate.spec.source.pkcs12?.secretName).toBe('partner-p12');
    expect(certificate.status?.keyAlgorithm).toBe('EC');
    const afterApi = await secretsOf(namespace);
    expect(afterApi.map((secret) => secret.metadata.name)).toEqual(['partner-p12']);
    expect(Buffer.from(afterApi[0].data['keystore.p12'], 'base64').equals(renewed.bytes)).toBe(
      true,
    );

    const overwritten = await plugin(
      namespace,
      'upload',
      first.path,
      '--name',
      'partner',
      '--password-file',
      passwordFile,
      '--overwrite',
    );
    expect(overwritten.stdout).toContain('secret/partner-p12 configured\n');
    expect(overwritten.status).toBe(0);
    await synced(namespace, pki.leaf.certPem);
    const afterPlugin = await secretsOf(namespace);
    expect(afterPlugin.map((secret) => secret.metadata.name)).toEqual(['partner-p12']);
  });
});
