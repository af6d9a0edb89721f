import { readFileSync } from 'node:fs';

import { UsageError, type FlagSpec, type ParsedArgs } from './args/argv-parser';
import type { CliIo } from './commands/command';

/** The flags that give a PKCS#12 file's password. */
export const PASSWORD_FLAGS: FlagSpec[] = [
  {
    long: 'password',
    value: 'TEXT',
    description: 'password of the file (others on this machine can see it)',
  },
  {
    long: 'password-file',
    value: 'PATH',
    description: 'file whose first line is the password; - reads standard input',
  },
];

/** Thrown when the user stops the password prompt with Ctrl-C. */
export class PromptCancelled extends Error {
  constructor() {
    super('the password prompt was cancelled');
    this.name = 'PromptCancelled';
  }
}

/**
 * The password of a PKCS#12 file: from --password, from --password-file, or asked on the
 * terminal without echo. Without a terminal to ask on, a missing password is a usage error
 * rather than a wait on input that never comes.
 */
export async function readPassword(args: ParsedArgs, io: CliIo, file: string): Promise<string> {
  const given = args.values.get('password');
  const fromFile = args.values.get('password-file');
  if (given !== undefined && fromFile !== undefined) {
    throw new UsageError('give either --password or --password-file, not both');
  }
  if (given !== undefined) return given;
  if (fromFile !== undefined) return firstLine(await readPasswordFile(fromFile, io));

  if (!io.stdin.isTTY) {
    throw new UsageError(
      'no password given: use --password-file PATH (or --password), ' +
        'since standard input is not a terminal to ask on',
    );
  }
  return promptHidden(io, `Password for ${file}: `);
}

async function readPasswordFile(source: string, io: CliIo): Promise<string> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return readFileSync(source, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --password-file ${source}: ${(err as Error).message}`);
  }
}

// The password is the first line, so a file written by `echo` works as one written by printf.
function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0];
}

/** Asks on the terminal with echo off; Backspace edits, Enter ends, Ctrl-C cancels. */
export function promptHidden(io: CliIo, prompt: string): Promise<string> {
  const { stdin } = io;
  // Echo goes off before the prompt shows, so nothing typed after the prompt is ever echoed.
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  io.err(prompt);

  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.err('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new PromptCancelled());
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else if (char >= ' ') typed += char;
      }
    };
    stdin.on('data', onData);
  });
}
