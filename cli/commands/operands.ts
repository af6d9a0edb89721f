import { readFileSync } from 'node:fs';

import { UsageError } from '../args/argv-parser';

/** The one operand a command takes, e.g. FILE; none or more is a usage error. */
export function singleOperand(operands: string[], name: string): string {
  if (operands.length === 1) return operands[0];
  if (operands.length === 0) throw new UsageError(`${name} is missing`);
  throw new UsageError(`expected one ${name}, got ${operands.length}: ${operands.join(' ')}`);
}

/** Refuses operands for a command that takes none. */
export function noOperands(operands: string[]): void {
  if (operands.length > 0) throw new UsageError(`unexpected argument '${operands[0]}'`);
}

/** The bytes of a file named on the command line; one that cannot be read is a usage error. */
export function readOperandFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}
