import { readFileSync } from 'node:fs';
import path from 'node:path';

// Summarizes a `node --cpu-prof` profile: the functions with the most self time, merged by
// name and source location, with their share of all samples.
//
//   node dist/bench/cpu-profile-summary.js <file.cpuprofile> [how many, default 25]

/** The parts of a V8 CPU profile this summary reads. */
type CpuProfile = {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
};

/** One line of the summary: a function, its self time in ms and its share of the total. */
export type HotSpot = { name: string; selfMs: number; share: number };

/** Self time per function of a profile, most first. */
export function hotSpots(profile: CpuProfile): HotSpot[] {
  const nameOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? ` ${path.basename(url)}:${lineNumber + 1}` : '';
    nameOf.set(node.id, `${functionName || '(anonymous)'}${where}`);
  }

  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const name = nameOf.get(id) ?? '(unknown)';
    selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
    totalUs += delta;
  });

  return [...selfUs.entries()]
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 1000), share: us / totalUs }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

function main(file: string, count: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  for (const spot of hotSpots(profile).slice(0, count)) {
    const share = `${(spot.share * 100).toFixed(1)}%`.padStart(6);
    process.stdout.write(`${share} ${String(spot.selfMs).padStart(7)} ms  ${spot.name}\n`);
  }
}

if (require.main === module) main(process.argv[2], Number(process.argv[3] ?? 25));
