/**
 * Child process for the memory-guard tests (test/backend/memory.test.ts and the *-memory tests
 * beside each guarded function): runs one case alone in a fresh Node process and prints one JSON
 * line {estimated, baseRss, peakRss, maxBefore} (bytes), so that the growth of the process's peak
 * resident memory (getrusage's maxrss, which counts the wasm heap of the tfjs backend too) can be
 * set against the estimate the function checks its budget with. The backend is started and each
 * function run once on a tiny input first (the wasm heap only grows, so the warm-up's own growth
 * stays out of the measurement), and the input is made before the baseline.
 * Run: node --expose-gc --import tsx test/backend/memory-peak-child.ts <case>.
 */
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { computeRdm, rdmMemoryEstimate } from '../../src/rsa/rdm.js';
import { rbfCka, rbfCkaMemoryEstimate } from '../../src/similarity/cka.js';
import { umapEmbed, umapEmbedWithMemory } from '../../src/plot/umap.js';
import { ripsPersistence } from '../../src/topology/persistence.js';
import { noisyCircle } from '../../src/data/shapes.js';
import type { Matrix } from '../../src/data/matrix.js';

function gaussian(rows: number, cols: number, seed: number): Matrix {
  const r = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = r.normal();
  return { data, rows, cols };
}

interface Case {
  /** Runs the function once on a tiny input. */
  warm: () => Promise<unknown>;
  /** Makes the input (before the baseline). */
  input: () => Matrix;
  /** Runs the measured call; returns the estimate the function checked. */
  run: (x: Matrix) => Promise<number>;
}

const cases: Record<string, Case> = {
  // the Euclidean RDM of 4,000 stimuli x 64 channels: one 4000² Gram matrix
  rdm: {
    warm: () => computeRdm(gaussian(20, 4, 1)),
    input: () => gaussian(4000, 64, 2),
    run: async (x) => {
      await computeRdm(x, { memoryBudget: Infinity });
      return rdmMemoryEstimate(x.rows, x.cols, ['euclidean']);
    },
  },
  // RBF CKA of two 2,000 x 32 representations, relative bandwidth (the median of the distances)
  cka: {
    warm: () => rbfCka(gaussian(20, 4, 1), gaussian(20, 4, 3)),
    input: () => gaussian(2000, 64, 2),
    run: async (xy) => {
      const half = (off: number): Matrix => {
        const data = new Float32Array(xy.rows * 32);
        for (let i = 0; i < xy.rows; i++) data.set(xy.data.subarray(i * 64 + off, i * 64 + off + 32), i * 32);
        return { data, rows: xy.rows, cols: 32 };
      };
      const x = half(0);
      const y = half(32);
      await rbfCka(x, y, { memoryBudget: Infinity });
      return rbfCkaMemoryEstimate(xy.rows, 32, 32, true);
    },
  },
  // UMAP of 15,000 points in 8 dimensions with 90 neighbors, one epoch (the graph, not the SGD, sets the peak)
  umap: {
    warm: () => umapEmbed(gaussian(40, 4, 1), { nNeighbors: 5, nEpochs: 1 }),
    input: () => gaussian(15000, 8, 2),
    run: async (x) => (await umapEmbedWithMemory(x, { nNeighbors: 90, nEpochs: 1, memoryBudget: Infinity })).estimated,
  },
  // H1 of a noisy circle of 3,600 points cut at 0.05 (the n × n matrices set the peak)
  rips: {
    warm: async () => ripsPersistence(noisyCircle({ n: 30, seed: 1 }).points),
    input: () => noisyCircle({ n: 3600, radius: 1, noise: 0.05, seed: 0 }).points,
    run: async (x) => ripsPersistence(x, { maxDim: 1, maxEdgeLength: 0.05, memoryBudget: Infinity }).stats.memory.estimated,
  },
};

const c = cases[process.argv[2]];
if (c === undefined) throw new Error(`unknown case ${process.argv[2]}; known: ${Object.keys(cases).join(', ')}`);
await initBackend();
await c.warm();
const x = c.input();
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
gc?.();
const baseRss = process.memoryUsage.rss();
const maxBefore = process.resourceUsage().maxRSS * 1024;
const t0 = performance.now();
const estimated = await c.run(x);
const peakRss = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ estimated, baseRss, peakRss, maxBefore, ms: Math.round(performance.now() - t0) }));
