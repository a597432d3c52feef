import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { bootstrapEvaluate, evaluateModels, identificationAccuracy, noiseCeiling, poolRdms } from '../../src/rsa/inference.js';
import { compareRdms } from '../../src/rsa/compare.js';

// T6b / T9 / T10 of docs/methods/rsa.md §13.
const a = [1, 2, 3, 4, 5, 6];
const b = [2, 1, 4, 3, 6, 5];
const c = [1, 1, 2, 2, 3, 3];

describe('noise ceiling', () => {
  it('pools as rsatoolbox and gives the T9 bounds', () => {
    // cosine pool: each RDM divided by its RMS, then averaged
    const pooled = poolRdms([a, b, c], { method: 'cosine' });
    [0.4110796455, 0.4110796455, 0.9077513894, 0.9077513894, 1.4044231334, 1.4044231334].forEach((w, i) => expect(pooled.values[i]).toBeCloseTo(w, 9));
    expect(pooled.measure).toBe('pooled (cosine) dissimilarity');
    const want = { cosine: [0.9870064222, 0.9942171791], corr: [0.9348774122, 0.9707885916], 'rho-a': [0.8571428571, 0.9142857143] } as const;
    for (const [method, [lower, upper]] of Object.entries(want)) {
      const nc = noiseCeiling([a, b, c], { method: method as 'cosine' });
      expect(nc.lower, method).toBeCloseTo(lower, 9);
      expect(nc.upper, method).toBeCloseTo(upper, 9);
    }
  });

  it('needs two RDMs of one size', () => {
    expect(() => noiseCeiling([a])).toThrow(/rsa.noiseCeiling: rdms must be an array of at least 2 RDMs/);
    expect(() => noiseCeiling([a, [1, 2, 3]])).toThrow(/rdms\[1\] must be an RDM of the same size as rdms\[0\] \(length 6\)/);
  });
});

describe('model evaluation', () => {
  it('fixed effects over subjects: mean score, SE with ddof 0 / n (rsatoolbox), paired t-tests', () => {
    const ev = evaluateModels([a, c], [a, b], { method: 'corr' });
    // model a: corr(a,a) = 1, corr(a,b) = 29/35 -> mean (1 + 29/35)/2
    expect(ev.scores[0]).toBeCloseTo((1 + 29 / 35) / 2, 12);
    const sd0 = Math.abs(1 - 29 / 35) / 2; // population SD of two values
    expect(ev.standardErrors[0]).toBeCloseTo(sd0 / Math.sqrt(2), 12);
    expect(ev.pairwise).toHaveLength(1);
    expect(ev.pairwise[0].difference).toBeCloseTo(ev.scores[0] - ev.scores[1], 12);
    expect(ev.pairwise[0].df).toBe(1);
    expect(ev.noiseCeiling).not.toBeNull();
  });

  it('bootstrap over stimuli and subjects: seeded, finite SEs, the true model wins', () => {
    const rng = new Rng(1);
    const n = 12;
    const m = (n * (n - 1)) / 2;
    const truth = Array.from({ length: m }, () => rng.uniform());
    const other = Array.from({ length: m }, () => rng.uniform());
    const subjects = Array.from({ length: 5 }, () => truth.map((v) => v + 0.3 * rng.normal()));
    const run = (seed: number) => bootstrapEvaluate([truth, other], subjects, { method: 'spearman', samples: 60, resample: 'both', seed });
    const r1 = run(4);
    const r2 = run(4);
    expect(Array.from(r1.distribution)).toEqual(Array.from(r2.distribution));
    expect(r1.validSamples).toBe(60);
    expect(r1.scores[0]).toBeGreaterThan(r1.scores[1] + 0.3);
    expect(r1.standardErrors[0]).toBeGreaterThan(0);
    expect(r1.pairwise[0].p).toBeLessThan(0.01);
    expect(Array.from(run(5).distribution)).not.toEqual(Array.from(r1.distribution));
    const st = bootstrapEvaluate([truth, other], subjects, { samples: 20, resample: 'stimuli' });
    expect(Number.isFinite(st.standardErrors[1])).toBe(true);
    expect(() => bootstrapEvaluate([truth], subjects, { method: 'cosine_cov' })).toThrow(/'subjects' for cov-weighted/);
    const bySubject = bootstrapEvaluate([truth, other], subjects, { method: 'corr_cov', samples: 30, resample: 'subjects', seed: 2 });
    expect(bySubject.validSamples).toBe(30);
    expect(bySubject.scores[0]).toBeGreaterThan(bySubject.scores[1]);
    expect(bySubject.standardErrors[0]).toBeGreaterThan(0);
    expect(() => bootstrapEvaluate([truth], subjects, { samples: 1 })).toThrow(/options.samples/);
  });

  it('compare agrees with evaluate for one subject', () => {
    const ev = evaluateModels([b], [a], { method: 'tau-a' });
    expect(ev.scores[0]).toBeCloseTo(compareRdms(b, a, { method: 'tau-a' }), 12);
    expect(ev.noiseCeiling).toBeNull();
  });
});

describe('leave-one-subject-out nearest-centroid identification (tRSA loo_eval)', () => {
  it('T10: both ROIs of subject 3 are misclassified, accuracy 4/6', () => {
    const rows = [[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0], [0.1, 0.9, 0], [0.4, 0.6, 0], [0.6, 0.4, 0]];
    const res = identificationAccuracy(rows, [1, 1, 2, 2, 3, 3], [1, 2, 1, 2, 1, 2]);
    expect(res.accuracy).toBeCloseTo(4 / 6, 12);
    expect(Array.from(res.predicted)).toEqual([1, 2, 1, 2, 2, 1]);
  });

  it('equals the rule written out (centroids of the other subjects per held-out subject) on random rows, duplicated subjects included', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const n = 12 + rng.int(20);
      const dim = 1 + rng.int(6);
      const rows = Array.from({ length: n }, () => Array.from({ length: dim }, () => rng.normal()));
      const subjects = Array.from({ length: n }, () => rng.int(4)); // a bootstrap repeats subjects
      const labels = Array.from({ length: n }, () => rng.int(3));
      if (new Set(subjects).size < 2) continue;
      let correct = 0;
      rows.forEach((r, i) => {
        let best = -1;
        let bestD = Infinity;
        for (const lab of [...new Set(labels)].sort((a, b) => a - b)) {
          const others = rows.filter((_, j) => subjects[j] !== subjects[i] && labels[j] === lab);
          if (others.length === 0) continue;
          const d = r.reduce((s, v, j) => s + (v - others.reduce((t, o) => t + o[j], 0) / others.length) ** 2, 0);
          if (d < bestD) (bestD = d, best = lab);
        }
        if (best === labels[i]) correct++;
      });
      expect(identificationAccuracy(rows, subjects, labels).correct).toBe(correct);
    }
  });

  it('rejects mismatched label counts and a single subject', () => {
    expect(() => identificationAccuracy([[1], [2]], [1], [1, 2])).toThrow(/subjects must be 2 labels/);
    expect(() => identificationAccuracy([[1], [2]], [1, 1], [1, 2])).toThrow(/at least 2 distinct subjects/);
  });
});
