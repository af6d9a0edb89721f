import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { LoopbackPki } from '../../test/fixtures/loopback-pki';
import { startSidecarWith } from '../../test/fixtures/sidecar-harness';
import { readExtraCaFile } from './ca-bundle';

describe('--extra-ca-file', () => {
  const pki = new LoopbackPki();
  const other = new LoopbackPki('Other CA');
  const client = pki.client('extra-ca');

  afterAll(() => {
    pki.dispose();
    other.dispose();
  });

  const write = (name: string, text: string | Buffer): string => {
    const file = path.join(pki.dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('reads a file of one or more PEM certificates', () => {
    const bundle = write('bundle.crt', `${pki.ca.certPem}\n${other.ca.certPem}`);
    expect(readExtraCaFile(bundle)).toContain(other.ca.certPem.trim());
    expect(readExtraCaFile('')).toBeUndefined();
  });

  it('refuses a file that is not PEM certificates, naming the file and the problem', () => {
    const garbage = write('garbage.crt', 'not a certificate at all\n');
    const der = write('ca.der', Buffer.from('3082010a0282010100', 'hex'));
    const key = write('key.pem', readFileSync(client.keyFile));
    const broken = write('broken.crt', pki.ca.certPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!'));
    const cut = write('cut.crt', pki.ca.certPem.split('-----END')[0]);

    expect(() => readExtraCaFile(garbage)).toThrow(
      `--extra-ca-file ${garbage} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
    expect(() => readExtraCaFile(der)).toThrow(/ca\.der holds no PEM certificate/);
    expect(() => readExtraCaFile(key)).toThrow(/key\.pem block 1 is a PRIVATE KEY/);
    expect(() => readExtraCaFile(broken)).toThrow(/broken\.crt certificate 1 cannot be read/);
    expect(() => readExtraCaFile(cut)).toThrow(/cut\.crt has a PEM block without its matching/);
    expect(() => readExtraCaFile(path.join(pki.dir, 'absent.crt'))).toThrow(
      /--extra-ca-file .*absent\.crt cannot be read: ENOENT/,
    );
  });

  it('keeps the sidecar from starting', async () => {
    const garbage = write('start.crt', 'garbage');
    const yaml = write('empty.yaml', 'certificates: []\n');
    await expect(
      startSidecarWith(['--config-file', yaml, '--extra-ca-file', garbage]),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `--extra-ca-file ${garbage} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    });
  });
});
