import type { Logger } from '../../core/log/logger';
import {
  allowReview,
  denyReview,
  type AdmissionRequest,
  type AdmissionReview,
} from './admission-review';
import { isInjected, planInjection, podDecidesAlone } from './inject-pod';
import type { InjectionConfig } from './injection-config';
import { podDisplayName, type Pod } from './pod-spec';
import type { AdmissionResult } from './webhook-metrics';

/** What the pod admission needs. */
export type PodAdmissionContext = {
  config: InjectionConfig;
  namespaceLabels: (namespace: string) => Promise<Record<string, string>>;
  log: Logger;
};

/** The answer to one admission request and how it ended, for the metrics. */
export type PodAdmission = { review: AdmissionReview; result: AdmissionResult };

/**
 * Answers one AdmissionReview request: pods being created are injected when selected; every
 * other request is admitted unchanged. A namespace that cannot be read throws, so that the
 * server answers with an error and the webhook's failurePolicy decides.
 */
export async function admitPod(
  request: AdmissionRequest,
  context: PodAdmissionContext,
): Promise<PodAdmission> {
  const { uid } = request;
  const isPodCreate =
    request.kind?.kind === 'Pod' &&
    (request.kind.group ?? '') === '' &&
    !request.subResource &&
    request.operation === 'CREATE' &&
    request.object !== undefined;
  if (!isPodCreate) return { review: allowReview(uid), result: 'skipped' };

  const pod = request.object as Pod;
  const namespace = request.namespace || pod.metadata?.namespace || '';
  const name = podDisplayName(pod);
  // The namespace is read only when its label can change the outcome.
  const mustRead = namespace !== '' && !isInjected(pod) && !podDecidesAlone(pod);
  const namespaceLabels = mustRead ? await context.namespaceLabels(namespace) : {};

  const decision = planInjection(pod, namespaceLabels, context.config);
  switch (decision.action) {
    case 'skip':
      context.log.debug('pod not injected', { namespace, name, reason: decision.reason });
      return { review: allowReview(uid), result: 'skipped' };
    case 'reject':
      context.log.info('pod rejected', { namespace, name, reason: decision.message });
      return { review: denyReview(uid, decision.message), result: 'rejected' };
    case 'inject':
      context.log.info('pod injected', {
        namespace,
        name,
        egress: decision.settings.egressMode,
        dryRun: request.dryRun === true,
      });
      return { review: allowReview(uid, decision.patch), result: 'injected' };
  }
}
