/** One RFC 6902 operation: pods only get `add`; `test` guards a patch of a list by position. */
export type PatchOperation = { op: 'add' | 'test'; path: string; value: unknown };

/** Escapes one reference token of a JSON Pointer (RFC 6901): `~` first, then `/`. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A JSON Pointer from its tokens, each escaped. */
export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((token) => `/${pointerToken(String(token))}`).join('');
}

/**
 * The operations that add entries to an array which may not exist yet: one `add` of the whole
 * array when it is missing, else one `add` per entry, at `index` (in order) or at the end.
 */
export function addToArray(
  path: string,
  existing: readonly unknown[] | undefined,
  entries: readonly unknown[],
  index?: number,
): PatchOperation[] {
  if (entries.length === 0) return [];
  if (!existing) return [{ op: 'add', path, value: [...entries] }];
  return entries.map((value, i) => ({
    op: 'add' as const,
    path: index === undefined ? `${path}/-` : `${path}/${index + i}`,
    value,
  }));
}

/** The operation that sets one key of a map which may not exist yet. */
export function addToMap(
  path: string,
  existing: Record<string, unknown> | undefined,
  key: string,
  value: unknown,
): PatchOperation {
  if (!existing) return { op: 'add', path, value: { [key]: value } };
  return { op: 'add', path: `${path}/${pointerToken(key)}`, value };
}
