import * as k8s from '@kubernetes/client-node';

import { KubeApiError, KubeClient } from '../../core/kube/kube-client';
import { connectionFromKubeconfig } from '../../core/kube/kube-connection';
import { createLogger, type Logger } from '../../core/log/logger';
import { collectionPath, ResilientInformer, type ApiResource } from '../../operator/runtime';
import { eventually } from './eventually';
import { adminKubeClient, adminKubeConfig, readGroundEnv, uniqueName } from './ground';

// The informer against a real apiserver: what handlers see on changes, after a dropped watch,
// after a relist, and while the apiserver refuses the informer's requests.

const CONFIG_MAPS: ApiResource = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
};
const SELECTOR = 'informed=yes';
const log = createLogger('informer-test', 'error');

/** An informer on one namespace's labelled ConfigMaps that writes what it is told into `events`. */
function recordingInformer(client: KubeClient, namespace: string, logger = log) {
  const informer = new ResilientInformer<k8s.V1ConfigMap>({
    client,
    resource: CONFIG_MAPS,
    namespace,
    labelSelector: SELECTOR,
    logger,
    backoff: { initialMs: 100, maxMs: 500 },
  });
  const events: string[] = [];
  informer.on('add', (cm) => events.push(`add ${cm.metadata?.name}`));
  informer.on('update', (cm, old) =>
    events.push(`update ${cm.metadata?.name} ${old.data?.colour}->${cm.data?.colour}`),
  );
  informer.on('delete', (cm) => events.push(`delete ${cm.metadata?.name}`));
  return { informer, events };
}

/** A logger that keeps the messages of one level, to see what the informer went through. */
function messageRecorder(level: 'debug' | 'warn', messages: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    child: () => logger,
  };
  logger[level] = (message) => void messages.push(message);
  return logger;
}

/** Compacts the ground's etcd at its current revision, as the apiserver does every 5 minutes. */
async function compactEtcd(): Promise<number> {
  const etcd = readGroundEnv().ETCD_URL;
  const range = await fetch(`${etcd}/v3/kv/range`, { method: 'POST', body: '{"key":"AA=="}' });
  const revision = Number(
    ((await range.json()) as { header: { revision: string } }).header.revision,
  );
  const compaction = await fetch(`${etcd}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision: String(revision), physical: true }),
  });
  if (!compaction.ok) throw new Error(`etcd refused the compaction: ${compaction.status}`);
  return revision;
}

describe('ResilientInformer', () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const client = adminKubeClient();
  let namespace: string;

  const create = (name: string, colour: string, labelled = true) =>
    core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name, labels: labelled ? { informed: 'yes' } : {} },
        data: { colour },
      },
    });
  const recolour = (name: string, colour: string) =>
    core.patchNamespacedConfigMap(
      { name, namespace, body: [{ op: 'replace', path: '/data/colour', value: colour }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
  const remove = (name: string) => core.deleteNamespacedConfigMap({ name, namespace });

  beforeEach(async () => {
    namespace = uniqueName('informer');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(() => client.close());

  it('lists, then reports adds, updates and deletes of what its selector matches', async () => {
    await create('first', 'red');
    await create('unlabelled', 'grey', false);
    const { informer, events } = recordingInformer(client, namespace);

    informer.start();
    await informer.synced;
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual(['add first']);

    await create('second', 'blue');
    await recolour('first', 'green');
    await remove('second');
    await recolour('unlabelled', 'black');
    await eventually('the delete arrived', () => events.includes('delete second'));
    informer.stop();

    expect(events).toEqual(['add first', 'add second', 'update first red->green', 'delete second']);
    expect(informer.get('first', namespace)?.data?.colour).toBe('green');
    expect(informer.list().map((cm) => cm.metadata?.name)).toEqual(['first']);
  });

  it('resumes a dropped watch without replaying the objects it knows', async () => {
    await create('a', 'red');
    await create('b', 'blue');
    const debug: string[] = [];
    const { informer, events } = recordingInformer(
      client,
      namespace,
      messageRecorder('debug', debug),
    );
    informer.start();
    await informer.synced;
    const resumedFrom = informer.lastResourceVersion();

    informer.reconnect();
    await recolour('a', 'green');
    await create('c', 'white');
    await eventually('the new object arrived', () => events.includes('add c'));
    informer.stop();

    expect(resumedFrom).not.toBe('');
    expect(debug.filter((message) => message === 'informer listed')).toHaveLength(1);
    expect(events).toEqual(['add a', 'add b', 'update a red->green', 'add c']);
  });

  it('delivers the changes made while it was stopped once, when started again', async () => {
    await create('a', 'red');
    await create('b', 'blue');
    const { informer, events } = recordingInformer(client, namespace);
    informer.start();
    await informer.synced;

    informer.stop();
    await remove('a');
    await recolour('b', 'black');
    await create('c', 'white');
    informer.start();
    await eventually('the new object arrived', () => events.includes('add c'));
    informer.stop();

    expect(events).toEqual(['add a', 'add b', 'delete a', 'update b blue->black', 'add c']);
  });

  it('after a relist reports only the differences, deletions meanwhile included', async () => {
    await create('a', 'red');
    await create('b', 'blue');
    const { informer, events } = recordingInformer(client, namespace);
    informer.start();
    await informer.synced;
    events.length = 0;

    informer.reconnect({ relist: true });
    await remove('a');
    await create('d', 'white');
    await eventually('both changes arrived', () => events.length >= 2);
    await create('sentinel', 'black');
    await eventually('the sentinel arrived', () => events.includes('add sentinel'));
    informer.stop();

    // The relist and the watch race with the changes, so their order may vary; their set not.
    expect(events.sort()).toEqual(['add d', 'add sentinel', 'delete a']);
  });

  it('relists when the resourceVersion it resumes from was compacted away', async () => {
    const debug: string[] = [];
    // The apiserver keeps no watch cache of Events, so a watch of them resumes from etcd itself,
    // which has forgotten every revision before its last compaction.
    const note = (name: string, message: string) =>
      core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name },
          involvedObject: { kind: 'ConfigMap', name: 'any', namespace },
          reason: 'Noted',
          message,
        },
      });
    const informer = new ResilientInformer<k8s.CoreV1Event>({
      client,
      resource: { group: '', version: 'v1', plural: 'events', kind: 'Event' },
      namespace,
      logger: messageRecorder('debug', debug),
      backoff: { initialMs: 100, maxMs: 500 },
    });
    const events: string[] = [];
    informer.on('add', (event) => events.push(`add ${event.metadata?.name}`));
    informer.on('update', (event) => events.push(`update ${event.metadata?.name}`));
    informer.on('delete', (event) => events.push(`delete ${event.metadata?.name}`));
    await note('a', 'first');
    await note('b', 'second');
    informer.start();
    await informer.synced;
    const resumeFrom = informer.lastResourceVersion();

    informer.stop();
    await core.deleteNamespacedEvent({ name: 'a', namespace });
    await note('c', 'third');
    const compactedAt = await compactEtcd();
    informer.start();
    await eventually('the relist delivered the new event', () => events.includes('add c'));
    await note('d', 'fourth');
    await eventually('the watch after the relist delivered', () => events.includes('add d'));
    informer.stop();

    expect(Number(resumeFrom)).toBeLessThan(compactedAt);
    expect(debug.filter((message) => message === 'informer listed')).toHaveLength(2);
    // A relist reports what it lists first, then what it no longer has.
    expect(events).toEqual(['add a', 'add b', 'add c', 'delete a', 'add d']);
    expect(informer.list().map((event) => event.metadata?.name)).toEqual(['b', 'c', 'd']);
  });

  it('keeps retrying while the apiserver forbids the list, and syncs once allowed', async () => {
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await create('a', 'red');
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'late' } } });
    const token = await core.createNamespacedServiceAccountToken({
      name: 'late',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    // The admin's server and CA, without its client certificate: the token alone says who calls.
    const admin = connectionFromKubeconfig(readGroundEnv().KUBECONFIG);
    const limited = new KubeClient({
      ...admin,
      tls: { ca: admin.tls.ca, rejectUnauthorized: true },
      authorization: () => `Bearer ${token.status!.token}`,
    });
    const warnings: string[] = [];
    const { informer, events } = recordingInformer(
      limited,
      namespace,
      messageRecorder('warn', warnings),
    );
    const refusal = await limited
      .request('GET', collectionPath(CONFIG_MAPS, namespace))
      .then(() => 'allowed')
      .catch((err: KubeApiError) => err.status);

    informer.start();
    await eventually('the informer retried after a refusal', () => warnings.length >= 2);
    expect(informer.hasSynced()).toBe(false);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'read-config' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'late-reads-config' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-config' },
        subjects: [{ kind: 'ServiceAccount', name: 'late', namespace }],
      },
    });
    await informer.synced;
    await create('b', 'blue');
    await eventually('the watch works', () => events.includes('add b'));
    informer.stop();
    limited.close();

    expect(refusal).toBe(403);
    expect(new Set(warnings)).toEqual(new Set(['informer watch failed, reconnecting']));
    expect(events).toEqual(['add a', 'add b']);
  });
});
