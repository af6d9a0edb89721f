import {
  loadOperatorConfig,
  operatorHelp,
  type OperatorConfig,
} from '../core/config/operator-config';
import { ConfigError } from '../core/config/options';
import { ErrorCode, hasCode } from '../core/errors/codes';
import { KubeClient } from '../core/kube/kube-client';
import { loadKubeConnection, type KubeConnection } from '../core/kube/kube-connection';
import { createLogger } from '../core/log/logger';
import { startOperator } from './operator';

/** `mtls-operator`: runs the operator until SIGTERM or SIGINT, or until it loses the lease. */
async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(operatorHelp());
    return 0;
  }

  let config: OperatorConfig;
  try {
    config = loadOperatorConfig(argv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mtls-operator: ${err.message}\n`);
    return 2;
  }

  const log = createLogger('operator', config.logLevel);
  let connection: KubeConnection;
  try {
    connection = loadKubeConnection(config.kubeconfig);
  } catch (err) {
    if (!hasCode(err, ErrorCode.KubeconfigInvalid)) throw err;
    process.stderr.write(`mtls-operator: ${err.message}\n`);
    return 2;
  }

  const operator = await startOperator({ config, client: new KubeClient(connection), log });
  let signalled = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      signalled = true;
      log.info('shutting down', { signal });
      void operator.stop();
    });
  }

  await operator.stopped;
  // Stopping without a signal means the lease was lost: exit non-zero so the pod restarts.
  return signalled ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    createLogger('operator').error('operator failed', { err });
    process.exit(1);
  },
);
