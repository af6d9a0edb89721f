/**
 * The parts of a Pod the webhook reads and writes. Fields it does not name are carried through
 * untouched: the webhook answers with a patch, never with a rewritten pod.
 */

/** One environment variable of a container. */
export type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
};

/** A container of the pod, an init container or a native sidecar. */
export type Container = {
  name: string;
  image?: string;
  env?: EnvVar[];
  [field: string]: unknown;
};

/** A volume of the pod. */
export type Volume = { name: string; [field: string]: unknown };

/** A Pod as the AdmissionReview carries it. */
export type Pod = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    volumes?: Volume[];
    hostNetwork?: boolean;
    [field: string]: unknown;
  };
};

/** Names of what the webhook adds, shared with the chart and the sidecar. */
export const Injected = {
  sidecar: 'mtls-sidecar',
  egressInit: 'mtls-egress-init',
  tokenVolume: 'mtls-vault-token',
  tokenDir: '/var/run/secrets/mtls.io/vault',
} as const;

/** Labels and annotations that steer injection. */
export const InjectionKeys = {
  inject: 'mtls.io/inject',
  injected: 'mtls.io/injected',
  egress: 'mtls.io/egress',
  egressPorts: 'mtls.io/egress-ports',
  excludedCidrs: 'mtls.io/egress-excluded-cidrs',
  noProxy: 'mtls.io/egress-no-proxy',
  cpuRequest: 'mtls.io/sidecar-cpu-request',
  memoryRequest: 'mtls.io/sidecar-memory-request',
  cpuLimit: 'mtls.io/sidecar-cpu-limit',
  memoryLimit: 'mtls.io/sidecar-memory-limit',
  refreshInterval: 'mtls.io/refresh-interval',
  checkInterval: 'mtls.io/check-interval',
  rateLimit: 'mtls.io/rate-limit',
} as const;

/** A name for logs: the pod's name, or its generateName prefix before the apiserver names it. */
export function podDisplayName(pod: Pod): string {
  return pod.metadata?.name || `${pod.metadata?.generateName ?? ''}*`;
}
