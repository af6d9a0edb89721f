import { checkCommand } from './check';
import type { Command } from './command';
import { p12TestCommand } from './p12-test';
import { statusCommand } from './status';
import { uploadCommand } from './upload';

/** Every command of the plugin, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [
  p12TestCommand,
  checkCommand,
  uploadCommand,
  statusCommand,
];
