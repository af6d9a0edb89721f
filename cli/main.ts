import { runCli } from './run-cli';

/** `kubectl-mtls`: runs the command line and exits with its status once output is written. */
runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stdin: process.stdin,
  now: () => new Date(),
}).then((status) => {
  process.exitCode = status;
});
