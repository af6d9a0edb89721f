import { setTimeout as sleep } from 'node:timers/promises';

import { objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { MtlsCertificate } from '../../core/resources/types';
import { readyState, type ReadyState } from '../report/check-report';

const POLL_MS = 500;

/** The operator's verdict on an uploaded file, or the last state seen when time ran out. */
export type WaitOutcome = { settled: boolean; state: ReadyState };

/**
 * Waits until the operator has reported on the uploaded file: the status describes the current
 * generation and the leaf whose fingerprint the local analysis found. Comparing the fingerprint
 * tells a verdict on the new file from one on the file it replaced.
 */
export async function waitForVerdict(
  client: KubeClient,
  namespace: string,
  name: string,
  fingerprint: string,
  timeoutMs: number,
): Promise<WaitOutcome> {
  const path = objectPath(RESOURCES.certificates, namespace, name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const certificate = await client.get<MtlsCertificate>(path);
    const state = readyState(certificate?.status);
    const current =
      certificate?.status?.observedGeneration === certificate?.metadata.generation &&
      certificate?.status?.fingerprintSha256 === fingerprint;
    if (current && state.reason !== 'Pending') return { settled: true, state };
    if (Date.now() >= deadline) return { settled: false, state };
    await sleep(POLL_MS);
  }
}
