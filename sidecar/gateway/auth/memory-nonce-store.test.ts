import { MemoryNonceStore } from './memory-nonce-store';

describe('MemoryNonceStore', () => {
  let clock = 0;
  const now = (): number => clock;

  beforeEach(() => {
    clock = 1_700_000_000_000;
  });

  it('accepts a nonce once per consumer and timestamp', async () => {
    const store = new MemoryNonceStore({ now });

    expect(await store.remember('shop', 100, 'n1', 60)).toBe(true);
    expect(await store.remember('shop', 100, 'n1', 60)).toBe(false);
    expect(await store.remember('shop', 101, 'n1', 60)).toBe(true);
    expect(await store.remember('bank', 100, 'n1', 60)).toBe(true);
  });

  it('keeps the parts of the key apart whatever characters they hold', async () => {
    const store = new MemoryNonceStore({ now });

    expect(await store.remember('a:1', 2, 'x', 60)).toBe(true);
    expect(await store.remember('a', 1, '2:x', 60)).toBe(true);
  });

  it('forgets a nonce when its time to live ends', async () => {
    const store = new MemoryNonceStore({ now });
    await store.remember('shop', 100, 'n1', 60);

    clock += 59_000;
    expect(await store.remember('shop', 100, 'n1', 60)).toBe(false);
    clock += 2_000;
    await store.remember('shop', 100, 'other', 60);
    expect(store.size).toBe(1);
    expect(await store.remember('shop', 100, 'n1', 60)).toBe(true);
  });

  it('stays within its cap and never accepts a dropped nonce twice', async () => {
    const store = new MemoryNonceStore({ maxEntries: 100, now });
    for (let i = 0; i < 1_000; i++) {
      expect(await store.remember('shop', 1_000 + i, `n${i}`, 600)).toBe(true);
    }
    expect(store.size).toBe(100);

    // n0 .. n899 were dropped while still live: their timestamps are refused from now on.
    expect(await store.remember('shop', 1_000, 'n0', 600)).toBe(false);
    expect(await store.remember('shop', 1_899, 'n899', 600)).toBe(false);
    expect(await store.remember('shop', 1_900, 'n900', 600)).toBe(false);
    expect(await store.remember('shop', 2_000, 'fresh', 600)).toBe(true);
  });
});
