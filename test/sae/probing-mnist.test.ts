import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { loadMnist } from '../../src/data/mnist.js';
import { trainSae } from '../../src/sae/train.js';
import { encodeSae, type Sae, type SparseCode } from '../../src/sae/model.js';
import { probeAbsorption, sparseProbing } from '../../src/sae/probing.js';
import { featureDensity } from '../../src/sae/metrics.js';

// A small Matryoshka SAE on real MNIST digits: SAEBench's probing metrics should see digit features.
const PREFIXES = [16, 64];
let sae: Sae;
let code: SparseCode;
let test: ReturnType<typeof loadMnist>['test'];

beforeAll(async () => {
  await initBackend();
  const mnist = loadMnist({ limit: 3000 }); // 2,400 train / 600 test digits
  test = mnist.test;
  ({ sae } = await trainSae(mnist.train.x, {
    architecture: { dIn: 784, dSae: 64, k: 8, prefixes: PREFIXES },
    training: { batchSize: 200, epochs: 4, learningRate: 3e-3, warmupSteps: 5, thresholdStart: 10, bDecInit: 'mean' },
  }));
  code = await encodeSae(sae, test.x);
}, 30_000);

describe('SAEBench probing metrics on a small MNIST SAE', () => {
  it('k-sparse probing: accuracy rises with k and is far above chance (0.5) at every prefix', async () => {
    const rows = await sparseProbing(sae, test.x, test.y, { code, k: [1, 2, 5] });
    const mean = (src: 'sae' | 'input', p: number | null, k: number) => rows.find((r) => r.source === src && r.prefix === p && r.k === k && r.label === 'mean')!.accuracy;
    for (const p of PREFIXES) {
      expect(mean('sae', p, 1)).toBeGreaterThan(0.65);
      expect(mean('sae', p, 2)).toBeGreaterThanOrEqual(mean('sae', p, 1) - 0.01);
      expect(mean('sae', p, 5)).toBeGreaterThan(mean('sae', p, 1));
    }
    expect(mean('input', null, 784)).toBeGreaterThan(0.85); // all pixels
    expect(rows.filter((r) => r.source === 'sae' && r.label !== 'mean')).toHaveLength(2 * 3 * 10);
  });

  it('probe absorption: fractions and rates in [0, 1], at least one main latent per digit, good probes', async () => {
    const rows = await probeAbsorption(sae, test.x, test.y, { code });
    expect(rows).toHaveLength(2 * 11);
    for (const r of rows.filter((r) => r.label !== 'mean')) {
      expect(r.splitFeatures).toBeGreaterThanOrEqual(1);
      expect(r.splitLatents.every((i) => i < r.prefix)).toBe(true);
      if (r.probeTruePositives === 0) continue; // NaN rates: nothing to score
      for (const v of [r.meanAbsorptionFraction, r.fullAbsorptionRate]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    const mean = rows.filter((r) => r.label === 'mean');
    expect(mean[0].probeF1).toBeGreaterThan(0.6);
    expect(Number.isFinite(mean[1].meanAbsorptionFraction)).toBe(true);
  });

  it('feature density: every latent is dead or in a bin, per prefix and per group', async () => {
    const dens = await featureDensity(sae, test.x, { code });
    for (const h of [...dens.byPrefix, ...dens.byGroup]) expect(h.dead + h.counts.reduce((a, v) => a + v, 0) + h.outside).toBe(h.latents);
    expect(dens.byGroup.map((g) => [g.start, g.end])).toEqual([[0, 16], [16, 64]]);
    expect(dens.byPrefix[1].dead).toBe(dens.byGroup[0].dead + dens.byGroup[1].dead);
  });
});
