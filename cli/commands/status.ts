import { DISPLAY_NAME_ANNOTATION } from '../../core/resources/annotations';
import type { MtlsCertificate } from '../../core/resources/types';
import { ClusterSession } from '../cluster-session';
import { daysLeft, expiresIn } from '../output/expiry';
import { isMachineFormat, renderDocument } from '../output/render';
import { NONE, renderTable } from '../output/table';
import { readyState } from '../report/check-report';
import { ExitStatus, type Command } from './command';
import { noOperands } from './operands';

/** One certificate as `status` shows it; never key material. */
export type CertificateSummary = {
  namespace: string;
  name: string;
  displayName?: string;
  ready: string;
  reason: string;
  message: string;
  notAfter?: string;
  daysLeft?: number;
  subject?: string;
  issuer?: string;
  key?: string;
  source: string;
  javaCompatibility?: string;
  vaultPath?: string;
  vaultVersion?: number;
};

/** `status`: the namespace's certificates, their state and how long until they expire. */
export const statusCommand: Command = {
  words: ['status'],
  operands: '',
  summary: 'list the certificates: ready, reason, time left until they expire',
  help: [
    'Lists the MtlsCertificates of the namespace (or of every namespace with -A) with their',
    'Ready condition and the time left until they expire. -o wide adds the key, the source',
    'and the subject.',
    '',
    'Examples:',
    '  kubectl mtls status -n payments',
    '  kubectl mtls status -A -o wide',
  ],
  flags: [{ long: 'all-namespaces', short: 'A', description: 'list every namespace' }],
  outputs: ['text', 'wide', 'json', 'yaml'],

  async run(invocation) {
    const { operands, args, output, io } = invocation;
    noOperands(operands);
    const all = args.switches.has('all-namespaces');

    const { certificates, namespace } = await ClusterSession.with(invocation, async (session) => ({
      certificates: await session.certificates(all),
      namespace: session.namespace,
    }));
    const now = io.now();
    const summaries = certificates.map((certificate) => summarize(certificate, now));

    if (isMachineFormat(output)) {
      io.out(renderDocument(output, { certificates: summaries }));
    } else if (summaries.length === 0) {
      io.err(all ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`);
    } else {
      io.out(statusTable(summaries, now, { all, wide: output === 'wide' }));
    }
    return ExitStatus.ok;
  },
};

/** The summary of one certificate from its status. */
export function summarize(certificate: MtlsCertificate, now: Date): CertificateSummary {
  const status = certificate.status ?? {};
  const { source } = certificate.spec;
  return {
    namespace: certificate.metadata.namespace,
    name: certificate.metadata.name,
    displayName: certificate.metadata.annotations?.[DISPLAY_NAME_ANNOTATION],
    ...readyState(status),
    notAfter: status.notAfter,
    daysLeft: status.notAfter ? daysLeft(status.notAfter, now) : undefined,
    subject: status.subject,
    issuer: status.issuer,
    key: status.keyAlgorithm && `${status.keyAlgorithm} ${status.keySize}`,
    source: source.pkcs12
      ? `pkcs12:${source.pkcs12.secretName}`
      : source.pem
        ? `pem:${source.pem.secretName}`
        : `vault:${source.vault?.path}`,
    javaCompatibility: status.javaCompatibility,
    vaultPath: status.vaultPath,
    vaultVersion: status.vaultVersion,
  };
}

/** The table kubectl users expect: NAME, READY, REASON, EXPIRES IN (and more when wide). */
export function statusTable(
  summaries: CertificateSummary[],
  now: Date,
  options: { all: boolean; wide: boolean },
): string {
  const headers = [
    ...(options.all ? ['namespace'] : []),
    'name',
    'ready',
    'reason',
    'expires in',
    ...(options.wide ? ['key', 'source', 'subject'] : []),
  ];
  const rows = summaries.map((summary) => [
    ...(options.all ? [summary.namespace] : []),
    summary.name,
    summary.ready,
    summary.reason,
    expiresIn(summary.notAfter, now),
    ...(options.wide ? [summary.key ?? NONE, summary.source, summary.subject ?? NONE] : []),
  ]);
  return renderTable(headers, rows);
}
