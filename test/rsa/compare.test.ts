import { describe, expect, it } from 'vitest';
import { compareRdmBatch, compareRdmMatrix, compareRdms, doubleCentered, kendallCounts, type CompareMethod } from '../../src/rsa/compare.js';
import { argsort, quantileSorted, rankdata } from '../../src/math/order.js';

// Test vectors T6 / T6b of docs/methods/rsa.md §13 (checked against rsatoolbox and scipy).
// x is the squared-Euclidean RDM of the 4 x 2 example [[0,0],[1,0],[0,2],[1,2]].
const x = [0.5, 2, 2.5, 2.5, 2, 0.5];
const y = [1, 3, 2, 5, 4, 0.5];
const a = [1, 2, 3, 4, 5, 6];
const b = [2, 1, 4, 3, 6, 5];
const c = [1, 1, 2, 2, 3, 3];

describe('ranks and quantiles', () => {
  it('average ranks for ties, as scipy rankdata', () => {
    expect(Array.from(rankdata([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    // T11: rank transform of x
    expect(Array.from(rankdata(x))).toEqual([1.5, 3.5, 5.5, 5.5, 3.5, 1.5]);
  });

  it('radix argsort is stable and orders negatives, -0, +0 and large vectors', () => {
    const v = new Float64Array(5000).map((_, i) => Math.sin(i) * 1e3 * (i % 3 ? 1 : 1e-9));
    v[10] = -0;
    v[11] = 0;
    const idx = argsort(v);
    for (let i = 1; i < v.length; i++) expect(v[idx[i - 1]] <= v[idx[i]]).toBe(true);
    const f32 = Float64Array.from(new Float32Array(3000).map((_, i) => (i % 17) - 8)); // float32-exact path, many ties
    const o = argsort(f32);
    for (let i = 1; i < f32.length; i++) {
      expect(f32[o[i - 1]] <= f32[o[i]]).toBe(true);
      if (f32[o[i - 1]] === f32[o[i]]) expect(o[i - 1] < o[i]).toBe(true); // stable
    }
  });

  it('numpy type-7 quantiles', () => {
    // [1,2,4,8,16,32]: h = 5 * 0.2 = 1 -> 2; h = 5 * 0.8 = 4 -> 16; h = 5 * 0.5 = 2.5 -> 4 + 0.5 * 4 = 6
    expect(quantileSorted([1, 2, 4, 8, 16, 32], 0.2)).toBe(2);
    expect(quantileSorted([1, 2, 4, 8, 16, 32], 0.8)).toBe(16);
    expect(quantileSorted([1, 2, 4, 8, 16, 32], 0.5)).toBe(6);
    expect(quantileSorted([1, 2, 4, 8, 16, 32], 1)).toBe(32);
  });
});

describe('compareRdms on the hand-checked vectors', () => {
  const table: [CompareMethod, number][] = [
    ['cosine', 0.9467905846],
    ['corr', 0.7904194509],
    ['spearman', 0.7171371656],
    ['rho-a', 144 / 210],
    ['tau-a', 8 / 15],
    ['tau-b', 0.596284794],
    ['cosine_cov', 0.9277773392],
    ['corr_cov', 0.8668115778],
  ];
  it.each(table)('%s(x, y) = %f', (method, want) => {
    expect(compareRdms(x, y, { method: method })).toBeCloseTo(want, 9);
  });

  it('T6b: a, b, c with ties', () => {
    const want: Record<string, [number, number]> = {
      cosine: [88 / 91, 0.9905360647],
      corr: [29 / 35, 0.9561828875],
      spearman: [29 / 35, 0.9561828875],
      'rho-a': [29 / 35, 32 / 35],
      'tau-a': [0.6, 0.8],
      'tau-b': [0.6, 0.894427191],
      cosine_cov: [0.9447004608, 0.9843241383],
      corr_cov: [0.8285714286, 0.9561828875],
    };
    for (const [method, [ab, ac]] of Object.entries(want)) {
      const got = compareRdmBatch([b, c], a, { method: method as CompareMethod });
      expect(got[0], `${method} a.b`).toBeCloseTo(ab, 9);
      expect(got[1], `${method} a.c`).toBeCloseTo(ac, 9);
    }
  });

  it('the double-centered matrix of x matches the hand-derived K = H(-D/2)H', () => {
    const K = doubleCentered(x);
    const want = [0.625, 0.375, -0.375, -0.625, 0.375, 0.625, -0.625, -0.375, -0.375, -0.625, 0.625, 0.375, -0.625, -0.375, 0.375, 0.625];
    want.forEach((w, i) => expect(K[i]).toBeCloseTo(w, 12));
  });

  it('kendall counts: concordant - discordant, ties in x, y and both', () => {
    // a vs c: pairs tied in c: (0,1), (2,3), (4,5) -> 3 ties; the other 12 are concordant
    expect(kendallCounts(a, c)).toEqual({ conMinusDis: 12, total: 15, xTies: 0, yTies: 3, jointTies: 0 });
    // b vs a: 3 swapped neighbors are discordant: 12 - 3 = 9
    expect(kendallCounts(b, a).conMinusDis).toBe(9);
  });

  it('rank comparators are invariant to monotone transforms; cosine is not', () => {
    const r = Array.from({ length: 45 }, (_, i) => Math.abs(Math.sin(i * 1.3)) + 0.01);
    const s = Array.from({ length: 45 }, (_, i) => Math.abs(Math.cos(i * 0.7)) + 0.05 * i);
    const warped = r.map((v) => Math.exp(3 * v) + v ** 3);
    for (const method of ['spearman', 'rho-a', 'tau-a', 'tau-b'] as const) {
      expect(compareRdms(warped, s, { method: method })).toBeCloseTo(compareRdms(r, s, { method: method }), 12);
    }
    expect(Math.abs(compareRdms(warped, s, { method: 'corr' }) - compareRdms(r, s, { method: 'corr' }))).toBeGreaterThan(1e-3);
  });

  it('is symmetric, 1 for identical RDMs, 0 cosine against a zero RDM', () => {
    for (const m of ['cosine', 'corr', 'spearman', 'tau-b', 'cosine_cov'] as const) {
      expect(compareRdms(x, y, { method: m })).toBeCloseTo(compareRdms(y, x, { method: m }), 12);
      expect(compareRdms(y, y, { method: m })).toBeCloseTo(1, 12);
    }
    expect(compareRdms([0, 0, 0, 0, 0, 0], y, { method: 'cosine' })).toBe(0);
  });

  it('drops NaN pairs present in both; the matrix form lists every pair', () => {
    const xn = [0.5, NaN, 2.5, 2.5, 2, 0.5];
    const yn = [1, NaN, 2, 5, 4, 0.5];
    // Pearson r of the 5 remaining pairs, written out
    const p = [0.5, 2.5, 2.5, 2, 0.5];
    const q = [1, 2, 5, 4, 0.5];
    const mp = p.reduce((s, v) => s + v, 0) / 5;
    const mq = q.reduce((s, v) => s + v, 0) / 5;
    const cov = p.reduce((s, v, i) => s + (v - mp) * (q[i] - mq), 0);
    const r = cov / Math.sqrt(p.reduce((s, v) => s + (v - mp) ** 2, 0) * q.reduce((s, v) => s + (v - mq) ** 2, 0));
    expect(compareRdms(xn, yn, { method: 'corr' })).toBeCloseTo(r, 12);
    const mtx = compareRdmMatrix([x, y], [a, b, c], { method: 'spearman' });
    expect(mtx.length).toBe(6);
    expect(mtx[1 * 3 + 0]).toBeCloseTo(compareRdms(y, a, { method: 'spearman' }), 12);
  });

  it('rejects mismatched sizes, mismatched NaN, Infinity, tiny RDMs and unknown methods', () => {
    expect(() => compareRdms(x, [1, 2, 3], { method: 'cosine' })).toThrow(/rsa.compareRdms: x must be an RDM of the same size as y \(length 3, 3 stimuli\)/);
    expect(() => compareRdms([0.5, NaN, 2.5, 2.5, 2, 0.5], y, { method: 'cosine' })).toThrow(/same positions/);
    expect(() => compareRdms([0.5, Infinity, 2.5, 2.5, 2, 0.5], y)).toThrow(/finite dissimilarities/);
    expect(() => compareRdms([1], [2])).toThrow(/at least 3 stimuli/);
    expect(() => compareRdms(x, y, { method: 'kendall' as never })).toThrow(/method must be one of/);
    expect(() => compareRdms([0.5, NaN, 2.5, 2.5, 2, 0.5], [1, NaN, 2, 5, 4, 0.5], { method: 'cosine_cov' })).toThrow(/not implemented/);
  });
});
