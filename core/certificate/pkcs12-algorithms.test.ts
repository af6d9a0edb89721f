import { X509Certificate } from 'node:crypto';

import { useCorpusPki } from '../../test/fixtures/certificate-corpus';
import {
  exportPkcs12,
  forgePkcs12,
  opensslPkcs12Algorithms,
  P12_PROTECTIONS,
} from '../../test/fixtures/pkcs12-corpus';
import { decodePkcs12Der } from './pkcs12';
import { readPkcs12Algorithms } from './pkcs12-algorithms';

const pki = useCorpusPki();

describe('readPkcs12Algorithms', () => {
  it('names the algorithms of openssl legacy, 3DES and modern files as openssl does', () => {
    const found = Object.values(P12_PROTECTIONS).map((protection) => {
      const file = exportPkcs12(pki.dir, pki.leaf, [pki.intermediate], protection);
      const { derivationIterations, ...algorithms } = readPkcs12Algorithms(
        decodePkcs12Der(file.bytes),
      );
      expect(algorithms).toEqual(opensslPkcs12Algorithms(pki.dir, file.path));
      // openssl's default: 2048 for the MAC, the certificates and the key each.
      expect(derivationIterations).toBe(3 * 2048);
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
    const file = exportPkcs12(pki.dir, pki.ecLeaf, [], ['-nomac', '-certpbe', 'NONE']);

    expect(readPkcs12Algorithms(decodePkcs12Der(file.bytes))).toEqual({
      keyEncryption: 'PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC)',
      certEncryption: 'none',
      derivationIterations: 2048,
    });
    expect(readPkcs12Algorithms(decodePkcs12Der(forgePkcs12([pki.leaf.certPem], [])))).toEqual({
      mac: 'HmacSHA1',
      certEncryption: 'none',
      derivationIterations: 2048,
    });
  });

  it('throws on DER that is not a PKCS#12 file', () => {
    const certificateDer = new X509Certificate(pki.leaf.certPem).raw;

    expect(() => readPkcs12Algorithms(decodePkcs12Der(Buffer.from([0x30, 0x00])))).toThrow();
    expect(() => readPkcs12Algorithms(decodePkcs12Der(certificateDer))).toThrow();
  });
});
