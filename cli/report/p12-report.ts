import type { CertificateAnalysis, CertificateFinding } from '../../core/certificate';
import { dayCount, daysLeft } from '../output/expiry';

/** What `p12 test` reports about a PKCS#12 file; never the password or key material. */
export type P12Report = {
  file: string;
  usable: boolean;
  problems: CertificateFinding[];
  warnings: CertificateFinding[];
  subject?: string;
  issuer?: string;
  serialNumber?: string;
  fingerprintSha256?: string;
  key?: { algorithm: string; size: number; curve?: string };
  validity?: { notBefore: string; notAfter: string; daysLeft: number };
  /** Which Java versions open the file; absent when its structure could not be read at all. */
  java?: {
    readableBy: string[];
    summary: string;
    macAlgorithm?: string;
    keyEncryption?: string;
    certEncryption?: string;
  };
};

/** Builds the report of an analysis; `now` gives the days left. */
export function buildP12Report(file: string, analysis: CertificateAnalysis, now: Date): P12Report {
  const { metadata, javaCompatibility } = analysis;
  return {
    file,
    usable: analysis.usable,
    problems: analysis.problems,
    warnings: analysis.warnings,
    subject: metadata?.subject,
    issuer: metadata?.issuer,
    serialNumber: metadata?.serialNumber,
    fingerprintSha256: metadata?.fingerprintSha256,
    key: metadata && {
      algorithm: metadata.keyAlgorithm,
      size: metadata.keySize,
      ...(metadata.curve ? { curve: metadata.curve } : {}),
    },
    validity: metadata && {
      notBefore: metadata.notBefore,
      notAfter: metadata.notAfter,
      daysLeft: daysLeft(metadata.notAfter, now),
    },
    java: javaCompatibility && { ...javaCompatibility },
  };
}

const LABEL_WIDTH = 14;

function line(label: string, value: string): string {
  return `${`${label}:`.padEnd(LABEL_WIDTH)}${value}\n`;
}

function findings(label: string, list: CertificateFinding[]): string {
  if (list.length === 0) return line(label, 'none');
  return `${label}:\n${list.map((finding) => `  ${finding.code}: ${finding.message}\n`).join('')}`;
}

function javaLines(java: P12Report['java']): string {
  if (!java) return line('Java', 'unknown: the file cannot be read');
  const readers =
    java.readableBy[0] === 'all'
      ? 'every version'
      : java.readableBy.length > 0
        ? java.readableBy.join(', ')
        : 'none';
  const protection = [
    `key ${java.keyEncryption ?? 'not visible'}`,
    `certificates ${java.certEncryption ?? 'not visible'}`,
    `MAC ${java.macAlgorithm ?? 'none'}`,
  ].join(', ');
  return line('Java', readers) + line('Protection', protection);
}

/** The report for people, in the `kubectl describe` layout. */
export function renderP12Report(report: P12Report): string {
  let text = line('File', report.file) + line('Usable', report.usable ? 'yes' : 'no');
  if (report.subject) text += line('Subject', report.subject);
  if (report.issuer) text += line('Issuer', report.issuer);
  if (report.serialNumber) text += line('Serial', report.serialNumber);
  if (report.key) {
    const curve = report.key.curve ? ` (${report.key.curve})` : '';
    text += line('Key', `${report.key.algorithm} ${report.key.size} bits${curve}`);
  }
  if (report.validity) {
    const { notBefore, notAfter, daysLeft: days } = report.validity;
    const left = days >= 0 ? `${dayCount(days)} left` : `expired ${dayCount(-days)} ago`;
    text += line('Not before', notBefore) + line('Not after', `${notAfter} (${left})`);
  }
  if (report.fingerprintSha256) text += line('SHA-256', report.fingerprintSha256);
  text += javaLines(report.java);
  return text + findings('Problems', report.problems) + findings('Warnings', report.warnings);
}
