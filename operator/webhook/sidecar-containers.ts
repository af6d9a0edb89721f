import type { InjectionConfig } from './injection-config';
import type { PodSettings } from './pod-settings';
import { Injected, type Container, type EnvVar, type Volume } from './pod-spec';

/** The variables that send an application's HTTP calls through the sidecar in proxy-env mode. */
export function proxyEnvironment(config: InjectionConfig, settings: PodSettings): EnvVar[] {
  const proxy = `http://127.0.0.1:${config.sidecar.proxyPort}`;
  const loopback = ['127.0.0.1', 'localhost'];
  const direct = [...new Set([...loopback, ...settings.noProxy])].join(',');
  return [
    { name: 'HTTP_PROXY', value: proxy },
    { name: 'http_proxy', value: proxy },
    { name: 'NO_PROXY', value: direct },
    { name: 'no_proxy', value: direct },
  ];
}

/** Pod labels in the sidecar's `--pod-labels` form, `k=v,k=v`, sorted for a stable spec. */
export function podLabelList(labels: Readonly<Record<string, string>> | undefined): string {
  return Object.entries(labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/**
 * The sidecar as a native sidecar: an init container that keeps running (`restartPolicy:
 * Always`), so it starts before the application and outlives it. It runs as the proxy UID that
 * the egress rules exempt, on a read-only root file system, without any capability, under the
 * runtime's default seccomp profile: what the `restricted` Pod Security level asks for.
 */
export function sidecarContainer(
  config: InjectionConfig,
  settings: PodSettings,
  podLabels: Readonly<Record<string, string>> | undefined,
): Container {
  const { sidecar, vault } = config;
  const admin = (path: string) => ({ httpGet: { path, port: sidecar.adminPort } });
  return {
    name: Injected.sidecar,
    image: sidecar.image,
    imagePullPolicy: sidecar.imagePullPolicy,
    restartPolicy: 'Always',
    command: [
      'mtls-sidecar',
      '--mode',
      'sidecar',
      '--listen-port',
      String(sidecar.proxyPort),
      '--admin-port',
      String(sidecar.adminPort),
      '--vault-addr',
      vault.address,
      '--vault-role',
      vault.role,
      '--vault-auth-mount',
      vault.authMount,
      '--vault-mount',
      vault.mount,
      '--token-file',
      `${Injected.tokenDir}/token`,
      '--refresh-interval',
      settings.refreshInterval,
      '--check-interval',
      settings.checkInterval,
      '--rate',
      String(settings.rateLimit),
      '--unmapped',
      sidecar.unmapped,
      '--log-level',
      sidecar.logLevel,
    ],
    env: [
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      // The labels at creation are the ones the workload's mapping selectors are written for.
      { name: 'MTLS_POD_LABELS', value: podLabelList(podLabels) },
    ],
    ports: [
      { name: 'mtls-proxy', containerPort: sidecar.proxyPort, protocol: 'TCP' },
      { name: 'mtls-admin', containerPort: sidecar.adminPort, protocol: 'TCP' },
    ],
    resources: settings.resources,
    // The application starts once the proxy listens, so its first calls are not refused.
    startupProbe: { ...admin('/healthz'), periodSeconds: 1, failureThreshold: 60 },
    livenessProbe: { ...admin('/healthz'), periodSeconds: 10 },
    readinessProbe: { ...admin('/readyz'), periodSeconds: 5 },
    securityContext: {
      runAsUser: sidecar.uid,
      runAsGroup: sidecar.uid,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [{ name: Injected.tokenVolume, mountPath: Injected.tokenDir, readOnly: true }],
  };
}

/**
 * The init container that redirects the pod's outbound TCP on the egress ports to the sidecar.
 * It needs root and NET_ADMIN/NET_RAW for iptables, and exits before the application starts;
 * those capabilities are beyond the `baseline` Pod Security level, so iptables mode needs a
 * `privileged` namespace. Everything else is as tight as for the sidecar.
 */
export function egressInitContainer(config: InjectionConfig, settings: PodSettings): Container {
  const { sidecar } = config;
  return {
    name: Injected.egressInit,
    image: sidecar.image,
    imagePullPolicy: sidecar.imagePullPolicy,
    command: [
      'mtls-egress-init',
      '--proxy-port',
      String(sidecar.proxyPort),
      '--proxy-uid',
      String(sidecar.uid),
      '--egress-ports',
      settings.egressPorts.join(','),
      ...(settings.excludedCidrs.length > 0
        ? ['--excluded-cidrs', settings.excludedCidrs.join(',')]
        : []),
      '--iptables',
      config.egress.iptables,
    ],
    // It runs alone, before the sidecar: the sidecar's resources cost the pod nothing more.
    resources: settings.resources,
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

/** The ServiceAccount token the sidecar logs into Vault with, for Vault's audience only. */
export function tokenVolume(config: InjectionConfig): Volume {
  return {
    name: Injected.tokenVolume,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: config.vault.tokenAudience,
            expirationSeconds: 3600,
            path: 'token',
          },
        },
      ],
    },
  };
}
