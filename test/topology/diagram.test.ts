import { describe, it, expect } from 'vitest';
import { barcode, bettiCurve, lifetimes, longestBars, totalPersistence, persistenceEntropy, persistenceLandscape, landscapeNorm, persistenceImage } from '../../src/topology/diagram.js';
import { NestlabArgumentError } from '../../src/errors.js';

describe('diagram descriptors', () => {
  const d = barcode([[0, 2], [1, 3], [0, Infinity]]);
  it('Betti curve counts b <= t < d', () => {
    expect(Array.from(bettiCurve(d, [0, 0.5, 1, 2, 3, 10]))).toEqual([2, 2, 3, 2, 1, 1]);
  });
  it('lifetimes, longest bars, total persistence and entropy', () => {
    expect(Array.from(lifetimes(d))).toEqual([2, 2]);
    expect(longestBars(d, 1).deaths[0]).toBe(Infinity);
    expect(totalPersistence(d)).toBe(4);
    expect(totalPersistence(d, 2)).toBe(8);
    expect(persistenceEntropy(d)).toBeCloseTo(Math.log(2), 12);
  });
  it('landscape: lambda_1 is the upper tent envelope, lambda_2 the second', () => {
    const L = persistenceLandscape(barcode([[0, 2], [1, 3]]), { layers: 2, grid: [0, 1, 1.5, 2, 3] });
    expect(Array.from(L.values.subarray(0, 5))).toEqual([0, 1, 0.5, 1, 0]);
    expect(Array.from(L.values.subarray(5, 10))).toEqual([0, 0, 0.5, 0, 0]);
    // one tent of height 1 on [0, 2]: integral of lambda^2 = 2/3
    const one = persistenceLandscape(barcode([[0, 2]]), { layers: 1, grid: Array.from({ length: 2001 }, (_, i) => i / 1000) });
    expect(landscapeNorm(one, 2)).toBeCloseTo(Math.sqrt(2 / 3), 5);
  });
  it('persistence image: total mass = sum of weights when the Gaussians fit inside', () => {
    const img = persistenceImage(barcode([[1, 2], [1, 1.5]]), { sigma: 0.01, birthRange: [0, 2], persistenceRange: [0, 2], resolution: [10, 10] });
    const mass = img.pixels.reduce((s, v) => s + v, 0);
    expect(mass).toBeCloseTo(1 + 0.5, 5);
  });
  it('rejects malformed bars', () => {
    expect(() => barcode([[2, 1]])).toThrow(NestlabArgumentError);
    expect(() => bettiCurve({ births: [0] as never, deaths: Float64Array.from([1]) }, [0])).toThrow(NestlabArgumentError);
  });
});
