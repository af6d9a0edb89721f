import { analyzePkcs12 } from '../../core/certificate';
import { durationMs } from '../../core/config/parsers';
import { DISPLAY_NAME_ANNOTATION } from '../../core/resources/annotations';
import {
  MANAGED_BY_LABEL,
  PKCS12_FILE_KEY,
  PKCS12_PASSWORD_KEY,
  pkcs12SecretName,
} from '../../core/resources/pkcs12-secret';
import { UsageError, type ParsedArgs } from '../args/argv-parser';
import { ClusterSession } from '../cluster-session';
import { isMachineFormat, renderDocument } from '../output/render';
import { PASSWORD_FLAGS, readPassword } from '../password';
import { buildP12Report, renderP12Report } from '../report/p12-report';
import {
  existingObjects,
  isForeignSecret,
  secretInUse,
  writeCertificate,
  type UploadPlan,
} from '../upload/certificate-writer';
import { waitForVerdict } from '../upload/wait-ready';
import { ExitStatus, type Command } from './command';
import { readOperandFile, singleOperand } from './operands';

// A DNS subdomain name (RFC 1123), as the apiserver requires of Secret and custom object names.
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `upload FILE --name NAME`: a checked PKCS#12 file becomes a Secret and an MtlsCertificate. */
export const uploadCommand: Command = {
  words: ['upload'],
  operands: 'FILE',
  summary: 'create an MtlsCertificate and its Secret from a PKCS#12 file',
  help: [
    'Runs the checks of p12 test first and creates nothing when the file is not usable.',
    `Then creates the Secret NAME-p12 (keys ${PKCS12_FILE_KEY} and ${PKCS12_PASSWORD_KEY}) and the`,
    'MtlsCertificate NAME that refers to it; the operator checks it and stores it in Vault.',
    'When either exists, nothing is changed unless --overwrite is given, which updates both:',
    'the Secret updated is the one the MtlsCertificate refers to. A Secret that neither',
    'kubectl-mtls nor the gateway made is never overwritten, as the gateway refuses to.',
    '',
    'Examples:',
    '  kubectl mtls upload partner.p12 --name partner -n payments --password-file pw.txt',
    '  kubectl mtls upload renewed.p12 --name partner --overwrite --wait',
  ],
  flags: [
    { long: 'name', value: 'NAME', description: 'name of the MtlsCertificate (required)' },
    {
      long: 'display-name',
      value: 'TEXT',
      description: `human-readable name (annotation ${DISPLAY_NAME_ANNOTATION})`,
    },
    {
      long: 'secret-name',
      value: 'NAME',
      description: 'Secret name (default: the one the certificate names, or NAME-p12)',
    },
    {
      long: 'trusted-ca-configmap',
      value: 'NAME',
      description: "ConfigMap whose ca.crt holds the CAs of the partner's servers",
    },
    { long: 'overwrite', description: 'update the Secret and the MtlsCertificate if they exist' },
    { long: 'wait', description: "wait for the operator's verdict on the certificate" },
    { long: 'timeout', value: 'DURATION', description: 'bound on --wait (default 60s)' },
    ...PASSWORD_FLAGS,
  ],
  outputs: ['text', 'json', 'yaml'],

  async run(invocation) {
    const { operands, args, output, io } = invocation;
    const fileName = singleOperand(operands, 'FILE');
    const { name, chosenSecretName, timeoutMs } = uploadNames(args);
    const file = readOperandFile(fileName);
    const password = await readPassword(args, io, fileName);

    const now = io.now();
    const analysis = analyzePkcs12(file, password, { now });
    const report = buildP12Report(fileName, analysis, now);
    if (!analysis.usable) {
      io.out(isMachineFormat(output) ? renderDocument(output, report) : renderP12Report(report));
      io.err(`error: ${fileName} is not usable; nothing was created\n`);
      return ExitStatus.failed;
    }

    return ClusterSession.with(invocation, async (session) => {
      const secretName =
        chosenSecretName ?? (await secretInUse(session.client, session.namespace, name));
      const plan: UploadPlan = {
        namespace: session.namespace,
        name,
        secretName,
        displayName: args.values.get('display-name'),
        trustedCaConfigMap: args.values.get('trusted-ca-configmap'),
        file,
        password,
      };
      const existing = await existingObjects(session.client, plan);
      if (existing.length > 0 && !args.switches.has('overwrite')) {
        io.err(
          `error: ${existing.join(' and ')} already exist${existing.length > 1 ? '' : 's'}; ` +
            'nothing was changed (--overwrite updates them)\n',
        );
        return ExitStatus.failed;
      }

      if (await isForeignSecret(session.client, plan)) {
        io.err(
          `error: Secret ${plan.namespace}/${secretName} was made neither by kubectl-mtls nor by ` +
            `the gateway (label ${MANAGED_BY_LABEL}); nothing was changed: write the file to ` +
            'another Secret with --secret-name\n',
        );
        return ExitStatus.failed;
      }

      const actions = await writeCertificate(session.client, plan);
      const verdict = args.switches.has('wait')
        ? await waitForVerdict(
            session.client,
            plan.namespace,
            name,
            analysis.metadata!.fingerprintSha256,
            timeoutMs,
          )
        : undefined;

      if (isMachineFormat(output)) {
        const document = {
          namespace: plan.namespace,
          name,
          secretName,
          ...actions,
          verdict,
          report,
        };
        io.out(renderDocument(output, document));
      } else {
        io.out(`secret/${secretName} ${actions.secret}\n`);
        io.out(`mtlscertificate.mtls.io/${name} ${actions.certificate}\n`);
        if (verdict) {
          const { ready, reason, message } = verdict.state;
          const prefix = verdict.settled ? '' : `no verdict within ${timeoutMs / 1000}s; last: `;
          io.out(
            `mtlscertificate.mtls.io/${name} ${prefix}Ready=${ready} (${reason}) ${message}\n`,
          );
        }
      }
      const ready = !verdict || (verdict.settled && verdict.state.ready === 'True');
      return ready ? ExitStatus.ok : ExitStatus.failed;
    });
  },
};

function uploadNames(args: ParsedArgs) {
  const name = args.values.get('name');
  if (!name) throw new UsageError('--name is required: the name of the MtlsCertificate');
  const chosenSecretName = args.values.get('secret-name');
  for (const [flag, value] of [
    ['--name', name],
    ['--secret-name', chosenSecretName ?? pkcs12SecretName(name)],
  ]) {
    if (value.length > 253 || !OBJECT_NAME.test(value)) {
      throw new UsageError(
        `${flag} '${value}' is not a valid name: lower-case letters, digits, '-' and '.', ` +
          'starting and ending with a letter or digit, at most 253 characters',
      );
    }
  }

  const rawTimeout = args.values.get('timeout') ?? '60s';
  try {
    return { name, chosenSecretName, timeoutMs: durationMs(rawTimeout) };
  } catch (err) {
    throw new UsageError(`--timeout ${rawTimeout}: ${(err as Error).message}`);
  }
}
