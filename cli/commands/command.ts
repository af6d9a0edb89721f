import type { PluginSettings } from '../../core/config/plugin-config';
import type { FlagSpec, ParsedArgs } from '../args/argv-parser';
import type { OutputFormat } from '../output/render';

/** The name users type; kubectl finds `kubectl-mtls` on PATH and runs it as `kubectl mtls`. */
export const PROGRAM = 'kubectl mtls';

/** Exit statuses: 0 success, 1 the answer is "no" (unusable, not mapped, failed), 2 bad usage. */
export const ExitStatus = { ok: 0, failed: 1, usage: 2 } as const;

/** The terminal a command talks to: text out, and the input a password may be read from. */
export type CliIo = {
  out: (text: string) => void;
  err: (text: string) => void;
  stdin: NodeJS.ReadStream;
  now: () => Date;
};

/** What a command is given to run. */
export type Invocation = {
  /** The positional words after the command's own words. */
  operands: string[];
  args: ParsedArgs;
  output: OutputFormat;
  /** Reads the settings (kubeconfig, Vault) only when the command needs them. */
  settings: () => PluginSettings;
  io: CliIo;
};

/** One command of the plugin: its words, help, flags and the outputs it can print. */
export type Command = {
  /** The words that select it, e.g. ['p12', 'test']. */
  words: string[];
  /** The operands in the usage line, e.g. 'FILE'. */
  operands: string;
  summary: string;
  /** The lines of help after the usage line. */
  help: string[];
  flags: FlagSpec[];
  outputs: OutputFormat[];
  run: (invocation: Invocation) => Promise<number>;
};
