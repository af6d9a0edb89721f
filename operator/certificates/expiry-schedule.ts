import { EXPIRY_WARNING_DAYS } from '../../core/certificate/checks';

const DAY_MS = 24 * 3600 * 1000;

// Look again at least this often, so a change of verdict is never missed by more than a day.
const MAX_REQUEUE_MS = DAY_MS;

// A look that comes a little after the moment is sure to see the verdict changed.
const PAST_THE_MOMENT_MS = 1000;

/** When a certificate valid until `notAfter` enters the window in which its expiry is warned of. */
export function expiryWarningStart(notAfter: Date): Date {
  return new Date(notAfter.getTime() - EXPIRY_WARNING_DAYS * DAY_MS);
}

/**
 * The next moment the clock alone changes the verdict on a usable certificate: when it enters
 * the expiry warning window, then when it expires.
 */
export function nextExpiryCheck(notAfter: Date, now: Date): Date {
  const warningStart = expiryWarningStart(notAfter);
  // At the window's first instant exactly the analysis does not warn yet; a second later it does.
  return now.getTime() <= warningStart.getTime() ? warningStart : notAfter;
}

/** The delay before another look at `when` (none without one), at least 1 s and at most a day. */
export function requeueDelayMs(when: Date | undefined, now: Date): number | undefined {
  if (!when) return undefined;
  const delay = when.getTime() - now.getTime() + PAST_THE_MOMENT_MS;
  return Math.max(PAST_THE_MOMENT_MS, Math.min(delay, MAX_REQUEUE_MS));
}

/** The earlier of two moments, either of which may be absent. */
export function earliest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a || !b) return a ?? b;
  return a.getTime() <= b.getTime() ? a : b;
}
