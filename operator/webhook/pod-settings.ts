import {
  proxyPortInEgressPorts,
  requestOverLimit,
  type EgressMode,
  type InjectionConfig,
  type ResourceRequirements,
} from './injection-config';
import { ipv4CidrList } from '../../core/config/egress-config';
import { InjectionKeys } from './pod-spec';
import { durationValueMs, noProxyList, portList, positiveValue, quantityValue } from './quantities';

/** What one pod gets: the injection config with the pod's own annotations applied. */
export type PodSettings = {
  egressMode: EgressMode;
  egressPorts: number[];
  excludedCidrs: string[];
  noProxy: string[];
  resources: ResourceRequirements;
  refreshInterval: string;
  checkInterval: string;
  rateLimit: number;
};

/** The pod's settings, or every problem found in its annotations. */
export type PodSettingsResult = { settings: PodSettings } | { problems: string[] };

type Check = { accepts: (value: string) => boolean; expected: string };

const CHECKS: Record<string, Check> = {
  [InjectionKeys.egress]: {
    accepts: (value) => value === 'iptables' || value === 'proxy-env',
    expected: 'is not iptables or proxy-env',
  },
  [InjectionKeys.egressPorts]: {
    accepts: (value) => portList(value) !== undefined,
    expected: 'is not a list of ports 1-65535 such as 80,8080',
  },
  [InjectionKeys.excludedCidrs]: {
    accepts: (value) => cidrsOrUndefined(value) !== undefined,
    expected: 'is not a list of IPv4 CIDRs such as 10.96.0.0/12,10.244.0.0/16',
  },
  [InjectionKeys.noProxy]: {
    accepts: (value) => noProxyList(value) !== undefined,
    expected: 'is not a list of hosts or domain suffixes such as .svc,.cluster.local',
  },
  [InjectionKeys.cpuRequest]: cpuCheck(),
  [InjectionKeys.cpuLimit]: cpuCheck(),
  [InjectionKeys.memoryRequest]: memoryCheck(),
  [InjectionKeys.memoryLimit]: memoryCheck(),
  [InjectionKeys.refreshInterval]: durationCheck(),
  [InjectionKeys.checkInterval]: durationCheck(),
  [InjectionKeys.rateLimit]: {
    accepts: (value) => positiveValue(value) !== undefined,
    expected: 'is not a positive number of requests per second such as 10 or 2.5',
  },
};

function cidrsOrUndefined(value: string): string[] | undefined {
  try {
    return ipv4CidrList(value);
  } catch {
    return undefined;
  }
}

function cpuCheck(): Check {
  return {
    accepts: (value) => quantityValue(value) !== undefined,
    expected: 'is not a Kubernetes quantity of cpu such as 100m or 0.5',
  };
}

function memoryCheck(): Check {
  return {
    accepts: (value) => quantityValue(value) !== undefined,
    expected: 'is not a Kubernetes quantity of memory such as 64Mi or 1Gi',
  };
}

function durationCheck(): Check {
  return {
    accepts: (value) => durationValueMs(value) !== undefined,
    expected: 'is not a duration such as 10s, 5m or 250ms',
  };
}

// Annotations of ours a pod may carry that set nothing: the marker the webhook itself adds.
const MARKERS: readonly string[] = [InjectionKeys.injected];

/**
 * The message for each `mtls.io/` annotation the webhook does not know: a misspelt override
 * would otherwise be ignored without a word, and the pod run with settings it did not ask for.
 */
function unknownAnnotations(given: Readonly<Record<string, string>>): string[] {
  const known = [...Object.keys(CHECKS), ...MARKERS];
  return Object.keys(given)
    .filter((key) => key.startsWith('mtls.io/') && !known.includes(key))
    .map((key) =>
      key === InjectionKeys.inject
        ? `${key} is read from the pod's labels, not its annotations`
        : `${key} is not an annotation of mtls-operator; known: ${Object.keys(CHECKS).join(', ')}`,
    );
}

/**
 * Applies the pod's `mtls.io/*` annotations over the injection config. Every bad value is
 * reported with the annotation, the value and the form expected, so that one rejection tells
 * the user all there is to fix.
 */
export function podSettings(
  annotations: Readonly<Record<string, string>> | undefined,
  config: InjectionConfig,
): PodSettingsResult {
  const given = annotations ?? {};
  const problems = unknownAnnotations(given);
  for (const [key, check] of Object.entries(CHECKS)) {
    const value = given[key];
    if (value !== undefined && !check.accepts(value.trim())) {
      problems.push(`${key}: '${value}' ${check.expected}`);
    }
  }
  const listedPorts = given[InjectionKeys.egressPorts];
  const ports = listedPorts !== undefined ? portList(listedPorts.trim()) : undefined;
  const proxyPortListed = ports && proxyPortInEgressPorts(ports, config.sidecar.proxyPort);
  if (proxyPortListed) {
    problems.push(`${InjectionKeys.egressPorts}: '${listedPorts}' ${proxyPortListed}`);
  }
  if (problems.length > 0) return { problems };

  const value = (key: string) => given[key]?.trim();
  const resources = structuredClone(config.sidecar.resources);
  const setAmount = (section: 'requests' | 'limits', resource: 'cpu' | 'memory', key: string) => {
    const amount = value(key);
    if (amount !== undefined) resources[section] = { ...resources[section], [resource]: amount };
  };
  setAmount('requests', 'cpu', InjectionKeys.cpuRequest);
  setAmount('requests', 'memory', InjectionKeys.memoryRequest);
  setAmount('limits', 'cpu', InjectionKeys.cpuLimit);
  setAmount('limits', 'memory', InjectionKeys.memoryLimit);

  const overLimit = requestOverLimit(resources);
  if (overLimit) {
    const keys = Object.keys(CHECKS).filter((key) => key.startsWith('mtls.io/sidecar-'));
    const set = keys.filter((key) => given[key] !== undefined).join(', ');
    return { problems: [`sidecar resources (${set}): ${overLimit}`] };
  }

  const egressPorts = value(InjectionKeys.egressPorts);
  const rateLimit = value(InjectionKeys.rateLimit);
  const excludedCidrs = value(InjectionKeys.excludedCidrs);
  const noProxy = value(InjectionKeys.noProxy);
  return {
    settings: {
      egressMode: (value(InjectionKeys.egress) as EgressMode | undefined) ?? config.egress.mode,
      egressPorts: egressPorts !== undefined ? portList(egressPorts)! : config.egress.ports,
      excludedCidrs:
        excludedCidrs !== undefined ? ipv4CidrList(excludedCidrs) : config.egress.excludedCidrs,
      noProxy: noProxy !== undefined ? noProxyList(noProxy)! : config.egress.noProxy,
      resources,
      refreshInterval: value(InjectionKeys.refreshInterval) ?? config.sidecar.refreshInterval,
      checkInterval: value(InjectionKeys.checkInterval) ?? config.sidecar.checkInterval,
      rateLimit: rateLimit !== undefined ? Number(rateLimit) : config.sidecar.rateLimit,
    },
  };
}
