import { describe, expect, it } from 'vitest';
import { kthLargest, median, pearsonCorrelation, quickselect, spearmanCorrelation } from '../../src/math/order.js';

describe('selection (numpy semantics)', () => {
  it('median averages the two middle values of an even count', () => {
    expect(median(Float64Array.from([4, 1, 3, 2]))).toBe(2.5);
    expect(median(Float64Array.from([5, 1, 3]))).toBe(3);
    expect(median(Float64Array.from([0, 0, 0, 1, 0, 7]))).toBe(0);
  });

  it('quickselect returns the k-th smallest and kthLargest the k-th largest, like a sort', () => {
    const v = Float64Array.from([9, -1, 4, 4, 0, 7, 3]);
    const sorted = Array.from(v).sort((a, b) => a - b);
    for (let k = 0; k < v.length; k++) expect(quickselect(v.slice(), k)).toBe(sorted[k]);
    for (let k = 1; k <= v.length; k++) expect(kthLargest(v, k)).toBe(sorted[v.length - k]);
    expect(Array.from(v)).toEqual([9, -1, 4, 4, 0, 7, 3]); // kthLargest leaves its input alone
  });
});

describe('pearsonCorrelation and spearmanCorrelation', () => {
  it('match hand values (scipy.stats.pearsonr / spearmanr)', () => {
    expect(pearsonCorrelation([1, 2, 3], [2, 4, 7])).toBeCloseTo(5 / Math.sqrt(2 * (38 / 3)), 12);
    expect(spearmanCorrelation([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12);
    expect(spearmanCorrelation([1, 2, 2, 3], [3, 2, 2, 1])).toBeCloseTo(-1, 12); // ties share their average rank
    expect(pearsonCorrelation([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});
