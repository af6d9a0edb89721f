import { readFileSync } from 'node:fs';

import { ErrorCode } from '../../core/errors/codes';
import { readCertificatePems, SourceDataError } from './mapping-index-reader';
import type { Pkcs12Analyses } from './pkcs12-analyses';

/**
 * One certificate of the standalone file: a PEM chain and key, or a PKCS#12 file whose password
 * is read from a file of its own (never written in the YAML, which is rarely kept as a secret).
 */
export type FileCertificateEntry =
  | { name: string; certFile: string; keyFile: string }
  | { name: string; p12File: string; passwordFile: string };

/** The files an entry names, as written (relative to the YAML file's folder or absolute). */
export function entryFiles(entry: FileCertificateEntry): string[] {
  return 'certFile' in entry
    ? [entry.certFile, entry.keyFile]
    : [entry.p12File, entry.passwordFile];
}

/** An error in the standalone file, named by the file and the place in it. */
export function fileError(
  file: string,
  what: string,
  code: ErrorCode = ErrorCode.SidecarConfigFileInvalid,
): SourceDataError {
  return new SourceDataError(`${file}: ${what}`, code);
}

/** Checks the `certificates` list of the standalone file. */
export function readCertificateEntries(file: string, value: unknown): FileCertificateEntry[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw fileError(file, 'certificates: expected a list');
  const names = new Set<string>();
  return value.map((raw: unknown, i) => {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const where = `certificates[${i}]`;
    const { name, certFile, keyFile, p12File, passwordFile } = entry;
    if (typeof name !== 'string' || name === '') throw fileError(file, `${where}: expected a name`);
    // A second entry of one name would silently replace the first.
    if (names.has(name)) throw fileError(file, `${where}: certificate ${name} is named twice`);
    names.add(name);
    if ('password' in entry) {
      throw fileError(file, `certificate ${name}: give passwordFile, not the password itself`);
    }

    if (typeof certFile === 'string' && typeof keyFile === 'string' && p12File === undefined) {
      return { name, certFile, keyFile };
    }
    if (typeof p12File === 'string' && typeof passwordFile === 'string' && certFile === undefined) {
      return { name, p12File, passwordFile };
    }
    throw fileError(
      file,
      `certificate ${name}: expected certFile and keyFile (PEM), or p12File and passwordFile`,
    );
  });
}

/**
 * Reads an entry's key material as PEM. A PKCS#12 file goes through the same analysis as an
 * upload (reused while the file and password are unchanged), and only the PEM it is normalized
 * to reaches TLS.
 */
export function loadCertificateEntry(
  file: string,
  entry: FileCertificateEntry,
  resolve: (name: string) => string,
  pkcs12: Pkcs12Analyses,
): { chainPem: string; privateKeyPem: string } {
  const where = `certificate ${entry.name}`;
  const read = (what: string, name: string): Buffer => {
    try {
      return readFileSync(resolve(name));
    } catch (err) {
      throw fileError(file, `${where}: cannot read ${what} ${name} (${(err as Error).message})`);
    }
  };

  if ('certFile' in entry) {
    return readCertificatePems(`${file}: ${where}`, {
      chainPem: read('certFile', entry.certFile).toString('utf8'),
      privateKeyPem: read('keyFile', entry.keyFile).toString('utf8'),
    });
  }

  // The password is the first line, so a file written by echo works as one written by printf.
  const password = read('passwordFile', entry.passwordFile).toString('utf8').split(/\r?\n/, 1)[0];
  const analysis = pkcs12.analysisOf(entry.name, read('p12File', entry.p12File), password);
  if (!analysis.usable || !analysis.bundle) {
    const problems = analysis.problems.map((problem) => problem.message).join('; ');
    const code = analysis.problems[0]?.code ?? ErrorCode.SidecarConfigFileInvalid;
    throw fileError(file, `${where}: ${entry.p12File} is unusable: ${problems}`, code);
  }
  return readCertificatePems(`${file}: ${where}`, analysis.bundle);
}
