import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { geodesicDistances } from '../../src/math/graph.js';

/**
 * The reference: Dijkstra from every source as written in textbooks (linear scan for the nearest
 * unsettled vertex, no heap, no contraction, no pruning), then symmetrized with the minimum.
 */
function plainDijkstra(n: number, w: Float64Array): Float64Array {
  const out = new Float64Array(n * n);
  for (let s = 0; s < n; s++) {
    const dist = new Array<number>(n).fill(Infinity);
    const done = new Array<boolean>(n).fill(false);
    dist[s] = 0;
    for (;;) {
      let u = -1;
      for (let v = 0; v < n; v++) if (!done[v] && dist[v] < Infinity && (u === -1 || dist[v] < dist[u])) u = v;
      if (u === -1) break;
      done[u] = true;
      for (let v = 0; v < n; v++) if (v !== u && w[u * n + v] !== Infinity && dist[u] + w[u * n + v] < dist[v]) dist[v] = dist[u] + w[u * n + v];
    }
    for (let t = 0; t < n; t++) out[s * n + t] = dist[t];
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[i * n + j] = out[j * n + i] = Math.min(out[i * n + j], out[j * n + i]);
  return out;
}

/** A random symmetric graph: each pair an edge with probability `density`, a share `zeros` of them of weight 0. */
function randomGraph(rng: Rng, n: number, density: number, zeros: number, weight: () => number): Float64Array {
  const w = new Float64Array(n * n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    w[i * n + i] = 0;
    for (let j = i + 1; j < n; j++) {
      if (rng.uniform() < density) w[i * n + j] = w[j * n + i] = rng.uniform() < zeros ? 0 : weight();
    }
  }
  return w;
}

function expectSameDistances(got: Float64Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (want[i] === Infinity) expect(got[i], `entry ${i}`).toBe(Infinity);
    else expect(Math.abs(got[i] - want[i]), `entry ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(1e-12 * Math.max(1, want[i]));
  }
}

describe('geodesicDistances (contraction of zero edges, Dijkstra with essential-edge pruning)', () => {
  it('equals plain Dijkstra on random graphs: sparse, dense, disconnected, with and without zero-weight edges', () => {
    const rng = new Rng(11);
    const cases: [n: number, density: number, zeros: number][] = [
      [40, 0.05, 0], // several components
      [40, 0.05, 0.3],
      [60, 0.3, 0],
      [60, 0.3, 0.1], // zero edges merge vertices into components of the contracted graph
      [50, 1, 0],
      [50, 1, 0.02],
      [30, 0.5, 1], // every edge free: distances 0 within components
    ];
    for (const [n, density, zeros] of cases) {
      const w = randomGraph(rng, n, density, zeros, () => rng.uniform());
      expectSameDistances(geodesicDistances(n, w), plainDijkstra(n, w));
    }
  });

  it('ties: integer weights, where many shortest paths have the same length, give exact values', () => {
    const rng = new Rng(5);
    for (const [n, density, zeros] of [[45, 0.2, 0], [45, 0.2, 0.2], [20, 1, 0.05]] as const) {
      const w = randomGraph(rng, n, density, zeros, () => 1 + Math.floor(rng.uniform() * 3));
      const got = geodesicDistances(n, w);
      expect(Array.from(got)).toEqual(Array.from(plainDijkstra(n, w)));
    }
  });

  it('is exactly symmetric with a zero diagonal', () => {
    const rng = new Rng(3);
    const n = 50;
    const w = randomGraph(rng, n, 0.4, 0.05, () => rng.uniform());
    const g = geodesicDistances(n, w);
    for (let i = 0; i < n; i++) {
      expect(g[i * n + i]).toBe(0);
      for (let j = 0; j < i; j++) expect(g[i * n + j]).toBe(g[j * n + i]);
    }
  });

  it('n = 1 and n = 2: connected, disconnected and a free edge', () => {
    expect(Array.from(geodesicDistances(1, Float64Array.from([0])))).toEqual([0]);
    expect(Array.from(geodesicDistances(2, Float64Array.from([0, 0.5, 0.5, 0])))).toEqual([0, 0.5, 0.5, 0]);
    expect(Array.from(geodesicDistances(2, Float64Array.from([0, Infinity, Infinity, 0])))).toEqual([0, Infinity, Infinity, 0]);
    expect(Array.from(geodesicDistances(2, Float64Array.from([0, 0, 0, 0])))).toEqual([0, 0, 0, 0]);
  });

  it('a hand-computed graph: the direct edge loses to a two-step path, which pruning must keep', () => {
    // 0-1 (1), 1-2 (1), 0-2 (3), 2-3 (0), 3-4 (0.5); 5 alone
    const I = Infinity;
    const n = 6;
    const w = new Float64Array(n * n).fill(I);
    for (let i = 0; i < n; i++) w[i * n + i] = 0;
    const edge = (i: number, j: number, x: number) => (w[i * n + j] = w[j * n + i] = x);
    edge(0, 1, 1);
    edge(1, 2, 1);
    edge(0, 2, 3);
    edge(2, 3, 0);
    edge(3, 4, 0.5);
    const g = geodesicDistances(n, w);
    expect(Array.from(g.subarray(0, n))).toEqual([0, 1, 2, 2, 2.5, I]);
    expect(Array.from(g.subarray(3 * n, 4 * n))).toEqual([2, 1, 0, 0, 0.5, I]);
    expect(Array.from(g.subarray(5 * n, 6 * n))).toEqual([I, I, I, I, I, 0]);
  });
});
