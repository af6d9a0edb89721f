import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { useCorpusPki } from '../test/fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../test/fixtures/pkcs12-corpus';
import {
  assertBuilt,
  KUBECTL_MTLS,
  runKubectlMtls,
  type BinResult,
} from '../test/fixtures/kubectl-mtls-bin';

// The compiled kubectl-mtls as a process of its own: what users see on stdout and stderr, and
// the exit status scripts rely on (0 usable, 1 not, 2 usage error).

const pki = useCorpusPki();
let usable: string;
let expired: string;

beforeAll(() => {
  assertBuilt();
  usable = exportPkcs12(pki.dir, pki.leaf, [pki.intermediate], P12_PROTECTIONS.legacyRc2).path;
  expired = exportPkcs12(pki.dir, pki.expiredLeaf, [], P12_PROTECTIONS.modern).path;
});

describe('kubectl-mtls', () => {
  it('lists its commands and the global flags', async () => {
    const { status, stdout } = await runKubectlMtls(['--help']);
    expect(status).toBe(0);
    for (const line of ['p12 test FILE', 'check URL', 'upload FILE', 'status', '-n, --namespace']) {
      expect(stdout).toContain(line);
    }
    const help = await runKubectlMtls(['status', '-h']);
    expect(help.stdout).toContain('kubectl mtls status [flags]');
    expect(help.stdout).toContain('-A, --all-namespaces');
  });

  it('exits 0 for a usable file and 1 for an unusable one, with the report on stdout', async () => {
    const good = await runKubectlMtls([
      'p12',
      'test',
      usable,
      '--password',
      P12_PASSWORD,
      '-ojson',
    ]);
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ usable: true, problems: [] });

    const bad = await runKubectlMtls(['p12', 'test', expired, '--password', P12_PASSWORD]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^Usable: +no$/m);
    expect(bad.stdout).toContain('CERT_EXPIRED: The certificate expired on 2020-12-31');
  });

  it('reads the password from standard input with --password-file -', async () => {
    const run = await runKubectlMtls(['p12', 'test', usable, '--password-file', '-', '-oyaml'], {
      input: `${P12_PASSWORD}\n`,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usable: true$/m);
  });

  it('refuses to wait for a password when standard input is not a terminal', async () => {
    const run = await runKubectlMtls(['p12', 'test', usable]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no password given: use --password-file PATH (or --password)');
    expect(run.stdout).toBe('');
  });

  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['status', '--nmespace', 'x'], 'unknown flag --nmespace'],
    [['status', '-o', 'xml'], '-o xml is not offered here: expected one of wide, json, yaml'],
    [['status', 'extra'], "unexpected argument 'extra'"],
    [['status', '--live'], 'status does not take --live'],
    [['p12'], 'p12 needs a subcommand (test), got nothing'],
    [['check'], 'URL is missing'],
    [['check', 'https://x.example/', '--ca-file', 'ca.pem'], '--ca-file is for --live'],
    [['upload', 'x.p12'], '--name is required'],
    [['upload', 'x.p12', '--name', 'Partner_1'], "--name 'Partner_1' is not a valid name"],
  ])('exits 2 on %j: %s', async (args, message) => {
    const run = await runKubectlMtls(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`error: ${message}`);
    expect(run.stderr).toMatch(/See 'kubectl mtls .*--help'\./);
  });

  it('takes the kubeconfig from --kubeconfig before KUBECONFIG', async () => {
    const fromEnv = await runKubectlMtls(['status'], { env: { KUBECONFIG: '/nowhere/env-kc' } });
    expect(fromEnv.status).toBe(1);
    expect(fromEnv.stderr).toContain('cannot read the kubeconfig /nowhere/env-kc');

    const fromFlag = await runKubectlMtls(['status', '--kubeconfig', '/nowhere/flag-kc'], {
      env: { KUBECONFIG: '/nowhere/env-kc' },
    });
    expect(fromFlag.stderr).toContain('cannot read the kubeconfig /nowhere/flag-kc');
  });

  it('exits 1 naming the apiserver it cannot reach', async () => {
    const kubeconfig = path.join(pki.dir, 'closed-port-kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        'current-context': 'c',
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
        clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:9' } }],
        users: [{ name: 'u', user: { token: 't' } }],
      }),
    );
    const run = await runKubectlMtls(['status', '--kubeconfig', kubeconfig]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'error: cannot reach the apiserver at https://127.0.0.1:9: ' +
        'connect ECONNREFUSED 127.0.0.1:9\n',
    );
  });

  it('refuses a bad VAULT_ADDR for --live before calling anything', async () => {
    const kubeconfig = path.join(pki.dir, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
    const run = await runKubectlMtls(['check', 'https://x.example/', '--live'], {
      env: { KUBECONFIG: kubeconfig, VAULT_ADDR: 'vault:8200', VAULT_TOKEN: 't' },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('VAULT_ADDR is invalid');
  });
});

describe('kubectl-mtls on a terminal', () => {
  it('asks for the password without echoing it', async () => {
    const run = await onTerminal(['p12', 'test', usable], `${P12_PASSWORD}\r`);
    expect(run.stdout).toContain(`Password for ${usable}: `);
    expect(run.stdout).toMatch(/^Usable: +yes\r?$/m);
    expect(run.stdout).not.toContain(P12_PASSWORD);
    expect(run.status).toBe(0);
  });

  it('lets Backspace correct a typo, and Ctrl-C cancel', async () => {
    const corrected = await onTerminal(['p12', 'test', usable], `${P12_PASSWORD}x\u007f\r`);
    expect(corrected.status).toBe(0);

    const cancelled = await onTerminal(['p12', 'test', usable], '\u0003');
    expect(cancelled.status).toBe(1);
    expect(cancelled.stdout).toContain('the password prompt was cancelled');
  });
});

// Runs the plugin on a pseudo-terminal (util-linux script) and types `keys` once it asks.
function onTerminal(args: string[], keys: string): Promise<BinResult> {
  const command = [process.execPath, KUBECTL_MTLS, ...args].map((arg) => `'${arg}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let typed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (!typed && stdout.includes('Password for')) {
      typed = true;
      child.stdin.write(keys);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr: '' }));
  });
}
