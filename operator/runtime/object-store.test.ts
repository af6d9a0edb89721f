import { createLogger } from '../../core/log/logger';
import type { InformedObject } from './object-key';
import { ObjectStore } from './object-store';

function configMap(name: string, resourceVersion: string, uid = `uid-${name}`): InformedObject {
  return { metadata: { name, namespace: 'shop', resourceVersion, uid } };
}

/** A store whose handlers write what they were told into `events`. */
function recordingStore(): { store: ObjectStore<InformedObject>; events: string[] } {
  const store = new ObjectStore<InformedObject>(createLogger('test', 'error'));
  const events: string[] = [];
  const describe = (object: InformedObject): string =>
    `${object.metadata?.name}@${object.metadata?.resourceVersion}`;
  store.on('add', (object) => events.push(`add ${describe(object)}`));
  store.on('update', (object, previous) =>
    events.push(`update ${describe(previous)}->${object.metadata?.resourceVersion}`),
  );
  store.on('delete', (object) => events.push(`delete ${describe(object)}`));
  return { store, events };
}

describe('ObjectStore', () => {
  it('reports a relist of unchanged objects as nothing new', () => {
    const { store, events } = recordingStore();
    store.replace([configMap('a', '1'), configMap('b', '2')]);

    store.replace([configMap('a', '1'), configMap('b', '2')]);

    expect(events).toEqual(['add a@1', 'add b@2']);
  });

  it('reports what a relist changed: new, modified and gone objects', () => {
    const { store, events } = recordingStore();
    store.replace([configMap('a', '1'), configMap('b', '2')]);
    events.length = 0;

    store.replace([configMap('a', '5'), configMap('c', '6')]);

    expect(events).toEqual(['update a@1->5', 'add c@6', 'delete b@2']);
    expect(store.list('shop').map((object) => object.metadata?.name)).toEqual(['a', 'c']);
  });

  it('reports an object re-created under the same name as a delete and an add', () => {
    const { store, events } = recordingStore();
    store.upsert(configMap('a', '1', 'first'));

    store.upsert(configMap('a', '9', 'second'));

    expect(events).toEqual(['add a@1', 'delete a@1', 'add a@9']);
  });

  it('ignores a watch event it already holds and a delete of an unknown object', () => {
    const { store, events } = recordingStore();
    store.upsert(configMap('a', '1'));

    store.upsert(configMap('a', '1'));
    store.remove(configMap('z', '3'));
    store.remove(configMap('a', '4'));

    expect(events).toEqual(['add a@1', 'delete a@4']);
    expect(store.get('shop/a')).toBeUndefined();
  });

  it('keeps telling the other handlers when one handler throws', () => {
    const { store, events } = recordingStore();
    const broken = new ObjectStore<InformedObject>(createLogger('test', 'error'));
    broken.on('add', () => {
      throw new Error('handler bug');
    });
    broken.on('add', (object) => events.push(`second ${object.metadata?.name}`));

    broken.upsert(configMap('a', '1'));
    store.upsert(configMap('b', '1'));

    expect(events).toEqual(['second a', 'add b@1']);
  });
});
