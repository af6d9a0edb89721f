import { canonicalJson } from '../../core/json/canonical';
import type { Condition } from '../../core/resources/types';

type Status = { conditions?: Condition[] };

/**
 * True when two statuses say the same, whatever their key order and transition times: the
 * operator writes status only when this is false, so a restart writes nothing.
 */
export function sameStatus(previous: Status, next: Status): boolean {
  const comparable = (status: Status) =>
    canonicalJson({
      ...status,
      conditions: status.conditions?.map((c) => ({ ...c, lastTransitionTime: undefined })),
    });
  return comparable(previous) === comparable(next);
}

/** A status as a merge patch: a field it no longer has is sent as null, which removes it. */
export function asMergePatch<T extends object>(status: T): T {
  const entries = Object.entries(status).map(([key, value]) => [key, value ?? null]);
  return Object.fromEntries(entries) as T;
}
