import { describe, expect, it } from 'vitest';
import { NestlabArgumentError } from '../../src/errors.js';
import { umapEmbed, umapMemoryEstimate } from '../../src/plot/umap.js';
import { knnMemoryEstimate } from '../../src/similarity/knn.js';
import { measurePeak, rejection } from '../backend/memory-peak.js';

describe('memory guard of UMAP', () => {
  it('the estimate is the graph plus the largest phase, with the union and sampled edges bounded by 2E before they are counted', () => {
    const n = 1000;
    const k = 15;
    const e = n * (k - 1);
    // before the graph: union = sampled = 2E, the layout phase (40 per sampled edge) is the largest
    expect(umapMemoryEstimate(n, 5, k, 2, 'exact')).toBe(12 * n * k + Math.max(knnMemoryEstimate(n, n, 5, k - 1, true), 24 * e + 48 * e + 48 * n, 24 * e + 48 * e, 80 * e + 16 * n));
    // counted, n = 100,000: a union of 1.4E entries, few of them sampled (one epoch): the fuzzy set
    // (80.6 MB) is above the search (41.6 MB: a 40 x 100,000 block of scores, the result, the copies) and the layout
    const n2 = 100_000;
    const e2 = n2 * (k - 1);
    expect(knnMemoryEstimate(n2, n2, 5, k - 1, true)).toBeLessThan(45e6);
    expect(umapMemoryEstimate(n2, 5, k, 2, 'exact', { union: 1.4 * e2, sampled: 100 })).toBeCloseTo(12 * n2 * k + 24 * e2 + 24 * 1.4 * e2 + 48 * n2, 3);
  });

  it('refuses a graph above the budget before searching for neighbors', async () => {
    const n = 1_000_000;
    const x = { data: new Float32Array(n).map((_, i) => i % 101), rows: n, cols: 1 };
    const t0 = performance.now();
    const err = await rejection(umapEmbed(x, { memoryBudget: 1e8 }));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(NestlabArgumentError);
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(/^plot\.umap: options\.memoryBudget must be at least the memory the run needs \(the estimated peak memory is 1\.3\d GB for n = 1000000, d = 1, nNeighbors = 15; raise options\.memoryBudget, in bytes or Infinity, or lower the number of rows or nNeighbors\), got 100\.0 MB$/);
  });

  it('the estimate is within a factor of 2 of the measured peak (15,000 x 8, 90 neighbors)', async () => {
    const { ratio } = await measurePeak('umap');
    expect(ratio).toBeGreaterThanOrEqual(0.5);
    expect(ratio).toBeLessThanOrEqual(2);
  });
});
