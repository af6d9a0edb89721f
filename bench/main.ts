import { measureOperatorColdStart } from './operator-cold-start';

// `make bench`: every figure, then one JSON object of them all as the last line.
async function main(envFile: string): Promise<void> {
  const figures: Record<string, number> = {};

  const operator = await measureOperatorColdStart(envFile);
  process.stdout.write(
    `operator cold start: 1,000 certificates Ready in ${operator.operator_1000_ready_s} s, ` +
      `peak RSS ${operator.operator_peak_rss_mb} MB (targets: under 60 s, under 200 MB)\n`,
  );
  Object.assign(figures, operator);

  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main(process.argv[2]).catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
