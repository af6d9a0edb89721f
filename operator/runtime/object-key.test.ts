import { objectKey, parseObjectKey } from './object-key';

describe('object keys', () => {
  it('round-trips namespaced and cluster-scoped objects', () => {
    const namespaced = objectKey({ metadata: { namespace: 'shop', name: 'partner-a' } });
    const clusterScoped = objectKey({ metadata: { name: 'shop' } });

    expect(namespaced).toBe('shop/partner-a');
    expect(parseObjectKey(namespaced)).toEqual({ namespace: 'shop', name: 'partner-a' });
    expect(clusterScoped).toBe('shop');
    expect(parseObjectKey(clusterScoped)).toEqual({ namespace: '', name: 'shop' });
  });
});
