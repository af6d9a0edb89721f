import { ConfigError } from '../core/config/options';
import { loadPluginSettings, PLUGIN_OPTIONS } from '../core/config/plugin-config';
import { MtlsError } from '../core/errors/codes';
import { parseArgv, UsageError, type FlagSpec, type ParsedArgs } from './args/argv-parser';
import { ExitStatus, PROGRAM, type CliIo, type Command } from './commands/command';
import { COMMANDS } from './commands/registry';
import { GLOBAL_FLAGS } from './global-flags';
import { commandHelp, overviewHelp } from './help';
import { parseOutputFormat } from './output/render';
import { PromptCancelled } from './password';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Runs one command line and returns the exit status. `env` stands in for the process
 * environment in tests. Usage errors exit 2 with a pointer to the help; failures exit 1.
 */
export async function runCli(argv: readonly string[], io: CliIo, env?: Environment) {
  let command: Command | undefined;
  try {
    const args = parseArgv(allFlags(), argv);
    const [first, ...rest] = args.positionals;
    if (first === undefined || first === 'help') {
      command = rest.length > 0 ? findCommand(rest) : undefined;
      io.out(command ? commandHelp(command) : overviewHelp(COMMANDS));
      return ExitStatus.ok;
    }

    command = findCommand(args.positionals);
    if (args.switches.has('help')) {
      io.out(commandHelp(command));
      return ExitStatus.ok;
    }
    refuseForeignFlags(command, args);

    return await command.run({
      operands: args.positionals.slice(command.words.length),
      args,
      output: parseOutputFormat(args.values.get('output'), command.outputs),
      settings: () => loadPluginSettings(settingsFlags(args), env),
      io,
    });
  } catch (err) {
    return reportFailure(err, io, command);
  }
}

// Flags are parsed against every command's, so that they may stand before the command's words.
function allFlags(): FlagSpec[] {
  const byLong = new Map<string, FlagSpec>();
  for (const spec of [...GLOBAL_FLAGS, ...COMMANDS.flatMap((command) => command.flags)]) {
    byLong.set(spec.long, spec);
  }
  return [...byLong.values()];
}

function findCommand(words: string[]): Command {
  const command = COMMANDS.find((candidate) =>
    candidate.words.every((word, i) => words[i] === word),
  );
  if (command) return command;

  const group = COMMANDS.filter((candidate) => candidate.words[0] === words[0]);
  if (group.length > 0) {
    const choices = group.map((candidate) => candidate.words.slice(1).join(' ')).join(', ');
    const got = words[1] === undefined ? 'nothing' : `'${words[1]}'`;
    throw new UsageError(`${words[0]} needs a subcommand (${choices}), got ${got}`);
  }
  throw new UsageError(`unknown command '${words[0]}'`);
}

function refuseForeignFlags(command: Command, args: ParsedArgs): void {
  const own = new Set([...GLOBAL_FLAGS, ...command.flags].map((spec) => spec.long));
  const used = [...args.values.keys(), ...args.switches];
  const foreign = used.find((flag) => !own.has(flag));
  if (foreign) {
    throw new UsageError(`${command.words.join(' ')} does not take --${foreign}`);
  }
}

// The flags the config module reads, handed over in the `--flag value` form it parses.
function settingsFlags(args: ParsedArgs): string[] {
  return Object.values(PLUGIN_OPTIONS).flatMap((spec) => {
    const value = args.values.get(spec.flag);
    return value === undefined ? [] : [`--${spec.flag}`, value];
  });
}

function reportFailure(err: unknown, io: CliIo, command: Command | undefined): number {
  if (err instanceof UsageError || err instanceof ConfigError) {
    const words = command ? `${command.words.join(' ')} ` : '';
    io.err(`error: ${err.message}\nSee '${PROGRAM} ${words}--help'.\n`);
    return ExitStatus.usage;
  }
  if (err instanceof PromptCancelled || err instanceof MtlsError) {
    io.err(`error: ${err.message}\n`);
    return ExitStatus.failed;
  }
  // Network failures and the like: their message is all a user can act on.
  io.err(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  return ExitStatus.failed;
}
