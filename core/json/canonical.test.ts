import { canonicalJson } from './canonical';

describe('canonicalJson', () => {
  it('is the same for equal values in any key order, without empty fields', () => {
    const written = { b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined }, e: null };
    const readBack = { a: { d: [1, { x: 1, y: 2 }] }, b: 1 };
    expect(canonicalJson(written)).toBe(canonicalJson(readBack));
  });

  it('differs when a value or an array order differs', () => {
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
  });
});
