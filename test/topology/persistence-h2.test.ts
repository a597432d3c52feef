import { describe, it, expect } from 'vitest';
import { ripsPersistence, ripsPersistenceFromDistances, ripsPersistenceUnpacked } from '../../src/topology/persistence.js';
import { sphere, torus } from '../../src/data/shapes.js';
import { Rng } from '../../src/backend/rng.js';
import { barsDifference, f32Distances, hasRipser, ripserBars } from './ripser-peer.js';

// H2 by the degree-2 column assembly on bit matrices and the degree-2 dense sweep
// (docs/methods/topology.md §3 items 5 and 7): known answers, then bar for bar against ripser 1.2.1.

const SWEEPS = ['auto', 'always', 'never'] as const;
const PHI = (1 + Math.sqrt(5)) / 2;

/** The 12 vertices (0, ±1, ±φ) and their cyclic shifts: the regular icosahedron, edge length 2. */
function icosahedron(): Float32Array {
  const v: number[] = [];
  for (const s1 of [-1, 1]) for (const s2 of [-1, 1]) v.push(0, s1, s2 * PHI, s1, s2 * PHI, 0, s2 * PHI, 0, s1);
  return Float32Array.from(v);
}

describe('ripsPersistence H2: hand-computed answers', () => {
  it('octahedron ±e_i: one H2 bar [sqrt 2, 2), no H1, for every reduction', () => {
    // at sqrt 2 the flag complex is the octahedron's surface (any 4 vertices hold an antipodal pair,
    // so no tetrahedron); at 2 the antipodal edges make it a full simplex
    const oct = { data: Float32Array.from([1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1]), rows: 6, cols: 3 };
    for (const sweep of SWEEPS) {
      const res = ripsPersistence(oct, { maxDim: 2, sweep });
      expect(res.bars[1].births.length).toBe(0);
      expect(res.bars[2].births.length).toBe(1);
      expect(res.bars[2].births[0]).toBe(Math.fround(Math.SQRT2));
      expect(res.bars[2].deaths[0]).toBe(2);
      expect(Array.from(res.bars[0].deaths)).toEqual([...Array(5).fill(Math.fround(Math.SQRT2)), Infinity]);
    }
  });

  it('icosahedron: one H2 bar [2, 2φ), no H1', () => {
    // at 2 (the edges) the flag complex is the icosahedron's surface (its graph has no K4); at 2φ
    // every pair but the 6 antipodal ones is an edge: the boundary of the 6-dim cross-polytope, a 5-sphere
    for (const sweep of SWEEPS) {
      const res = ripsPersistence({ data: icosahedron(), rows: 12, cols: 3 }, { maxDim: 2, sweep });
      expect(res.bars[1].births.length).toBe(0);
      expect(res.bars[2].births.length).toBe(1);
      expect(res.bars[2].births[0]).toBeCloseTo(2, 6);
      expect(res.bars[2].deaths[0]).toBeCloseTo(2 * PHI, 6);
    }
  });

  it('a sphere of 150 points: one long H2 bar, found by the sweep in the default mode and the same by heaps', () => {
    const n = 150;
    const D = f32Distances(sphere({ n, seed: 0 }).points.data, n, 3);
    const auto = ripsPersistenceFromDistances(D, { maxDim: 2 });
    // the long class's column needs many additions: the default switches it to the sweep
    expect(auto.stats.sweeps[2]).toBeGreaterThan(0);
    const life = Array.from(auto.bars[2].births, (b, i) => auto.bars[2].deaths[i] - b).sort((a, b) => b - a);
    // born near 1.01 (150 points leave holes that wide), dead at 1.65
    expect(life[0]).toBeGreaterThan(0.6);
    expect(life.length < 2 || life[1] < 0.1).toBe(true);
    const heaps = ripsPersistenceFromDistances(D, { maxDim: 2, sweep: 'never' });
    expect(heaps.stats.sweeps[2]).toBe(0);
    expect(heaps.bars).toEqual(auto.bars);
  });
});

describe.skipIf(!hasRipser)('ripsPersistence H0-H2 equals the ripser binary', () => {
  const clouds: [string, number, () => Float32Array][] = [
    ['sphere n=120', 120, () => sphere({ n: 120, seed: 1 }).points.data],
    ['R^3 torus n=150', 150, () => torus({ n: 150, seed: 2 }).points.data],
    ['uniform cube n=90', 90, () => { const r = new Rng(3); return Float32Array.from({ length: 270 }, () => r.uniform()); }],
    // many equal lengths: ranks shared by several edges (the assembly's and the sweep's tie rules)
    ['4x4x4 integer grid (ties)', 64, () => Float32Array.from({ length: 192 }, (_, i) => Math.floor((i / 3) / 4 ** (i % 3)) % 4)],
    ['noisy 3x3x3 grid', 27, () => { const r = new Rng(4); return Float32Array.from({ length: 81 }, (_, i) => (Math.floor((i / 3) / 3 ** (i % 3)) % 3) + 0.05 * r.normal()); }],
  ];
  for (const [name, n, make] of clouds) {
    it(`${name}: every sweep mode, packed and (rank, index) pair heaps`, () => {
      const D = f32Distances(make(), n, 3);
      const ref = ripserBars(D, n, 2);
      for (const sweep of SWEEPS) {
        for (const ours of [ripsPersistenceFromDistances(D, { maxDim: 2, sweep }), ripsPersistenceUnpacked(D, { maxDim: 2, sweep })]) {
          for (let d = 0; d <= 2; d++) expect(barsDifference(ours.bars[d], ref[d]), `${sweep} H${d}`).toBeLessThan(1e-5);
        }
      }
    });
  }

  it('a sphere cut below the death of its class: the essential H2 bar, by sweep and by heaps', () => {
    const n = 150;
    const D = f32Distances(sphere({ n, seed: 6 }).points.data, n, 3);
    // the class is born near 0.97 and dies near 1.65 at the enclosing radius
    const ref = ripserBars(D, n, 2, 1.3);
    for (const sweep of SWEEPS) {
      const ours = ripsPersistenceFromDistances(D, { maxDim: 2, maxEdgeLength: 1.3, sweep });
      for (let d = 0; d <= 2; d++) expect(barsDifference(ours.bars[d], ref[d]), `${sweep} H${d}`).toBeLessThan(1e-5);
      expect(Array.from(ours.bars[2].deaths).filter((x) => x === Infinity).length).toBe(1);
    }
  });

  it('H3 runs on top of the new degree-2 columns (maxDim 3, 40 points on a sphere)', () => {
    const n = 40;
    const D = f32Distances(sphere({ n, seed: 7 }).points.data, n, 3);
    const ref = ripserBars(D, n, 3);
    for (const sweep of SWEEPS) {
      const ours = ripsPersistenceFromDistances(D, { maxDim: 3, sweep });
      for (let d = 0; d <= 3; d++) expect(barsDifference(ours.bars[d], ref[d]), `${sweep} H${d}`).toBeLessThan(1e-5);
    }
  });
});
