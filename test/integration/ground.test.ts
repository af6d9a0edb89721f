import * as k8s from '@kubernetes/client-node';
import vault from 'node-vault';

import { adminKubeConfig, readGroundEnv, uniqueName } from './ground';

// Proves the test ground is real: a kube-apiserver with etcd behind it, and an OpenBao server
// whose Kubernetes auth calls TokenReview on that apiserver.

type Seen = { type: string; name: string };

/** Watches a path until `count` events arrived, then stops the watch. */
async function collectEvents(
  kc: k8s.KubeConfig,
  watchPath: string,
  resourceVersion: string,
  count: number,
): Promise<Seen[]> {
  const seen: Seen[] = [];
  let controller: AbortController | undefined;
  const done = new Promise<void>((resolve, reject) => {
    new k8s.Watch(kc)
      .watch(
        watchPath,
        { resourceVersion },
        (type, obj: k8s.KubernetesObject) => {
          seen.push({ type, name: obj.metadata?.name ?? '' });
          if (seen.length >= count) resolve();
        },
        (err) => (err ? reject(err) : resolve()),
      )
      .then((abort) => (controller = abort), reject);
  });
  await done;
  controller?.abort();
  return seen;
}

describe('the local control plane', () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const extensions = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const namespace = uniqueName('ground');

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  it('stores a namespace, a CRD and a Secret in etcd, and streams them in a watch', async () => {
    const group = 'ground.mtls.io';
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              },
            },
          ],
        },
      },
    });
    const listed = await core.listNamespacedSecret({ namespace });
    const events = collectEvents(
      kc,
      `/api/v1/namespaces/${namespace}/secrets`,
      listed.metadata!.resourceVersion!,
      1,
    );

    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'greeting' }, stringData: { hello: 'world' } },
    });

    expect(await events).toEqual([{ type: 'ADDED', name: 'greeting' }]);
    const secret = await core.readNamespacedSecret({ name: 'greeting', namespace });
    expect(Buffer.from(secret.data!.hello, 'base64').toString()).toBe('world');
    const crd = await extensions.readCustomResourceDefinition({ name: `widgets.${group}` });
    expect(crd.spec.names.kind).toBe('Widget');
    const ns = await core.readNamespace({ name: namespace });
    expect(ns.status?.phase).toBe('Active');
  });

  it('writes and reads a KV v2 secret in OpenBao', async () => {
    const env = readGroundEnv();
    const bao = vault({ endpoint: env.VAULT_ADDR, token: env.VAULT_TOKEN });
    const path = `secret/data/ground/${namespace}`;

    const written = await bao.write(path, { data: { colour: 'green' } });
    const read = await bao.read(path);

    expect(read.data.data).toEqual({ colour: 'green' });
    expect(read.data.metadata.version).toBe(written.data.version);
  });

  it('logs a ServiceAccount into OpenBao and refuses paths outside its policy', async () => {
    const env = readGroundEnv();
    const admin = vault({ endpoint: env.VAULT_ADDR, token: env.VAULT_TOKEN });
    const role = uniqueName('reader');
    await admin.addPolicy({
      name: role,
      rules: `path "secret/data/ground/${namespace}/*" { capabilities = ["read"] }`,
    });
    await admin.write(`auth/kubernetes/role/${role}`, {
      bound_service_account_names: ['reader'],
      bound_service_account_namespaces: [namespace],
      token_policies: [role],
      token_ttl: '10m',
    });
    await admin.write(`secret/data/ground/${namespace}/allowed`, { data: { ok: 'yes' } });
    await admin.write(`secret/data/ground/elsewhere`, { data: { ok: 'no' } });
    await core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'reader' } },
    });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: 'reader',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });

    const workload = vault({ endpoint: env.VAULT_ADDR });
    const login = await workload.write('auth/kubernetes/login', {
      role,
      jwt: tokenRequest.status!.token,
    });
    workload.token = login.auth.client_token;

    const allowed = await workload.read(`secret/data/ground/${namespace}/allowed`);
    expect(allowed.data.data).toEqual({ ok: 'yes' });
    await expect(workload.read('secret/data/ground/elsewhere')).rejects.toMatchObject({
      response: { statusCode: 403 },
    });
    const stranger = vault({ endpoint: env.VAULT_ADDR });
    await expect(
      stranger.write('auth/kubernetes/login', { role, jwt: `${tokenRequest.status!.token}x` }),
    ).rejects.toMatchObject({ response: { statusCode: 403 } });
  });
});
