/**
 * JSON text that is the same for equal values whatever their key order, with undefined and null
 * fields left out: the apiserver returns objects with sorted keys, and status written by the
 * operator must compare equal to status read back.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;

  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const inner = (value as Record<string, unknown>)[key];
    if (inner !== undefined && inner !== null) sorted[key] = sortKeys(inner);
  }
  return sorted;
}
