import { nextSyncDelayMs } from './retry-delay';

describe('nextSyncDelayMs', () => {
  it('waits the check interval while syncs succeed', () => {
    expect(nextSyncDelayMs(0, 15_000)).toBe(15_000);
    expect(nextSyncDelayMs(0, 20)).toBe(20);
  });

  it('backs off from one second and stops at the check interval', () => {
    const delays = [1, 2, 3, 4, 5, 6, 50].map((failures) => nextSyncDelayMs(failures, 15_000));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
  });

  it('never waits longer than the check interval, however long the outage', () => {
    for (const checkIntervalMs of [500, 1_000, 15_000, 300_000]) {
      for (let failures = 1; failures < 2_000; failures += 7) {
        expect(nextSyncDelayMs(failures, checkIntervalMs)).toBeLessThanOrEqual(checkIntervalMs);
      }
    }
  });

  it('keeps a floor between tries when the check interval is tiny', () => {
    expect(nextSyncDelayMs(1, 10)).toBe(100);
    expect(nextSyncDelayMs(40, 0)).toBe(100);
  });
});
