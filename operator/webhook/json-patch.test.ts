import { applyJsonPatch } from '../../test/fixtures/json-patch-apply';
import { addToArray, addToMap, pointer, pointerToken } from './json-patch';

describe('JSON Pointer escaping', () => {
  it('escapes ~ before /, as RFC 6901 orders', () => {
    expect(pointerToken('mtls.io/injected')).toBe('mtls.io~1injected');
    expect(pointerToken('a~/b')).toBe('a~0~1b');
    expect(pointer('metadata', 'annotations', 'mtls.io/inject')).toBe(
      '/metadata/annotations/mtls.io~1inject',
    );
  });
});

describe('patch builders', () => {
  it('create a missing array or map, else add to it', () => {
    const bare = { spec: {}, metadata: {} };
    const patch = [
      ...addToArray('/spec/items', undefined, ['a', 'b'], 0),
      addToMap('/metadata/annotations', undefined, 'mtls.io/injected', 'true'),
    ];
    expect(applyJsonPatch(bare, patch)).toEqual({
      spec: { items: ['a', 'b'] },
      metadata: { annotations: { 'mtls.io/injected': 'true' } },
    });

    const full = { spec: { items: ['x'] }, metadata: { annotations: { keep: 'yes' } } };
    const more = [
      ...addToArray('/spec/items', full.spec.items, ['a', 'b'], 0),
      ...addToArray('/spec/items', ['x', 'y', 'z'], ['end']),
      addToMap('/metadata/annotations', full.metadata.annotations, 'mtls.io/injected', 'true'),
    ];
    expect(applyJsonPatch(full, more)).toEqual({
      spec: { items: ['a', 'b', 'x', 'end'] },
      metadata: { annotations: { keep: 'yes', 'mtls.io/injected': 'true' } },
    });
  });
});
