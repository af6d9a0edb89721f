import { X509Certificate } from 'node:crypto';

import {
  buildPki,
  corpusDirectory,
  exportPkcs12,
  forgePkcs12,
  opensslPkcs12Algorithms,
  P12_PROTECTIONS,
  type CorpusPki,
} from '../../test/fixtures/certificate-corpus';
import { decodePkcs12Der } from './pkcs12';
import { readPkcs12Algorithms } from './pkcs12-algorithms';

let corpus: { dir: string; remove: () => void };
let pki: CorpusPki;

beforeAll(() => {
  corpus = corpusDirectory();
  pki = buildPki(corpus.dir);
}, 120_000);

afterAll(() => corpus.remove());

describe('readPkcs12Algorithms', () => {
  it('names the algorithms of openssl legacy, 3DES and modern files as openssl does', () => {
    const found = Object.values(P12_PROTECTIONS).map((protection) => {
      const file = exportPkcs12(corpus.dir, pki.leaf, [pki.intermediate], protection);
      const algorithms = readPkcs12Algorithms(decodePkcs12Der(file.bytes));
      expect(algorithms).toEqual(opensslPkcs12Algorithms(corpus.dir, file.path));
      return algorithms;
    });

    expect(found).toEqual([
      {
        mac: 'HmacSHA1',
        keyEncryption: 'pbeWithSHAAnd3-KeyTripleDES-CBC',
        certEncryption: 'pbeWithSHAAnd40BitRC2-CBC',
      },
      {
        mac: 'HmacSHA1',
        keyEncryption: 'pbeWithSHAAnd3-KeyTripleDES-CBC',
        certEncryption: 'pbeWithSHAAnd3-KeyTripleDES-CBC',
      },
      {
        mac: 'HmacSHA256',
        keyEncryption: 'PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC)',
        certEncryption: 'PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC)',
      },
    ]);
  }, 60_000);

  it('reads files without a MAC and with certificates in clear', () => {
    const file = exportPkcs12(corpus.dir, pki.ecLeaf, [], ['-nomac', '-certpbe', 'NONE']);

    expect(readPkcs12Algorithms(decodePkcs12Der(file.bytes))).toEqual({
      keyEncryption: 'PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC)',
      certEncryption: 'none',
    });
    expect(readPkcs12Algorithms(decodePkcs12Der(forgePkcs12([pki.leaf.certPem], [])))).toEqual({
      mac: 'HmacSHA1',
      certEncryption: 'none',
    });
  });

  it('throws on DER that is not a PKCS#12 file', () => {
    const certificateDer = new X509Certificate(pki.leaf.certPem).raw;

    expect(() => readPkcs12Algorithms(decodePkcs12Der(Buffer.from([0x30, 0x00])))).toThrow();
    expect(() => readPkcs12Algorithms(decodePkcs12Der(certificateDer))).toThrow();
  });
});
