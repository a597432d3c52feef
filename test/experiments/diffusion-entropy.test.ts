// The diffusion-entropy figure at smoke size: DSE against intrinsic dimension and noise, and DSE /
// DSMI of an MLP's layers over training, of MRL prefixes and of the GPT's residual stream over
// training (docs/methods/diffusion-entropy.md §6).
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { initBackend } from '../../src/backend/select.js';
import {
  binnedShannonEntropy,
  diffusionEntropy,
  measureRepresentation,
  medianPairwiseDistance,
  noisyGaussian,
  sigmaFor,
} from '../../src/experiments/diffusion-entropy.js';
import { fromRows } from '../../src/data/matrix.js';

type Result = Awaited<ReturnType<typeof diffusionEntropy.run>>;

describe('diffusion-entropy helpers', () => {
  it('CSE counts the rows’ 2-bin cells: 4 distinct corners of 8 rows give 2 bits; a constant column is one bin', () => {
    const x = fromRows([[0, 0, 5], [1, 0, 5], [0, 1, 5], [1, 1, 5], [0.1, 0.2, 5], [0.9, 0.1, 5], [0.2, 0.8, 5], [0.7, 0.9, 5]]);
    expect(binnedShannonEntropy(x)).toBeCloseTo(2, 12);
    expect(binnedShannonEntropy(fromRows([[1], [1], [1]]))).toBeCloseTo(0, 12);
  });

  it('the median rule scales σ with the data, so DSE is scale-free under it and not under an absolute σ', async () => {
    const x = noisyGaussian(120, 3, 8, 0.05, 4);
    const x10 = { ...x, data: x.data.map((v) => 10 * v) };
    expect(medianPairwiseDistance(x10)).toBeCloseTo(10 * medianPairwiseDistance(x), 4);
    expect(sigmaFor(x, { kind: 'median', bandwidthFraction: 0.5 })).toBeCloseTo(0.5 * medianPairwiseDistance(x), 12);
    const rules = [{ kind: 'median', bandwidthFraction: 0.5 } as const, { kind: 'absolute', sigma: 1 } as const];
    const [m1, a1] = await measureRepresentation(x, null, rules, { t: 1, repetitions: 2, seed: 0 });
    const [m10, a10] = await measureRepresentation(x10, null, rules, { t: 1, repetitions: 2, seed: 0 });
    expect(Math.abs(m1.entropy - m10.entropy)).toBeLessThan(1e-5);
    expect(a10.entropy).toBeGreaterThan(a1.entropy + 1); // spread out 10x at a fixed σ: many more diffusion scales
    expect(m1.mutualInformation).toBeNull();
  });
});

describe('diffusion-entropy at smoke size', () => {
  let r: Result;
  beforeAll(async () => {
    await initBackend();
    r = await diffusionEntropy.run({ size: 'smoke' });
  }, 120_000);
  const p = () => r.meta.params;

  it('(a) DSE rises with intrinsic dimension under the absolute σ at every t, and moves less than CSE under small noise', () => {
    for (const s of r.meta.simulated.filter((f) => f.sigmaRule === 'absolute')) {
      expect(s.risesWithDimension, `t = ${s.t}`).toBe(true);
      for (let i = 1; i < s.entropyByDim.length; i++) expect(s.entropyByDim[i]).toBeGreaterThan(s.entropyByDim[i - 1] + 0.5);
      // the smallest noise level: DSE moves a small share of its range over d, CSE several times more
      const first = s.noiseShift[0];
      expect(first.dse).toBeLessThan(0.15);
      expect(first.cse).toBeGreaterThan(2 * first.dse);
      expect(s.moreRobustThanCseAt).toContain(first.noise);
    }
    // the verdict is computed from the same numbers
    expect(r.meta.simulatedRisesWithDimension).toBe(r.meta.simulated.every((s) => s.risesWithDimension));
    expect(r.meta.simulatedVerdict).toMatch(/absolute σ, t = 1: DSE at no noise rises with d/);
    // one DSE row per d, noise, rule and t, one CSE row per d and noise
    const sim = r.rows.filter((x) => x.panel === 'simulated');
    const cells = p().intrinsicDims.length * p().noiseLevels.length;
    expect(sim.filter((x) => x.measure === 'DSE')).toHaveLength(cells * 2 * p().simulatedTimes.length);
    expect(sim.filter((x) => x.measure === 'CSE')).toHaveLength(cells);
    expect(sim.every((x) => x.value >= 0 && x.value <= Math.log2(p().simulatedRows) + 1e-9)).toBe(true);
  });

  it('(b) DSMI with the labels of every trained layer is above its value at initialization, under both σ rules', () => {
    const acc = r.meta.accuracyByEpoch;
    expect(acc).toHaveLength(p().epochs + 1);
    expect(acc[acc.length - 1]).toBeGreaterThan(acc[0] + 0.3);
    for (const f of r.meta.training) {
      expect(f.mutualInformationFinal, `${f.layer} ${f.sigmaRule}`).toBeGreaterThan(f.mutualInformationInit + 0.1);
    }
    expect(r.meta.mutualInformationRose).toEqual({ absolute: true, median: true });
    // rows: DSE and DSMI per layer, epoch and rule; every σ recorded with its value
    const tr = r.rows.filter((x) => x.panel === 'training' && x.measure !== 'accuracy');
    expect(tr).toHaveLength(2 * p().hidden.length * (p().epochs + 1) * 2);
    for (const x of tr) {
      expect(x.sigma).toBeGreaterThan(0);
      expect(x.t).toBe(p().t);
      if (x.sigmaRule === 'absolute') expect(x.sigma).toBe(p().featureSigma);
    }
    // the meta's DSE counts are those of the findings, and the verdict names the direction it found
    for (const rule of ['absolute', 'median'] as const) {
      const rose = r.meta.training.filter((f) => f.sigmaRule === rule && f.entropyFinal > f.entropyInit).length;
      expect(r.meta.entropyRoseLayers[rule]).toBe(rose);
    }
    expect(r.meta.trainingVerdict).toMatch(/DSMI with the labels rises during generalizable training \(reproduced under both rules\)/);
  });

  it('(c) the full MRL embedding carries more label information than its smallest prefix, and DSE rises with the prefix under the absolute σ', () => {
    const abs = r.meta.prefixes.find((s) => s.sigmaRule === 'absolute')!;
    expect(abs.entropy[abs.entropy.length - 1]).toBeGreaterThan(abs.entropy[0]);
    expect(abs.mutualInformation[abs.mutualInformation.length - 1]).toBeGreaterThan(abs.mutualInformation[0]);
    expect(r.meta.prefixAccuracy).toHaveLength(p().nesting.length);
    expect(r.rows.filter((x) => x.panel === 'prefix' && x.measure === 'DSMI')).toHaveLength(2 * p().nesting.length);
  });

  it('(d) the GPT: the test loss falls, and DSMI with the part of speech rises at every hook as it trains', () => {
    const lm = r.meta.lm;
    expect(lm.steps).toEqual(p().lmSnapshots);
    expect(lm.testLoss[lm.testLoss.length - 1]).toBeLessThan(lm.testLoss[0] - 1);
    for (const f of lm.hooks.filter((h) => h.sigmaRule === 'median')) {
      expect(f.mutualInformationFinal, f.hook).toBeGreaterThan(f.mutualInformationInit + 0.2);
    }
    expect(r.meta.lmMutualInformationRose.median).toBe(true);
    expect(r.meta.lmVerdict).toMatch(/median σ: DSMI with the part of speech rose at every hook/);
    // DSE and DSMI per hook, snapshot and rule; every class of the labels has at least 10 rows
    expect(r.rows.filter((x) => x.panel === 'lm' && x.measure === 'DSMI')).toHaveLength(p().lmHooks.length * p().lmSnapshots.length * 2);
    expect(r.rows.filter((x) => x.panel === 'lm' && x.measure === 'loss').map((x) => x.step)).toEqual(p().lmSnapshots);
    expect(lm.analyzedRows).toBeGreaterThan(100);
    expect(lm.posNames.length).toBeGreaterThanOrEqual(3);
  });

  it('states its σ rules and draws a compilable four-row figure', () => {
    expect(r.meta.sigmaRules).toMatch(/'median' σ = 0\.5 × the median pairwise Euclidean distance/);
    expect(r.meta.sigmaRules).toMatch(/10 on network features/);
    expect(() => compile(r.spec)).not.toThrow();
    const s = r.spec as unknown as { vconcat: { hconcat: unknown[] }[] };
    expect(s.vconcat).toHaveLength(4);
    expect(s.vconcat[0].hconcat).toHaveLength(2 * p().simulatedTimes.length + 1);
  });
});
