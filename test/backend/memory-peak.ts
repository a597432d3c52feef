/**
 * Runs one case of memory-peak-child.ts in a fresh Node process and returns its estimate and the
 * measured growth of peak resident memory (bytes), logging both and their ratio (the memory-guard
 * tests assert 0.5 <= measured / estimate <= 2; docs/methods/compute.md §3b).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PeakMeasurement {
  estimated: number;
  measured: number;
  ratio: number;
}

export async function measurePeak(name: string): Promise<PeakMeasurement> {
  const child = join(import.meta.dirname, 'memory-peak-child.ts');
  const env = { ...process.env };
  delete env.NESTLAB_MEMORY_BUDGET;
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', child, name], { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  const m = JSON.parse(stdout.trim().split('\n').slice(-1)[0]) as { estimated: number; baseRss: number; peakRss: number; maxBefore: number; ms: number };
  const measured = m.peakRss - m.baseRss;
  const ratio = measured / m.estimated;
  console.log(
    `memory ${name}: estimate ${(m.estimated / 1e6).toFixed(1)} MB, measured peak RSS growth ${(measured / 1e6).toFixed(1)} MB, ` +
      `measured/estimate ${ratio.toFixed(2)} (run ${m.ms} ms)`,
  );
  return { estimated: m.estimated, measured, ratio };
}

/** The error `p` rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}
