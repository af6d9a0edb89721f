import type { InjectionConfig } from './injection-config';
import { addToArray, addToMap, pointer, type PatchOperation } from './json-patch';
import { podSettings, type PodSettings } from './pod-settings';
import { Injected, InjectionKeys, type Container, type Pod } from './pod-spec';
import {
  egressInitContainer,
  proxyEnvironment,
  sidecarContainer,
  tokenVolume,
} from './sidecar-containers';

/** Why a pod is left as it is. */
export type SkipReason = 'not-selected' | 'already-injected';

/** What the webhook does with one pod. */
export type InjectionDecision =
  | { action: 'skip'; reason: SkipReason }
  | { action: 'inject'; patch: PatchOperation[]; settings: PodSettings }
  | { action: 'reject'; message: string };

/**
 * Whether the pod's own label decides, without the namespace: `enabled` and `disabled` do;
 * any other value, or none, leaves it to the namespace's label.
 */
export function podDecidesAlone(pod: Pod): boolean {
  const own = pod.metadata?.labels?.[InjectionKeys.inject];
  return own === 'enabled' || own === 'disabled';
}

/** True when the pod is to get the sidecar: its label, else its namespace's label, says so. */
export function isSelected(pod: Pod, namespaceLabels: Readonly<Record<string, string>>): boolean {
  const own = pod.metadata?.labels?.[InjectionKeys.inject];
  if (own === 'enabled') return true;
  if (own === 'disabled') return false;
  return namespaceLabels[InjectionKeys.inject] === 'enabled';
}

/**
 * The message when the pod's or its namespace's `mtls.io/inject` label is neither `enabled` nor
 * `disabled` (a `true` or `Enabled` would otherwise be taken as no opinion), or undefined.
 */
export function injectLabelProblem(
  pod: Pod,
  namespaceLabels: Readonly<Record<string, string>>,
): string | undefined {
  const allowed = ['enabled', 'disabled'];
  const key = InjectionKeys.inject;
  const own = pod.metadata?.labels?.[key];
  if (own !== undefined && !allowed.includes(own)) {
    return `the pod's label ${key}: '${own}' is not enabled or disabled`;
  }
  const namespace = namespaceLabels[key];
  if (namespace !== undefined && !allowed.includes(namespace)) {
    return `the namespace's label ${key}: '${namespace}' is not enabled or disabled`;
  }
  return undefined;
}

/** True when the pod has the sidecar already, as a container or an init container. */
export function isInjected(pod: Pod): boolean {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return all.some((container) => container.name === Injected.sidecar);
}

/**
 * Decides what one pod gets and builds the JSON Patch (RFC 6902) that adds it: the egress init
 * container (iptables mode) and the native sidecar first among the init containers, the proxy
 * variables on the pod's own containers (proxy-env mode), the token volume and the marker.
 * Pure: the namespace's labels are read by the caller.
 */
export function planInjection(
  pod: Pod,
  namespaceLabels: Readonly<Record<string, string>>,
  config: InjectionConfig,
): InjectionDecision {
  if (isInjected(pod)) return { action: 'skip', reason: 'already-injected' };
  const labelProblem = injectLabelProblem(pod, namespaceLabels);
  if (labelProblem) return { action: 'reject', message: labelProblem };
  if (!isSelected(pod, namespaceLabels)) return { action: 'skip', reason: 'not-selected' };

  const result = podSettings(pod.metadata?.annotations, config);
  if ('problems' in result) return { action: 'reject', message: result.problems.join('; ') };
  const { settings } = result;
  const clash = unsupported(pod, settings);
  if (clash) return { action: 'reject', message: clash };

  const spec = pod.spec ?? {};
  const patch: PatchOperation[] = [];
  if (settings.egressMode === 'proxy-env') {
    const variables = proxyEnvironment(config, settings);
    spec.containers?.forEach((c, i) => patch.push(...envPatch(c, ['containers', i], variables)));
    spec.initContainers?.forEach((c, i) =>
      patch.push(...envPatch(c, ['initContainers', i], variables)),
    );
  }

  // Ours go first, so that the pod's own init containers already have the proxy.
  const ours = [sidecarContainer(config, settings, pod.metadata?.labels)];
  if (settings.egressMode === 'iptables') ours.unshift(egressInitContainer(config, settings));
  patch.push(...addToArray('/spec/initContainers', spec.initContainers, ours, 0));
  patch.push(...addToArray('/spec/volumes', spec.volumes, [tokenVolume(config)]));
  patch.push(
    addToMap('/metadata/annotations', pod.metadata?.annotations, InjectionKeys.injected, 'true'),
  );
  return { action: 'inject', patch, settings };
}

function unsupported(pod: Pod, settings: PodSettings): string | undefined {
  if (settings.egressMode === 'iptables' && pod.spec?.hostNetwork) {
    return (
      `a pod with hostNetwork cannot use ${InjectionKeys.egress}: iptables (the rules would ` +
      `change the node's network): set ${InjectionKeys.egress}: proxy-env, or ` +
      `${InjectionKeys.inject}: disabled`
    );
  }
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
    (container) => container.name,
  );
  if (names.includes(Injected.egressInit)) {
    return `the pod already has a container named ${Injected.egressInit}, which injection adds`;
  }
  if (pod.spec?.volumes?.some((volume) => volume.name === Injected.tokenVolume)) {
    return `the pod already has a volume named ${Injected.tokenVolume}, which injection adds`;
  }
  return undefined;
}

// The variables a container does not set itself; its own values win.
function envPatch(
  container: Container,
  at: [string, number],
  variables: readonly { name: string; value?: string }[],
): PatchOperation[] {
  const own = new Set((container.env ?? []).map((variable) => variable.name));
  const missing = variables.filter((variable) => !own.has(variable.name));
  return addToArray(pointer('spec', ...at, 'env'), container.env, missing);
}
