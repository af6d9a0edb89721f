import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ErrorCode } from '../../core/errors/codes';
import { runIptables } from './iptables';

// Stand-ins for iptables programs: real processes that behave as iptables does when it refuses.
let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'mtls-iptables-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function program(name: string, script: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('runIptables', () => {
  it('passes the input on stdin and returns stdout', async () => {
    await expect(runIptables(program('echo-restore', 'cat'), [], '*nat\nCOMMIT\n')).resolves.toBe(
      '*nat\nCOMMIT\n',
    );
  });

  it('names a program that is not installed with EGRESS_IPTABLES_MISSING', async () => {
    await expect(runIptables(path.join(dir, 'iptables-restore'), ['--noflush'])).rejects.toEqual(
      expect.objectContaining({
        code: ErrorCode.EgressIptablesMissing,
        message: expect.stringMatching(/iptables-restore is not installed or not on PATH/),
      }),
    );
  });

  it('reports a refusal with what the program said and EGRESS_IPTABLES_FAILED', async () => {
    const refusing = program(
      'refusing-restore',
      'echo "iptables-restore: line 3 failed" >&2; exit 1',
    );
    await expect(runIptables(refusing, ['--noflush'], '*nat\nCOMMIT\n')).rejects.toEqual(
      expect.objectContaining({
        code: ErrorCode.EgressIptablesFailed,
        message: `${refusing} --noflush exited with status 1: iptables-restore: line 3 failed`,
      }),
    );
  });

  it('says what privileges are missing when iptables answers permission denied', async () => {
    const unprivileged = program(
      'unprivileged-save',
      'echo "Could not fetch rule set generation id: Permission denied (you must be root)" >&2\n' +
        'exit 4',
    );
    await expect(runIptables(unprivileged, ['-t', 'nat'])).rejects.toThrow(
      /status 4: .*you must be root\); mtls-egress-init must run as root with the NET_ADMIN/,
    );
  });
});
