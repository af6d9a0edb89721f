/** The first retry after a failed sync: soon, as most outages are a restart or a blip. */
const FIRST_RETRY_MS = 1_000;

/** The shortest wait between tries, so that a tiny check interval does not spin on a dead Vault. */
const MIN_RETRY_MS = 100;

/**
 * How long to wait before the next sync of a source. Without failures it is the check interval;
 * after failures the wait doubles from one second but never passes the check interval, so a
 * change made while the source was down arrives within one check interval of it coming back.
 */
export function nextSyncDelayMs(failures: number, checkIntervalMs: number): number {
  if (failures === 0) return checkIntervalMs;

  const ceiling = Math.max(checkIntervalMs, MIN_RETRY_MS);
  const backoff = FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 30);
  return Math.max(MIN_RETRY_MS, Math.min(backoff, ceiling));
}
