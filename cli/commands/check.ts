import { readFileSync } from 'node:fs';

import { PLUGIN_OPTIONS } from '../../core/config/plugin-config';
import { durationMs } from '../../core/config/parsers';
import { labelList } from '../../core/config/sidecar-config';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args/argv-parser';
import { ClusterSession } from '../cluster-session';
import { checkLive, type LiveCheckDeps } from '../live/live-check';
import { decideMappings } from '../mapping/applicable-mappings';
import { destinationOfUrl } from '../mapping/destination';
import { isMachineFormat, renderDocument } from '../output/render';
import {
  certificateState,
  passedOverEntry,
  readyState,
  renderCheckReport,
  type AppliedMapping,
  type CheckReport,
} from '../report/check-report';
import { ExitStatus, type Command, type Invocation } from './command';
import { singleOperand } from './operands';

const vaultFlag = (spec: { flag: string; description: string }, value: string): FlagSpec => ({
  long: spec.flag,
  value,
  description: spec.description,
});

const CHECK_FLAGS: FlagSpec[] = [
  {
    long: 'labels',
    short: 'l',
    value: 'K=V,...',
    description: 'labels of the calling pod (default: each selector in turn)',
  },
  { long: 'live', description: 'also call the URL over mutual TLS with the certificate' },
  {
    long: 'ca-file',
    value: 'PATH',
    description: 'more CAs to trust for the upstream (PEM)',
  },
  { long: 'timeout', value: 'DURATION', description: 'bound on the live call (default 10s)' },
  vaultFlag(PLUGIN_OPTIONS.vaultAddress, 'URL'),
  vaultFlag(PLUGIN_OPTIONS.vaultToken, 'TOKEN'),
  vaultFlag(PLUGIN_OPTIONS.vaultMount, 'MOUNT'),
];

/** `check URL`: which mapping and certificate a call to a URL uses, and optionally a live call. */
export const checkCommand: Command = {
  words: ['check'],
  operands: 'URL',
  summary: 'which MtlsMapping and certificate a call to URL uses',
  help: [
    'Finds the MtlsMapping that applies to URL in the namespace as the sidecar does: same',
    'port, host equal or under *.wildcard, path prefix at a segment boundary, the most',
    'specific first; of mappings claiming the same URL the oldest wins. Shows its state and',
    "its certificate's. --live also calls URL over mutual TLS with the certificate read from",
    "Vault (VAULT_ADDR, VAULT_TOKEN) and the certificate's trusted CAs.",
    'Exits 0 when a mapping applies (and the live call succeeded), 1 otherwise.',
    '',
    'Examples:',
    '  kubectl mtls check https://api.partner.example/v2/payments -n payments',
    '  kubectl mtls check https://api.partner.example/v2/ -l app=checkout --live',
  ],
  flags: CHECK_FLAGS,
  outputs: ['text', 'json', 'yaml'],

  async run(invocation) {
    const { operands, args, output, io } = invocation;
    const url = singleOperand(operands, 'URL');
    const destination = destinationOfUrl(url);
    const workloadLabels = parseLabels(args);
    const live = args.switches.has('live') ? await prepareLive(invocation) : undefined;
    const liveOnly = ['ca-file', 'timeout', 'vault-addr', 'vault-token', 'vault-mount'];
    const stray = liveOnly.find((flag) => args.values.has(flag));
    if (!live && stray) throw new UsageError(`--${stray} is for --live, which was not given`);

    const report = await ClusterSession.with(invocation, async (session) => {
      const decision = decideMappings(await session.mappings(), destination, workloadLabels);
      const mappings: AppliedMapping[] = [];

      for (const mapping of decision.applying) {
        const { certificateName } = mapping.spec;
        const certificate = await session.certificate(certificateName);
        const applied: AppliedMapping = {
          name: mapping.metadata.name,
          url: mapping.spec.url,
          workloadSelector: mapping.spec.workloadSelector?.matchLabels ?? {},
          ...readyState(mapping.status),
          certificate: certificateState(certificateName, certificate, io.now()),
        };
        if (live) {
          const deps: LiveCheckDeps = { ...live, client: session.client };
          applied.live = await checkLive(deps, certificate, destination);
        }
        mappings.push(applied);
      }

      const checked: CheckReport = {
        url,
        namespace: session.namespace,
        destination,
        ...(workloadLabels ? { workloadLabels } : {}),
        applies: mappings.length > 0,
        mappings,
        passedOver: decision.passedOver.map(passedOverEntry),
      };
      return checked;
    });

    io.out(isMachineFormat(output) ? renderDocument(output, report) : renderCheckReport(report));
    const liveFailed = report.mappings.some((mapping) => mapping.live && !mapping.live.ok);
    return report.applies && !liveFailed ? ExitStatus.ok : ExitStatus.failed;
  },
};

function parseLabels(args: ParsedArgs): Record<string, string> | undefined {
  const raw = args.values.get('labels');
  if (raw === undefined) return undefined;
  try {
    return labelList(raw);
  } catch (err) {
    throw new UsageError(`-l ${raw}: ${(err as Error).message}`);
  }
}

/** Reads the flags of --live and opens Vault, before anything is asked of the apiserver. */
async function prepareLive(invocation: Invocation): Promise<Omit<LiveCheckDeps, 'client'>> {
  const { args } = invocation;
  const rawTimeout = args.values.get('timeout') ?? '10s';
  let timeoutMs: number;
  try {
    timeoutMs = durationMs(rawTimeout);
  } catch (err) {
    throw new UsageError(`--timeout ${rawTimeout}: ${(err as Error).message}`);
  }

  const caFile = args.values.get('ca-file');
  let extraCaPem: string | undefined;
  try {
    extraCaPem = caFile === undefined ? undefined : readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --ca-file ${caFile}: ${(err as Error).message}`);
  }
  return { timeoutMs, extraCaPem, vault: await openVault(invocation, timeoutMs) };
}

// node-vault and its request stack are loaded only for --live: they double the start time.
async function openVault(invocation: Invocation, timeoutMs: number) {
  const { vaultAddress, vaultToken, vaultMount } = invocation.settings();
  if (!vaultAddress || !vaultToken) {
    throw new UsageError(
      '--live reads the certificate from Vault: set VAULT_ADDR and VAULT_TOKEN ' +
        '(or --vault-addr and --vault-token)',
    );
  }
  const { VaultKv } = await import('../../core/vault/kv-client.js');
  return new VaultKv({
    address: vaultAddress,
    mount: vaultMount,
    auth: { kind: 'token', token: vaultToken },
    timeoutMs,
  });
}
