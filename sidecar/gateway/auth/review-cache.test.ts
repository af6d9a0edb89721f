import { ReviewCache } from './review-cache';

describe('ReviewCache', () => {
  let clock = 0;
  const now = (): number => clock;

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('reuses an answer for its time to live, then asks again', async () => {
    const cache = new ReviewCache<string>({ ttlMs: 1000, now });
    let asked = 0;
    const review = async () => `answer ${++asked}`;

    expect(await cache.get('token', review)).toBe('answer 1');
    clock += 999;
    expect(await cache.get('token', review)).toBe('answer 1');
    clock += 1;
    expect(await cache.get('token', review)).toBe('answer 2');
    expect(await cache.get('other', review)).toBe('answer 3');
  });

  it('shares one review between concurrent lookups and keeps no failure', async () => {
    const cache = new ReviewCache<number>({ ttlMs: 1000, now });
    let asked = 0;
    let release: (value: number) => void = () => {};
    const slow = () => {
      asked++;
      return new Promise<number>((resolve) => (release = resolve));
    };

    const both = Promise.all([cache.get('k', slow), cache.get('k', slow)]);
    release(7);
    expect(await both).toEqual([7, 7]);
    expect(asked).toBe(1);

    const failing = cache.get('down', () => Promise.reject(new Error('apiserver away')));
    await expect(failing).rejects.toThrow('apiserver away');
    expect(await cache.get('down', async () => 1)).toBe(1);
  });

  it('keeps at most its limit, dropping the oldest', async () => {
    const cache = new ReviewCache<number>({ ttlMs: 60_000, maxEntries: 3, now });
    for (let i = 0; i < 10; i++) {
      clock += 1;
      await cache.get(`k${i}`, async () => i);
    }
    expect(cache.size).toBe(3);
    expect(await cache.get('k9', async () => -1)).toBe(9);
    expect(await cache.get('k0', async () => -1)).toBe(-1);
  });
});
