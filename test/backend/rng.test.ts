import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/backend/rng.js';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and normals with mean 0, variance 1', () => {
    const rng = new Rng(1);
    const n = 100_000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      su += u;
      const z = rng.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(su / n).toBeCloseTo(0.5, 2);
    expect(sn / n).toBeCloseTo(0, 1);
    expect(sn2 / n).toBeCloseTo(1, 1);
  });

  it('permutes 0..n-1 exactly once each, reproducibly', () => {
    const p = new Rng(7).permutation(1000);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(new Rng(7).permutation(1000)).toEqual(p);
    expect([...p.subarray(0, 10)]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('draws integers in range and rejects a bad seed', () => {
    const rng = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(rng.int(5));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(() => new Rng(0.5)).toThrow(/Rng: seed must be an integer/);
  });

  it('forks independent, reproducible streams', () => {
    const f1 = new Rng(9).fork();
    const f2 = new Rng(9).fork();
    expect(f1.uniform()).toBe(f2.uniform());
  });
});
