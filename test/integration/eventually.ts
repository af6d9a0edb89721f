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
