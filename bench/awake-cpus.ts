import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

// On a virtual machine a CPU with nothing to run halts, and waking it for the next packet costs
// the guest tens to hundreds of microseconds: at a few hundred requests a second, every hop of a
// request pays it. Busy loops at the idle scheduling class (SCHED_IDLE, which any runnable task
// preempts at once) keep every CPU from halting without taking time from the processes measured,
// so a run with them shows how much of a hop's latency is the machine's wake-up.

/** Runs `measure` while every CPU is kept busy at idle priority; undefined without chrt. */
export async function withCpusAwake<T>(measure: () => Promise<T>): Promise<T | undefined> {
  if (spawnSync('chrt', ['--version']).status !== 0) return undefined;

  // Each loop also ends by itself once the bench is gone, should it be killed before `finally`.
  const loop = `while kill -0 ${process.pid} 2>/dev/null; do :; done`;
  const spinners = Array.from({ length: availableParallelism() }, () =>
    spawn('chrt', ['--idle', '0', 'sh', '-c', loop], { stdio: 'ignore' }),
  );
  try {
    return await measure();
  } finally {
    for (const spinner of spinners) spinner.kill('SIGKILL');
  }
}
