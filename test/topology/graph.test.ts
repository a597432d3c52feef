import { describe, it, expect } from 'vitest';
import { knnGraph, epsilonGraph, pairwiseDistances } from '../../src/topology/graph.js';
import { connectedComponents, geodesicDistances } from '../../src/math/graph.js';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';

/** Hand-written Floyd–Warshall reference. */
function floydWarshall(n: number, w: Float64Array): Float64Array {
  const d = w.slice();
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (d[i * n + k] + d[k * n + j] < d[i * n + j]) d[i * n + j] = d[i * n + k] + d[k * n + j];
  }
  return d;
}

describe('graphs and geodesics', () => {
  it('a path graph: geodesic = sum of edge weights; disconnected = Infinity', () => {
    const I = Infinity;
    const w = Float64Array.from([0, 1, I, I, 1, 0, 2, I, I, 2, 0, I, I, I, I, 0]);
    const g = geodesicDistances(4, w);
    expect(Array.from(g.subarray(0, 4))).toEqual([0, 1, 3, I]);
    expect(connectedComponents(4, w)).toEqual({ count: 2, labels: Int32Array.from([0, 0, 0, 1]) });
  });

  it('Dijkstra equals Floyd–Warshall on kNN graphs of random clouds', async () => {
    const rng = new Rng(4);
    const n = 60;
    const pts = { data: Float32Array.from({ length: n * 3 }, () => rng.normal()), rows: n, cols: 3 };
    for (const k of [2, 5]) {
      const w = await knnGraph(pts, k);
      const g = geodesicDistances(n, w);
      const ref = floydWarshall(n, w);
      for (let i = 0; i < n * n; i++) {
        if (ref[i] === Infinity) expect(g[i]).toBe(Infinity);
        else expect(g[i]).toBeCloseTo(ref[i], 10);
      }
    }
  });

  it('kNN graphs are symmetric and hold each point\'s k nearest neighbors', async () => {
    const pts = { data: Float32Array.from([0, 1, 3, 7]), rows: 4, cols: 1 };
    const w = await knnGraph(pts, 1);
    expect(w[0 * 4 + 1]).toBe(1);
    expect(w[2 * 4 + 1]).toBe(2);
    expect(w[3 * 4 + 2]).toBe(4);
    expect(w[2 * 4 + 3]).toBe(4);
    expect(w[0 * 4 + 3]).toBe(Infinity);
  });

  it('epsilon graph keeps edges up to eps; its components split at the gap', () => {
    const pts = { data: Float32Array.from([0, 1, 2, 10, 11]), rows: 5, cols: 1 };
    const w = epsilonGraph(pts, 1.5);
    expect(connectedComponents(5, w).count).toBe(2);
    expect(pairwiseDistances(pts)[3]).toBe(10);
  });

  it('rejects bad weights', async () => {
    expect(() => geodesicDistances(2, Float64Array.from([0, 1, 2, 0]))).toThrow(/symmetric/);
    expect(() => geodesicDistances(2, Float64Array.from([0, -1, -1, 0]))).toThrow(/non-negative/);
    expect(() => geodesicDistances(2, Float64Array.from([0, NaN, NaN, 0]))).toThrow(NestlabArgumentError);
    expect(() => geodesicDistances(3, Float64Array.from([0, 1, 1, 0]))).toThrow(/entries/);
    await expect(knnGraph({ data: Float32Array.from([0, 1]), rows: 2, cols: 1 }, 2)).rejects.toThrow(/k/);
  });
});
