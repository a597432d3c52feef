import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NestlabArgumentError } from '../../src/errors.js';
import { initBackend } from '../../src/backend/select.js';
import { computeRdm, computeRdms, crossnobisMemoryEstimate, crossnobisRdm, rdmMemoryEstimate } from '../../src/rsa/rdm.js';
import { geodesicMemoryEstimate, geodesicRdm, rgdm } from '../../src/rsa/topological.js';
import { measurePeak, rejection } from '../backend/memory-peak.js';

const saved = process.env.NESTLAB_MEMORY_BUDGET;
beforeAll(async () => {
  await initBackend();
});
beforeEach(() => {
  delete process.env.NESTLAB_MEMORY_BUDGET;
});
afterEach(() => {
  if (saved !== undefined) process.env.NESTLAB_MEMORY_BUDGET = saved;
});

const column = (n: number) => ({ data: new Float32Array(n).map((_, i) => i % 7), rows: n, cols: 1 });

describe('memory guards of the RDMs', () => {
  it('rdmMemoryEstimate counts the pattern tensors, the Gram matrix, its read-back and the RDMs', () => {
    // n = 100, P = 10, euclidean: 3 tensors 4nP + Gram 4n² + read-back 4n² + RDM 4n(n−1) + 64n
    expect(rdmMemoryEstimate(100, 10, ['euclidean'])).toBe(12000 + 40000 + 40000 + 39600 + 6400);
    // euclidean + correlation share one Gram product; poisson makes its own (and 4 pattern tensors)
    expect(rdmMemoryEstimate(100, 10, ['euclidean', 'correlation', 'poisson'])).toBe(16000 + 40000 + 80000 + 3 * 39600 + 6400);
  });

  it('refuses a stimulus set whose n × n matrices exceed the budget, before computing anything', async () => {
    const x = column(100_000);
    const t0 = performance.now();
    const e = await rejection(computeRdm(x, { memoryBudget: 1e9 }));
    expect(performance.now() - t0).toBeLessThan(500);
    expect(e).toBeInstanceOf(NestlabArgumentError);
    expect(e.message).not.toContain('\n');
    // 4n² (Gram) + 4n² (read back) + 4n(n−1) (the condensed Float64 RDM) ≈ 120 GB
    expect(e.message).toMatch(/^rsa\.computeRdm: options\.memoryBudget must be at least the memory the run needs \(the estimated peak memory is 120\.0\d GB for n = 100000 stimuli, P = 1 channels; raise options\.memoryBudget, in bytes or Infinity, or lower the number of stimuli or channels\), got 1\.00 GB$/);
    // the default budget (half of the available memory) refuses 300,000 stimuli (1.08 TB)
    const d = await rejection(computeRdms(column(300_000), ['euclidean', 'correlation']));
    expect(d.message).toMatch(/the estimated peak memory is \d+\.\d\d GB for n = 300000 stimuli.*\(the default, half of the available memory\)$/);
    // a budget that fits runs as before
    expect((await computeRdm(column(50), { memoryBudget: 1e8 })).values).toEqual((await computeRdm(column(50))).values);
  });

  it('guards crossnobisRdm and the geodesic RDMs too', async () => {
    const fold = column(60_000);
    const c = await rejection(crossnobisRdm([fold, fold], { memoryBudget: 1e9 }));
    expect(c).toBeInstanceOf(NestlabArgumentError);
    expect(c.message).toMatch(/^rsa\.crossnobisRdm: options\.memoryBudget must be at least .* for 2 folds of n = 60000 conditions/);
    expect(crossnobisMemoryEstimate(10, 2, 2, false)).toBe(4 * 10 * 2 * 5 + 400 + 1600 + 360);

    // n = 2000: the first check, before the n × n weights, already needs 98 MB
    const big = new Float64Array((2000 * 1999) / 2).map((_, i) => 1 + (i % 13));
    const g = await rejection(Promise.resolve().then(() => geodesicRdm(big, { memoryBudget: 1e7 })));
    expect(g).toBeInstanceOf(NestlabArgumentError);
    expect(g.message).toMatch(/^rsa\.geodesicRdm: .*for n = 2000 stimuli \(before counting the graph's edges\)/);
    // n = 300, a threshold graph of every pair but the largest: above the first bound, below the full estimate
    const n = 300;
    const m = (n * (n - 1)) / 2;
    const small = new Float64Array(m).map((_, i) => 1 + (i % 97));
    const lower = geodesicMemoryEstimate(n, 0, false, false);
    // min-max normalized: the largest value (i % 97 = 96) is cut, the smallest (i % 97 = 0) is a free edge
    let edges = 0;
    for (let i = 0; i < m; i++) if (i % 97 !== 96) edges++;
    const full = geodesicMemoryEstimate(n, edges, true, false);
    expect(full).toBeGreaterThan(lower);
    const budget = (lower + full) / 2;
    const h = await rejection(Promise.resolve().then(() => geodesicRdm(small, { memoryBudget: budget })));
    expect(h.message).toMatch(/for n = 300 stimuli and \d+ graph edges/);
    const r = await rejection(Promise.resolve().then(() => rgdm(small, { l: 0.1, u: 0.9, memoryBudget: 1e5 })));
    expect(r.message).toMatch(/^rsa\.rgdm: options\.memoryBudget must be at least/);
    expect(geodesicRdm(small, { memoryBudget: full + 1 }).values).toEqual(geodesicRdm(small).values);
  });

  it('the estimate is within a factor of 2 of the measured peak (Euclidean RDM, 4,000 x 64)', async () => {
    const { ratio } = await measurePeak('rdm');
    expect(ratio).toBeGreaterThanOrEqual(0.5);
    expect(ratio).toBeLessThanOrEqual(2);
  });
});
