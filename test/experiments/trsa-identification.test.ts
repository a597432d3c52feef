import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { rgtmRegion, RGTM_REGIONS } from '../../src/rsa/topological.js';
import { NOISE_LEVELS, RAW_RDM, TRSA_STATISTICS, sampleLu, trsaIdentification } from '../../src/experiments/trsa-identification.js';

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

  it('smoke run: CNN layers identified above chance, paired differences, seeded determinism', async () => {
    const a = await trsaIdentification.run({ size: 'smoke', seed: 1 });
    expect(a.meta.id).toBe(trsaIdentification.id);
    expect(a.meta.layers).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'conv6', 'conv7', 'conv8', 'conv9', 'gap']);
    expect(a.meta.chance).toBeCloseTo(0.1, 12);
    expect(a.meta.seeds).toBe(3);
    expect(a.meta.noiseDraws).toBe(3);
    expect(a.meta.networks).toHaveLength(3);
    // Even one epoch on 800 digits learns something: every network beats chance on held-out digits.
    for (const n of a.meta.networks) expect(n.testAccuracy).toBeGreaterThan(0.3);

    const noise = a.rows.filter((r) => r.kind === 'noise');
    expect(noise).toHaveLength(NOISE_LEVELS.length * TRSA_STATISTICS.length);
    for (const r of noise) {
      expect(r.lo!).toBeLessThanOrEqual(r.hi!);
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
    }
    // The science at smoke size (3 tiny CNNs, 30 stimuli, deterministic for seed 1): layers of
    // different shape and depth are told apart well above chance (0.1) by the raw RDM and by its
    // standardized (scale-free) control, by every statistic on average, and noise costs accuracy.
    expect(a.meta.accuracy[RAW_RDM][0]).toBeGreaterThan(0.3);
    expect(a.meta.accuracy['RDM (euclidean, standardized)'][0]).toBeGreaterThan(0.3);
    const meanAt = (i: 0 | 1) => TRSA_STATISTICS.reduce((sum, t) => sum + a.meta.accuracy[t][i], 0) / TRSA_STATISTICS.length; // i: 0 = noise 0, 1 = noise 0.4
    expect(meanAt(0)).toBeGreaterThan(0.2);
    expect(meanAt(1)).toBeLessThan(meanAt(0));
    // Paired differences are the differences of the point estimates; drops compare with noise 0.
    const at = (kind: string, stat: string, level: number) => a.rows.find((r) => r.kind === kind && r.statistic === stat && r.noise === level)!;
    const geo = 'geodesic (RGDM)';
    expect(at('difference', geo, 0.2).accuracy).toBeCloseTo(at('noise', geo, 0.2).accuracy - at('noise', RAW_RDM, 0.2).accuracy, 12);
    expect(at('drop', geo, 0.4).accuracy).toBeCloseTo(at('noise', geo, 0.4).accuracy - at('noise', geo, 0).accuracy, 12);
    expect(a.rows.filter((r) => r.kind === 'difference')).toHaveLength(NOISE_LEVELS.length * (TRSA_STATISTICS.length - 1));
    // Noise 0 adds nothing, so its drop rows do not exist and its point estimate is one draw.
    expect(a.rows.some((r) => r.kind === 'drop' && r.noise === 0)).toBe(false);
    expect(a.rows.filter((r) => r.kind === 'grid')).toHaveLength(229);
    // accuracy and paired differences side by side (one legend), then the (l, u) heat map
    const panels = (a.spec as { hconcat: { hconcat?: unknown[] }[] }).hconcat;
    expect(panels).toHaveLength(2);
    expect(panels[0].hconcat).toHaveLength(2);
    const b = await trsaIdentification.run({ size: 'smoke', seed: 1 });
    expect(b.rows).toEqual(a.rows);
  }, 240_000);

  it('rejects unknown options', async () => {
    await expect(trsaIdentification.run({ size: 'huge' as never })).rejects.toThrow(/options.size/);
    await expect(trsaIdentification.run({ seeds: 3 } as never)).rejects.toThrow(/options.seeds/);
  });
});
