import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { analyzePkcs12 } from '../../core/certificate';
import type { MtlsError } from '../../core/errors/codes';
import { createLogger } from '../../core/log/logger';
import { LoopbackPki, type IssuedCertificate } from '../../test/fixtures/loopback-pki';
import { recordingLogger, type LogLine } from '../../test/fixtures/recording-logger';
import { writeSidecarFile } from '../../test/fixtures/sidecar-harness';
import type { CertificateSnapshot } from './certificate-source';
import { FileCertificateSource } from './file-source';

describe('FileCertificateSource', () => {
  const pki = new LoopbackPki();
  const first = pki.client('first');
  const second = pki.client('second');
  const log = createLogger('file-source-test', 'error');

  afterAll(() => pki.dispose());

  it('loads certificates and mappings, versions changes, keeps the last good file', async () => {
    const mapping = {
      name: 'partner',
      host: 'API.Partner.Example',
      port: 443,
      certificate: 'partner',
    };
    const file = writeSidecarFile(pki, [{ name: 'partner', ...pick(first) }], [mapping]);
    const source = new FileCertificateSource({ file, namespace: 'shop', log, pollIntervalMs: 20 });
    const seen: CertificateSnapshot[] = [];
    source.onChange((snapshot) => seen.push(snapshot));

    await source.start();
    const loaded = source.current()!;
    expect(loaded.mappings[0]).toMatchObject({
      match: { scheme: 'https', host: 'api.partner.example', port: 443, pathPrefix: '/' },
      certificate: { name: 'partner', vaultVersion: 1 },
      trustedCaPem: pki.ca.certPem,
    });
    expect(loaded.certificates.get('partner')).toMatchObject({
      chainPem: first.certPem,
      version: 1,
    });

    writeFileSync(file, 'certificates: [ {name: broken');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(source.current()).toBe(loaded);

    writeSidecarFile(pki, [{ name: 'partner', ...pick(second) }], [mapping], file);
    await waitFor(() => source.current()?.certificates.get('partner')?.version === 2, file);
    expect(source.current()!.mappings[0].certificate.vaultVersion).toBe(2);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    await source.stop();
  });

  it('refuses a key that does not belong to its certificate', async () => {
    const file = writeSidecarFile(
      pki,
      [{ name: 'mixed', certFile: first.certFile, keyFile: second.keyFile }],
      [],
      path.join(pki.dir, 'mixed.yaml'),
    );
    const source = new FileCertificateSource({ file, namespace: 'shop', log });
    await expect(source.start()).rejects.toThrow(/certificate mixed: the key does not load/);
    await source.stop();
  });
});

describe('FileCertificateSource with a PKCS#12 file', () => {
  const pki = new LoopbackPki();
  const issued = pki.client('p12-client', 'from-p12');
  const log = createLogger('file-source-test', 'error');
  const mapping = { name: 'partner', host: 'api.partner.example', port: 443, certificate: 'p12' };

  afterAll(() => pki.dispose());

  it('serves the PEM the P12 normalizes to, and keeps it when its password goes bad', async () => {
    const p12File = exportP12(pki, issued, 'p12-Secret-1');
    const passwordFile = path.join(pki.dir, 'p12.password');
    writeFileSync(passwordFile, 'p12-Secret-1\n');
    const file = writeSidecarFile(
      pki,
      [{ name: 'p12', p12File, passwordFile }],
      [mapping],
      path.join(pki.dir, 'p12.yaml'),
    );
    const lines: LogLine[] = [];
    const source = new FileCertificateSource({
      file,
      namespace: 'shop',
      log: recordingLogger(lines),
      pollIntervalMs: 20,
    });

    await source.start();
    const loaded = source.current()!;
    const certificate = loaded.certificates.get('p12')!;
    expect(certificate.chainPem).toContain(issued.certPem.trim());
    expect(certificate.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(certificate.version).toBe(1);
    expect(loaded.mappings[0].certificate).toMatchObject({ name: 'p12', vaultVersion: 1 });

    // The password file is watched: a wrong password is reported and the last good one kept.
    writeFileSync(passwordFile, 'not-the-password\n');
    await waitFor(() => lines.some((line) => line.fields.err !== undefined), passwordFile);
    // A poll may catch the file half-written as well: every reload tried is the same refusal.
    const reported = new Set(lines.map(({ message, fields }) => `${message}: ${errCode(fields)}`));
    expect([...reported]).toEqual([
      'certificate file invalid, keeping the last good one: P12_BAD_PASSWORD',
    ]);
    expect(source.current()).toBe(loaded);

    const renewed = pki.client('p12-renewed', 'from-renewed-p12');
    const renewedFile = exportP12(pki, renewed, 'p12-Secret-2');
    writeFileSync(passwordFile, 'p12-Secret-2');
    writeSidecarFile(pki, [{ name: 'p12', p12File: renewedFile, passwordFile }], [mapping], file);
    await waitFor(() => source.current()?.certificates.get('p12')?.version === 2, file);
    expect(source.current()!.certificates.get('p12')!.chainPem).toContain(renewed.certPem.trim());
    await source.stop();
  });

  it('opens an unchanged P12 once across reloads, and a changed one again', async () => {
    const p12File = exportP12(pki, issued, 'kept-Secret');
    const passwordFile = path.join(pki.dir, 'kept.password');
    writeFileSync(passwordFile, 'kept-Secret\n');
    const entry = { name: 'p12', p12File, passwordFile };
    const file = writeSidecarFile(pki, [entry], [mapping], path.join(pki.dir, 'kept.yaml'));
    let opened = 0;
    const source = new FileCertificateSource({
      file,
      namespace: 'shop',
      log,
      pollIntervalMs: 20,
      analysePkcs12: (bytes, password) => {
        opened += 1;
        return analyzePkcs12(bytes, password);
      },
    });

    await source.start();
    const loaded = source.current()!.certificates.get('p12');
    // Another mapping changes the YAML: the whole file is read again, the P12 is not opened.
    const other = { ...mapping, name: 'other', host: 'other.partner.example' };
    writeSidecarFile(pki, [entry], [mapping, other], file);
    await waitFor(() => source.current()!.mappings.length === 2, file);
    expect(opened).toBe(1);
    expect(source.current()!.certificates.get('p12')).toEqual(loaded);

    // New bytes under the same name, moved in whole so that no poll sees half a file.
    const renewed = pki.client('p12-kept-renewed', 'from-kept-renewed-p12');
    renameSync(exportP12(pki, renewed, 'kept-Secret'), p12File);
    await waitFor(() => source.current()!.certificates.get('p12')!.version === 2, p12File);
    expect(opened).toBe(2);
    expect(source.current()!.certificates.get('p12')!.chainPem).toContain(renewed.certPem.trim());
    await source.stop();
  });

  it('names the entry when the password is wrong, and loads once it is fixed', async () => {
    const p12File = exportP12(pki, issued, 'right-password');
    const passwordFile = path.join(pki.dir, 'wrong.password');
    writeFileSync(passwordFile, 'wrong-password');
    const file = writeSidecarFile(
      pki,
      [{ name: 'billing', p12File, passwordFile }],
      [],
      path.join(pki.dir, 'wrong.yaml'),
    );
    const source = new FileCertificateSource({ file, namespace: 'shop', log, pollIntervalMs: 20 });

    await expect(source.start()).rejects.toMatchObject({
      code: 'P12_BAD_PASSWORD',
      message: expect.stringContaining('certificate billing:'),
    });
    expect(source.current()).toBeUndefined();

    writeFileSync(passwordFile, 'right-password\n');
    await waitFor(() => source.current()?.certificates.has('billing') === true, passwordFile);
    await source.stop();
  });

  it('names the entry when a file it names cannot be read', async () => {
    const file = path.join(pki.dir, 'missing.yaml');
    writeFileSync(
      file,
      'certificates:\n  - { name: billing, p12File: nowhere.p12, passwordFile: nowhere.txt }\n',
    );
    const source = new FileCertificateSource({ file, namespace: 'shop', log });

    await expect(source.start()).rejects.toMatchObject({
      code: 'SIDECAR_CONFIG_FILE_INVALID',
      message: expect.stringMatching(/certificate billing: cannot read passwordFile nowhere\.txt/),
    });
    await source.stop();
  });

  it('refuses a password written in the YAML itself', async () => {
    const file = path.join(pki.dir, 'inline.yaml');
    const p12File = exportP12(pki, issued, 'inline-password');
    writeFileSync(
      file,
      `certificates:\n  - { name: inline, p12File: ${p12File}, password: inline-password }\n`,
    );
    const source = new FileCertificateSource({ file, namespace: 'shop', log });

    await expect(source.start()).rejects.toThrow(
      /certificate inline: give passwordFile, not the password itself/,
    );
    await source.stop();
  });
});

describe('FileCertificateSource refusing a file that would not do what it says', () => {
  const pki = new LoopbackPki();
  const issued = pki.client('strict');
  const log = createLogger('file-source-test', 'error');
  const certificate = `{ name: partner, certFile: ${issued.certFile}, keyFile: ${issued.keyFile} }`;
  const match = '{ host: api.partner.example, port: 443 }';

  afterAll(() => pki.dispose());

  /** Writes the YAML text and returns what starting a source on it was refused with. */
  async function refusal(name: string, text: string): Promise<unknown> {
    const file = path.join(pki.dir, `${name}.yaml`);
    writeFileSync(file, text);
    const source = new FileCertificateSource({ file, namespace: 'shop', log });
    try {
      await source.start();
      return undefined;
    } catch (err) {
      return err;
    } finally {
      await source.stop();
    }
  }

  const mappingWith = (extra: string): string =>
    `certificates:\n  - ${certificate}\nmappings:\n  - name: partner-api\n` +
    `    match: ${match}\n    certificate: { name: partner }\n${extra}`;

  it('refuses a trustedCaFile that is not PEM certificates, naming the file', async () => {
    const notPem = path.join(pki.dir, 'not-a-ca.crt');
    writeFileSync(notPem, 'this is not a certificate\n');
    const keyOnly = path.join(pki.dir, 'key-as-ca.pem');
    writeFileSync(keyOnly, readFileSync(issued.keyFile));

    expect(
      await refusal('ca-garbage', mappingWith(`    trustedCaFile: ${notPem}\n`)),
    ).toMatchObject({
      code: 'SIDECAR_CONFIG_FILE_INVALID',
      message: expect.stringContaining(
        `mappings[0].trustedCaFile ${notPem} holds no PEM certificate`,
      ),
    });
    expect(await refusal('ca-key', mappingWith(`    trustedCaFile: ${keyOnly}\n`))).toMatchObject({
      message: expect.stringMatching(/key-as-ca\.pem block 1 is a PRIVATE KEY, not a CERTIFICATE/),
    });
  });

  it('refuses a selector that is not a map, or labels outside matchLabels', async () => {
    expect(
      await refusal('selector-list', mappingWith('    selector: [app, shop]\n')),
    ).toMatchObject({
      code: 'SIDECAR_CONFIG_FILE_INVALID',
      message: expect.stringContaining(
        'mappings[0].selector: expected a map such as { matchLabels: { app: shop } }',
      ),
    });
    expect(await refusal('selector-text', mappingWith('    selector: app=shop\n'))).toMatchObject({
      message: expect.stringContaining('mappings[0].selector: expected a map'),
    });
    expect(
      await refusal('selector-bare', mappingWith('    selector: { app: shop }\n')),
    ).toMatchObject({
      message: expect.stringContaining(
        'mappings[0].selector: unknown key app; labels go under matchLabels',
      ),
    });
  });

  it('refuses two certificates of one name', async () => {
    const twice = `certificates:\n  - ${certificate}\n  - ${certificate}\n`;
    expect(await refusal('twice', twice)).toMatchObject({
      code: 'SIDECAR_CONFIG_FILE_INVALID',
      message: expect.stringContaining('certificates[1]: certificate partner is named twice'),
    });
  });

  it('refuses an unknown top-level key such as a misspelt mappings', async () => {
    const misspelt = mappingWith('').replace('mappings:', 'mapings:');
    expect(await refusal('misspelt', misspelt)).toMatchObject({
      code: 'SIDECAR_CONFIG_FILE_INVALID',
      message: expect.stringContaining('unknown key mapings; expected certificates and mappings'),
    });
  });

  it('still reads a file without a selector as a mapping for every pod', async () => {
    expect(await refusal('no-selector', mappingWith(''))).toBeUndefined();
  });
});

let exported = 0;

function errCode(fields: LogLine['fields']): string | undefined {
  return (fields.err as MtlsError | undefined)?.code;
}

/** Exports the issued certificate and key, with the CA after them, as a PKCS#12 file. */
function exportP12(pki: LoopbackPki, issued: IssuedCertificate, password: string): string {
  exported += 1;
  const out = path.join(pki.dir, `client-${exported}.p12`);
  const args = ['pkcs12', '-export', '-inkey', issued.keyFile, '-in', issued.certFile];
  const chain = ['-certfile', pki.ca.certFile, '-passout', `pass:${password}`, '-out', out];
  execFileSync('openssl', [...args, ...chain], { stdio: 'pipe' });
  return out;
}

function pick(issued: { certFile: string; keyFile: string }): {
  certFile: string;
  keyFile: string;
} {
  return { certFile: issued.certFile, keyFile: issued.keyFile };
}

/**
 * Waits for `condition`. A poller notices a change only after its first look at the file, which
 * a busy machine may take after the test's write: `changed` is touched now and then meanwhile.
 */
async function waitFor(condition: () => boolean, changed?: string): Promise<void> {
  for (let waited = 1; !condition(); waited++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (changed !== undefined && waited % 10 === 0) utimesSync(changed, new Date(), new Date());
  }
}
