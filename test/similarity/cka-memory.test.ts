import { beforeAll, describe, expect, it } from 'vitest';
import { NestlabArgumentError } from '../../src/errors.js';
import { initBackend } from '../../src/backend/select.js';
import { linearCka, linearCkaMemoryEstimate, rbfCka, rbfCkaMemoryEstimate } from '../../src/similarity/cka.js';
import { knnMemoryEstimate, nearestNeighbors } from '../../src/similarity/knn.js';
import { measurePeak, rejection } from '../backend/memory-peak.js';

beforeAll(async () => {
  await initBackend();
});

const column = (n: number, s = 1) => ({ data: new Float32Array(n).map((_, i) => (i * s) % 11), rows: n, cols: 1 });

describe('memory guards of CKA (and of the kNN search)', () => {
  it('the estimates count the n × n tensors alive at once', () => {
    // RBF, relative bandwidth: 9 float32 n × n tensors, the host identity and the two read-back copies
    expect(rbfCkaMemoryEstimate(100, 3, 4, true)).toBe(4e4 * 12 + 400 * 7);
    expect(rbfCkaMemoryEstimate(100, 3, 4, false)).toBe(4e4 * 10 + 400 * 7);
    // linear, feature form: inputs 4n(2p + q) and the three products
    expect(linearCkaMemoryEstimate(100, 3, 4, 'feature', false)).toBe(400 * 10 + 4 * (12 + 9 + 16));
    expect(linearCkaMemoryEstimate(10, 30, 40, 'gram', true)).toBe(40 * 140 + 400 * 10);
  });

  it('refuses n × n kernels above the budget before computing them', async () => {
    const x = column(100_000);
    const y = column(100_000, 3);
    const t0 = performance.now();
    const e = await rejection(rbfCka(x, y, { memoryBudget: 1e9 }));
    expect(performance.now() - t0).toBeLessThan(500);
    expect(e).toBeInstanceOf(NestlabArgumentError);
    expect((e as NestlabArgumentError).argument).toBe('options.memoryBudget');
    expect(e.message).toMatch(/^similarity\.rbfCka: options\.memoryBudget must be at least the memory the run needs \(the estimated peak memory is 480\.00 GB for n = 100000 stimuli; raise options\.memoryBudget, in bytes or Infinity, or lower the number of stimuli\), got 1\.00 GB$/);
    const g = await rejection(linearCka(x, y, { form: 'gram', memoryBudget: 1e9 }));
    expect(g.message).toMatch(/^similarity\.linearCka: .*for n = 100000, p = 1, q = 1 \(gram form\)/);
    // the feature form needs a few MB and runs
    expect(await linearCka(x, y, { memoryBudget: 1e8 })).toBeCloseTo(await linearCka(x, y, { memoryBudget: Infinity }), 12);
    expect(await rbfCka(column(30), column(30, 3), { memoryBudget: 1e8 })).toBe(await rbfCka(column(30), column(30, 3)));
  });

  it('nearestNeighbors checks its estimate (scores a block of ≤ 4M floats at a time)', async () => {
    expect(knnMemoryEstimate(1000, 1000, 10, 5, true, true)).toBe(40000 + 48000 + 4 * 1000 * 1000 + 60000 + 20000);
    const e = await rejection(nearestNeighbors(column(1_000_000), 50, { memoryBudget: 1e8 }));
    expect(e.message).toMatch(/^similarity\.nearestNeighbors: options\.memoryBudget must be at least .* for n = 1000000, d = 1, k = 50/);
  });

  it('the estimate is within a factor of 2 of the measured peak (RBF CKA, 2,000 stimuli)', async () => {
    const { ratio } = await measurePeak('cka');
    expect(ratio).toBeGreaterThanOrEqual(0.5);
    expect(ratio).toBeLessThanOrEqual(2);
  });
});
