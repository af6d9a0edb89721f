import type { Condition } from './types';

/** The one condition type both resources report. */
export const READY = 'Ready';

/**
 * Returns the conditions with `next` set in place of any condition of its type. The transition
 * time moves only when the status changes, as Kubernetes conventions ask.
 */
export function setCondition(
  conditions: Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const current = conditions?.find((condition) => condition.type === next.type);
  const lastTransitionTime =
    current && current.status === next.status ? current.lastTransitionTime : now.toISOString();
  const others = (conditions ?? []).filter((condition) => condition.type !== next.type);
  return [...others, { ...next, lastTransitionTime }];
}

/** The Ready condition of an object's status, if it has one. */
export function readyCondition(status?: { conditions?: Condition[] }): Condition | undefined {
  return status?.conditions?.find((condition) => condition.type === READY);
}

/** True when an object's Ready condition is True for its current generation. */
export function isReady(object: {
  metadata: { generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}): boolean {
  return (
    readyCondition(object.status)?.status === 'True' &&
    object.status?.observedGeneration === object.metadata.generation
  );
}
