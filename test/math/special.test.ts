import { describe, expect, it } from 'vitest';
import { erf, logGamma, normalTwoSidedP, studentTwoSidedP } from '../../src/math/special.js';

describe('special functions', () => {
  it('erf matches tabulated values and is odd', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778, 6);
    expect(erf(1)).toBeCloseTo(0.8427007929, 6);
    expect(erf(-1)).toBeCloseTo(-erf(1), 12);
    expect(erf(0)).toBeCloseTo(0, 7);
  });

  it('normal two-sided p-values match tabulated quantiles', () => {
    expect(normalTwoSidedP(1.959964)).toBeCloseTo(0.05, 5);
    expect(normalTwoSidedP(-2.575829)).toBeCloseTo(0.01, 5);
    expect(normalTwoSidedP(0)).toBeCloseTo(1, 6);
  });

  it('Student t p-values match tabulated quantiles', () => {
    expect(studentTwoSidedP(2.228, 10)).toBeCloseTo(0.05, 3); // t_{0.975, 10} = 2.228
    expect(studentTwoSidedP(12.706, 1)).toBeCloseTo(0.05, 3);
    expect(studentTwoSidedP(0, 5)).toBeCloseTo(1, 9);
  });

  it('log-gamma: exact log-factorials and half-integers', () => {
    expect(logGamma(11)).toBe(Math.log(3628800));
    expect(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI))).toBeLessThan(1e-15);
    expect(Math.abs(logGamma(3001) - 21024.024853045546)).toBeLessThan(1e-11);
  });
});
