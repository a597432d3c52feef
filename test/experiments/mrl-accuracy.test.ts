// The mrl-accuracy figure at smoke size: every method scored by the same converged linear probe.
import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { MRL_METHODS, mrlAccuracy } from '../../src/experiments/mrl-accuracy.js';
import { linearProbe, mrlData, trainNested } from '../../src/experiments/mrl-common.js';
import { disposeMrl, mrlEmbed } from '../../src/models/mrl.js';

type Result = Awaited<ReturnType<typeof mrlAccuracy.run>>;

describe('mrl-accuracy at smoke size', () => {
  let r: Result;
  beforeAll(async () => {
    await initBackend();
    r = await mrlAccuracy.run({ size: 'smoke' });
  });
  const p = () => r.meta.params;
  const mean = (method: string, score: 'probe' | 'head', m: number) => {
    const v = r.rows.filter((x) => x.method === method && x.score === score && x.size === m).map((x) => x.accuracy);
    return v.reduce((a, b) => a + b, 0) / v.length;
  };

  it('has one probe row per method, size and seed, and head rows only for the trained models', () => {
    expect(r.meta.seeds).toEqual([0, 1, 2]);
    for (const method of MRL_METHODS) {
      for (const m of p().nesting) {
        for (const seed of r.meta.seeds) {
          const probes = r.rows.filter((x) => x.method === method && x.size === m && x.seed === seed && x.score === 'probe');
          expect(probes, `${method} m=${m} seed ${seed}`).toHaveLength(1);
          const heads = r.rows.filter((x) => x.method === method && x.size === m && x.seed === seed && x.score === 'head');
          expect(heads).toHaveLength(['MRL', 'MRL-E', 'FF-m'].includes(method) ? 1 : 0);
        }
      }
    }
    expect(r.rows.filter((x) => x.score === 'head').every((x) => x.probeEpochs === null)).toBe(true);
    expect(Object.keys(r.meta.probeAccuracy).sort()).toEqual([...MRL_METHODS].sort());
    for (const bySize of Object.values(r.meta.probeAccuracy)) for (const c of Object.values(bySize)) expect(Number.isFinite(c.sd)).toBe(true);
  });

  it('stops every probe by its rule, after its loss curve has flattened', () => {
    const { probe } = r.meta;
    expect(probe.probes).toBe(MRL_METHODS.length * p().nesting.length * 3);
    expect(probe.stoppedEarly).toBe(probe.probes);
    expect(probe.lossCurves).toHaveLength(MRL_METHODS.length * p().nesting.length); // the first seed's
    for (const c of probe.lossCurves) {
      const n = c.loss.length;
      expect(c.loss[n - 1], `${c.method} m=${c.size}`).toBeLessThan(c.loss[0]);
      // the last `patience` epochs moved the loss by less than minDelta below the best before them
      const before = Math.min(...c.loss.slice(0, n - probe.patience));
      expect(before - Math.min(...c.loss.slice(n - probe.patience))).toBeLessThan(probe.minDelta);
    }
  });

  // At smoke size the heads (5 epochs with the encoder) are far from converged; at full size the
  // probe and the head of FF-d agree within about half a point (docs/methods/mrl.md §4).
  it('scores the full FF embedding by the probe at least as well as by its jointly trained head', () => {
    const d = p().embeddingDim;
    expect(mean('FF-m', 'probe', d)).toBeGreaterThanOrEqual(mean('FF-m', 'head', d));
    expect(mean('MRL', 'probe', d)).toBeGreaterThanOrEqual(mean('MRL', 'head', d));
  });

  it('puts MRL within a few points of FF-m at the largest size, and above chance everywhere', () => {
    const d = p().embeddingDim;
    expect(mean('MRL', 'probe', d)).toBeGreaterThan(mean('FF-m', 'probe', d) - 0.03);
    for (const method of MRL_METHODS) for (const m of p().nesting) expect(mean(method, 'probe', m)).toBeGreaterThan(0.2); // 10 classes
    // accuracy grows with the representation size for the models trained at that size
    const ff = p().nesting.map((m) => mean('FF-m', 'probe', m));
    expect(ff[ff.length - 1]).toBeGreaterThan(ff[0]);
    const gap = r.meta.mrlMinusFf.find((g) => g.size === d)!.gap.mean;
    expect(gap).toBeCloseTo(mean('MRL', 'probe', d) - mean('FF-m', 'probe', d), 12);
  });

  it('draws probe rows only in the comparison, zoomed, with the seeds and bars named', () => {
    const spec = JSON.stringify(r.spec);
    expect(spec).toContain('mean over 3 seeds; bars: ± 1 sd over the 3 seeds');
    expect(spec).toContain('"labelLimit":0');
    expect(spec).toContain('"zero":false');
    expect(spec).toContain("datum.score === 'probe'");
  });

  it('a probe trained three times longer without early stopping scores about the same (converged)', async () => {
    const size = r.meta.params;
    const { train, test } = mrlData(size);
    const ff = await trainNested(train, size, { efficient: false, embeddingDim: size.embeddingDim, nesting: [size.embeddingDim] }, 0);
    const [zTrain, zTest] = [await mrlEmbed(ff, train.x), await mrlEmbed(ff, test.x)];
    disposeMrl(ff);
    const before = tf.memory().numTensors;
    const common = { learningRate: size.probeLearningRate, standardize: true, seed: 0 };
    const stopped = await linearProbe(zTrain, train.y, zTest, test.y, { ...common, epochs: size.probeMaxEpochs, minDelta: size.probeMinDelta, patience: size.probePatience });
    const longer = await linearProbe(zTrain, train.y, zTest, test.y, { ...common, epochs: 3 * stopped.epochs });
    expect(tf.memory().numTensors).toBe(before);
    expect(longer.epochs).toBe(3 * stopped.epochs);
    // the same row as the figure's (FF-m at d, seed 0)
    expect(stopped.accuracy).toBe(r.rows.find((x) => x.method === 'FF-m' && x.size === size.embeddingDim && x.seed === 0 && x.score === 'probe')!.accuracy);
    // 300 test digits: 9 of them. At full size (2,000 digits) 3x longer moved it by at most 0.55 pt (docs/methods/mrl.md §4).
    expect(Math.abs(longer.accuracy - stopped.accuracy)).toBeLessThanOrEqual(0.03);
    expect(longer.loss[longer.loss.length - 1]).toBeGreaterThan(stopped.loss[stopped.loss.length - 1] - 0.1);
  });
});
