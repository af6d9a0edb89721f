import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as k8s from '@kubernetes/client-node';

import { OPERATOR_OPTIONS } from '../../core/config/operator-config';
import { parseOptions } from '../../core/config/options';
import { createLogger } from '../../core/log/logger';
import { startOperator, type RunningOperator } from '../../operator/operator';
import { adminKubeConfig, readGroundEnv } from './ground';
import { adminVault } from './operator-harness';

// What the operator may do in Vault: its whole mtls/ tree, data and metadata.
const CAPABILITIES = '["create", "read", "update", "delete", "list"]';
const OPERATOR_POLICY = ['data', 'metadata']
  .map((kind) => `path "secret/${kind}/mtls/*" { capabilities = ${CAPABILITIES} }`)
  .join('\n');

/** Where an installed chart runs its operator, and the flags its Deployment gives it. */
export type ChartOperator = {
  /** The operator container's arguments, as the chart rendered them. */
  args: string[];
  serviceAccount: string;
  namespace: string;
  /** The replica's name in the Lease. */
  identity: string;
};

/**
 * Starts an operator in this process as an installed chart would run it, with nothing but the
 * chart's permissions: it calls the apiserver with a token of the chart's ServiceAccount, and
 * logs into OpenBao through the chart's Vault role with a token of audience `vault`, as the
 * projected token in the pod has. Vault and lease flags come from the chart; the Vault address
 * is the ground's.
 */
export async function runOperatorAs(chart: ChartOperator): Promise<RunningOperator> {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const chartFlag = (flag: string) => {
    const arg = chart.args.find((a) => a.startsWith(`--${flag}=`));
    if (!arg) throw new Error(`the chart does not pass --${flag}`);
    return arg;
  };
  const token = async (audiences: string[]) => {
    const request = await core.createNamespacedServiceAccountToken({
      name: chart.serviceAccount,
      namespace: chart.namespace,
      body: { spec: { audiences, expirationSeconds: 3600 } },
    });
    return request.status!.token;
  };

  const role = chartFlag('vault-role').split('=')[1];
  const vault = adminVault();
  await vault.addPolicy({ name: role, rules: OPERATOR_POLICY });
  await vault.write(`auth/kubernetes/role/${role}`, {
    bound_service_account_names: [chart.serviceAccount],
    bound_service_account_namespaces: [chart.namespace],
    audience: 'vault',
    token_policies: [role],
    token_ttl: '10m',
  });
  const tokenDir = mkdtempSync(path.join(tmpdir(), 'mtls-chart-token-'));
  const tokenFile = path.join(tokenDir, 'token');
  writeFileSync(tokenFile, await token(['vault']));

  const flags = ['vault-role', 'vault-auth-mount', 'vault-mount', 'leader-election']
    .concat(['lease-namespace', 'lease-name'])
    .map(chartFlag);
  const config = parseOptions(
    OPERATOR_OPTIONS,
    [
      `--vault-addr=${readGroundEnv().VAULT_ADDR}`,
      ...flags,
      `--token-file=${tokenFile}`,
      '--probe-port=0',
      `--identity=${chart.identity}`,
    ],
    {},
  );
  const cluster = kc.getCurrentCluster()!;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [cluster],
    users: [{ name: chart.serviceAccount, token: await token([]) }],
    contexts: [{ name: 'chart', cluster: cluster.name, user: chart.serviceAccount }],
    currentContext: 'chart',
  });

  const log = createLogger('operator', process.env.MTLS_TEST_LOG_LEVEL ?? 'warn');
  const operator = await startOperator({ config, kubeConfig, log });
  // The operator reads the token again at every login: the file stays until it stopped.
  void operator.stopped.then(() => rmSync(tokenDir, { recursive: true, force: true }));
  return operator;
}
