import { describe, it, expect } from 'vitest';
import { countLongBars } from '../../src/topology/diagram.js';
import { NestlabArgumentError } from '../../src/errors.js';

describe('countLongBars: the largest-gap rule on hand-made lifetimes', () => {
  it('no bars: 0; a lone bar: 1 (its only gap is the one to the diagonal)', () => {
    expect(countLongBars([])).toBe(0);
    expect(countLongBars(new Float64Array(0))).toBe(0);
    expect(countLongBars([0.7])).toBe(1);
    expect(countLongBars([1e-6])).toBe(1);
  });

  it('one bar far above a cloud of short ones (a circle)', () => {
    // gaps 1.35, 0.02, 0.01, 0.01, 0.01: cut after 1, and 1.35 > 0.05 (the longest bar below)
    expect(countLongBars([0.02, 1.4, 0.05, 0.03, 0.01])).toBe(1);
  });

  it('two long bars of unequal length (a torus): the cut is at the largest gap, not the first', () => {
    // sorted 1.2, 0.9, 0.1, 0.08, 0.05, 0.02: gaps 0.3, 0.8, 0.02, ...: cut after 2; 0.8 > 0.1
    expect(countLongBars([0.05, 1.2, 0.1, 0.9, 0.02, 0.08])).toBe(2);
  });

  it('a gap narrower than the longest bar below it is no cut: 0 long bars', () => {
    // evenly spread noise: every gap 0.01 < the bar below
    expect(countLongBars([0.05, 0.04, 0.03, 0.02, 0.01])).toBe(0);
    // the largest gap (0.3 after 1.0) is narrower than the bar below it (0.7)
    expect(countLongBars([1.0, 0.7, 0.65, 0.6, 0.55, 0.5])).toBe(0);
    // two bars: long iff the longer is more than twice the shorter
    expect(countLongBars([1.0, 0.6])).toBe(0);
    expect(countLongBars([1.0, 0.4])).toBe(1);
  });

  it('looks for the cut in the top half only: a gap among the shortest bars is not one', () => {
    // the largest gap overall is 0.04 -> 0.001 at the bottom (k = 5 of 6); the top half (k <= 3) has none wider than its floor
    expect(countLongBars([0.1, 0.09, 0.08, 0.06, 0.04, 0.001])).toBe(0);
  });

  it('infinite lifetimes (essential classes) always count, beside the finite rule', () => {
    expect(countLongBars([Infinity])).toBe(1);
    expect(countLongBars([Infinity, 0.3, 0.29, 0.28, 0.27])).toBe(1);
    expect(countLongBars([Infinity, 1.1, 0.05, 0.04, 0.03])).toBe(2);
  });

  it('equal gaps: the first cut (fewest long bars) is the one checked', () => {
    // gaps 1.5 after 3 and 1.5 after 1.5 (exact in binary); the first cut fails its check (1.5 is not > 1.5),
    // where the second would have passed (1.5 > 0) and given 2
    expect(countLongBars([3, 1.5, 0, 0])).toBe(0);
  });

  it('rejects what is not a lifetime', () => {
    expect(() => countLongBars([0.1, -0.2])).toThrow(NestlabArgumentError);
    expect(() => countLongBars([0.1, Number.NaN])).toThrow(/lifetimes\[1\] must be a number >= 0/);
    expect(() => countLongBars(null as never)).toThrow(/lifetimes must be an array/);
  });
});
