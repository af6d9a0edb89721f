import forge from 'node-forge';

import { useNativePbkdf2 } from './native-pbkdf2';

describe('useNativePbkdf2', () => {
  it('derives the same keys as forge does in JavaScript, for every digest forge passes', () => {
    const javascript = forge.pkcs5.pbkdf2;
    const cases = [
      { digest: forge.md.sha256.create(), length: 32 },
      { digest: forge.md.sha1.create(), length: 24 },
      { digest: forge.md.sha512.create(), length: 16 },
    ];
    const expected = cases.map(({ digest, length }) =>
      javascript('pässwörd', 'salt-bytes', 1000, length, digest),
    );

    useNativePbkdf2();

    expect(forge.pkcs5.pbkdf2).not.toBe(javascript);
    const derived = cases.map(({ digest, length }) =>
      forge.pkcs5.pbkdf2('pässwörd', 'salt-bytes', 1000, length, digest),
    );
    expect(derived).toEqual(expected);
  });
});
