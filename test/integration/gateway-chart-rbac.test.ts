import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import yaml from 'js-yaml';
import OAuth from 'oauth-1.0a';

import { collectionPath, CoreResources, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { RunningOperator } from '../../operator/operator';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { LoopbackPki } from '../fixtures/loopback-pki';
import { MtlsUpstream } from '../fixtures/mtls-upstream';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { eventualValue } from './eventually';
import {
  adminKube,
  ALL_RIGHTS,
  callGateway,
  createNamespace,
  serviceAccountToken,
  serviceAccountWith,
  startGateway,
} from './gateway-harness';
import { kubectl, readGroundEnv, uniqueName } from './ground';
import { CHART_DIR, helmOk } from './helm';
import { applyCrds, runOperator } from './operator-harness';

// The gateway with exactly the Kubernetes rights the chart gives it: its RBAC rendered by helm,
// applied to the real apiserver, and the gateway's own calls made with its ServiceAccount token.

const pki = new LoopbackPki();
const upstream = new MtlsUpstream(pki);
const release = uniqueName('gwrbac');
let rbacFile = '';
let operator: RunningOperator;
let kube: KubeClient;
let gateway: Gateway;
let home = '';
let team = '';
let outside = '';

/** A usable PKCS#12 file of a client certificate the upstream accepts, in base64. */
function clientP12(commonName: string): string {
  const issued = pki.client(commonName, commonName);
  const leaf = { name: commonName, certPath: issued.certFile, keyPath: issued.keyFile, ...issued };
  return exportPkcs12(pki.dir, leaf, [], P12_PROTECTIONS.modern).bytes.toString('base64');
}

/** A kubeconfig that authenticates with a ServiceAccount token. */
function kubeconfigFor(token: string, namespace: string): string {
  const env = readGroundEnv() as ReturnType<typeof readGroundEnv> & { KUBE_CA_FILE: string };
  const file = path.join(pki.dir, 'gateway-kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'ground',
        cluster: { server: env.KUBE_API_URL, 'certificate-authority': env.KUBE_CA_FILE },
      },
    ],
    users: [{ name: 'gateway', user: { token } }],
    contexts: [{ name: 'gateway', context: { cluster: 'ground', user: 'gateway', namespace } }],
    'current-context': 'gateway',
  };
  writeFileSync(file, yaml.dump(config));
  return file;
}

beforeAll(async () => {
  applyCrds();
  await upstream.start();
  operator = await runOperator();
  kube = adminKube();
  home = await createNamespace(kube, 'gw-chart');
  team = await createNamespace(kube, 'gw-team');
  outside = await createNamespace(kube, 'gw-outside');

  const rendered = helmOk(
    'template',
    release,
    CHART_DIR,
    '--namespace',
    home,
    '--set',
    'gateway.enabled=true',
    '--set',
    'gateway.allowPerReplicaLimits=true',
    '--set',
    `gateway.selfServeNamespaces={${team}}`,
    '--show-only',
    'templates/gateway-rbac.yaml',
  );
  rbacFile = path.join(pki.dir, 'gateway-rbac.yaml');
  writeFileSync(rbacFile, rendered);
  kubectl('apply', '-f', rbacFile);

  const token = await serviceAccountToken(kube, home, `${release}-mtls-operator-gateway`);
  await kube.create(collectionPath(RESOURCES.secrets, home), {
    metadata: { name: 'portal', labels: { 'mtls.io/oauth1-consumer': 'true' } },
    stringData: { consumerKey: 'portal', consumerSecret: 'portal-secret', namespaces: team },
  });
  gateway = await startGateway(['--namespace', home, '--kubeconfig', kubeconfigFor(token, home)]);
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await operator?.stop();
  if (rbacFile) kubectl('delete', '-f', rbacFile, '--ignore-not-found');
  kube?.close();
  await upstream.stop();
  pki.dispose();
});

describe("the gateway under the chart's RBAC", () => {
  it('manages certificates and validated mappings in a self-serve namespace', async () => {
    const { token } = await serviceAccountWith(kube, team, ALL_RIGHTS);
    const api = `/api/v1/accounts/${team}`;
    const p12 = clientP12('chart-team');
    const json = { name: 'partner', password: P12_PASSWORD, p12 };

    expect((await callGateway(gateway, `${api}/certificates`, { token, json })).status).toBe(201);
    const update = { password: P12_PASSWORD, p12 };
    const updated = await callGateway(gateway, `${api}/certificates/partner`, {
      method: 'PUT',
      token,
      json: update,
    });
    expect(updated.status).toBe(200);

    // The upstream's CA is trusted through the certificate's ConfigMap, which the gateway reads.
    await kube.create(collectionPath(CoreResources.configMaps, team), {
      metadata: { name: 'partner-ca' },
      data: { 'ca.crt': pki.ca.certPem },
    });
    await kube.patch(objectPath(RESOURCES.certificates, team, 'partner'), {
      spec: { trustedCA: { configMapName: 'partner-ca' } },
    });
    await eventualValue(async () => {
      const entity = await callGateway(gateway, `${api}/certificates/partner`, { token });
      return entity.body.status === 'Available' ? entity : undefined;
    }, 'the certificate to be Available');
    const mapping = await callGateway(gateway, `${api}/mappings`, {
      token,
      json: {
        url: `https://localhost:${upstream.port}/`,
        certificateName: 'partner',
        validate: true,
      },
    });
    expect(mapping.status).toBe(201);
    expect(upstream.seenCns).toContain('chart-team');

    // Activating and deactivating is a patch the gateway makes with its own identity.
    const item = `${api}/mappings/${mapping.body.name}`;
    for (const enabled of [false, true]) {
      const changed = await callGateway(gateway, item, {
        method: 'PATCH',
        token,
        json: { enabled, validate: true },
      });
      expect(changed.status).toBe(200);
      expect(changed.body.enabled).toBe(enabled);
    }

    const deleted = await callGateway(gateway, `${api}/certificates/partner`, {
      method: 'DELETE',
      token,
    });
    expect(deleted.status).toBe(204);
  });

  it('reads the OAuth 1.0 consumers of its own namespace', async () => {
    const oauth = new OAuth({
      consumer: { key: 'portal', secret: 'portal-secret' },
      signature_method: 'HMAC-SHA1',
      hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
    });
    const path = `/api/v1/accounts/${team}/configuration/check`;
    const url = `http://127.0.0.1:${gateway.port}${path}`;
    const authorization = oauth.toHeader(oauth.authorize({ url, method: 'POST' })).Authorization;

    const checked = await callGateway(gateway, path, {
      json: { checks: [{ url: 'https://partner.example/' }] },
      headers: { authorization },
    });
    expect(checked.status).toBe(200);
  });

  it('cannot write outside the self-serve namespaces, whatever the caller may do', async () => {
    const { token } = await serviceAccountWith(kube, outside, ALL_RIGHTS);
    const json = { name: 'partner', password: P12_PASSWORD, p12: clientP12('outsider') };
    const listed = await callGateway(gateway, `/api/v1/accounts/${outside}/certificates`, {
      token,
    });
    expect(listed.status).toBe(502);
    expect(listed.body.code).toBe('KUBE_API_FAILED');
    expect(listed.body.message).toContain('403');
    const created = await callGateway(gateway, `/api/v1/accounts/${outside}/certificates`, {
      token,
      json,
    });
    expect(created.status).toBe(502);
    expect(created.body.failed).toEqual([
      expect.objectContaining({ name: 'partner', code: 'KUBE_API_FAILED' }),
    ]);
    const certificates = await kube.request<{ items: unknown[] }>(
      'GET',
      collectionPath(RESOURCES.certificates, outside),
    );
    expect(certificates.items).toEqual([]);
  });
});
