import { UMAP } from 'umap-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { trustworthiness, umapEmbed, umapEmbedExact } from '../../src/plot/umap.js';
import { fuzzySimplicialSet, type KnnGraph } from '../../src/plot/umap-layout.js';
import { knnSearch } from '../../src/similarity/knn.js';

/** 300 points in 10-D: three Gaussian clusters. */
function clusters(seed: number, n = 300, d = 10): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = rng.normal() + (j === i % 3 ? 5 : 0);
  return { data, rows: n, cols: d };
}

function rowsOf(x: Matrix): number[][] {
  return Array.from({ length: x.rows }, (_, i) => Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));
}

/** umap-js itself (the reference): the same seeded stream, on our exact kNN graph unless nndescent. */
async function umapJs(x: Matrix, o: { nNeighbors: number; nEpochs?: number; nComponents?: number; minDist?: number; seed: number; nndescent?: boolean }): Promise<number[]> {
  const umap = new UMAP({ nNeighbors: o.nNeighbors, nComponents: o.nComponents ?? 2, minDist: o.minDist ?? 0.1, random: new Rng(o.seed).asFunction(), ...(o.nEpochs ? { nEpochs: o.nEpochs } : {}) });
  if (!o.nndescent) {
    const k = o.nNeighbors - 1;
    const nn = await knnSearch(x, null, k, 'euclidean');
    const indices = Array.from({ length: x.rows }, (_, i) => [i, ...Array.from(nn.indices.subarray(i * k, (i + 1) * k))]);
    const distances = Array.from({ length: x.rows }, (_, i) => [0, ...Array.from(nn.distances.subarray(i * k, (i + 1) * k))]);
    umap.setPrecomputedKNN(indices, distances);
  }
  return Array.from(Float32Array.from(umap.fit(rowsOf(x)).flat()));
}

beforeAll(async () => {
  await initBackend();
});

describe('umapEmbedExact (typed arrays) equals umap-js bit for bit', () => {
  it('2-D, exact kNN, umap-js default epochs (500 for 300 points)', async () => {
    const x = clusters(1);
    const ours = await umapEmbedExact(x, { nNeighbors: 15, seed: 0 });
    expect(Array.from(ours.data)).toEqual(await umapJs(x, { nNeighbors: 15, seed: 0 }));
  });

  it('3-D with other nNeighbors, minDist and epochs (the general, not the 2-D, step)', async () => {
    const x = clusters(2);
    const ours = await umapEmbedExact(x, { nNeighbors: 8, minDist: 0.3, nComponents: 3, nEpochs: 120, seed: 5 });
    expect(Array.from(ours.data)).toEqual(await umapJs(x, { nNeighbors: 8, minDist: 0.3, nComponents: 3, nEpochs: 120, seed: 5 }));
  });

  it("with umap-js's NN-descent graph", async () => {
    const x = clusters(3);
    const ours = await umapEmbedExact(x, { nNeighbors: 10, nEpochs: 80, knn: 'nndescent', seed: 2 });
    expect(Array.from(ours.data)).toEqual(await umapJs(x, { nNeighbors: 10, nEpochs: 80, seed: 2, nndescent: true }));
  });
});

describe('umapEmbed (d^b as exp(b ln d))', () => {
  it("leaves umap-js's path but not its quality: trustworthiness within 0.01 of the exact layout", async () => {
    const x = clusters(4);
    const fast = await umapEmbed(x, { nNeighbors: 15, nEpochs: 200, seed: 0 });
    const exact = await umapEmbedExact(x, { nNeighbors: 15, nEpochs: 200, seed: 0 });
    expect(Array.from(fast.data)).not.toEqual(Array.from(exact.data));
    const tFast = await trustworthiness(x, fast, { k: 5 });
    const tExact = await trustworthiness(x, exact, { k: 5 });
    expect(tExact).toBeGreaterThan(0.9);
    expect(Math.abs(tFast - tExact)).toBeLessThan(0.01);
  });
});

describe('fuzzySimplicialSet', () => {
  it('hand case: 3 points on a line, k = 2, is the fuzzy union of the one-sided memberships', () => {
    // Points 0, 1, 3: each row's one neighbor is at rho, so its membership is 1; 2 -> 1 makes
    // (1, 2) = 1 only from one side, and the union keeps 1: 1 + 0 - 1 * 0.
    const g: KnnGraph = { indices: Int32Array.from([0, 1, 1, 0, 2, 1]), distances: Float64Array.from([0, 1, 0, 1, 0, 2]), n: 3, k: 2 };
    const s = fuzzySimplicialSet(g);
    expect(Array.from(s.indptr)).toEqual([0, 1, 3, 4]);
    expect(Array.from(s.indices)).toEqual([1, 0, 2, 1]);
    expect(Array.from(s.values)).toEqual([1, 1, 1, 1]);
  });
});
