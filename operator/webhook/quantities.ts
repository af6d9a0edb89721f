/**
 * The value forms the injection settings accept, checked here so that a bad value is refused
 * with a message naming it instead of failing later in the apiserver or in the sidecar.
 */

const SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

// The apiserver's quantity grammar without a sign: resources are never negative.
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:([kMGTPE]i|[mkMGTPE])|[eE]([+-]?\d+))?$/;

/**
 * The amount a Kubernetes quantity such as `50m`, `64Mi`, `1.5` or `1e3` stands for, or
 * undefined when the text is not a quantity.
 */
export function quantityValue(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, number, suffix, exponent] = match;
  const scale = exponent !== undefined ? 10 ** Number(exponent) : SUFFIXES[suffix ?? ''];
  return Number(number) * scale;
}

// The forms the sidecar's duration options accept (see core/config/parsers.ts).
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The milliseconds of a duration such as `10s`, `5m` or `250ms`, or undefined. */
export function durationValueMs(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * DURATION_UNIT_MS[match[2]];
  return ms > 0 ? ms : undefined;
}

/** A comma list of TCP ports such as `80,8080`, deduplicated in order, or undefined. */
export function portList(text: string): number[] | undefined {
  const ports: number[] = [];
  for (const part of text.split(',')) {
    const port = Number(part.trim());
    if (!/^\d+$/.test(part.trim()) || port < 1 || port > 65535) return undefined;
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** A positive number such as `10` or `2.5`, or undefined. */
export function positiveValue(text: string): number | undefined {
  if (!/^\d+(?:\.\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return value > 0 ? value : undefined;
}

// A NO_PROXY entry: a host, a domain suffix (.svc), an address or CIDR, an optional port.
const NO_PROXY_ENTRY = /^[A-Za-z0-9.*:/_[\]-]+$/;

/**
 * A comma list of NO_PROXY entries such as `.svc,.cluster.local,db.internal`, deduplicated in
 * order (an empty text is none), or undefined when an entry holds a space or is empty.
 */
export function noProxyList(text: string): string[] | undefined {
  if (text.trim() === '') return [];
  const entries: string[] = [];
  for (const part of text.split(',')) {
    const entry = part.trim();
    if (!NO_PROXY_ENTRY.test(entry)) return undefined;
    if (!entries.includes(entry)) entries.push(entry);
  }
  return entries;
}
