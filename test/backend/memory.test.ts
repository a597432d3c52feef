import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { totalmem } from 'node:os';
import { NestlabArgumentError } from '../../src/errors.js';
import { MEMORY_BUDGET_ENV, availableMemory, checkMemory, formatBytes, resolveMemoryBudget } from '../../src/backend/memory.js';

const saved = process.env[MEMORY_BUDGET_ENV];
beforeEach(() => {
  delete process.env[MEMORY_BUDGET_ENV];
});
afterEach(() => {
  if (saved === undefined) delete process.env[MEMORY_BUDGET_ENV];
  else process.env[MEMORY_BUDGET_ENV] = saved;
});

function thrown(f: () => void): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('formatBytes', () => {
  it('writes decimal MB below a GB and GB above', () => {
    expect(formatBytes(8e5)).toBe('0.8 MB');
    expect(formatBytes(123_456_789)).toBe('123.5 MB');
    expect(formatBytes(7.43e9)).toBe('7.43 GB');
    expect(formatBytes(Infinity)).toBe('Infinity');
  });
});

describe('the default budget', () => {
  it('is half of the memory available now', () => {
    const avail = availableMemory();
    expect(avail).toBeGreaterThan(0);
    expect(avail).toBeLessThanOrEqual(totalmem());
    const b = resolveMemoryBudget('f', undefined);
    expect(b.source).toBe('default');
    // available memory moves while other processes run: within 20 % of half of it
    expect(b.bytes / (avail / 2)).toBeGreaterThan(0.8);
    expect(b.bytes / (avail / 2)).toBeLessThan(1.2);
  });

  it('NESTLAB_MEMORY_BUDGET overrides it: bytes, a unit, or Infinity', () => {
    for (const [text, bytes] of [['8e9', 8e9], ['8GB', 8e9], ['512MiB', 512 * 2 ** 20], ['1.5 gb', 1.5e9], ['1000', 1000], ['Infinity', Infinity]] as const) {
      process.env[MEMORY_BUDGET_ENV] = text;
      expect(resolveMemoryBudget('f', undefined)).toEqual({ bytes, source: 'env' });
    }
    // the option wins over the variable
    process.env[MEMORY_BUDGET_ENV] = '1MB';
    expect(resolveMemoryBudget('f', 5e9)).toEqual({ bytes: 5e9, source: 'option' });
    for (const bad of ['lots', '-1GB', '0', '8 parsecs']) {
      process.env[MEMORY_BUDGET_ENV] = bad;
      const e = thrown(() => resolveMemoryBudget('rsa.computeRdm', undefined));
      expect(e).toBeInstanceOf(NestlabArgumentError);
      expect(e.message).toMatch(/^rsa\.computeRdm: NESTLAB_MEMORY_BUDGET must be a positive number of bytes/);
    }
  });

  it('options.memoryBudget must be a positive number of bytes or Infinity', () => {
    expect(resolveMemoryBudget('f', Infinity)).toEqual({ bytes: Infinity, source: 'option' });
    for (const bad of [0, -1, Number.NaN, '1e9', -Infinity, null]) {
      const e = thrown(() => resolveMemoryBudget('f', bad));
      expect(e).toBeInstanceOf(NestlabArgumentError);
      expect((e as NestlabArgumentError).argument).toBe('options.memoryBudget');
      expect(e.message).toMatch(/options\.memoryBudget must be a positive number of bytes or Infinity/);
    }
  });
});

describe('checkMemory', () => {
  it('passes an estimate within the budget, and anything under Infinity', () => {
    expect(() => checkMemory('f', 1e6, { bytes: 1e6, source: 'option' }, 'n')).not.toThrow();
    expect(() => checkMemory('f', 1e15, { bytes: Infinity, source: 'option' }, 'n')).not.toThrow();
  });

  it('refuses an estimate over the budget in one line with the estimate, the budget and the remedies', () => {
    const e = thrown(() => checkMemory('rsa.computeRdm', 2.5e9, { bytes: 1e9, source: 'option' }, 'the number of stimuli', 'for n = 14434 stimuli'));
    expect(e).toBeInstanceOf(NestlabArgumentError);
    expect((e as NestlabArgumentError).argument).toBe('options.memoryBudget');
    expect(e.message).toBe(
      'rsa.computeRdm: options.memoryBudget must be at least the memory the run needs (the estimated peak memory is 2.50 GB for n = 14434 stimuli; ' +
        'raise options.memoryBudget, in bytes or Infinity, or lower the number of stimuli), got 1.00 GB',
    );
    expect(thrown(() => checkMemory('f', 2e9, { bytes: 1e9, source: 'default' }, 'n')).message).toMatch(/got 1\.00 GB \(the default, half of the available memory\)$/);
    expect(thrown(() => checkMemory('f', 2e9, { bytes: 1e9, source: 'env' }, 'n')).message).toMatch(/got 1\.00 GB \(from NESTLAB_MEMORY_BUDGET\)$/);
  });
});
