import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { rgtmRegion, RGTM_REGIONS } from '../../src/rsa/topological.js';
import { NOISE_LEVELS, TRSA_STATISTICS, sampleLu, trsaIdentification } from '../../src/experiments/trsa-identification.js';

describe('trsa-identification figure', () => {
  it("samples (l, u) in every region by the authors' rejection rule", () => {
    const rng = new Rng(2);
    for (const region of RGTM_REGIONS) {
      for (let i = 0; i < 5; i++) {
        const { l, u } = sampleLu(rng, region);
        expect(l).toBeLessThanOrEqual(u);
        expect(u).toBeLessThanOrEqual(1);
        expect(rgtmRegion(l, u)).toBe(region);
        expect(Math.round(l * 100) / 100).toBe(l); // rounded to 2 decimals
      }
    }
  });

  it('smoke run: tidy rows for every statistic and noise level, the grid, and seeded determinism', async () => {
    const a = await trsaIdentification.run({ size: 'smoke', seed: 1 });
    expect(a.meta.id).toBe(trsaIdentification.id);
    const noise = a.rows.filter((r) => r.kind === 'noise');
    expect(noise).toHaveLength(NOISE_LEVELS.length * TRSA_STATISTICS.length); // RDM, ranked RDM, 5 RGTM regions, geodesic
    expect(TRSA_STATISTICS).toHaveLength(8);
    expect(noise.every((r) => typeof r.se === 'number' && r.se >= 0)).toBe(true);
    // The science at smoke size (3 seeds x 4 layers, deterministic for seed 1): the raw RDM
    // identifies the layer well above chance, and noise costs accuracy on average.
    expect(a.meta.chance).toBe(0.25);
    expect(a.meta.accuracy.RDM[0]).toBeGreaterThan(a.meta.chance + 0.2);
    const mean = (i: 0 | 1) => TRSA_STATISTICS.reduce((sum, t) => sum + a.meta.accuracy[t][i], 0) / TRSA_STATISTICS.length; // i: 0 = noise 0, 1 = noise 0.4
    expect(mean(1)).toBeLessThan(mean(0));
    expect(a.rows.filter((r) => r.kind === 'grid')).toHaveLength(229);
    expect((a.spec as { hconcat: unknown[] }).hconcat).toHaveLength(2);
    const b = await trsaIdentification.run({ size: 'smoke', seed: 1 });
    expect(b.rows).toEqual(a.rows);
  }, 60_000);

  it('rejects unknown options', async () => {
    await expect(trsaIdentification.run({ size: 'huge' as never })).rejects.toThrow(/options.size/);
    await expect(trsaIdentification.run({ seeds: 3 } as never)).rejects.toThrow(/options.seeds/);
  });
});
