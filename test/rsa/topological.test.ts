import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { geodesicDistances } from '../../src/math/graph.js';
import {
  finiteMaxReplace,
  forEachRgtm,
  geoTopological,
  geoTopologicalJoint,
  geodesicRdm,
  applyGt,
  minMaxNormalize,
  prepareGtVector,
  rankNormalize,
  rgdm,
  rgtmFamily,
  rgtmGrid,
  rgtmRegion,
} from '../../src/rsa/topological.js';
import { rdm, valuesOf, type RdmLike } from '../../src/rsa/condensed.js';
import { quantileSorted, rankdata } from '../../src/math/order.js';

// Test vectors T7/T8/T11 of docs/methods/rsa.md §13. Pair order (0,1), (0,2), (0,3), (1,2), (1,3), (2,3).
const d = [1, 2, 4, 8, 16, 32];
const close = (rdm: RdmLike, want: number[], tol = 1e-9) => {
  const got = valuesOf(rdm);
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    if (w === Infinity) expect(got[i], `entry ${i}`).toBe(Infinity);
    else expect(Math.abs(got[i] - w), `entry ${i}: ${got[i]} vs ${w}`).toBeLessThan(tol);
  });
};

describe('geo-topological transform (RGTM)', () => {
  it("rank mode reproduces the authors' gt_transform (T7a)", () => {
    // ranks 1..6 -> min-max [0, .2, .4, .6, .8, 1]; at (.2, .8): clip((r - .2)/.6, 0, 1)
    close(geoTopological(d, { l: 0.2, u: 0.8, mode: 'rank' }), [0, 0, 1 / 3, 2 / 3, 1, 1]);
    close(geoTopological(d, { l: 0, u: 1, mode: 'rank' }), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    close(geoTopological(d, { l: 0, u: 0.5, mode: 'rank' }), [0, 0.4, 0.8, 1, 1, 1]);
    close(geoTopological(d, { l: 0.5, u: 0.5 + 1e-5, mode: 'rank' }), [0, 0, 0, 1, 1, 1]);
    // ties: x = [.5, 2, 2.5, 2.5, 2, .5] -> ranks [1.5, 3.5, 5.5, 5.5, 3.5, 1.5] -> [0, .5, 1, 1, .5, 0]
    close(geoTopological([0.5, 2, 2.5, 2.5, 2, 0.5], { l: 0.2, u: 0.8, mode: 'rank' }), [0, 0.5, 1, 1, 0.5, 0]);
  });

  it('returns an Rdm that says what it measures and keeps the stimuli descriptors', () => {
    const r = geoTopological(rdm(d, { measure: 'euclidean', patternDescriptors: { label: ['a', 'b', 'c', 'd'] } }), { l: 0.2, u: 0.8 });
    expect(r.measure).toBe('GT(l=0.2, u=0.8) of euclidean');
    expect(r.n).toBe(4);
    expect(r.patternDescriptors).toEqual({ label: ['a', 'b', 'c', 'd'] });
    expect(geodesicRdm(r).measure).toBe('geodesic (threshold graph) of GT(l=0.2, u=0.8) of euclidean');
  });

  it('quantile mode (default): thresholds are numpy quantiles of the dissimilarities (T7b, T7c)', () => {
    // Q(.2) = 2, Q(.8) = 16: (4 - 2)/14, (8 - 2)/14
    close(geoTopological(d, { l: 0.2, u: 0.8 }), [0, 0, 1 / 7, 3 / 7, 1, 1]);
    // T7c, where rsatoolbox's re-masking bug returns 1 for the 4th entry: the canonical value is 2/3
    close(geoTopological([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], { l: 0.2, u: 0.8, mode: 'quantile' }), [0, 0, 1 / 3, 2 / 3, 1, 1]);
  });

  it('joint thresholds over several RDMs, as rsatoolbox pools them (T7d)', () => {
    // all 12 values [1..6, 10..60]: Q(.2) = 3.2, Q(.8) = 38
    const [r1, r2] = geoTopologicalJoint([[1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60]], { l: 0.2, u: 0.8 });
    close(r1, [0, 0, 0, 0.0229885057, 0.0517241379, 0.0804597701], 1e-9);
    close(r2, [0.1954022989, 0.4827586207, 0.7701149425, 1, 1, 1], 1e-9);
    expect(() => geoTopologicalJoint([[1, 2, 3, 4, 5, 6], [1, 2, 3]], { l: 0.2, u: 0.8 })).toThrow(/same size as rdms\[0\]/);
  });

  it('absolute mode and the adjacency limit l = u', () => {
    close(geoTopological(d, { l: 2, u: 16, mode: 'absolute' }), [0, 0, 1 / 7, 3 / 7, 1, 1]);
    // l = u = 4: pairs at or below 4 are neighbors (0), the rest far (1): 1 - adjacency
    close(geoTopological(d, { l: 4, u: 4, mode: 'absolute' }), [0, 0, 0, 1, 1, 1]);
  });

  it('l = min and u = max gives the min-max-normalized RDM (T11)', () => {
    const x = [0.5, 2, 2.5, 2.5, 2, 0.5];
    close(minMaxNormalize(x), [0, 0.75, 1, 1, 0.75, 0]);
    close(geoTopological(x, { l: 0, u: 1 }), [0, 0.75, 1, 1, 0.75, 0]);
    close(geoTopological(x, { l: 0.5, u: 2.5, mode: 'absolute' }), [0, 0.75, 1, 1, 0.75, 0]);
    const r = new Rng(3);
    const big = Array.from({ length: 190 }, () => r.uniform() * 7 + 1);
    close(geoTopological(big, { l: 0, u: 1 }), Array.from(minMaxNormalize(big)), 1e-12);
    close(geoTopological(big, { l: 0, u: 1, mode: 'rank' }), Array.from(rankNormalize(big)), 1e-12);
  });

  it('rejects l > u, out-of-range quantiles, NaN and too-small RDMs', () => {
    expect(() => geoTopological(d, { l: 0.8, u: 0.2 })).toThrow(/l must be at most u \(0.2\), got 0.8/);
    expect(() => geoTopological(d, { l: 0.2, u: 1.5 })).toThrow(/u must be a finite number in \[0, 1\]/);
    expect(() => geoTopological([1, NaN, 3, 4, 5, 6], { l: 0.2, u: 0.8 })).toThrow(/finite dissimilarities/);
    expect(() => geoTopological([1], { l: 0.2, u: 0.8 })).toThrow(/at least 3 stimuli/);
    expect(() => geoTopological(d, { l: 0.2, u: 0.8, mode: 'ranks' as never })).toThrow(/options.mode/);
  });
});

describe('RGTM family over the (l, u) grid', () => {
  it("the authors' grid: 229 cells at step 0.05, each in one of the five named regions", () => {
    const cells = rgtmGrid(0.05);
    expect(cells.length).toBe(229);
    expect(cells[0]).toEqual({ l: 0, u: 1, region: 'geometry sensitive' });
    expect(cells.every((c) => c.l <= c.u)).toBe(true);
    expect(rgtmRegion(0, 0.3)).toBe('local extractor');
    expect(rgtmRegion(0.7, 0.95)).toBe('global extractor');
    expect(rgtmRegion(0.05, 0.9)).toBe('geometry sensitive');
    expect(rgtmRegion(0.45, 0.55)).toBe('topology sensitive');
    expect(rgtmRegion(0.3, 0.7)).toBe('intermediate');
    expect(new Set(cells.map((c) => c.region)).size).toBe(5);
  });

  it('forEachRgtm equals geoTopological cell by cell', () => {
    const cells = rgtmGrid(0.25);
    const fam = rgtmFamily(d, cells, { mode: 'rank' });
    cells.forEach((c, i) => {
      const single = geoTopological(d, { l: c.l, u: c.u, mode: 'rank' });
      close(fam[i], Array.from(single.values));
      expect(fam[i].measure).toBe(single.measure);
    });
    let count = 0;
    forEachRgtm(d, cells, () => count++);
    expect(count).toBe(cells.length);
  });
});

describe('RGTM kernels against the plain definition', () => {
  /** GT written plainly, with branches (docs/methods/rsa.md §6.1). */
  const plainGt = (v: ArrayLike<number>, a: number, b: number): number[] =>
    Array.from(v, (x) => (a === b ? (x <= a ? 0 : 1) : x < a ? 0 : x > b ? 1 : (x - a) * (1 / (b - a))));
  /** The authors' rank mode written plainly: min-max of average ranks, numpy quantiles of a sorted copy. */
  const plainRankRgtm = (v: ArrayLike<number>, l: number, u: number): number[] => {
    const r = rankdata(v);
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of r) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    const s = 1 / (hi - lo);
    const x = Float64Array.from(r, (y) => (y - lo) * s);
    const sorted = Float64Array.from(x).sort();
    return plainGt(x, quantileSorted(sorted, l), quantileSorted(sorted, u));
  };
  const randomRdm = (rng: Rng, m: number, ties: boolean) => Array.from({ length: m }, () => (ties ? Math.floor(rng.uniform() * 20) : rng.uniform()));

  it('applyGt equals the branching definition exactly, at and around the thresholds too', () => {
    const rng = new Rng(21);
    const v = Float64Array.from({ length: 500 }, () => rng.uniform());
    v.set([0.25, 0.75, 0, 1, 0.2500000000000001, 0.7499999999999999], 0);
    for (const [a, b] of [[0.25, 0.75], [0, 1], [0.5, 0.5], [0.25, 0.25000000000000006], [-1, 2], [0.9, 0.95]]) {
      expect(Array.from(applyGt(v, a, b)), `(${a}, ${b})`).toEqual(plainGt(v, a, b));
    }
  });

  it('forEachRgtm (rank mode) equals the plain definition on every cell, with and without ties, odd and even lengths', () => {
    const rng = new Rng(9);
    for (const [m, ties] of [[45, false], [45, true], [300, false], [351, false], [300, true], [3, false], [3, true], [1225, true]] as const) {
      const v = randomRdm(rng, m, ties);
      const cells = rgtmGrid(0.1);
      let seen = 0;
      forEachRgtm(v, cells, (c, g, k) => {
        expect(k).toBe(seen++);
        expect(g.length).toBe(m);
        expect(Array.from(g), `m=${m} ties=${ties} (${c.l}, ${c.u})`).toEqual(plainRankRgtm(v, c.l, c.u));
      }, 'rank');
      expect(seen).toBe(cells.length);
    }
  });

  it('forEachRgtm in quantile and absolute modes equals geoTopological cell by cell', () => {
    const rng = new Rng(2);
    const v = randomRdm(rng, 435, false);
    for (const mode of ['quantile', 'absolute'] as const) {
      const cells = rgtmGrid(0.25);
      forEachRgtm(v, cells, (c, g) => expect(Array.from(g)).toEqual(Array.from(geoTopological(v, { l: c.l, u: c.u, mode }).values)), mode);
    }
  });

  it('rank-mode preparation sorts its values as a sort does, with and without ties', () => {
    const rng = new Rng(4);
    for (const ties of [false, true]) {
      const v = randomRdm(rng, 1000, ties);
      const p = prepareGtVector(v, 'rank');
      expect(Array.from(p.values)).toEqual(Array.from(rankNormalize(v)));
      expect(Array.from(p.sorted)).toEqual(Array.from(Float64Array.from(p.values).sort()));
    }
  });
});

describe('geodesic RDMs (RGDM)', () => {
  const g = [0, 0, 1 / 3, 2 / 3, 1, 1]; // T7a row 1
  it('canonical threshold graph keeps zero-weight edges and cuts pairs at 1 (T8)', () => {
    // edges 0-1 (0), 0-2 (0), 0-3 (1/3), 1-2 (2/3); 1-3 and 2-3 cut. 1-2 via 0 costs 0; 1-3, 2-3 via 0 cost 1/3.
    close(geodesicRdm(g), [0, 0, 1 / 3, 0, 1 / 3, 1 / 3]);
    close(geodesicRdm([0, 0.4, 0.8, 1, 1, 1]), [0, 0.4, 0.8, 0.4, 0.8, 1.2]);
  });

  it("networkx compatibility reproduces both Python codes' dropped zero-weight edges (T8)", () => {
    close(geodesicRdm(g, { compat: 'networkx' }), [Infinity, Infinity, 1 / 3, 2 / 3, Infinity, Infinity]);
    close(geodesicRdm(g, { compat: 'networkx', rankAfter: true }), [4.5, 4.5, 1, 2, 4.5, 4.5]);
    // rsatoolbox geodesic_transform on the raw RDM [1..6] (min-max -> [0,.2,.4,.6,.8,1])
    close(geodesicRdm([1, 2, 3, 4, 5, 6], { compat: 'networkx' }), [0.8, 0.2, 0.4, 0.6, 0.8, 0.6]);
  });

  it("epsilon and k-nearest graphs match the authors' p_shortest / k_nearest (T8)", () => {
    const v = [1, 2, 3, 4, 5, 6];
    close(geodesicRdm(v, { graph: 'epsilon', p: 0.5, compat: 'networkx' }), [Infinity, 0.2, 0.4, Infinity, Infinity, 0.6]);
    close(geodesicRdm(v, { graph: 'knn', k: 1, knnRule: 'authors', compat: 'networkx' }), [0.8, 0.2, Infinity, 0.6, Infinity, Infinity]);
    close(geodesicRdm(v, { graph: 'knn', k: 2, knnRule: 'authors', compat: 'networkx' }), [0.8, 0.2, 0.4, 0.6, 0.8, 0.6]);
    // symmetric union rule, canonical: every node's nearest neighbor is 0 -> a star at 0
    close(geodesicRdm(v, { graph: 'knn', k: 1 }), [0, 0.2, 0.4, 0.2, 0.4, 0.6]);
  });

  it('two-step RGDM = geodesics of the RGTM; Infinity can be replaced by the finite max', () => {
    close(rgdm(d, { l: 0.2, u: 0.8, mode: 'rank' }), [0, 0, 1 / 3, 0, 1 / 3, 1 / 3]);
    close(finiteMaxReplace([1, Infinity, 3]), [1, 3, 3]);
  });

  it('equals Floyd-Warshall on random small graphs, sparse and dense', () => {
    const rng = new Rng(7);
    for (const [n, density] of [[12, 0.15], [25, 0.05], [30, 0.6], [9, 1]] as const) {
      const w = new Float64Array(n * n).fill(Infinity);
      for (let i = 0; i < n; i++) {
        w[i * n + i] = 0;
        for (let j = i + 1; j < n; j++) {
          if (rng.uniform() < density) {
            const x = rng.uniform() < 0.1 ? 0 : rng.uniform();
            w[i * n + j] = x;
            w[j * n + i] = x;
          }
        }
      }
      const ref = naiveFloydWarshall(n, w);
      const got = geodesicDistances(n, w);
      ref.forEach((r, i) => (r === Infinity ? expect(got[i]).toBe(Infinity) : expect(got[i]).toBeCloseTo(r, 12)));
    }
  });
});

/** Textbook Floyd-Warshall with nested arrays, the reference. */
function naiveFloydWarshall(n: number, w: Float64Array): number[] {
  const d: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : w[i * n + j])));
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (d[i][k] + d[k][j] < d[i][j]) d[i][j] = d[i][k] + d[k][j];
  return d.flat();
}
