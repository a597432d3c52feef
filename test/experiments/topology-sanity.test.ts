import { describe, it, expect } from 'vitest';
import { compile } from 'vega-lite';
import { topologySanity } from '../../src/experiments/topology-sanity.js';

describe('topology-sanity experiment (smoke)', () => {
  it('recovers the Betti numbers of all four shapes and builds a valid vega-lite spec', async () => {
    const { rows, spec, meta } = await topologySanity.run({ size: 'smoke', seed: 0 });
    expect(meta.id).toBe('topology-sanity');
    expect(meta.recoveredBetti).toEqual(meta.expectedBetti);
    expect(meta.allMatch).toBe(true);
    expect(rows.some((r) => r.kind === 'bar' && r.shape === 'torus' && r.dim === 2)).toBe(true);
    expect(rows.every((r) => r.death === null || Number.isFinite(r.death))).toBe(true);
    expect(() => compile(spec)).not.toThrow();
  });
});
