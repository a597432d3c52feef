import { describe, it, expect } from 'vitest';
import { ripsPersistence, ripsPersistenceFromDistances, ripsPersistenceUnpacked, enclosingRadius, CofacetWalk } from '../../src/topology/persistence.js';
import { noisyCircle, twoCircles, torus, sphere } from '../../src/data/shapes.js';
import { lifetimes } from '../../src/topology/diagram.js';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { barsDifference, f32Distances, hasRipser, ripserBars } from './ripser-peer.js';

const sortedDesc = (a: Float64Array) => Array.from(a).sort((x, y) => y - x);
const countAbove = (a: Float64Array, t: number) => Array.from(a).filter((x) => x > t).length;

/** Single-linkage merge heights by hand: repeatedly merge the two closest clusters (O(n^3)). */
function singleLinkageHeights(D: Float32Array, n: number): number[] {
  const label = Array.from({ length: n }, (_, i) => i);
  const heights: number[] = [];
  for (let step = 0; step < n - 1; step++) {
    let best = Infinity;
    let bi = -1;
    let bj = -1;
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
      if (label[i] !== label[j] && D[i * n + j] < best) {
        best = D[i * n + j];
        bi = i;
        bj = j;
      }
    }
    heights.push(best);
    const from = label[bi];
    for (let k = 0; k < n; k++) if (label[k] === from) label[k] = label[bj];
  }
  return heights.sort((a, b) => a - b);
}

describe('ripsPersistence: hand-computed answers', () => {
  it('unit square: three H0 bars [0, 1), one infinite, one H1 bar [1, sqrt 2)', () => {
    const sq = { data: Float32Array.from([0, 0, 1, 0, 1, 1, 0, 1]), rows: 4, cols: 2 };
    const res = ripsPersistence(sq, { maxDim: 1, maxEdgeLength: 2 });
    expect(Array.from(res.bars[0].deaths)).toEqual([1, 1, 1, Infinity]);
    expect(res.bars[1].births[0]).toBe(1);
    expect(res.bars[1].deaths[0]).toBeCloseTo(Math.SQRT2, 6);
    expect(res.bars[1].births.length).toBe(1);
  });

  it('regular octagon: H1 = [2 sin(pi/8), 2 sin(3pi/8)), H2 empty (Adamaszek-Adams)', () => {
    const x = new Float32Array(16);
    for (let i = 0; i < 8; i++) {
      x[2 * i] = Math.cos((i * Math.PI) / 4);
      x[2 * i + 1] = Math.sin((i * Math.PI) / 4);
    }
    const res = ripsPersistence({ data: x, rows: 8, cols: 2 }, { maxDim: 2 });
    expect(res.bars[1].births.length).toBe(1);
    expect(res.bars[1].births[0]).toBeCloseTo(2 * Math.sin(Math.PI / 8), 5);
    expect(res.bars[1].deaths[0]).toBeCloseTo(2 * Math.sin((3 * Math.PI) / 8), 5);
    expect(res.bars[2].births.length).toBe(0);
  });

  it('H0 deaths equal the single-linkage merge heights', () => {
    const rng = new Rng(3);
    const n = 40;
    const x = Float32Array.from({ length: n * 3 }, () => rng.normal());
    const D = f32Distances(x, n, 3);
    const res = ripsPersistenceFromDistances(D, { maxDim: 0, maxEdgeLength: 1e9 });
    const finite = Array.from(res.bars[0].deaths).filter(Number.isFinite);
    expect(finite).toEqual(singleLinkageHeights(D, n));
    expect(res.bars[0].deaths.filter((d) => d === Infinity).length).toBe(1);
  });

  it('the default maximal edge length is the enclosing radius min_i max_j d(i, j)', () => {
    const D = Float32Array.from([0, 1, 3, 1, 0, 2, 3, 2, 0]);
    expect(enclosingRadius(3, D)).toBe(2);
    expect(ripsPersistenceFromDistances(D).maxEdgeLength).toBe(2);
  });

  it('square and condensed layouts give the same bars', () => {
    const sq = Float64Array.from([0, 1, 2, 1, 0, 1.5, 2, 1.5, 0]);
    const cond = Float64Array.from([1, 2, 1.5]);
    expect(ripsPersistenceFromDistances(sq).bars).toEqual(ripsPersistenceFromDistances(cond).bars);
  });
});

describe('ripsPersistence: known topology of sampled shapes', () => {
  it('noisy circle: one long H1 bar', () => {
    const res = ripsPersistence(noisyCircle({ n: 200, seed: 1 }).points);
    const l = sortedDesc(lifetimes(res.bars[1]));
    expect(l[0]).toBeGreaterThan(1.2);
    expect(l[1]).toBeLessThan(0.1);
  });

  it('two circles: two long H1 bars and two clusters', () => {
    const res = ripsPersistence(twoCircles({ n: 240, seed: 2 }).points);
    expect(countAbove(lifetimes(res.bars[1]), 0.75)).toBe(2);
    expect(countAbove(res.bars[0].deaths.map((d) => (Number.isFinite(d) ? d : 99)), 0.75)).toBe(2);
  });

  it('Clifford torus: Betti (1, 2, 1)', () => {
    const res = ripsPersistence(torus({ n: 200, embedding: 'clifford', seed: 0 }).points, { maxDim: 2 });
    const b = [0, 1, 2].map((d) => countAbove(res.bars[d].deaths.map((x, i) => x - res.bars[d].births[i]), [0.75, 0.75, 0.3][d]));
    expect(b).toEqual([1, 2, 1]);
  });

  it('sphere: Betti (1, 0, 1)', () => {
    const res = ripsPersistence(sphere({ n: 150, seed: 0 }).points, { maxDim: 2 });
    const b = [0, 1, 2].map((d) => countAbove(res.bars[d].deaths.map((x, i) => x - res.bars[d].births[i]), [0.75, 0.75, 0.3][d]));
    expect(b).toEqual([1, 0, 1]);
  });
});

describe.skipIf(!hasRipser)('ripsPersistence equals the ripser binary', () => {
  const clouds: [string, () => { x: Float32Array; n: number; d: number }][] = [
    ['circle n=300', () => { const s = noisyCircle({ n: 300, seed: 11 }).points; return { x: s.data, n: s.rows, d: s.cols }; }],
    ['R^3 torus n=250', () => { const s = torus({ n: 250, seed: 12 }).points; return { x: s.data, n: s.rows, d: s.cols }; }],
    ['uniform cube n=200', () => { const r = new Rng(13); return { x: Float32Array.from({ length: 600 }, () => r.uniform()), n: 200, d: 3 }; }],
    ['integer grid (many ties) n=100', () => { const x = new Float32Array(200); for (let i = 0; i < 100; i++) { x[2 * i] = i % 10; x[2 * i + 1] = Math.floor(i / 10); } return { x, n: 100, d: 2 }; }],
  ];
  for (const [name, make] of clouds) {
    it(`${name}: H0 and H1, heap and sweep reductions, packed and (rank, index) pair heaps`, () => {
      const { x, n, d } = make();
      const D = f32Distances(x, n, d);
      const ref = ripserBars(D, n, 1);
      for (const sweep of ['auto', 'always', 'never'] as const) {
        for (const ours of [ripsPersistenceFromDistances(D, { maxDim: 1, sweep }), ripsPersistenceUnpacked(D, { maxDim: 1, sweep })]) {
          expect(barsDifference(ours.bars[0], ref[0])).toBeLessThan(1e-5);
          expect(barsDifference(ours.bars[1], ref[1])).toBeLessThan(1e-5);
        }
      }
    });
  }

  it('H2 of a sphere and of a random cloud', () => {
    for (const [x, n] of [[sphere({ n: 100, seed: 4 }).points.data, 100], [(() => { const r = new Rng(5); return Float32Array.from({ length: 240 }, () => r.uniform()); })(), 80]] as const) {
      const D = f32Distances(x, n, 3);
      const ref = ripserBars(D, n, 2);
      for (const ours of [ripsPersistenceFromDistances(D, { maxDim: 2 }), ripsPersistenceUnpacked(D, { maxDim: 2 })]) {
        for (let dim = 0; dim <= 2; dim++) expect(barsDifference(ours.bars[dim], ref[dim])).toBeLessThan(1e-5);
      }
    }
  });

  it('an explicit maxEdgeLength below the enclosing radius gives the same essential bars', () => {
    const s = noisyCircle({ n: 120, seed: 7 }).points;
    const D = f32Distances(s.data, s.rows, 2);
    const ref = ripserBars(D, s.rows, 1, 0.5);
    const ours = ripsPersistenceFromDistances(D, { maxDim: 1, maxEdgeLength: 0.5 });
    expect(ours.bars[1].deaths.includes(Infinity)).toBe(true);
    expect(barsDifference(ours.bars[0], ref[0])).toBeLessThan(1e-5);
    expect(barsDifference(ours.bars[1], ref[1])).toBeLessThan(1e-5);
  });
});

describe('CofacetWalk (ripser simplex_coboundary_enumerator) against brute force', () => {
  const binom = (n: number, k: number): number => {
    if (k < 0 || k > n) return 0;
    let r = 1;
    for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
    return Math.round(r);
  };
  /** All k-subsets of 0..n-1, each ascending. */
  const subsets = (n: number, k: number): number[][] => {
    if (k === 0) return [[]];
    const out: number[][] = [];
    for (let top = k - 1; top < n; top++) for (const s of subsets(top, k - 1)) out.push([...s, top]);
    return out;
  };
  /** Combinatorial index Σ_i C(v_i, i + 1) of an ascending vertex list. */
  const indexOf = (vs: number[]) => vs.reduce((acc, v, i) => acc + binom(v, i + 1), 0);
  const diameter = (vs: number[], rank: Int32Array, n: number) => {
    let m = 0;
    for (const a of vs) for (const b of vs) if (a !== b) m = Math.max(m, rank[a * n + b]);
    return m;
  };

  for (const n of [5, 9]) {
    it(`n = ${n}: the cofacets of every d-simplex (d = 0..2), vertices and diameter rank, in ripser's order`, () => {
      // few distinct ranks, so that cofacets share the simplex's diameter (the apparent-pair case)
      const rng = new Rng(n);
      const rank = new Int32Array(n * n);
      for (let i = 0; i < n; i++) {
        rank[i * n + i] = 0x7fffffff;
        for (let j = 0; j < i; j++) rank[i * n + j] = rank[j * n + i] = Math.floor(rng.uniform() * 4);
      }
      const maxDim = 2;
      const B = Array.from({ length: maxDim + 3 }, (_, k) => Float64Array.from({ length: n + 1 }, (_, j) => binom(j, k)));
      const walk = new CofacetWalk(n, rank, B);
      for (let d = 0; d <= maxDim; d++) {
        // the (d+1)-simplices by index, to read the vertices of each cofacet reported
        const byIndex = new Map(subsets(n, d + 2).map((t) => [indexOf(t), t]));
        expect(byIndex.size).toBe(binom(n, d + 2));
        for (const s of subsets(n, d + 1)) {
          const r = diameter(s, rank, n);
          // ripser's order: the added vertex j from n - 1 down, i.e. cofacet indices decreasing
          const expected: { vertices: number[]; diam: number }[] = [];
          for (let j = n - 1; j >= 0; j--) {
            if (s.includes(j)) continue;
            const t = [...s, j].sort((a, b) => a - b);
            expected.push({ vertices: t, diam: diameter(t, rank, n) });
          }
          // maxDiam: all, a threshold, the simplex's own diameter (get_zero_pivot_cofacet's use)
          for (const maxDiam of [Infinity, 1, r]) {
            for (const allCofacets of [true, false]) {
              const got: { vertices: number[]; diam: number }[] = [];
              walk.start(r, indexOf(s), d, allCofacets);
              while (walk.next(maxDiam)) got.push({ vertices: byIndex.get(walk.index) ?? [], diam: walk.diam });
              expect(walk.next(maxDiam)).toBe(false); // stays at its end
              const want = expected.filter((c) => c.diam <= maxDiam && (allCofacets || c.vertices[d + 1] > s[d]));
              expect(got).toEqual(want);
            }
          }
        }
      }
    });
  }
});

describe('ripsPersistence: bad input', () => {
  it('rejects NaN, n < 2, non-square, asymmetric and negative distances', () => {
    expect(() => ripsPersistence({ data: Float32Array.from([0, NaN, 1, 1]), rows: 2, cols: 2 })).toThrow(NestlabArgumentError);
    expect(() => ripsPersistence({ data: Float32Array.from([0, 0]), rows: 1, cols: 2 })).toThrow(NestlabArgumentError);
    expect(() => ripsPersistenceFromDistances(Float64Array.from([0, 1, 1, 0, 2]))).toThrow(/square/);
    expect(() => ripsPersistenceFromDistances(Float64Array.from([0, 1, 2, 0]))).toThrow(/symmetric/);
    expect(() => ripsPersistenceFromDistances(Float64Array.from([0, -1, -1, 0]))).toThrow(/non-negative/);
    expect(() => ripsPersistenceFromDistances(Float64Array.from([0, NaN, NaN, 0]))).toThrow(/finite/);
    expect(() => ripsPersistenceFromDistances(Float64Array.from([0]))).toThrow(NestlabArgumentError);
    expect(() => ripsPersistenceFromDistances(Float64Array.from([0, 1, 1, 0]), { maxDim: 7 })).toThrow(/maxDim/);
    expect(() => ripsPersistenceFromDistances(Float64Array.from([0, 1, 1, 0]), { tresh: 1 } as never)).toThrow(/tresh/);
  });
});
