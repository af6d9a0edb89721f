import { pbkdf2Sync } from 'node:crypto';
import forge from 'node-forge';

type ForgeDigest = { algorithm?: string } | string | null | undefined;
type Pbkdf2 = (
  password: string,
  salt: string,
  iterations: number,
  keyLength: number,
  digest?: ForgeDigest,
  callback?: (err: Error | null, key?: string) => void,
) => string | void;

const NATIVE_DIGESTS = new Set(['sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

/**
 * Makes forge derive PBES2 keys with Node's native PBKDF2. forge uses native code only when
 * given a digest by name, and PKCS#12 decryption gives it a digest object, so a modern file
 * (AES-256 with PBKDF2-SHA256, 2,048 iterations a part) took about 100 ms in JavaScript on the
 * event loop. Same inputs, same bytes out: forge's binary strings are latin1 buffers.
 */
export function useNativePbkdf2(): void {
  const pkcs5 = forge.pkcs5 as unknown as { pbkdf2: Pbkdf2 & { native?: true } };
  if (pkcs5.pbkdf2.native) return;

  const javascript = pkcs5.pbkdf2;
  const native: Pbkdf2 & { native?: true } = (
    password,
    salt,
    iterations,
    keyLength,
    digest,
    cb,
  ) => {
    const name = (
      typeof digest === 'string' ? digest : (digest?.algorithm ?? 'sha1')
    ).toLowerCase();
    if (cb || !NATIVE_DIGESTS.has(name)) {
      return javascript(password, salt, iterations, keyLength, digest, cb);
    }
    const key = pbkdf2Sync(
      Buffer.from(password, 'latin1'),
      Buffer.from(salt, 'latin1'),
      iterations,
      keyLength,
      name,
    );
    return key.toString('latin1');
  };
  native.native = true;
  pkcs5.pbkdf2 = native;
  (forge as unknown as { pbkdf2: Pbkdf2 }).pbkdf2 = native;
}
