import forge from 'node-forge';

import { useNativePkcs12Kdf } from './native-pkcs12-kdf';

type Kdf = (
  password: string | null,
  salt: forge.util.ByteStringBuffer,
  id: number,
  iterations: number,
  length: number,
  md?: forge.md.MessageDigest,
) => forge.util.ByteStringBuffer;

describe('useNativePkcs12Kdf', () => {
  it('derives the same keys as forge does in JavaScript', () => {
    const pbe = (forge.pki as unknown as { pbe: { generatePkcs12Key: Kdf } }).pbe;
    const javascript = pbe.generatePkcs12Key;
    const salt = () => forge.util.createBuffer('0123456789abcdef-salt');
    const cases: [string | null, number, number, number, () => forge.md.MessageDigest][] = [
      ['pässwörd', 3, 2048, 32, () => forge.md.sha256.create()],
      ['secret', 1, 2048, 24, () => forge.md.sha1.create()],
      ['secret', 2, 1, 8, () => forge.md.sha1.create()],
      ['', 1, 100, 80, () => forge.md.sha512.create()],
      [null, 3, 10, 20, () => forge.md.sha1.create()],
    ];
    const derive = (kdf: Kdf) =>
      cases.map(([password, id, iterations, length, md]) =>
        forge.util.bytesToHex(kdf(password, salt(), id, iterations, length, md()).bytes()),
      );
    const expected = derive(javascript);

    useNativePkcs12Kdf();

    expect(pbe.generatePkcs12Key).not.toBe(javascript);
    expect(derive(pbe.generatePkcs12Key)).toEqual(expected);
  });

  it('is what forge uses for the MAC key of a PKCS#12 file', () => {
    useNativePkcs12Kdf();

    const pkcs12 = forge.pkcs12 as unknown as { generateKey: Kdf };
    const pbe = (forge.pki as unknown as { pbe: { generatePkcs12Key: Kdf } }).pbe;
    expect(pkcs12.generateKey).toBe(pbe.generatePkcs12Key);
  });
});
