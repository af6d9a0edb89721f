import tls from 'node:tls';

import { CoreResources, collectionPath, objectPath } from '../../core/kube/api-paths';
import {
  isAlreadyExists,
  isConflict,
  KubeApiError,
  KubeClient,
  MetadataOnly,
} from '../../core/kube/kube-client';
import { connectionFromKubeconfig } from '../../core/kube/kube-connection';
import { eventually } from './eventually';
import { readGroundEnv, uniqueName } from './ground';

type ConfigMap = {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
};

const configMaps = CoreResources.configMaps;

describe('KubeClient against the real apiserver', () => {
  const client = new KubeClient(connectionFromKubeconfig(readGroundEnv().KUBECONFIG));
  const namespace = uniqueName('kube-client');

  beforeAll(async () => {
    await client.create(collectionPath(CoreResources.namespaces), {
      metadata: { name: namespace },
    });
  });

  afterAll(() => client.close());

  it('creates, reads, patches, replaces and deletes an object', async () => {
    const path = objectPath(configMaps, namespace, 'settings');
    await client.create(collectionPath(configMaps, namespace), {
      metadata: { name: 'settings' },
      data: { colour: 'blue' },
    });

    const patched = await client.patch<ConfigMap>(path, { data: { size: 'large' } });
    expect(patched.data).toEqual({ colour: 'blue', size: 'large' });

    const replaced = await client.replace<ConfigMap>(path, { ...patched, data: { only: 'this' } });
    expect((await client.get<ConfigMap>(path))?.data).toEqual({ only: 'this' });

    // A replace from a stale read is refused: nobody's change is overwritten.
    const stale = await client.replace(path, { ...patched, data: { lost: 'x' } }).catch((e) => e);
    expect(isConflict(stale)).toBe(true);
    expect((await client.get<ConfigMap>(path))?.data).toEqual({ only: 'this' });
    expect(replaced.metadata.resourceVersion).not.toBe(patched.metadata.resourceVersion);

    expect(await client.delete(path)).toBe(true);
    expect(await client.get(path)).toBeUndefined();
    expect(await client.delete(path)).toBe(false);
  });

  it('names the status and reason of a refused request', async () => {
    const collection = collectionPath(configMaps, namespace);
    await client.create(collection, { metadata: { name: 'twice' } });

    const again = await client.create(collection, { metadata: { name: 'twice' } }).catch((e) => e);
    expect(again).toBeInstanceOf(KubeApiError);
    expect(isAlreadyExists(again)).toBe(true);
    expect((again as KubeApiError).message).toMatch(/409 AlreadyExists .*twice/);

    const invalid = client.create(collection, { metadata: { name: 'Not_Valid' } });
    await expect(invalid).rejects.toThrow(/422 Invalid .*Not_Valid/);
  });

  it('streams watch events until stopped', async () => {
    const seen: string[] = [];
    const collection = collectionPath(configMaps, namespace);
    const list = await client.request<{ metadata: { resourceVersion: string } }>('GET', collection);
    let ended = false;

    const watch = await client.watch<ConfigMap>(
      collection,
      { resourceVersion: list.metadata.resourceVersion },
      {
        onEvent: (type, object) => seen.push(`${type} ${object.metadata.name}`),
        onDone: () => (ended = true),
      },
    );
    await client.create(collection, { metadata: { name: 'watched' } });
    await client.delete(objectPath(configMaps, namespace, 'watched'));

    await eventually('both events arrive', () => seen.length >= 2);
    expect(seen).toEqual(['ADDED watched', 'DELETED watched']);
    watch.abort();
    await eventually('the watch reports its end', () => ended);
  });

  it('lists and watches metadata only, without the objects content', async () => {
    const collection = collectionPath(configMaps, namespace);
    await client.create(collection, {
      metadata: { name: 'bulky' },
      data: { payload: 'x'.repeat(64) },
    });
    const list = await client.request<{
      items: ConfigMap[];
      metadata: { resourceVersion: string };
    }>('GET', collection, { accept: MetadataOnly.list });
    const seen: ConfigMap[] = [];

    const watch = await client.watch<ConfigMap>(
      collection,
      { resourceVersion: list.metadata.resourceVersion },
      { onEvent: (_type, object) => seen.push(object), onDone: () => undefined },
      { accept: MetadataOnly.object },
    );
    await client.patch(objectPath(configMaps, namespace, 'bulky'), { data: { more: 'y' } });
    await eventually('the change arrives', () => seen.length >= 1);
    watch.abort();

    const bulky = list.items.find((item) => item.metadata.name === 'bulky');
    expect(bulky?.metadata.resourceVersion).toBeTruthy();
    expect(bulky?.data).toBeUndefined();
    expect(seen[0].metadata.name).toBe('bulky');
    expect(seen[0].data).toBeUndefined();
  });

  it('makes many requests over one pooled connection', async () => {
    const connect = jest.spyOn(tls, 'connect');
    try {
      const pooled = new KubeClient(connectionFromKubeconfig(readGroundEnv().KUBECONFIG));
      for (let i = 0; i < 30; i++)
        await pooled.get(objectPath(CoreResources.namespaces, undefined, namespace));
      pooled.close();
      expect(connect.mock.calls.length).toBe(1);
    } finally {
      connect.mockRestore();
    }
  });
});
