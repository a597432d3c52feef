import { afterEach, describe, expect, it } from 'vitest';
import { NestlabArgumentError } from '../../src/errors.js';
import { noisyCircle } from '../../src/data/shapes.js';
import { ripsPersistence } from '../../src/topology/persistence.js';
import { measurePeak } from '../backend/memory-peak.js';

const saved = process.env.NESTLAB_MEMORY_BUDGET;
afterEach(() => {
  if (saved === undefined) delete process.env.NESTLAB_MEMORY_BUDGET;
  else process.env.NESTLAB_MEMORY_BUDGET = saved;
});

describe('memory guard of Rips persistence (the shared budget of src/backend/memory.ts)', () => {
  it('takes its default from NESTLAB_MEMORY_BUDGET, and says so', () => {
    process.env.NESTLAB_MEMORY_BUDGET = '1MB';
    const p = noisyCircle({ n: 300, seed: 1 }).points;
    let err: unknown;
    try {
      ripsPersistence(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NestlabArgumentError);
    expect((err as Error).message).toMatch(/^topology\.ripsPersistence: options\.memoryBudget must be at least the memory the run needs \(the estimated peak memory is \d+\.\d MB for n = 300, maxDim 1/);
    expect((err as Error).message).toMatch(/got 1\.0 MB \(from NESTLAB_MEMORY_BUDGET\)$/);
    // options.memoryBudget wins over the variable
    expect(ripsPersistence(p, { memoryBudget: Infinity }).bars[1].births.length).toBeGreaterThan(0);
  });

  it('without either, the default (half of the available memory) refuses n × n matrices beyond it', () => {
    delete process.env.NESTLAB_MEMORY_BUDGET;
    const n = 65535;
    // maxDim 0: the distance and rank matrices, 8n² = 34.4 GB, more than this machine's memory
    expect(() => ripsPersistence({ data: new Float32Array(n), rows: n, cols: 1 }, { maxDim: 0 })).toThrow(
      /the n × n matrices alone need 34\.36 GB for n = 65535.*\(the default, half of the available memory\)$/,
    );
  });

  it('the estimate is within a factor of 2 of the measured peak (H1, 3,600 points cut at 0.05)', async () => {
    const { ratio } = await measurePeak('rips');
    expect(ratio).toBeGreaterThanOrEqual(0.5);
    expect(ratio).toBeLessThanOrEqual(2);
  });
});
