import { randomBytes, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { MODERN_JAVA } from '../../core/certificate';
import { captureIo } from '../../test/fixtures/cli-io';
import { type Issued, useCorpusPki } from '../../test/fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../../test/fixtures/pkcs12-corpus';
import type { P12Report } from '../report/p12-report';
import { runCli } from '../run-cli';

// `p12 test` in the test process, over the corpus of PKCS#12 files: the report and exit status.

const pki = useCorpusPki();
const DAY_MS = 24 * 3600 * 1000;

function p12File(leaf: Issued, protection: keyof typeof P12_PROTECTIONS): string {
  return exportPkcs12(pki.dir, leaf, [pki.intermediate], P12_PROTECTIONS[protection]).path;
}

async function p12Test(file: string, ...flags: string[]) {
  // The corpus is issued when the suite starts: its certificates are valid from then on.
  const now = new Date();
  const terminal = captureIo(now);
  const status = await runCli(['p12', 'test', file, ...flags], terminal.io);
  return { status, stdout: terminal.stdout(), stderr: terminal.stderr(), now };
}

async function jsonReport(file: string, password = P12_PASSWORD) {
  const run = await p12Test(file, '--password', password, '-o', 'json');
  return { status: run.status, report: JSON.parse(run.stdout) as P12Report, now: run.now };
}

describe('p12 test', () => {
  it('passes a legacy RC2-40 file every Java reads, with key, names and validity', async () => {
    const { status, report, now } = await jsonReport(p12File(pki.leaf, 'legacyRc2'));

    const leaf = new X509Certificate(pki.leaf.certPem);
    const notAfter = new Date(leaf.validTo).toISOString();
    expect(status).toBe(0);
    expect(report).toMatchObject({
      usable: true,
      problems: [],
      key: { algorithm: 'RSA', size: 2048 },
      subject: 'CN=leaf,O=Acme\\, Inc.,C=DE',
      issuer: 'CN=Corpus Issuing CA,O=Corpus',
      validity: {
        notAfter,
        daysLeft: Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS),
      },
      java: { readableBy: ['all'], certEncryption: 'pbeWithSHAAnd40BitRC2-CBC' },
    });
  });

  it('passes a modern AES file and names the Java versions that read it', async () => {
    const { status, report } = await jsonReport(p12File(pki.ecLeaf, 'modern'));

    expect(status).toBe(0);
    expect(report.key).toEqual({ algorithm: 'EC', size: 256, curve: 'P-256' });
    expect(report.java?.readableBy).toEqual(MODERN_JAVA);
    expect(report.java?.keyEncryption).toMatch(/AES-256-CBC/);
  });

  it('fails a wrong password, still telling which Java could read the file', async () => {
    const { status, report } = await jsonReport(p12File(pki.leaf, 'legacy3des'), 'not-it');

    expect(status).toBe(1);
    expect(report.usable).toBe(false);
    expect(report.problems.map((problem) => problem.code)).toEqual(['P12_BAD_PASSWORD']);
    expect(report.subject).toBeUndefined();
    expect(report.java?.readableBy).toEqual(['all']);
  });

  it.each([
    ['an expired certificate', 'expiredLeaf', 'CERT_EXPIRED'],
    ['a 1024-bit RSA key', 'weakLeaf', 'KEY_TOO_WEAK'],
    ['a server-only certificate', 'serverLeaf', 'CERT_NOT_CLIENT_AUTH'],
  ] as const)('fails %s, naming the problem', async (_label, leaf, code) => {
    const { status, report } = await jsonReport(p12File(pki[leaf], 'modern'));

    expect(status).toBe(1);
    expect(report.problems.map((problem) => problem.code)).toEqual([code]);
    expect(report.subject).toContain(`CN=${pki[leaf].name}`);
  });

  it('reports the days since an expired certificate ended', async () => {
    const { report } = await jsonReport(p12File(pki.expiredLeaf, 'modern'));
    expect(report.validity?.notAfter).toBe('2020-12-31T00:00:00.000Z');
    expect(report.validity!.daysLeft).toBeLessThan(-365);
  });

  it('fails a file that is not PKCS#12 at all, without a Java verdict', async () => {
    const file = path.join(pki.dir, 'random.p12');
    writeFileSync(file, randomBytes(1500));
    const { status, report } = await jsonReport(file);

    expect(status).toBe(1);
    expect(report.problems.map((problem) => problem.code)).toEqual(['P12_MALFORMED']);
    expect(report.java).toBeUndefined();
  });

  it('prints a report for people that names each problem with its code', async () => {
    const run = await p12Test(p12File(pki.weakLeaf, 'legacyRc2'), '--password', P12_PASSWORD);

    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^Usable: +no$/m);
    expect(run.stdout).toMatch(/^Key: +RSA 1024 bits$/m);
    expect(run.stdout).toMatch(/^Java: +every version$/m);
    expect(run.stdout).toMatch(/^Protection: +key pbeWithSHAAnd3-KeyTripleDES-CBC, certificates/m);
    expect(run.stdout).toMatch(/^Problems:\n {2}KEY_TOO_WEAK: The RSA key has 1024 bits/m);
    expect(run.stdout).not.toContain(P12_PASSWORD);
  });

  it('prints YAML with the same fields', async () => {
    const run = await p12Test(p12File(pki.leaf, 'modern'), '--password', P12_PASSWORD, '-oyaml');
    expect(run.stdout).toMatch(/^usable: true$/m);
    expect(run.stdout).toMatch(/^problems: \[\]$/m);
    expect(run.stdout).toMatch(/^java:\n {2}readableBy:\n {4}- 8u301\+$/m);
  });

  it('reads the first line of --password-file', async () => {
    const file = path.join(pki.dir, 'password.txt');
    writeFileSync(file, `${P12_PASSWORD}\n`);
    const run = await p12Test(p12File(pki.leaf, 'modern'), '--password-file', file);
    expect(run.status).toBe(0);
  });

  it.each([
    [[], 'no password given: use --password-file PATH'],
    [['--password', 'a', '--password-file', 'b'], 'either --password or --password-file'],
    [['--password-file', '/nonexistent/pw'], 'cannot read --password-file /nonexistent/pw'],
  ])('refuses %j as a usage error', async (flags, message) => {
    const run = await p12Test(p12File(pki.leaf, 'modern'), ...flags);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('refuses a file that cannot be read, and a second file, as usage errors', async () => {
    const missing = await p12Test('/nonexistent/file.p12', '--password', 'x');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read /nonexistent/file.p12');

    const two = await p12Test('a.p12', 'b.p12', '--password', 'x');
    expect(two.status).toBe(2);
    expect(two.stderr).toContain('expected one FILE, got 2: a.p12 b.p12');
  });
});
