import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { redact } from './logger';

// The compiled logger (`make build`), run in a process of its own: what it writes to stderr is
// what operators and sidecars write, with no test runner's console in between.
const COMPILED_LOGGER = path.resolve(__dirname, '../../dist/core/log/logger.js');

/** Runs `script` with `createLogger` in scope and returns the JSON lines it wrote to stderr. */
function linesWritten(script: string): Record<string, unknown>[] {
  const load = `const { createLogger } = require(${JSON.stringify(COMPILED_LOGGER)});`;
  const program = `${load}\n${script}`;
  const run = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  expect(run.stdout).toBe('');
  return run.stderr
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the logger', () => {
  it('writes one JSON line with the component, level, constant message and fields', () => {
    const [line] = linesWritten(
      `createLogger('operator').info('certificate synced', { namespace: 'shop', name: 'web' });`,
    );

    expect(line).toMatchObject({
      component: 'operator',
      level: 'info',
      message: 'certificate synced',
      namespace: 'shop',
      name: 'web',
    });
    expect(Date.parse(line.timestamp as string)).not.toBeNaN();
  });

  it('never writes secret fields, at the top or nested, whatever their letter case', () => {
    const [line] = linesWritten(`
      createLogger('sidecar').warn('upstream call failed', {
        Authorization: 'Bearer abc.def',
        headers: { cookie: 'session=1', 'LP-Authorization-Override': 'Basic eA==' },
        material: [{ privateKey: '-----BEGIN PRIVATE KEY-----', password: 'changeit' }],
        token: 's.vault-token',
      });`);

    const text = JSON.stringify(line);
    for (const secret of ['abc.def', 'session=1', 'eA==', 'PRIVATE KEY', 'changeit', 's.vault']) {
      expect(text).not.toContain(secret);
    }
    expect(line).toMatchObject({
      Authorization: '[redacted]',
      headers: { cookie: '[redacted]', 'LP-Authorization-Override': '[redacted]' },
      material: [{ privateKey: '[redacted]', password: '[redacted]' }],
      token: '[redacted]',
    });
  });

  it('keeps fields of a child logger and leaves out levels below its own', () => {
    const lines = linesWritten(`
      const log = createLogger('operator', 'info').child({ reconcileId: 'r-1' });
      log.debug('not written');
      log.error('reconcile failed', { kind: 'MtlsMapping' });`);

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reconcileId: 'r-1', level: 'error', kind: 'MtlsMapping' });
  });
});

describe('redact', () => {
  it('turns an error into its message, name and code, without its stack', () => {
    const err = Object.assign(new Error('Vault at http://vault did not answer'), {
      code: 'VAULT_UNAVAILABLE',
    });

    expect(redact({ err })).toEqual({
      err: { message: err.message, name: 'Error', code: 'VAULT_UNAVAILABLE' },
    });
  });
});
