import { describe, expect, it } from 'vitest';
import { NestlabArgumentError } from '../../src/errors.js';
import { hungarian, minCostAssignment } from '../../src/math/assignment.js';

describe('minimum-cost assignment', () => {
  it('solves a 3x3 assignment by hand', () => {
    // rows -> columns 1, 0, 2: 1 + 2 + 2 = 5 is the cheapest of the 6 permutations
    const cost = Float64Array.from([4, 1, 3, 2, 0, 5, 3, 2, 2]);
    expect(Array.from(minCostAssignment(cost, 3, 3))).toEqual([1, 0, 2]);
    expect(hungarian(cost, 3)).toBe(5);
  });

  it('assigns fewer rows than columns and avoids forbidden pairs', () => {
    const cost = Float64Array.from([Infinity, 5, 1, 2, Infinity, 9]);
    expect(Array.from(minCostAssignment(cost, 2, 3))).toEqual([2, 0]);
  });

  it('matches brute force on random 5x5 matrices', () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const perms = (n: number): number[][] => (n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
    for (let t = 0; t < 20; t++) {
      const cost = Float64Array.from({ length: 25 }, rand);
      const best = Math.min(...perms(5).map((p) => p.reduce((s, c, r) => s + cost[r * 5 + c], 0)));
      expect(hungarian(cost, 5)).toBeCloseTo(best, 12);
    }
  });

  it('refuses more rows than columns', () => {
    expect(() => minCostAssignment(new Float64Array(6), 3, 2)).toThrow(NestlabArgumentError);
  });
});
