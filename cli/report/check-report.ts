import type { Destination } from '../../core/mapping/mapping-table';
import type { ProbeOutcome } from '../../core/mapping/mtls-probe';
import { readyCondition } from '../../core/resources/conditions';
import type { MtlsCertificate, MtlsMapping } from '../../core/resources/types';
import { describeLabels, type PassedOver } from '../mapping/applicable-mappings';
import { dayCount, daysLeft } from '../output/expiry';

/** A Ready condition as shown: status, reason and message; Unknown before the first report. */
export type ReadyState = { ready: string; reason: string; message: string };

/** The certificate a mapping uses, as its status describes it; never key material. */
export type CertificateState = ReadyState & {
  name: string;
  exists: boolean;
  subject?: string;
  issuer?: string;
  notAfter?: string;
  daysLeft?: number;
  vaultPath?: string;
  vaultVersion?: number;
};

/** A mapping that applies to the URL, its certificate, and the live probe when asked for. */
export type AppliedMapping = ReadyState & {
  name: string;
  url: string;
  workloadSelector: Record<string, string>;
  certificate: CertificateState;
  live?: ProbeOutcome;
};

/** What `check URL` found. */
export type CheckReport = {
  url: string;
  namespace: string;
  destination: Destination;
  workloadLabels?: Record<string, string>;
  applies: boolean;
  mappings: AppliedMapping[];
  passedOver: (ReadyState & { name: string; url: string })[];
};

/** The Ready condition of an object's status, or Unknown when the operator has not written one. */
export function readyState(status?: MtlsMapping['status']): ReadyState {
  const ready = readyCondition(status);
  if (!ready) return { ready: 'Unknown', reason: 'Pending', message: 'not reconciled yet' };
  return { ready: ready.status, reason: ready.reason, message: ready.message };
}

/** The state of the certificate named `name`, which may not exist. */
export function certificateState(
  name: string,
  certificate: MtlsCertificate | undefined,
  now: Date,
): CertificateState {
  if (!certificate) {
    const message = `MtlsCertificate '${name}' does not exist in this namespace`;
    return { name, exists: false, ready: 'False', reason: 'NotFound', message };
  }
  const status = certificate.status ?? {};
  return {
    name,
    exists: true,
    ...readyState(status),
    subject: status.subject,
    issuer: status.issuer,
    notAfter: status.notAfter,
    daysLeft: status.notAfter ? daysLeft(status.notAfter, now) : undefined,
    vaultPath: status.vaultPath,
    vaultVersion: status.vaultVersion,
  };
}

/** A mapping passed over, with the reason of the decision. */
export function passedOverEntry(entry: PassedOver): CheckReport['passedOver'][number] {
  const { mapping, reason, message } = entry;
  const ready = readyState(mapping.status).ready;
  return { name: mapping.metadata.name, url: mapping.spec.url, ready, reason, message };
}

const LABEL_WIDTH = 15;

function line(label: string, value: string, indent = ''): string {
  return `${indent}${`${label}:`.padEnd(LABEL_WIDTH - indent.length)}${value}\n`;
}

function stateText(state: ReadyState): string {
  return `${state.ready} (${state.reason}) ${state.message}`.trimEnd();
}

/** The report for people, in the `kubectl describe` layout. */
export function renderCheckReport(report: CheckReport): string {
  const { host, port, path } = report.destination;
  let text = line('URL', `${report.url} (upstream ${host}:${port}, path ${path})`);
  text += line('Namespace', report.namespace);
  if (report.workloadLabels) text += line('Workload', describeLabels(report.workloadLabels));
  if (!report.applies) text += line('Mapping', 'none applies: calls to this URL are refused');

  for (const mapping of report.mappings) {
    text += line('Mapping', mapping.name);
    text += line('URL', mapping.url, '  ');
    text += line('Workloads', describeLabels(mapping.workloadSelector), '  ');
    text += line('Ready', stateText(mapping), '  ');
    text += renderCertificate(mapping.certificate);
    if (mapping.live) text += line('Live', renderLive(mapping.live, path));
  }

  if (report.passedOver.length > 0) {
    text += 'Not applying:\n';
    for (const entry of report.passedOver) {
      text += `  ${entry.name} (${entry.url}): ${entry.reason}: ${entry.message}\n`;
    }
  }
  return text;
}

function renderCertificate(certificate: CertificateState): string {
  let text = line('Certificate', certificate.name);
  text += line('Ready', stateText(certificate), '  ');
  if (certificate.subject) text += line('Subject', certificate.subject, '  ');
  if (certificate.notAfter && certificate.daysLeft !== undefined) {
    const days = certificate.daysLeft;
    const left = days >= 0 ? `in ${dayCount(days)}` : `${dayCount(-days)} ago`;
    text += line('Expires', `${certificate.notAfter} (${left})`, '  ');
  }
  if (certificate.vaultPath) {
    text += line('Vault', `${certificate.vaultPath} version ${certificate.vaultVersion}`, '  ');
  }
  return text;
}

function renderLive(live: ProbeOutcome, path: string): string {
  if (!live.ok) return `FAILED: ${live.error}`;
  const server = live.serverSubject ? `, server ${live.serverSubject}` : '';
  return `OK: ${live.tlsVersion} mutual TLS${server}; HEAD ${path} answered ${live.httpStatus}`;
}
