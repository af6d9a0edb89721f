import { spawn } from 'node:child_process';

import { ErrorCode, MtlsError } from '../../core/errors/codes';

/** Thrown when iptables cannot be run or refuses; the message says which program and why. */
export class IptablesError extends MtlsError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'IptablesError';
  }
}

// A program that has not answered in this time is stuck (a held xtables lock, for one).
const RUN_TIMEOUT_MS = 30_000;

/**
 * Runs `<program> <args>` with `input` on its standard input and returns its standard output.
 * A program that is not installed raises EGRESS_IPTABLES_MISSING; one that exits non-zero,
 * is killed or times out raises EGRESS_IPTABLES_FAILED with what it wrote on stderr.
 */
export function runIptables(program: string, args: string[], input = ''): Promise<string> {
  const command = [program, ...args].join(' ');

  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    // A program that exits without reading its input closes the pipe; its exit status tells why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);

    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') {
        const message =
          `${program} is not installed or not on PATH; the image running ` +
          'mtls-egress-init needs the iptables package';
        reject(new IptablesError(ErrorCode.EgressIptablesMissing, message, { cause: err }));
        return;
      }
      const message = `${command} could not be started: ${err.message}`;
      reject(new IptablesError(ErrorCode.EgressIptablesFailed, message, { cause: err }));
    });

    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (status === 0) {
        resolve(Buffer.concat(stdout).toString());
        return;
      }
      const said = Buffer.concat(stderr).toString().trim().replace(/\s+/g, ' ');
      const ended = signal ? `was stopped by ${signal}` : `exited with status ${status}`;
      reject(
        new IptablesError(
          ErrorCode.EgressIptablesFailed,
          `${command} ${ended}${said ? `: ${said}` : ''}${privilegeHint(said)}`,
        ),
      );
    });
  });
}

function privilegeHint(said: string): string {
  if (!/permission denied|must be root|operation not permitted/i.test(said)) return '';
  return '; mtls-egress-init must run as root with the NET_ADMIN and NET_RAW capabilities';
}
