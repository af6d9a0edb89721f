import { readFileSync } from 'node:fs';

import yaml from 'js-yaml';

import { ipv4CidrList } from '../../core/config/egress-config';
import { ErrorCode, MtlsError } from '../../core/errors/codes';
import { durationValueMs, noProxyList, positiveValue, quantityValue } from './quantities';

/** Container resources as the pod spec carries them. */
export type ResourceRequirements = {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
};

/** How to treat a call no mapping covers; the sidecar's `--unmapped`. */
export type UnmappedPolicy = 'deny' | 'passthrough';

/** How application traffic reaches the sidecar. */
export type EgressMode = 'iptables' | 'proxy-env';

/** Whose `-save` and `-restore` mtls-egress-init runs: the backend the node's kernel uses. */
export type IptablesBackend = 'iptables' | 'iptables-nft' | 'iptables-legacy';

/** What the webhook injects, from the `--injection-config` file over the built-in defaults. */
export type InjectionConfig = {
  sidecar: {
    image: string;
    imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
    resources: ResourceRequirements;
    proxyPort: number;
    adminPort: number;
    uid: number;
    refreshInterval: string;
    checkInterval: string;
    rateLimit: number;
    unmapped: UnmappedPolicy;
    logLevel: 'error' | 'warn' | 'info' | 'debug';
  };
  vault: {
    address: string;
    role: string;
    authMount: string;
    mount: string;
    tokenAudience: string;
  };
  egress: {
    mode: EgressMode;
    ports: number[];
    /** iptables mode: IPv4 CIDRs called directly, never redirected to the sidecar. */
    excludedCidrs: string[];
    /** proxy-env mode: NO_PROXY entries besides loopback, called directly. */
    noProxy: string[];
    /** iptables mode: mtls-egress-init's `--iptables`. */
    iptables: IptablesBackend;
  };
};

/** The built-in injection config; a file overrides it field by field. */
export const DEFAULT_INJECTION_CONFIG: InjectionConfig = {
  sidecar: {
    image: 'ghcr.io/mtls-operator/mtls-sidecar:0.1.0',
    imagePullPolicy: 'IfNotPresent',
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    proxyPort: 15001,
    adminPort: 15020,
    uid: 1337,
    refreshInterval: '5m',
    checkInterval: '10s',
    rateLimit: 10,
    unmapped: 'deny',
    logLevel: 'info',
  },
  vault: {
    address: 'https://vault.vault.svc:8200',
    role: 'mtls-sidecar',
    authMount: 'kubernetes',
    mount: 'secret',
    tokenAudience: 'vault',
  },
  egress: {
    mode: 'iptables',
    ports: [80],
    // kubeadm's default Service and pod ranges; clusters with other ranges set their own.
    excludedCidrs: ['10.96.0.0/12', '10.244.0.0/16'],
    noProxy: ['.svc', '.cluster.local'],
    iptables: 'iptables',
  },
};

/** Reads one field: returns its value or throws an Error that says what was expected. */
type FieldReader = (raw: unknown) => unknown;

const nonEmpty: FieldReader = (raw) => {
  if (typeof raw !== 'string' || raw.trim() === '') throw new Error('expected a non-empty text');
  return raw;
};

const oneOf =
  (...choices: string[]): FieldReader =>
  (raw) => {
    if (typeof raw !== 'string' || !choices.includes(raw)) {
      throw new Error(`expected one of ${choices.join(', ')}`);
    }
    return raw;
  };

const wholeNumber =
  (min: number, max: number): FieldReader =>
  (raw) => {
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
      throw new Error(`expected a whole number from ${min} to ${max}`);
    }
    return raw;
  };

const port = wholeNumber(1, 65535);

const duration: FieldReader = (raw) => {
  if (typeof raw !== 'string' || durationValueMs(raw) === undefined) {
    throw new Error('expected a duration such as 10s, 5m or 250ms');
  }
  return raw;
};

const positive: FieldReader = (raw) => {
  if (positiveValue(String(raw)) === undefined) throw new Error('expected a positive number');
  return Number(raw);
};

const httpAddress: FieldReader = (raw) => {
  if (typeof raw !== 'string' || !/^https?:\/\/[^/\s]+/.test(raw)) {
    throw new Error('expected an http or https URL such as https://vault.vault.svc:8200');
  }
  return raw.replace(/\/+$/, '');
};

const portArray: FieldReader = (raw) => {
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('expected a list of ports');
  for (const item of raw) port(item);
  return [...new Set(raw as number[])];
};

const cidrArray: FieldReader = (raw) => {
  if (!Array.isArray(raw) || raw.some((item) => typeof item !== 'string')) {
    throw new Error('expected a list of IPv4 CIDRs such as [10.96.0.0/12]');
  }
  return ipv4CidrList(raw.join(','));
};

const noProxyArray: FieldReader = (raw) => {
  const hosts = Array.isArray(raw) && raw.every((item) => typeof item === 'string');
  const list = hosts ? noProxyList((raw as string[]).join(',')) : undefined;
  if (!list) throw new Error('expected a list of hosts or domain suffixes such as [.svc]');
  return list;
};

// A problem deeper inside a field: the path below the field, and what was wrong there.
class NestedProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const resources: FieldReader = (raw) => {
  const normalized: ResourceRequirements = {};
  for (const [section, amounts] of Object.entries(objectOf(raw))) {
    if (section !== 'requests' && section !== 'limits') {
      throw new NestedProblem(section, 'unknown field: expected requests or limits');
    }
    const out: Record<string, string> = {};
    for (const [resource, amount] of Object.entries(objectOf(amounts))) {
      const path = `${section}.${resource}`;
      if (resource !== 'cpu' && resource !== 'memory') {
        throw new NestedProblem(path, 'unknown field: expected cpu or memory');
      }
      if (quantityValue(String(amount)) === undefined) {
        const form = 'expected a quantity such as 50m, 0.5, 64Mi or 1Gi';
        throw new NestedProblem(path, `${form}, got ${JSON.stringify(amount)}`);
      }
      out[resource] = String(amount);
    }
    normalized[section] = out;
  }

  const conflict = requestOverLimit(normalized);
  if (conflict) throw new Error(conflict);
  return normalized;
};

const SCHEMA: Record<keyof InjectionConfig, Record<string, FieldReader>> = {
  sidecar: {
    image: nonEmpty,
    imagePullPolicy: oneOf('Always', 'IfNotPresent', 'Never'),
    resources,
    proxyPort: port,
    adminPort: port,
    uid: wholeNumber(1, 2147483647),
    refreshInterval: duration,
    checkInterval: duration,
    rateLimit: positive,
    unmapped: oneOf('deny', 'passthrough'),
    logLevel: oneOf('error', 'warn', 'info', 'debug'),
  },
  vault: {
    address: httpAddress,
    role: nonEmpty,
    authMount: nonEmpty,
    mount: nonEmpty,
    tokenAudience: nonEmpty,
  },
  egress: {
    mode: oneOf('iptables', 'proxy-env'),
    ports: portArray,
    excludedCidrs: cidrArray,
    noProxy: noProxyArray,
    iptables: oneOf('iptables', 'iptables-nft', 'iptables-legacy'),
  },
};

/**
 * The message that says a request is over its limit (the apiserver refuses such a pod), or
 * undefined when every request fits under its limit.
 */
export function requestOverLimit(resources: ResourceRequirements): string | undefined {
  for (const resource of ['cpu', 'memory'] as const) {
    const request = resources.requests?.[resource];
    const limit = resources.limits?.[resource];
    if (request === undefined || limit === undefined) continue;
    if (quantityValue(request)! > quantityValue(limit)!) {
      return `the ${resource} request ${request} is over the ${resource} limit ${limit}`;
    }
  }
  return undefined;
}

/**
 * The message that says egress ports include the sidecar's proxy port, or undefined. Calls to
 * that port would be redirected into the proxy itself, so mtls-egress-init refuses the list and
 * the pod never starts: the webhook refuses it first, where the user sees why.
 */
export function proxyPortInEgressPorts(
  ports: readonly number[],
  proxyPort: number,
): string | undefined {
  if (!ports.includes(proxyPort)) return undefined;
  return (
    `includes ${proxyPort}, the sidecar's proxy port: calls to it would be redirected into ` +
    'the proxy itself, and mtls-egress-init refuses it'
  );
}

function objectOf(raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error('expected a map');
  }
  return raw as Record<string, unknown>;
}

/**
 * Validates a parsed injection document over the defaults. Unknown fields are refused so that
 * a misspelt one is not silently ignored; `resources`, when given, replaces the default whole.
 */
export function parseInjectionConfig(
  document: unknown,
  source = 'injection config',
): InjectionConfig {
  const fail = (field: string, message: string) =>
    new MtlsError(ErrorCode.InjectionConfigInvalid, `${source}: ${field}: ${message}`);

  const config = structuredClone(DEFAULT_INJECTION_CONFIG) as Record<
    string,
    Record<string, unknown>
  >;
  if (document === null || document === undefined) return config as InjectionConfig;
  let top: Record<string, unknown>;
  try {
    top = objectOf(document);
  } catch {
    throw fail('(top level)', 'expected a map with sidecar, vault and egress');
  }

  for (const [section, body] of Object.entries(top)) {
    const readers = SCHEMA[section as keyof InjectionConfig];
    if (!readers) throw fail(section, 'unknown field: expected sidecar, vault or egress');
    if (body === null || body === undefined) continue;
    let fields: Record<string, unknown>;
    try {
      fields = objectOf(body);
    } catch {
      throw fail(section, 'expected a map');
    }
    for (const [field, raw] of Object.entries(fields)) {
      const read = readers[field];
      if (!read) throw fail(`${section}.${field}`, 'unknown field');
      try {
        config[section][field] = read(raw);
      } catch (err) {
        if (err instanceof NestedProblem)
          throw fail(`${section}.${field}.${err.path}`, err.message);
        const message = (err as Error).message;
        const isMap = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
        throw fail(
          `${section}.${field}`,
          isMap ? message : `${message}, got ${JSON.stringify(raw)}`,
        );
      }
    }
  }

  const parsed = config as InjectionConfig;
  if (parsed.sidecar.proxyPort === parsed.sidecar.adminPort) {
    throw fail(
      'sidecar.adminPort',
      `must differ from sidecar.proxyPort (${parsed.sidecar.proxyPort})`,
    );
  }

  const proxyPortListed = proxyPortInEgressPorts(parsed.egress.ports, parsed.sidecar.proxyPort);
  if (proxyPortListed) {
    throw fail('egress.ports', `${JSON.stringify(parsed.egress.ports)} ${proxyPortListed}`);
  }
  return parsed;
}

/** Reads the `--injection-config` file; an empty path means the built-in defaults. */
export function loadInjectionConfig(file: string): InjectionConfig {
  if (!file) return structuredClone(DEFAULT_INJECTION_CONFIG);
  let document: unknown;
  try {
    document = yaml.load(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MtlsError(
      ErrorCode.InjectionConfigInvalid,
      `cannot read the injection config ${file}: ${(err as Error).message}`,
    );
  }
  return parseInjectionConfig(document, `injection config ${file}`);
}
