import { describeFlags } from './args/argv-parser';
import { PROGRAM, type Command } from './commands/command';
import { GLOBAL_FLAGS } from './global-flags';

/** The overview printed by `kubectl mtls`, `kubectl mtls --help` and `kubectl mtls help`. */
export function overviewHelp(commands: readonly Command[]): string {
  const heads = commands.map((command) => `${command.words.join(' ')} ${command.operands}`.trim());
  const width = Math.max(...heads.map((head) => head.length)) + 3;
  const list = commands.map((command, i) => `  ${heads[i].padEnd(width)}${command.summary}`);
  return (
    `${PROGRAM}: client certificates of mtls-operator, from a PKCS#12 file to a live call.\n\n` +
    `Commands:\n${list.join('\n')}\n\n` +
    `Flags of every command:\n${describeFlags(GLOBAL_FLAGS)}\n\n` +
    `Use '${PROGRAM} <command> --help' for the flags of a command.\n`
  );
}

/** The help of one command: usage, description, its flags and the global ones. */
export function commandHelp(command: Command): string {
  const words = command.words.join(' ');
  const operands = command.operands ? ` ${command.operands}` : '';
  const own = command.flags.length > 0 ? `Flags:\n${describeFlags(command.flags)}\n\n` : '';
  return (
    `${command.summary}\n\nUsage:\n  ${PROGRAM} ${words}${operands} [flags]\n\n` +
    `${command.help.join('\n')}\n\n${own}Flags of every command:\n${describeFlags(GLOBAL_FLAGS)}\n`
  );
}
