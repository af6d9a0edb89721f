import type { KeyObject } from 'node:crypto';

import { ErrorCode } from '../errors/codes';
import type { CertificateBundle, CertificateMetadata } from './bundle';
import { distinctCertificates, nameOfCertificate, orderChain, selectLeaf } from './chain';
import { checkClientAuth, checkKeyStrength, checkValidity } from './checks';
import { CertificateInputError, type CertificateFinding } from './finding';
import { judgeJavaCompatibility, type JavaCompatibility } from './java-compatibility';
import type { CertificateMaterial } from './material';
import { describeCertificate } from './metadata';
import { readPem, type PemInput } from './pem';
import { decodePkcs12Der, readPkcs12 } from './pkcs12';
import { readPkcs12Algorithms } from './pkcs12-algorithms';

/**
 * Everything learned about a client certificate. `usable` is true exactly when `problems` is
 * empty, and only then is `bundle` present. Messages never hold a password or key material.
 */
export type CertificateAnalysis = {
  usable: boolean;
  problems: CertificateFinding[];
  warnings: CertificateFinding[];
  /** The leaf's metadata, whenever a leaf with an RSA or EC key was found. */
  metadata?: CertificateMetadata;
  /** For PKCS#12 input, whenever its structure could be read (even with a wrong password). */
  javaCompatibility?: JavaCompatibility;
  bundle?: CertificateBundle;
};

/** Options of an analysis. */
export type AnalysisOptions = {
  /** The moment the validity window is checked against; the current time by default. */
  now?: Date;
};

/** Analyzes a PKCS#12 file (legacy or modern encryption) opened with its password. */
export function analyzePkcs12(
  bytes: Buffer,
  password: string,
  options: AnalysisOptions = {},
): CertificateAnalysis {
  let javaCompatibility: JavaCompatibility | undefined;
  try {
    javaCompatibility = judgeJavaCompatibility(readPkcs12Algorithms(decodePkcs12Der(bytes)));
  } catch (err) {
    // The structure is unreadable; readPkcs12 below reports why.
    if (!(err instanceof Error)) throw err;
  }

  const analysis = analyzeInput(() => readPkcs12(bytes, password), options);
  if (!javaCompatibility) return analysis;

  const warnings = [...analysis.warnings];
  if (javaCompatibility.readableBy.length === 0) {
    warnings.push({ code: ErrorCode.P12JavaUnreadable, message: javaCompatibility.summary });
  }
  return { ...analysis, warnings, javaCompatibility };
}

/** Analyzes a certificate chain and private key given as PEM, with an optional CA chain. */
export function analyzePem(input: PemInput, options: AnalysisOptions = {}): CertificateAnalysis {
  return analyzeInput(() => readPem(input), options);
}

function analyzeInput(
  read: () => CertificateMaterial,
  options: AnalysisOptions,
): CertificateAnalysis {
  try {
    return analyzeMaterial(read(), options.now ?? new Date());
  } catch (err) {
    if (!(err instanceof CertificateInputError)) throw err;
    return { usable: false, problems: [err.toFinding()], warnings: [] };
  }
}

/** Runs every check on certificates and keys already read, and builds the bundle if they pass. */
export function analyzeMaterial(material: CertificateMaterial, now: Date): CertificateAnalysis {
  const problems: CertificateFinding[] = [];
  const warnings: CertificateFinding[] = [];
  const certificates = distinctCertificates(material.certificates);
  const { privateKeys } = material;

  problems.push(...keyCountProblems(privateKeys));
  if (certificates.length === 0) {
    problems.push({
      code: ErrorCode.CertMissing,
      message:
        'The input holds no certificate; include the client certificate (and its chain) ' +
        'together with the private key',
    });
    return { usable: false, problems, warnings };
  }

  const privateKey = privateKeys.length === 1 ? privateKeys[0] : undefined;
  const { leaf, keyMatches } = selectLeaf(certificates, privateKey);
  if (privateKey && !keyMatches) {
    problems.push({
      code: ErrorCode.CertKeyMismatch,
      message:
        `The private key does not belong to the certificate ${nameOfCertificate(leaf)}; ` +
        'give the key that was used to request this certificate',
    });
  }

  const { chain, reordered, unrelated } = orderChain(certificates, leaf);
  if (unrelated.length > 0) {
    problems.push({
      code: ErrorCode.ChainInvalid,
      message:
        `The chain is broken: ${unrelated.map(nameOfCertificate).join('; ')} did not issue ` +
        `${nameOfCertificate(leaf)} or any of its issuers; ` +
        'give only the leaf and the CA certificates that issued it',
    });
  } else if (reordered) {
    warnings.push({
      code: ErrorCode.ChainReordered,
      message: 'The chain was not in order (leaf first, then each issuer); it was reordered',
    });
  }

  problems.push(...checkKeyStrength(leaf));
  const validity = checkValidity(leaf, now);
  problems.push(...validity.problems, ...checkClientAuth(leaf));
  warnings.push(...validity.warnings);

  const metadata = describeCertificate(leaf);
  if (problems.length > 0 || !metadata || !privateKey) {
    return { usable: false, problems, warnings, ...(metadata ? { metadata } : {}) };
  }

  const bundle: CertificateBundle = {
    chainPem: chain.map((cert) => cert.toString()).join(''),
    privateKeyPem: pkcs8Pem(privateKey),
    metadata,
  };
  return { usable: true, problems, warnings, metadata, bundle };
}

function keyCountProblems(privateKeys: KeyObject[]): CertificateFinding[] {
  if (privateKeys.length === 0) {
    return [
      {
        code: ErrorCode.KeyMissing,
        message:
          'The input holds no private key; a client certificate needs its private key ' +
          '(export the PKCS#12 file with the key, or give the key PEM)',
      },
    ];
  }
  if (privateKeys.length > 1) {
    return [
      {
        code: ErrorCode.KeyMultiple,
        message:
          `The input holds ${privateKeys.length} private keys; ` +
          'give exactly one, the key of the client certificate',
      },
    ];
  }
  return [];
}

function pkcs8Pem(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
