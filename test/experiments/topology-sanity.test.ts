import { describe, it, expect } from 'vitest';
import { compile } from 'vega-lite';
import { topologySanity } from '../../src/experiments/topology-sanity.js';

describe('topology-sanity experiment (smoke)', () => {
  it('recovers the Betti numbers of the shapes by the largest-gap rule and draws one Betti panel per degree', async () => {
    const { rows, spec, meta } = await topologySanity.run({ size: 'smoke', seed: 0 });
    expect(meta.id).toBe('topology-sanity');
    const b = meta.recoveredBetti;
    // the features, counted with no cut-off set by hand
    expect(b.circle[1]).toBe(1);
    expect(b['two circles'].slice(0, 2)).toEqual([2, 2]);
    expect(b.torus).toEqual([1, 2, 1]);
    expect(b.sphere).toEqual([1, 0, 1]);
    // the circles' H0 and H1 are right; their few small H2 bars are where the heuristic can miscount (the meta says so)
    expect(b.circle.slice(0, 2)).toEqual([1, 1]);
    expect(meta.allMatch).toBe(Object.keys(meta.expectedBetti).every((s) => meta.expectedBetti[s].every((v, d) => v === b[s][d])));
    expect(meta.longBarRule).toMatch(/largest gap/);
    // the bars marked long are exactly the recovered counts
    for (const shape of Object.keys(b)) {
      for (let d = 0; d <= 2; d++) {
        expect(rows.filter((r) => r.kind === 'bar' && r.shape === shape && r.dim === d && r.long).length).toBe(b[shape][d]);
      }
    }
    expect(rows.some((r) => r.kind === 'bar' && r.shape === 'torus' && r.dim === 2)).toBe(true);
    expect(rows.every((r) => r.death === null || Number.isFinite(r.death))).toBe(true);
    expect(() => compile(spec)).not.toThrow();
    // the figure: a subtitle with the sample sizes and seed, Betti curves faceted by degree with independent y scales
    const s = spec as unknown as { title: { subtitle: string[] }; vconcat: { facet: { row?: { field: string } }; resolve: { scale: { y: string } } }[] };
    expect(s.title.subtitle.join(' ')).toMatch(/seed 0 .*circle 100, two circles 160, torus 200 .*sphere 200 points/);
    expect(s.vconcat[1].facet.row?.field).toBe('degree');
    expect(s.vconcat[1].resolve.scale.y).toBe('independent');
  });
});
