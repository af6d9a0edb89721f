import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { createLogger } from '../../core/log/logger';
import { LoopbackPki } from '../../test/fixtures/loopback-pki';
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
    await waitFor(() => source.current()?.certificates.get('partner')?.version === 2);
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

function pick(issued: { certFile: string; keyFile: string }): {
  certFile: string;
  keyFile: string;
} {
  return { certFile: issued.certFile, keyFile: issued.keyFile };
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
