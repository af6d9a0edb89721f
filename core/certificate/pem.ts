import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';

import { ErrorCode } from '../errors/codes';
import { assertInputSize, CertificateInputError } from './finding';
import type { CertificateMaterial } from './material';

/** A certificate given as PEM text, as in a kubernetes.io/tls Secret. */
export type PemInput = {
  /** The leaf certificate, optionally followed by its chain. */
  certificatePem: string;
  /** The private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), not encrypted. */
  privateKeyPem: string;
  /** Extra chain certificates (a Secret's ca.crt). */
  caPem?: string;
};

type PemBlock = { label: string; text: string };

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Reads the certificates and private keys of a PEM input, refusing text that is not PEM. */
export function readPem(input: PemInput): CertificateMaterial {
  assertInputSize('certificatePem', Buffer.byteLength(input.certificatePem));
  assertInputSize('privateKeyPem', Buffer.byteLength(input.privateKeyPem));
  if (input.caPem !== undefined) assertInputSize('caPem', Buffer.byteLength(input.caPem));

  const certificateBlocks = [
    ...blocksOf('certificatePem', input.certificatePem),
    ...(input.caPem?.trim() ? blocksOf('caPem', input.caPem) : []),
  ].filter((block) => block.label === 'CERTIFICATE');
  const keyBlocks = blocksOf('privateKeyPem', input.privateKeyPem).filter((block) =>
    block.label.endsWith('PRIVATE KEY'),
  );

  return {
    certificates: certificateBlocks.map((block, index) => parseCertificate(block, index)),
    privateKeys: keyBlocks.map(parsePrivateKey),
  };
}

function blocksOf(field: string, text: string): PemBlock[] {
  const blocks = [...text.matchAll(BLOCK)].map((match) => ({ label: match[1], text: match[0] }));
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;

  if (blocks.length === 0) {
    throw pemMalformed(`${field} holds no PEM block (-----BEGIN ...-----)`);
  }
  if (begins !== blocks.length) {
    throw pemMalformed(`${field} has a PEM block without its matching -----END ...----- line`);
  }
  return blocks;
}

function parseCertificate(block: PemBlock, index: number): X509Certificate {
  try {
    return new X509Certificate(block.text);
  } catch (err) {
    throw pemMalformed(`certificate ${index + 1} cannot be read (${reasonOf(err)})`, err);
  }
}

function parsePrivateKey(block: PemBlock): KeyObject {
  if (block.label === 'ENCRYPTED PRIVATE KEY' || block.text.includes('Proc-Type: 4,ENCRYPTED')) {
    throw pemMalformed(
      'the private key is encrypted; give it unencrypted (openssl pkey -in key.pem -out ' +
        'plain.pem), the Secret that holds it is what protects it',
    );
  }

  try {
    return createPrivateKey(block.text);
  } catch (err) {
    throw pemMalformed(`the ${block.label} block cannot be read (${reasonOf(err)})`, err);
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function pemMalformed(detail: string, cause?: unknown): CertificateInputError {
  return new CertificateInputError(
    ErrorCode.PemMalformed,
    `The PEM input is malformed: ${detail}. Give the certificate chain and the private key as ` +
      'PEM text, each block between its -----BEGIN and -----END lines',
    { cause },
  );
}
