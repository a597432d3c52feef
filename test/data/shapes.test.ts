import { describe, it, expect } from 'vitest';
import { noisyCircle, twoCircles, torus, sphere } from '../../src/data/shapes.js';
import { NestlabArgumentError } from '../../src/errors.js';

describe('shape generators', () => {
  it('are seeded and report their Betti numbers', () => {
    expect(noisyCircle({ n: 50, seed: 3 }).points.data).toEqual(noisyCircle({ n: 50, seed: 3 }).points.data);
    expect(noisyCircle({ n: 50, seed: 3 }).points.data).not.toEqual(noisyCircle({ n: 50, seed: 4 }).points.data);
    expect(noisyCircle().betti).toEqual([1, 1, 0]);
    expect(twoCircles().betti).toEqual([2, 2, 0]);
    expect(torus().betti).toEqual([1, 2, 1]);
    expect(sphere().betti).toEqual([1, 0, 1]);
  });
  it('put noiseless points on the shape', () => {
    const s = sphere({ n: 100, radius: 2, seed: 1 }).points;
    for (let i = 0; i < 100; i++) expect(Math.hypot(s.data[3 * i], s.data[3 * i + 1], s.data[3 * i + 2])).toBeCloseTo(2, 5);
    const t = torus({ n: 100, seed: 1 }).points; // R = 2, r = 1
    for (let i = 0; i < 100; i++) {
      const [x, y, z] = [t.data[3 * i], t.data[3 * i + 1], t.data[3 * i + 2]];
      expect((Math.hypot(x, y) - 2) ** 2 + z ** 2).toBeCloseTo(1, 4);
    }
    const c = torus({ n: 10, embedding: 'clifford' }).points;
    expect(c.cols).toBe(4);
    const two = twoCircles({ n: 10, noise: 0 }).points;
    expect(Math.hypot(two.data[18] - 3, two.data[19])).toBeCloseTo(1, 5);
  });
  it('validate options', () => {
    expect(() => noisyCircle({ n: 2 })).toThrow(NestlabArgumentError);
    expect(() => noisyCircle({ noise: -1 })).toThrow(/noise/);
    expect(() => twoCircles({ separation: 1 })).toThrow(/separation/);
    expect(() => torus({ majorRadius: 1, minorRadius: 2 })).toThrow(/minorRadius/);
    expect(() => sphere({ radius: 1, size: 3 } as never)).toThrow(/size/);
  });
});
