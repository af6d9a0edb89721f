import { captureIo } from '../test/fixtures/cli-io';
import { runCli } from './run-cli';

const NOW = new Date('2027-06-01T00:00:00Z');

async function run(...argv: string[]) {
  const terminal = captureIo(NOW);
  const status = await runCli(argv, terminal.io, {});
  return { status, stdout: terminal.stdout(), stderr: terminal.stderr() };
}

describe('runCli', () => {
  it('prints the overview with no command, with help, and with --help', async () => {
    for (const argv of [[], ['help'], ['--help'], ['-h']]) {
      const shown = await run(...argv);
      expect(shown.status).toBe(0);
      expect(shown.stdout).toMatch(/^Commands:\n {2}p12 test FILE /m);
    }
  });

  it('prints the help of one command, wherever the flags stand', async () => {
    const viaHelp = await run('help', 'p12', 'test');
    expect(viaHelp.stdout).toContain('kubectl mtls p12 test FILE [flags]');
    expect(viaHelp.stdout).toContain('--password-file PATH');

    const viaFlag = await run('-n', 'payments', 'check', '--help');
    expect(viaFlag.stdout).toContain('kubectl mtls check URL [flags]');
    expect(viaFlag.stdout).toContain('-l, --labels K=V,...');
  });

  it('keeps every help line within 100 columns', async () => {
    const texts = await Promise.all(
      [[], ['p12', 'test'], ['check'], ['upload'], ['status']].map((words) =>
        run('help', ...words),
      ),
    );
    const lines = texts.flatMap((text) => text.stdout.split('\n'));
    expect(lines.filter((line) => line.length > 100)).toEqual([]);
  });

  it('points a usage error at the help of the command it concerns', async () => {
    const wrong = await run('check', 'https://x.example/', '--timeout', '5 minutes', '--live');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toBe(
      'error: --timeout 5 minutes: expected a duration such as 15s, 5m or 250ms, ' +
        "got '5 minutes'\n" +
        "See 'kubectl mtls check --help'.\n",
    );

    const noVault = await run('check', 'https://x.example/', '--live');
    expect(noVault.status).toBe(2);
    expect(noVault.stderr).toContain('--live reads the certificate from Vault: set VAULT_ADDR');

    const unknownHelp = await run('help', 'frob');
    expect(unknownHelp.status).toBe(2);
    expect(unknownHelp.stderr).toContain("unknown command 'frob'");
  });
});
