import { randomBytes } from 'node:crypto';

import { useCorpusPki } from '../../test/fixtures/certificate-corpus';
import {
  exportPkcs12,
  forgePkcs12,
  P12_PASSWORD,
  P12_PROTECTIONS,
} from '../../test/fixtures/pkcs12-corpus';
import { hasCode } from '../errors/codes';
import { CertificateInputError } from './finding';
import { readPkcs12 } from './pkcs12';

const pki = useCorpusPki();

function failure(read: () => unknown): CertificateInputError {
  try {
    read();
  } catch (err) {
    if (err instanceof CertificateInputError) return err;
    throw err;
  }
  throw new Error('expected readPkcs12 to fail');
}

describe('readPkcs12', () => {
  it.each([
    ['RSA legacy', 'leaf', 'legacyRc2', 'rsa'],
    ['RSA modern', 'leaf', 'modern', 'rsa'],
    ['EC legacy', 'ecLeaf', 'legacyRc2', 'ec'],
    ['EC 3DES', 'ecLeaf', 'legacy3des', 'ec'],
  ] as const)(
    'opens %s files, with every certificate and the key',
    (_l, leaf, protection, type) => {
      const file = exportPkcs12(
        pki.dir,
        pki[leaf],
        [pki.intermediate],
        P12_PROTECTIONS[protection],
      );

      const material = readPkcs12(file.bytes, P12_PASSWORD);

      expect(material.certificates.map((cert) => cert.subject)).toEqual([
        'C=DE\nO=Acme\\, Inc.\nCN=' + pki[leaf].name,
        'O=Corpus\nCN=Corpus Issuing CA',
      ]);
      expect(material.privateKeys.map((key) => key.asymmetricKeyType)).toEqual([type]);
      expect(material.certificates[0].checkPrivateKey(material.privateKeys[0])).toBe(true);
    },
  );

  it('reads files made by node-forge, with unencrypted certificates', () => {
    const material = readPkcs12(forgePkcs12([pki.leaf.certPem], [pki.leaf.keyPem]), P12_PASSWORD);

    expect(material.certificates).toHaveLength(1);
    expect(material.certificates[0].checkPrivateKey(material.privateKeys[0])).toBe(true);
  });

  it('calls a failed integrity check a wrong password, without echoing it', () => {
    const file = exportPkcs12(pki.dir, pki.leaf, [], P12_PROTECTIONS.legacyRc2);

    const err = failure(() => readPkcs12(file.bytes, 'Secret-Guess-42'));

    expect(hasCode(err, 'P12_BAD_PASSWORD')).toBe(true);
    expect(err.message).toContain('password is wrong');
    expect(err.message).not.toContain('Secret-Guess-42');
  });

  it.each([
    ['non-ASCII', 'pässwörd-€', P12_PROTECTIONS.modern],
    ['non-ASCII legacy', 'pässwörd-€', P12_PROTECTIONS.legacyRc2],
    ['empty', '', P12_PROTECTIONS.modern],
  ])('opens files with a %s password as openssl encodes it', (_label, password, protection) => {
    const file = exportPkcs12(pki.dir, pki.ecLeaf, [], protection, password);

    expect(readPkcs12(file.bytes, password).privateKeys).toHaveLength(1);
    expect(failure(() => readPkcs12(file.bytes, 'passwörd')).code).toBe('P12_BAD_PASSWORD');
  });

  it('calls a file without MAC that does not decrypt a wrong password', () => {
    const file = exportPkcs12(pki.dir, pki.leaf, [], ['-nomac']);

    expect(readPkcs12(file.bytes, P12_PASSWORD).privateKeys).toHaveLength(1);
    expect(failure(() => readPkcs12(file.bytes, 'wrong')).code).toBe('P12_BAD_PASSWORD');
  });

  it('names an encryption it cannot read as unsupported, not as damage', () => {
    const camellia = ['-keypbe', 'CAMELLIA-256-CBC', '-certpbe', 'CAMELLIA-256-CBC'];
    const file = exportPkcs12(pki.dir, pki.leaf, [], camellia);

    const err = failure(() => readPkcs12(file.bytes, P12_PASSWORD));

    expect(err.code).toBe('P12_UNSUPPORTED_ALGORITHM');
    expect(err.message).toContain('Export it again');
  });

  it('calls truncated, random and PEM input malformed', () => {
    const file = exportPkcs12(pki.dir, pki.leaf, [], P12_PROTECTIONS.modern);

    expect(failure(() => readPkcs12(file.bytes.subarray(0, 300), P12_PASSWORD)).code).toBe(
      'P12_MALFORMED',
    );
    expect(failure(() => readPkcs12(randomBytes(1500), P12_PASSWORD)).code).toBe('P12_MALFORMED');
    expect(failure(() => readPkcs12(Buffer.alloc(0), P12_PASSWORD)).code).toBe('P12_MALFORMED');
    const pem = failure(() => readPkcs12(Buffer.from(pki.leaf.certPem), P12_PASSWORD));
    expect(pem.message).toContain('give the certificate and key as a PEM pair instead');
  });

  it('refuses iteration counts that would hold the CPU, before deriving any key', () => {
    const file = exportPkcs12(pki.dir, pki.ecLeaf, [], ['-iter', '200000']);

    const err = failure(() => readPkcs12(file.bytes, P12_PASSWORD));

    expect(err.code).toBe('P12_TOO_MANY_ITERATIONS');
    expect(err.message).toContain('asks for 600000 key-derivation iterations');
  });

  it('refuses more than 64 KiB', () => {
    expect(failure(() => readPkcs12(Buffer.alloc(65 * 1024), P12_PASSWORD)).code).toBe(
      'INPUT_TOO_LARGE',
    );
  });
});
