import { NONE } from './table';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Whole days from `now` until `notAfter`; negative once it has passed. */
export function daysLeft(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
}

/**
 * How long until `notAfter`, in kubectl's short style: `41d`, `5h`, `12m`; `expired` once it has
 * passed, and `<none>` when it is unknown (the certificate was never read).
 */
export function expiresIn(notAfter: string | undefined, now: Date): string {
  if (!notAfter) return NONE;
  const left = Date.parse(notAfter) - now.getTime();
  if (Number.isNaN(left)) return NONE;
  if (left <= 0) return 'expired';
  if (left >= DAY_MS) return `${Math.floor(left / DAY_MS)}d`;
  if (left >= HOUR_MS) return `${Math.floor(left / HOUR_MS)}h`;
  return `${Math.max(1, Math.floor(left / MINUTE_MS))}m`;
}

/** A count of days in words: `1 day`, `41 days`. */
export function dayCount(days: number): string {
  return `${days} day${days === 1 ? '' : 's'}`;
}
