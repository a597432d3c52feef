/**
 * Child process for test/topology/persistence-scale.test.ts: runs one ripsPersistence case alone
 * in a fresh Node process and prints one JSON line {estimated, tracked, baseRss, peakRss} (bytes),
 * so that the peak resident memory of the process (getrusage's maxrss) can be set against the
 * memory estimate. Run: node --expose-gc --import tsx test/topology/memory-peak-child.ts <case>.
 */
import { noisyCircle, torus } from '../../src/data/shapes.js';
import { ripsPersistence, type PersistenceOptions } from '../../src/topology/persistence.js';
import type { Matrix } from '../../src/data/matrix.js';

const cases: Record<string, () => { points: Matrix; options: PersistenceOptions }> = {
  // H1 of a noisy circle at the enclosing radius (the vr-persistence benchmark's n = 2000 case)
  circle2000: () => ({ points: noisyCircle({ n: 2000, radius: 1, noise: 0.05, seed: 0 }).points, options: { maxDim: 1 } }),
  // H1 of 3,600 points on the torus of revolution, cut at 0.6
  torus3600: () => ({ points: torus({ n: 3600, seed: 4 }).points, options: { maxDim: 1, maxEdgeLength: 0.6 } }),
};

const make = cases[process.argv[2]];
if (make === undefined) throw new Error(`unknown case ${process.argv[2]}; known: ${Object.keys(cases).join(', ')}`);
const { points, options } = make();
(globalThis as { gc?: () => void }).gc?.();
const baseRss = process.memoryUsage.rss();
const res = ripsPersistence(points, { ...options, memoryBudget: Infinity });
const peakRss = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ estimated: res.stats.memory.estimated, tracked: res.stats.memory.tracked, baseRss, peakRss }));
