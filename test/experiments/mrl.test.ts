import { describe, it, expect } from 'vitest';
import { mrlVerdict } from '../../src/experiments/mrl-accuracy.js';
import { retrievalVerdict } from '../../src/experiments/mrl-retrieval.js';
import { dodgeSizes, pairedGap, signedPoints, spreadBy, standardizeColumns, withinFrom, zoomDomain, zoomSizes } from '../../src/experiments/mrl-common.js';

const s = (mean: number, sd = 0) => ({ mean, sd });

describe('mrl figures: summaries and verdicts', () => {
  it('summarizes seeds per method and size as mean and sample sd', () => {
    const rows = [
      { method: 'MRL', size: 2, seed: 0, accuracy: 0.5 },
      { method: 'MRL', size: 2, seed: 1, accuracy: 0.7 },
      { method: 'FF-m', size: 2, seed: 0, accuracy: 0.4 },
    ];
    const out = spreadBy(rows, (r) => r.accuracy);
    expect(out.MRL[2].mean).toBeCloseTo(0.6, 12);
    expect(out.MRL[2].sd).toBeCloseTo(Math.SQRT2 * 0.1, 12); // sd of {0.5, 0.7} with n − 1
    expect(out['FF-m'][2]).toEqual({ mean: 0.4, sd: 0 });
  });

  it('pairs seeds for the MRL − FF-m gap', () => {
    const rows = [
      { method: 'MRL', size: 4, seed: 0, v: 0.9 },
      { method: 'MRL', size: 4, seed: 1, v: 0.8 },
      { method: 'FF-m', size: 4, seed: 1, v: 0.85 },
      { method: 'FF-m', size: 4, seed: 0, v: 0.91 },
    ];
    const gap = pairedGap(rows, 'MRL', 'FF-m', 4, (r) => r.v);
    expect(gap.mean).toBeCloseTo((-0.01 - 0.05) / 2, 12);
  });

  it('finds the size from which MRL stays within a tolerance of FF-m, with no rounding slack', () => {
    // the review's case: a 1.02-point shortfall at m = 4 is not "within 1 point from m = 4"
    const gaps = [2, 4, 8, 16].map((size, i) => ({ size, gap: s([-0.036, -0.0102, -0.005, 0.0][i]) }));
    expect(withinFrom(gaps, 0.01)).toBe(8);
    expect(withinFrom([{ size: 2, gap: s(0.01) }, { size: 4, gap: s(-0.02) }], 0.01)).toBeNull();
    expect(signedPoints(-0.0102)).toBe('−1.02 pt');
    expect(signedPoints(0.0035)).toBe('+0.35 pt');
  });

  it('says reproduced when MRL matches FF-m and beats PCA/random at the smallest size', () => {
    const acc = { MRL: { 2: s(0.6), 8: s(0.95) }, 'FF-m': { 2: s(0.605), 8: s(0.95) }, 'PCA of FF': { 2: s(0.3) }, 'random FF units': { 2: s(0.2) } };
    const v = mrlVerdict(acc, [
      { size: 2, gap: s(-0.005, 0.001) },
      { size: 8, gap: s(0, 0.002) },
    ]);
    expect(v[0]).toContain('m=2: 60.00 ± 0.00 % vs 60.50 ± 0.00 % (−0.50 pt ± 0.10)');
    expect(v[1]).toMatch(/^Claim 1 reproduced: MRL is within 1 pt of \(or above\) FF-m at every size \(smallest gap −0.50 pt, at m=2\)/);
    expect(v[2]).toBe('Claim 2 reproduced: at m=2, MRL beats PCA of FF by +30.00 pt and random FF units by +40.00 pt.');
  });

  it('says not reproduced, with the gap to two decimals and the size from which it holds', () => {
    const acc = { MRL: { 2: s(0.5), 4: s(0.9), 8: s(0.95) }, 'FF-m': { 2: s(0.6), 4: s(0.9102), 8: s(0.95) }, 'PCA of FF': { 2: s(0.55) }, 'random FF units': { 2: s(0.2) } };
    const v = mrlVerdict(acc, [
      { size: 2, gap: s(-0.1) },
      { size: 4, gap: s(-0.0102) },
      { size: 8, gap: s(0) },
    ]);
    expect(v[1]).toBe('Claim 1 not reproduced at this scale: MRL trails FF-m by −10.00 pt at m=2; within 1 pt from m=8 up.');
    expect(v[2]).toMatch(/^Claim 2 not reproduced at m=2: MRL − PCA of FF = −5.00 pt/);
  });

  it('states each funnel against single-shot search with all d dims', () => {
    const map = { MRL: { 2: s(0.7), 8: s(0.94) }, 'FF-m': { 2: s(0.72), 8: s(0.93) } };
    const v = retrievalVerdict(map, [{ size: 2, gap: s(-0.02) }, { size: 8, gap: s(0.01) }], [{ method: 'MRL funnel 2→8', size: 2, mapAt10: s(0.935, 0.002), costRatio: 3.2 }], 8);
    expect(v[1]).toBe('MRL retrieves better than FF-m at 1 of 2 sizes (m = 8).');
    expect(v[2]).toBe('MRL funnel 2→8: mAP@10 0.935 ± 0.002 vs single-shot 8 dims 0.940 ± 0.000 (−0.50 pt) at 3.2x less compute.');
  });
});

describe('mrl figures: chart helpers', () => {
  it('zooms on the sizes where the methods are within 5 points, at least two of them', () => {
    const cells = { A: { 2: s(0.5), 4: s(0.9), 8: s(0.95), 16: s(0.951) }, B: { 2: s(0.8), 4: s(0.94), 8: s(0.94), 16: s(0.95) } };
    expect(zoomSizes(cells)).toEqual([4, 8, 16]);
    expect(zoomSizes({ A: { 2: s(0.1), 4: s(0.5) }, B: { 2: s(0.9), 4: s(0.9) } })).toEqual([2, 4]);
    const [lo, hi] = zoomDomain([s(0.94, 0.001), s(0.95, 0.002)]);
    expect(lo).toBeCloseTo(0.939 - 0.002, 12); // padding: 10 % of the range, at least 0.002
    expect(hi).toBeCloseTo(0.952 + 0.002, 12);
  });

  it('dodges the methods symmetrically around each size', () => {
    expect(dodgeSizes(['a', 'b', 'c']).calculate).toBe('datum.size * pow(2, 0.04 * (indexof(["a","b","c"], datum.method) - 1))');
  });

  it('z-scores columns with the training rows’ statistics (a constant column is only centered)', () => {
    const train = { data: Float32Array.from([1, 5, 3, 5]), rows: 2, cols: 2 };
    const test = { data: Float32Array.from([2, 6]), rows: 1, cols: 2 };
    const [a, b] = standardizeColumns(train, test);
    expect(Array.from(a.data)).toEqual([-1, 0, 1, 0]);
    expect(Array.from(b.data)).toEqual([0, 1]);
  });
});
