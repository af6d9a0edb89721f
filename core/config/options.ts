import { ErrorCode, MtlsError } from '../errors/codes';

/** How one option is read: its flag, its environment variable, its type and default. */
export type OptionSpec<T> = {
  /** The command-line flag without dashes, e.g. `vault-addr`. */
  flag: string;
  /** The environment variable that sets it when the flag is absent. */
  env?: string;
  description: string;
  parse: (raw: string) => T;
  default?: T;
  /** Writes a value as it would be typed (`5m`, `k=v,k=v`), for --help; String() otherwise. */
  show?(value: T): string;
};

/** A table of options, one entry per field of the parsed result. */
export type OptionTable = Record<string, OptionSpec<unknown>>;

/** The parsed values of an option table. */
export type OptionValues<S extends OptionTable> = {
  [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};

/** Thrown for a bad or missing option; the message names the flag and what was wrong. */
export class ConfigError extends MtlsError {
  constructor(message: string) {
    super(ErrorCode.ConfigInvalid, message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads every option of a table from flags (`--name value` or `--name=value`), then the
 * environment, then the default. An unknown flag, a bad value or a missing required option
 * throws a ConfigError that names it.
 */
export function parseOptions<S extends OptionTable>(
  table: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): OptionValues<S> {
  const flags = readFlags(table, argv);
  const values: Record<string, unknown> = {};

  for (const [field, spec] of Object.entries(table)) {
    const fromFlag = flags.get(spec.flag);
    const raw = fromFlag ?? (spec.env ? env[spec.env] : undefined);
    const source = fromFlag !== undefined ? `--${spec.flag}` : spec.env;

    if (raw === undefined || raw === '') {
      if (spec.default === undefined) {
        const via = spec.env ? ` or ${spec.env}` : '';
        throw new ConfigError(`--${spec.flag}${via} is required: ${spec.description}`);
      }
      values[field] = spec.default;
      continue;
    }

    try {
      values[field] = spec.parse(raw);
    } catch (err) {
      throw new ConfigError(`${source} is invalid: ${(err as Error).message}`);
    }
  }
  return values as OptionValues<S>;
}

function readFlags(table: OptionTable, argv: readonly string[]): Map<string, string> {
  const known = new Map(Object.values(table).map((spec) => [spec.flag, spec]));
  const flags = new Map<string, string>();

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}'`);
    const [flag, inline] = splitOnce(arg.slice(2), '=');
    if (!known.has(flag)) throw new ConfigError(`unknown flag --${flag} (see --help)`);

    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${flag} needs a value`);
    flags.set(flag, value);
  }
  return flags;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** Renders the `--help` text of an option table. */
export function describeOptions(table: OptionTable): string {
  return Object.values(table)
    .map((spec) => {
      const env = spec.env ? ` (env ${spec.env})` : '';
      const fallback = describeDefault(spec);
      return `  --${spec.flag}${env}${fallback}\n      ${spec.description}`;
    })
    .join('\n');
}

function describeDefault(spec: OptionSpec<unknown>): string {
  if (spec.default === undefined) return ' [required]';
  const typed = spec.show ? spec.show(spec.default) : String(spec.default);
  return typed === '' ? ' [optional]' : ` [default ${typed}]`;
}
