/** Value parsers for option tables; each throws an Error whose message says what was expected. */

/** A whole number within bounds. */
export function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`expected a whole number from ${min} to ${max}, got '${raw}'`);
    }
    return value;
  };
}

/** A positive number. */
export function positiveNumber(raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`expected a positive number, got '${raw}'`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration such as `250ms`, `15s`, `5m` or `1h`, in milliseconds. */
export function durationMs(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  if (!match) throw new Error(`expected a duration such as 15s, 5m or 250ms, got '${raw}'`);
  return Number(match[1]) * DURATION_UNITS[match[2]];
}

/** Milliseconds in the largest unit durationMs reads that keeps them whole: `5m`, `250ms`. */
export function formatDuration(ms: number): string {
  const units = Object.entries(DURATION_UNITS).reverse();
  const [unit, size] = units.find(([, size]) => ms >= size && ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}

/** A duration above zero, for a bound or an interval that zero would turn off or make a spin. */
export function positiveDurationMs(raw: string): number {
  const value = durationMs(raw);
  if (value <= 0) throw new Error(`expected a duration above zero, such as 15s, got '${raw}'`);
  return value;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(...choices: T[]): (raw: string) => T {
  return (raw) => {
    if (!(choices as string[]).includes(raw)) {
      throw new Error(`expected one of ${choices.join(', ')}, got '${raw}'`);
    }
    return raw as T;
  };
}

/** An http or https URL, without a trailing slash. */
export function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`expected a URL such as http://127.0.0.1:8200, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`expected an http or https URL, got '${raw}'`);
  }
  return raw.replace(/\/+$/, '');
}

/** An https URL, such as the one the apiserver calls a webhook at. */
export function httpsUrl(raw: string): string {
  const url = httpUrl(raw);
  if (!url.startsWith('https:')) throw new Error(`expected an https URL, got '${raw}'`);
  return url;
}

/** Any non-empty text. */
export function text(raw: string): string {
  return raw;
}

/** `true` or `false`. */
export function boolean(raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error(`expected true or false, got '${raw}'`);
}
