/** One flag a command accepts, kubectl style: `--long`, and optionally `-s`. */
export type FlagSpec = {
  long: string;
  short?: string;
  /** The placeholder of the flag's value in the help text; absent for a switch. */
  value?: string;
  description: string;
};

/** What a command line said: positional words, flag values, and the switches that were set. */
export type ParsedArgs = {
  positionals: string[];
  values: Map<string, string>;
  switches: Set<string>;
};

/** A command line that cannot be understood; the message says what to fix. Exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Splits a command line the way kubectl users type it: flags anywhere among the positional
 * words, `--flag value`, `--flag=value`, `-f value`, `-fvalue` (so `-oyaml`) and `-f=value`;
 * `--` ends the flags. A flag not in `specs` is refused, naming it; a later repetition of a flag
 * replaces the earlier value.
 */
export function parseArgv(specs: readonly FlagSpec[], argv: readonly string[]): ParsedArgs {
  const byLong = new Map(specs.map((spec) => [spec.long, spec]));
  const byShort = new Map(specs.flatMap((spec) => (spec.short ? [[spec.short, spec]] : [])));
  const parsed: ParsedArgs = { positionals: [], values: new Map(), switches: new Set() };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      parsed.positionals.push(arg);
      continue;
    }

    const { spec, name, inline } = arg.startsWith('--')
      ? longFlag(byLong, arg)
      : shortFlag(byShort, arg);
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`${name} takes no value, got '${arg}'`);
      parsed.switches.add(spec.long);
      continue;
    }

    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value (${spec.value})`);
    parsed.values.set(spec.long, value);
  }
  return parsed;
}

type FoundFlag = { spec: FlagSpec; name: string; inline?: string };

function longFlag(byLong: Map<string, FlagSpec>, arg: string): FoundFlag {
  const at = arg.indexOf('=');
  const long = at < 0 ? arg.slice(2) : arg.slice(2, at);
  const spec = byLong.get(long);
  if (!spec) throw new UsageError(`unknown flag --${long}`);
  return { spec, name: `--${long}`, inline: at < 0 ? undefined : arg.slice(at + 1) };
}

function shortFlag(byShort: Map<string, FlagSpec>, arg: string): FoundFlag {
  const short = arg[1];
  const spec = byShort.get(short);
  if (!spec) throw new UsageError(`unknown flag -${short}`);

  const rest = arg.slice(2);
  const name = `-${short}`;
  if (rest === '') return { spec, name };
  // A switch followed by more letters is a typo or an unknown combination, not a value.
  if (!spec.value) throw new UsageError(`unknown flag ${arg}`);
  return { spec, name, inline: rest.startsWith('=') ? rest.slice(1) : rest };
}

/** Renders flags for a help text, one per line, their descriptions aligned. */
export function describeFlags(specs: readonly FlagSpec[]): string {
  const heads = specs.map((spec) => {
    const short = spec.short ? `-${spec.short}, ` : '    ';
    return `  ${short}--${spec.long}${spec.value ? ` ${spec.value}` : ''}`;
  });
  const width = Math.max(...heads.map((head) => head.length)) + 2;
  return specs.map((spec, i) => `${heads[i].padEnd(width)}${spec.description}`).join('\n');
}
