import { useCorpusPki } from '../../test/fixtures/certificate-corpus';
import {
  exportPkcs12,
  keytoolList,
  opensslPkcs12Algorithms,
  P12_PROTECTIONS,
} from '../../test/fixtures/pkcs12-corpus';
import { analyzePkcs12 } from './analysis';
import { judgeJavaCompatibility, MODERN_JAVA } from './java-compatibility';
import { decodePkcs12Der } from './pkcs12';
import { readPkcs12Algorithms } from './pkcs12-algorithms';

const pki = useCorpusPki();

describe('judgeJavaCompatibility', () => {
  it('finds legacy algorithms readable by every Java version', () => {
    const verdict = judgeJavaCompatibility({
      mac: 'HmacSHA1',
      keyEncryption: 'pbeWithSHAAnd3-KeyTripleDES-CBC',
      certEncryption: 'pbeWithSHAAnd40BitRC2-CBC',
    });

    expect(verdict).toEqual({
      readableBy: ['all'],
      macAlgorithm: 'HmacSHA1',
      keyEncryption: 'pbeWithSHAAnd3-KeyTripleDES-CBC',
      certEncryption: 'pbeWithSHAAnd40BitRC2-CBC',
      summary:
        'Readable by every Java version (key: pbeWithSHAAnd3-KeyTripleDES-CBC, ' +
        'certificates: pbeWithSHAAnd40BitRC2-CBC, MAC: HmacSHA1)',
    });
  });

  it('needs 8u301, 11.0.12 or 17 as soon as one part uses AES or a SHA-2 MAC', () => {
    const aes = 'PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC)';

    expect(judgeJavaCompatibility({ mac: 'HmacSHA256', keyEncryption: aes }).readableBy).toEqual(
      MODERN_JAVA,
    );
    expect(
      judgeJavaCompatibility({
        mac: 'HmacSHA256',
        keyEncryption: 'pbeWithSHAAnd3-KeyTripleDES-CBC',
      }).readableBy,
    ).toEqual(MODERN_JAVA);
    expect(judgeJavaCompatibility({ mac: 'HmacSHA1', certEncryption: aes }).summary).toContain(
      'older Java versions need a file exported with -legacy',
    );
  });

  it('names no Java version for algorithms it does not know', () => {
    const camellia = 'PBES2 (PBKDF2, hmacWithSHA256, 1.2.392.200011.61.1.1.1.4)';

    expect(
      judgeJavaCompatibility({ mac: 'HmacSHA256', keyEncryption: camellia }).readableBy,
    ).toEqual([]);
    expect(judgeJavaCompatibility({ mac: 'HmacMD5' }).readableBy).toEqual([]);
  });
});

describe('the verdict against openssl and Java 17 keytool', () => {
  it.each([
    ['legacy RC2-40', 'leaf', 'legacyRc2', ['all']],
    ['legacy 3DES', 'leaf', 'legacy3des', ['all']],
    ['modern AES-256', 'leaf', 'modern', MODERN_JAVA],
    ['EC P-256 modern', 'ecLeaf', 'modern', MODERN_JAVA],
    ['EC P-256 legacy', 'ecLeaf', 'legacyRc2', ['all']],
  ] as const)(
    '%s',
    (_label, leaf, protection, readableBy) => {
      const file = exportPkcs12(
        pki.dir,
        pki[leaf],
        [pki.intermediate],
        P12_PROTECTIONS[protection],
      );

      const verdict = judgeJavaCompatibility(readPkcs12Algorithms(decodePkcs12Der(file.bytes)));
      expect(verdict.readableBy).toEqual(readableBy);

      // The verdict names exactly what openssl says it used.
      const openssl = opensslPkcs12Algorithms(pki.dir, file.path);
      expect({
        mac: verdict.macAlgorithm,
        keyEncryption: verdict.keyEncryption,
        certEncryption: verdict.certEncryption,
      }).toEqual(openssl);

      // Java 17 is in every list we give, so its keytool must open the file.
      const keytool = keytoolList(file.path);
      expect(keytool.output).toContain('PrivateKeyEntry');
      expect(keytool.status).toBe(0);
    },
    60_000,
  );

  it('agrees with keytool on a wrong password', () => {
    const file = exportPkcs12(pki.dir, pki.leaf, [], P12_PROTECTIONS.legacyRc2);

    const keytool = keytoolList(file.path, 'wrong-password');
    expect(keytool.status).not.toBe(0);
    expect(keytool.output).toContain('password was incorrect');
    expect(analyzePkcs12(file.bytes, 'wrong-password').problems.map((p) => p.code)).toEqual([
      'P12_BAD_PASSWORD',
    ]);
  }, 60_000);
});
