import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { ConfigError } from '../../core/config/options';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Checks that a CA file's text is one or more PEM certificates, each readable. TLS would take
 * anything else without a word and then trust nothing, so the file is refused where it is named.
 * Throws an Error that says what is wrong with the text.
 */
export function checkCaBundle(pem: string): void {
  const blocks = [...pem.matchAll(BLOCK)];
  const begins = pem.match(/-----BEGIN /g)?.length ?? 0;

  if (begins !== blocks.length) {
    throw new Error('has a PEM block without its matching -----END ...----- line');
  }
  if (blocks.length === 0) {
    throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  blocks.forEach((block, index) => {
    if (block[1] !== 'CERTIFICATE') {
      throw new Error(`block ${index + 1} is a ${block[1]}, not a CERTIFICATE`);
    }
    try {
      new X509Certificate(block[0]);
    } catch (err) {
      const reason = (err as Error).message;
      throw new Error(`certificate ${index + 1} cannot be read (${reason})`, { cause: err });
    }
  });
}

/** Reads the file of --extra-ca-file, refusing one that is not PEM certificates. */
export function readExtraCaFile(file: string): string | undefined {
  if (file === '') return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--extra-ca-file ${file} cannot be read: ${(err as Error).message}`);
  }
  try {
    checkCaBundle(pem);
  } catch (err) {
    throw new ConfigError(`--extra-ca-file ${file} ${(err as Error).message}`);
  }
  return pem;
}
