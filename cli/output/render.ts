import yaml from 'js-yaml';

import { UsageError } from '../args/argv-parser';

/** How a command prints its answer: for people (text, wide) or for programs (json, yaml). */
export type OutputFormat = 'text' | 'wide' | 'json' | 'yaml';

/** Reads `-o`: absent means text; a format the command does not offer is a usage error. */
export function parseOutputFormat(raw: string | undefined, offered: OutputFormat[]): OutputFormat {
  if (raw === undefined) return 'text';
  const choices = offered.filter((format) => format !== 'text');
  if (!(choices as string[]).includes(raw)) {
    const expected = choices.length > 0 ? `one of ${choices.join(', ')}` : 'no -o at all';
    throw new UsageError(`-o ${raw} is not offered here: expected ${expected}`);
  }
  return raw as OutputFormat;
}

/** Prints a document as JSON or YAML; fields that are undefined are left out of both. */
export function renderDocument(format: 'json' | 'yaml', document: unknown): string {
  const plain: unknown = JSON.parse(JSON.stringify(document));
  if (format === 'json') return `${JSON.stringify(plain, null, 2)}\n`;
  return yaml.dump(plain, { noRefs: true, lineWidth: -1 });
}

/** True for the formats meant for programs. */
export function isMachineFormat(format: OutputFormat): format is 'json' | 'yaml' {
  return format === 'json' || format === 'yaml';
}
