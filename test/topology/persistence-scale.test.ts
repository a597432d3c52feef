import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import {
  ripsPersistence,
  ripsPersistenceFromDistances,
  ripsPersistenceUnpacked,
  estimateMemory,
  maxPointsForIndex,
} from '../../src/topology/persistence.js';
import { noisyCircle, sphere, torus } from '../../src/data/shapes.js';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError, NestlabComputationError } from '../../src/errors.js';
import { runProcess } from '../helpers/spawn.js';
import { barsDifference, f32Distances, hasRipser, ripserRun } from './ripser-peer.js';

/** Points uniform on the unit 3-sphere in R⁴ (normalized Gaussian vectors). */
function sphere3(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: 4 * n }, () => rng.normal());
  for (let i = 0; i < n; i++) {
    const s = Math.hypot(x[4 * i], x[4 * i + 1], x[4 * i + 2], x[4 * i + 3]);
    for (let k = 0; k < 4; k++) x[4 * i + k] /= s;
  }
  return x;
}

const essential = (deaths: Float64Array) => deaths.filter((d) => d === Infinity).length;
const binomBig = (n: number, k: number) => {
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
};

describe.skipIf(!hasRipser)('ripsPersistence above the old 2^53 key cap equals the ripser binary', () => {
  // The old engine packed (rank, index) into one double and refused (#distinct lengths) · C(n, maxDim + 2) >= 2^53:
  // n > 2,552 for H1, n > 870 for H2, n > 417 for H3 with distinct lengths. Every case here was refused.
  it('H1 of 3,000 points on a circle cut at 0.2, with packed heaps and with (rank, index) pairs', () => {
    const p = noisyCircle({ n: 3000, seed: 3 }).points;
    const D = f32Distances(p.data, 3000, 2);
    const ref = ripserRun(D, 3000, 1, 0.2).bars;
    const packed = ripsPersistenceFromDistances(D, { maxDim: 1, maxEdgeLength: 0.2 });
    const pairs = ripsPersistenceUnpacked(D, { maxDim: 1, maxEdgeLength: 0.2 });
    expect(packed.stats.keys[1]).toBe('packed');
    expect(pairs.stats.keys[1]).toBe('pairs');
    for (const res of [packed, pairs]) {
      expect(barsDifference(res.bars[0], ref[0])).toBeLessThan(1e-5);
      expect(barsDifference(res.bars[1], ref[1])).toBeLessThan(1e-5);
    }
    // the circle's loop is still alive at 0.2
    expect(essential(packed.bars[1].deaths)).toBe(1);
  });

  it('H1 of 3,600 points on a torus cut at 0.6: its two loops, bar for bar as ripser', () => {
    const p = torus({ n: 3600, seed: 4 }).points;
    const D = f32Distances(p.data, 3600, 3);
    const t0 = performance.now();
    const ours = ripsPersistenceFromDistances(D, { maxDim: 1, maxEdgeLength: 0.6 });
    const seconds = (performance.now() - t0) / 1000;
    const ref = ripserRun(D, 3600, 1, 0.6);
    console.log(`n = 3600 torus H1 at 0.6: nestlab ${seconds.toFixed(2)} s, ripser ${ref.seconds.toFixed(2)} s, ${ours.bars[1].births.length} H1 bars`);
    expect(barsDifference(ours.bars[0], ref.bars[0])).toBeLessThan(1e-5);
    expect(barsDifference(ours.bars[1], ref.bars[1])).toBeLessThan(1e-5);
    expect(essential(ours.bars[0].deaths)).toBe(1);
    expect(essential(ours.bars[1].deaths)).toBe(2);
  });

  it('H2 of 1,500 uniform points in the cube cut at 0.25, where the degree-2 heaps must hold pairs', () => {
    const rng = new Rng(21);
    const x = Float32Array.from({ length: 4500 }, () => rng.uniform());
    const D = f32Distances(x, 1500, 3);
    const ours = ripsPersistenceFromDistances(D, { maxDim: 2, maxEdgeLength: 0.25 });
    // (ranks within 0.25) · C(1500, 4) >= 2^53: packing would not be exact
    expect(ours.stats.keys[2]).toBe('pairs');
    // the degree-2 sweep's bit matrix would take C(1500, 2) · 47 words = 211 MB, over its 64 MiB cap: heaps only
    expect(ours.stats.sweeps[2]).toBe(0);
    const ref = ripserRun(D, 1500, 2, 0.25).bars;
    expect(ours.bars[2].births.length).toBeGreaterThan(100);
    for (let d = 0; d <= 2; d++) expect(barsDifference(ours.bars[d], ref[d])).toBeLessThan(1e-5);
  });

  it('H2 of 1,000 points on a sphere cut at 0.5: the sphere class alive at the cut', () => {
    const p = sphere({ n: 1000, seed: 5 }).points;
    const D = f32Distances(p.data, 1000, 3);
    const ref = ripserRun(D, 1000, 2, 0.5).bars;
    // 'always': every degree-2 column that needs a reduction step goes through the sweep's 61 MiB bit matrix
    for (const sweep of ['auto', 'always'] as const) {
      const ours = ripsPersistenceFromDistances(D, { maxDim: 2, maxEdgeLength: 0.5, sweep });
      for (let d = 0; d <= 2; d++) expect(barsDifference(ours.bars[d], ref[d])).toBeLessThan(1e-5);
      expect(essential(ours.bars[2].deaths)).toBe(1);
      if (sweep === 'always') expect(ours.stats.sweeps[2]).toBeGreaterThan(0);
    }
  });

  it('H3 of 100 points on the 3-sphere cut at 1.4 (packed and pairs) and at the enclosing radius', () => {
    const x = sphere3(100, 21);
    const D = f32Distances(x, 100, 4);
    const ref = ripserRun(D, 100, 3, 1.4).bars;
    for (const res of [ripsPersistenceFromDistances(D, { maxDim: 3, maxEdgeLength: 1.4 }), ripsPersistenceUnpacked(D, { maxDim: 3, maxEdgeLength: 1.4 })]) {
      for (let d = 0; d <= 3; d++) expect(barsDifference(res.bars[d], ref[d])).toBeLessThan(1e-5);
      // the 3-sphere's class is alive at 1.4
      expect(essential(res.bars[3].deaths)).toBe(1);
    }
    const full = ripsPersistenceFromDistances(D, { maxDim: 3 });
    const refFull = ripserRun(D, 100, 3).bars;
    expect(full.bars[3].births.length).toBeGreaterThan(0);
    for (let d = 0; d <= 3; d++) expect(barsDifference(full.bars[d], refFull[d])).toBeLessThan(1e-5);
  });
});

describe('simplex indices stay exact doubles', () => {
  it('maxPointsForIndex(d) is the largest n with C(n, d + 2) <= 2^53 - 1', () => {
    const limit = BigInt(Number.MAX_SAFE_INTEGER);
    for (const d of [1, 2, 3]) {
      const n = maxPointsForIndex(d);
      expect(binomBig(n, d + 2) <= limit).toBe(true);
      expect(binomBig(n + 1, d + 2) > limit).toBe(true);
    }
    expect(maxPointsForIndex(1)).toBe(378078);
    expect(maxPointsForIndex(2)).toBe(21564);
    expect(maxPointsForIndex(3)).toBe(4045);
  });

  it('refuses n past that limit, and past 65535, before allocating anything of size n²', () => {
    const big = (rows: number) => ({ data: new Float32Array(rows), rows, cols: 1 });
    expect(() => ripsPersistence(big(4046), { maxDim: 3 })).toThrow(NestlabArgumentError);
    expect(() => ripsPersistence(big(4046), { maxDim: 3 })).toThrow(/points must be at most 4045 points for maxDim 3/);
    expect(() => ripsPersistence(big(21565), { maxDim: 2 })).toThrow(/at most 21564 points for maxDim 2/);
    expect(() => ripsPersistence(big(65536), { maxDim: 0, memoryBudget: Infinity })).toThrow(/at most 65535 points/);
  });
});

describe('the memory estimate and options.memoryBudget', () => {
  it('estimateMemory is the larger of the ranking and reduction phases (docs/methods/topology.md §3 item 8)', () => {
    // n = 100, 1000 edges: ranking 8·10⁴ + 24·10³ = 104,000; reduction 8·10⁴ + 20·10³ + 8·100·4 + 4·10³ = 107,200
    expect(estimateMemory(100, 1, 1000, 0)).toBe(107200);
    // maxDim 0: no sweep, the ranking phase is larger
    expect(estimateMemory(100, 0, 1000, 0)).toBe(104000);
    // maxDim 3 adds the triangles kept, 12 bytes in a list of capacity 2^17 for 100,000 triangles
    expect(estimateMemory(100, 3, 1000, 100000)).toBe(107200 + 12 * 131072);
  });

  it('a budget below the estimate is a one-line NestlabArgumentError with the estimate and how to raise it', () => {
    const p = noisyCircle({ n: 300, seed: 1 }).points;
    let err: unknown;
    try {
      // above what the n × n matrices need (0.74 MB, checked first) but below the estimate with the edges
      ripsPersistence(p, { memoryBudget: 8e5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NestlabArgumentError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^topology\.ripsPersistence: options\.memoryBudget must be at least the memory the run needs/);
    expect(msg).toMatch(/estimated peak memory is \d+\.\d MB for n = 300, maxDim 1, \d+ edges within maxEdgeLength/);
    expect(msg).toMatch(/raise options\.memoryBudget, in bytes or Infinity/);
    expect(msg).toMatch(/got 0\.8 MB$/);
  });

  it('refuses a cloud whose n × n matrices alone exceed the budget without computing a distance', () => {
    const n = 30000;
    const t0 = performance.now();
    expect(() => ripsPersistence({ data: new Float32Array(n), rows: n, cols: 1 }, { memoryBudget: 1e9 })).toThrow(
      // 8n² (distances and ranks) + the sweep's bit matrices 8·n·⌈n/32⌉ = 7.2 + 0.225 GB
      /the n × n matrices alone need 7\.43 GB for n = 30000/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('counts the working columns against the budget as they grow (H2 of a sphere by heaps: they pass the estimate)', () => {
    const D = f32Distances(sphere({ n: 150, seed: 0 }).points.data, 150, 3);
    // sweep 'never': the long sphere class reduced in a heap (the degree-2 sweep keeps it small)
    const free = ripsPersistenceFromDistances(D, { maxDim: 2, sweep: 'never', memoryBudget: Infinity });
    const { estimated, tracked } = free.stats.memory;
    expect(tracked).toBeGreaterThan(5 * estimated);
    const tight = { maxDim: 2, sweep: 'never', memoryBudget: (estimated + tracked) / 2 } as const;
    expect(() => ripsPersistenceFromDistances(D, tight)).toThrow(NestlabComputationError);
    expect(() => ripsPersistenceFromDistances(D, tight)).toThrow(/the working columns of the degree-2 reduction brought the memory in use to/);
    // a budget above the tracked peak runs and gives the same bars
    expect(ripsPersistenceFromDistances(D, { maxDim: 2, sweep: 'never', memoryBudget: tracked + 1 }).bars).toEqual(free.bars);
    // the default reduction sweeps that column with a bit matrix and tracks less than the heaps
    const auto = ripsPersistenceFromDistances(D, { maxDim: 2, memoryBudget: Infinity });
    expect(auto.stats.sweeps[2]).toBeGreaterThan(0);
    expect(auto.stats.memory.tracked).toBeLessThan(tracked / 2);
    expect(auto.bars).toEqual(free.bars);
  });

  it('without room for its bit matrix in the budget, degree 2 keeps the heaps (same bars)', () => {
    const r = new Rng(21);
    const n = 1000;
    const D = f32Distances(Float32Array.from({ length: 3 * n }, () => r.uniform()), n, 3);
    const free = ripsPersistenceFromDistances(D, { maxDim: 2, maxEdgeLength: 0.2, sweep: 'always', memoryBudget: Infinity });
    expect(free.stats.sweeps[2]).toBeGreaterThan(0);
    // the bit matrix is C(1000, 2) rows of 32 words = 63.9 MB; give the run 32 MB above the estimate
    const res = ripsPersistenceFromDistances(D, { maxDim: 2, maxEdgeLength: 0.2, sweep: 'always', memoryBudget: free.stats.memory.estimated + 32e6 });
    expect(res.stats.sweeps[2]).toBe(0);
    expect(res.bars).toEqual(free.bars);
  });

  it('checks the option', () => {
    const D = Float64Array.from([0, 1, 1, 0]);
    for (const bad of [0, -1, Number.NaN, '1e9', -Infinity]) {
      expect(() => ripsPersistenceFromDistances(D, { memoryBudget: bad as number })).toThrow(/options\.memoryBudget must be a positive number of bytes or Infinity/);
    }
    expect(ripsPersistenceFromDistances(D, { memoryBudget: Infinity }).bars[0].births.length).toBe(2);
  });

  it('the estimate is within a factor of 2 of the measured peak resident memory (H1, n = 2000 and n = 3600)', async () => {
    const child = join(import.meta.dirname, 'memory-peak-child.ts');
    for (const name of ['circle2000', 'torus3600']) {
      const r = await runProcess(process.execPath, ['--expose-gc', '--import', 'tsx', child, name]);
      expect(r.status, r.stderr).toBe(0);
      const m = JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]) as { estimated: number; tracked: number; baseRss: number; peakRss: number };
      const measured = m.peakRss - m.baseRss;
      console.log(`${name}: estimate ${(m.estimated / 1e6).toFixed(1)} MB, tracked ${(m.tracked / 1e6).toFixed(1)} MB, measured peak RSS growth ${(measured / 1e6).toFixed(1)} MB`);
      expect(m.estimated / measured).toBeGreaterThan(0.5);
      expect(m.estimated / measured).toBeLessThan(2);
    }
  });
});
