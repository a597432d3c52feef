import { describe, it, expect } from 'vitest';
import { topologyProbe, maxminLandmarks } from '../../src/topology/probe.js';
import { noisyCircle, twoCircles } from '../../src/data/shapes.js';

describe('topologyProbe', () => {
  it('finds one long H1 bar on a circle, subsampling with max-min landmarks and reporting the size', () => {
    const pts = noisyCircle({ n: 400, seed: 2 }).points;
    const rows = topologyProbe(pts, { maxPoints: 120, prefix: 2 });
    // the largest-gap rule: one long H1 bar; H0 has its one infinite bar and no long finite one
    expect(rows.find((r) => r.dim === 1 && r.measure === 'nLong')?.value).toBe(1);
    expect(rows.find((r) => r.dim === 0 && r.measure === 'nLong')?.value).toBe(1);
    expect(rows.every((r) => r.nUsed === 120 && r.nPoints === 400 && r.prefix === 2)).toBe(true);
    const betti1 = rows.filter((r) => r.dim === 1 && r.measure === 'betti').map((r) => r.value as number);
    expect(Math.max(...betti1)).toBeGreaterThanOrEqual(1);
  });
  it('max-min landmarks spread out: the first few of a line are its ends', () => {
    const pts = { data: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), rows: 11, cols: 1 };
    const idx = Array.from(maxminLandmarks(pts, 3, 1));
    expect(new Set(idx.slice(1, 3)).has(0) || new Set(idx.slice(0, 3)).has(10)).toBe(true);
    expect(new Set(idx).size).toBe(3);
  });
  it('counts two long H1 bars and two clusters on two circles', () => {
    const two = topologyProbe(twoCircles({ n: 240, seed: 2 }).points, { maxPoints: 240 });
    expect(two.find((r) => r.dim === 1 && r.measure === 'nLong')?.value).toBe(2);
    expect(two.find((r) => r.dim === 0 && r.measure === 'nLong')?.value).toBe(2);
  });
  it('rejects unknown options, longFraction included (replaced by the largest-gap rule)', () => {
    expect(() => topologyProbe(noisyCircle({ n: 20 }).points, { maxpoints: 3 } as never)).toThrow(/maxpoints/);
    expect(() => topologyProbe(noisyCircle({ n: 20 }).points, { longFraction: 0.25 } as never)).toThrow(/longFraction/);
  });
});
