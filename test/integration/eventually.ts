import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `condition` holds, failing with `what` after `timeoutMs`. The deadline only keeps
 * a broken run from hanging; tests never assert how long something took.
 */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

/**
 * Polls `probe` until it returns a value other than undefined and returns that value; errors
 * thrown while polling count as not yet, and the last one is named if time runs out.
 */
export async function eventualValue<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
