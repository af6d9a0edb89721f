import { ConfigError } from '../../core/config/options';
import { loadEgressConfig } from '../../core/config/egress-config';
import { createLogger } from '../../core/log/logger';
import { applyEgressRules } from './egress-init';

/**
 * The `mtls-egress-init` program: parse the flags, apply the nat rules, exit. Exit status 2 is a
 * bad flag, 1 a failure to apply (the log line carries the error code).
 */
async function main(): Promise<void> {
  let invocation;
  try {
    invocation = loadEgressConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mtls-egress-init: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (invocation.help) {
    process.stdout.write(`${invocation.text}\n`);
    return;
  }

  const log = createLogger('egress-init', invocation.config.logLevel);
  try {
    await applyEgressRules(invocation.config, log);
  } catch (err) {
    log.error('egress rules not applied', { err });
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  createLogger('egress-init').error('egress init failed', { err });
  process.exitCode = 1;
});
