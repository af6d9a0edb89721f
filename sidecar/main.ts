import { ConfigError } from '../core/config/options';
import { loadSidecarConfig } from '../core/config/sidecar-config';
import { createLogger } from '../core/log/logger';
import { createSidecar } from './sidecar';

/** The `mtls-sidecar` program: parse the configuration, run, stop gracefully on a signal. */
async function main(): Promise<void> {
  let invocation;
  try {
    invocation = loadSidecarConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mtls-sidecar: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (invocation.help) {
    process.stdout.write(`${invocation.text}\n`);
    return;
  }

  const { config } = invocation;
  const log = createLogger(config.mode, config.logLevel);
  // The gateway's API is loaded only in gateway mode: a sidecar does not pay its memory.
  const running =
    config.mode === 'gateway'
      ? await (await import('./gateway/gateway.js')).createGateway(config, { log })
      : await createSidecar(config, { log });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    running.close().then(
      () => log.info('stopped'),
      (err: unknown) => {
        log.error('stop failed', { err });
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  createLogger('sidecar').error('sidecar failed to start', { err });
  process.exitCode = 1;
});
