import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { createSae, type Sae, type SparseCode } from '../../src/sae/model.js';
import { binaryF1, probeAbsorption, sparseProbing } from '../../src/sae/probing.js';
import { absorptionScore, ABSORPTION_CONSTANTS } from '../../src/sae/absorption-score.js';
import { fromRows } from '../../src/data/matrix.js';
import { NestlabArgumentError } from '../../src/errors.js';

beforeAll(async () => {
  await initBackend();
});

/** A ReLU SAE with hand-set weights: decoder rows (normalized), encoder columns, b_enc; b_dec = 0 unless given. */
function handSae(dec: number[][], enc: number[][], bEnc: number[], prefixes?: number[], bDec?: number[]): Sae {
  const d = dec[0].length;
  const m = dec.length;
  const s = createSae({ dIn: d, dSae: m, activation: 'relu', prefixes: prefixes ?? [m] }, { bDecInit: 'zero' });
  dec.forEach((r, i) => {
    const n = Math.hypot(...r);
    r.forEach((v, j) => {
      s.params.wDec[i * d + j] = v / n;
      s.params.wEnc[j * m + i] = enc[i][j];
    });
  });
  s.params.bEnc.set(bEnc);
  if (bDec) s.params.bDec.set(bDec);
  return s;
}

/** One CSR row per entry: [[latent, value], ...]. */
function csr(rows: [number, number][][], dSae: number): SparseCode {
  const ptr = new Int32Array(rows.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  rows.forEach((r, b) => {
    for (const [i, v] of r) idx.push(i), val.push(v);
    ptr[b + 1] = idx.length;
  });
  return { rows: rows.length, dSae, ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

describe('absorptionScore: SAEBench feature_absorption_calculator by hand', () => {
  // probe p = e1; latent 0 = e1 (main, cos 1), latent 1 = (e1 + e2)/√2 (cos 1/√2), latent 2 = e2 (cos 0)
  const cos = Float64Array.from([1, Math.SQRT1_2, 0]);
  const main = Uint8Array.from([1, 0, 0]);

  it('partial absorption: main 0.3, absorber 0.6/√2 = 0.4243 ≥ 0.4·a → 0.4243/(0.4243 + 0.3) = 0.5858', () => {
    const code = csr([[[0, 0.3], [1, 0.6], [2, 0.5]]], 3);
    const s = absorptionScore(code, 0, cos, main, 1);
    const absorbed = 0.6 * Math.SQRT1_2;
    expect(s.fraction).toBeCloseTo(absorbed / (absorbed + 0.3), 6);
    expect(s.fraction).toBeCloseTo(0.585786, 5);
    expect(s.full).toBe(false); // the main latent fires
  });

  it('full absorption: main silent, the absorber carries 0.4243 ≥ 0.4 of a = 1 → fraction 1, full', () => {
    const s = absorptionScore(csr([[[1, 0.6], [2, 0.5]]], 3), 0, cos, main, 1);
    expect(s).toEqual({ fraction: 1, full: true });
  });

  it('no absorption below the 40 % share, when main ≥ a, for a ≤ 0, and past the prefix', () => {
    expect(absorptionScore(csr([[[1, 0.5]]], 3), 0, cos, main, 1)).toEqual({ fraction: 0, full: false }); // 0.354 < 0.4
    expect(absorptionScore(csr([[[0, 1.2], [1, 0.6]]], 3), 0, cos, main, 1).fraction).toBe(0); // main 1.2 ≥ a
    expect(absorptionScore(csr([[[1, 0.6]]], 3), 0, cos, main, -1)).toEqual({ fraction: 0, full: false });
    expect(absorptionScore(csr([[[1, 0.6]]], 3), 0, cos, main, 0)).toEqual({ fraction: 0, full: false });
    expect(absorptionScore(csr([[[1, 0.6]]], 3), 0, cos, main, 1, 1)).toEqual({ fraction: 0, full: false }); // latent 1 ≥ prefix 1
    // the unaccounted part caps the absorbed share: main 0.8, absorbers 0.4243 but only 0.2 is missing → 0.2/(0.2 + 0.8)
    expect(absorptionScore(csr([[[0, 0.8], [1, 0.6]]], 3), 0, cos, main, 1).fraction).toBeCloseTo(0.2, 6);
  });

  it('at most 3 absorbers with cos ≥ 0.1 count; full absorption needs only cos ≥ 0.025 of the top latent', () => {
    expect(ABSORPTION_CONSTANTS).toEqual({ absorberCos: 0.1, fullAbsorptionCos: 0.025, projectionShare: 0.4, maxAbsorbers: 3, silentBelow: 1e-8 });
    const c6 = Float64Array.from([1, 0.5, 0.5, 0.5, 0.5, 0.05]);
    const m6 = Uint8Array.from([1, 0, 0, 0, 0, 0]);
    // projections 0.2, 0.15, 0.1, 0.05 (latents 1-4) and 0.5 (latent 5, cos 0.05 < 0.1: not an absorber)
    const rest: [number, number][] = [[1, 0.4], [2, 0.3], [3, 0.2], [4, 0.1], [5, 10]];
    const s = absorptionScore(csr([[[0, 0.1], ...rest]], 6), 0, c6, m6, 1);
    expect(s.fraction).toBeCloseTo(0.45 / (0.45 + 0.1), 6); // top 3: 0.2 + 0.15 + 0.1
    expect(s.full).toBe(false);
    const silent = absorptionScore(csr([rest], 6), 0, c6, m6, 1);
    expect(silent.fraction).toBe(1);
    expect(silent.full).toBe(true); // top projection 0.5 (cos 0.05 ≥ 0.025), 0.5/1 ≥ 0.4
  });

  it('binary F1 is 2TP/(2TP + FP + FN), 0 with no true positive', () => {
    expect(binaryF1([1, 1, -1, -1, 1], [1, 0, 1, 0, 1])).toBeCloseTo(4 / 6, 12);
    expect(binaryF1([-1, -1], [0, 0])).toBe(0);
  });
});

describe('probeAbsorption on a hand-set 3-latent SAE', () => {
  // x = (+1, 0) for class 0, (−1, 0) for class 1: the probe on x points along ±e1 exactly (x₂ = 0).
  // Latent 0 (decoder e1) fires 0.7 and latent 1 (decoder (e1 + e2)/√2) fires 0.6 on every class-0
  // row; latent 2 (decoder −e1) fires 1 on class 1. Class 0: S = {0} (1-sparse F1 is already 1),
  // a = ⟨x, e1⟩ = 1, main = 0.7, the absorber carries 0.6/√2 = 0.424 ≥ 0.4, but only 1 − 0.7 = 0.3
  // is missing: fraction 0.3/(0.3 + 0.7) = 0.3 on every row. Class 1: main latent 2 carries a = 1: 0.
  const dec = [[1, 0], [1, 1], [-1, 0]];
  const enc = [[0.35, 0], [0.3, 0], [-0.5, 0]];
  const x = fromRows(Array.from({ length: 100 }, (_, i) => [i % 2 === 0 ? 1 : -1, 0]));
  const y = Int32Array.from({ length: 100 }, (_, i) => i % 2);

  it('gives fraction 0.3 for class 0 and 0 for class 1, per prefix [1, 2, 3], with either latent ranking', async () => {
    const s = handSae(dec, enc, [0.35, 0.3, 0.5], [1, 2, 3]);
    for (const latentRanking of ['l1Probe', 'meanDiff'] as const) {
      const rows = await probeAbsorption(s, x, y, { latentRanking });
      expect(rows.map((r) => `${r.prefix}/${r.label}`)).toEqual(['1/0', '1/1', '1/mean', '2/0', '2/1', '2/mean', '3/0', '3/1', '3/mean']);
      const at = (p: number, l: number | 'mean') => rows.find((r) => r.prefix === p && r.label === l)!;
      for (const p of [1, 2, 3]) {
        expect(at(p, 0).probeF1).toBe(1);
        expect(at(p, 0).splitLatents).toEqual([0]);
        expect(at(p, 0).f1ByK).toEqual(p === 1 ? [1] : [1, 1]); // k = 2 is tried and is no split
        expect(at(p, 0).probeTruePositives).toBeGreaterThan(0);
        expect(at(p, 1).meanAbsorptionFraction).toBe(0);
        expect(at(p, 0).fullAbsorptionRate).toBe(0);
      }
      // prefix 1 hides the absorber (latent 1): nothing absorbed
      expect(at(1, 0).meanAbsorptionFraction).toBe(0);
      expect(at(2, 0).meanAbsorptionFraction).toBeCloseTo(0.3, 6);
      expect(at(3, 0).meanAbsorptionFraction).toBeCloseTo(0.3, 6);
      expect(at(3, 1).splitLatents).toEqual([2]);
      expect(at(3, 'mean').meanAbsorptionFraction).toBeCloseTo(0.15, 6);
      expect(at(3, 'mean').splitFeatures).toBe(1);
      expect(at(3, 'mean').probeTruePositives).toBe(at(3, 0).probeTruePositives + at(3, 1).probeTruePositives);
      expect(at(3, 0).probeTruePositives + at(3, 1).probeTruePositives).toBe(20); // every test row (20 % of 100)
    }
  });

  it('with subtractBDec, a = ⟨x − b_dec, e1⟩ = 0.5 ≤ main 0.7: no absorption', async () => {
    // b_dec = (0.5, 0), b_enc shifted by b_dec·W_enc so that the code is unchanged
    const s = handSae(dec, enc, [0.525, 0.45, 0.25], [3], [0.5, 0]);
    const raw = await probeAbsorption(s, x, y);
    const centered = await probeAbsorption(s, x, y, { subtractBDec: true });
    expect(raw[0].meanAbsorptionFraction).toBeCloseTo(0.3, 6);
    expect(centered[0].meanAbsorptionFraction).toBe(0);
  });

  it('rejects bad arguments with the public name and the argument', async () => {
    const s = handSae(dec, enc, [0.35, 0.3, 0.5]);
    await expect(probeAbsorption(s, x, y, { maxK: 0 })).rejects.toThrow('sae.probeAbsorption: options.maxK must be an integer in [1, 2147483647], got 0');
    await expect(probeAbsorption(s, x, y, { latentRanking: 'abs' as never })).rejects.toThrow(NestlabArgumentError);
    await expect(probeAbsorption(s, x, y, { sead: 1 } as never)).rejects.toThrow('options.sead');
    await expect(probeAbsorption(s, x, new Int32Array(100))).rejects.toThrow('at least two distinct classes');
  });
});

describe('sparseProbing by hand', () => {
  // three classes in 3-d; latent j fires (value 1) on class j, and latent 1 also on half of class 2's rows
  const n = 150;
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  const x = fromRows(Array.from({ length: n }, (_, i) => [y[i] === 0 ? 1 : 0, y[i] === 1 || (y[i] === 2 && i % 2 === 0) ? 1 : 0, y[i] === 2 ? 1 : 0]));
  const s = handSae([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0], [1, 3]);

  it('a latent that separates its class gives 1-sparse accuracy 1; the prefix limits the eligible latents', async () => {
    const rows = await sparseProbing(s, x, y, { k: [1, 2], seed: 3 });
    const at = (src: string, p: number | null, k: number, l: number | 'mean') => rows.find((r) => r.source === src && r.prefix === p && r.k === k && r.label === l)!;
    // class 0 is separated by latent 0 at every prefix and k
    for (const p of [1, 3]) for (const k of [1, 2]) expect(at('sae', p, k, 0).accuracy).toBe(1);
    expect(at('sae', 3, 1, 0).features).toEqual([0]);
    expect(at('sae', 1, 2, 0).features).toEqual([0]); // min(k, prefix) latents
    // class 2 vs rest needs latent 2 (prefix 3): accuracy 1; at prefix 1 only latent 0 is there, and
    // class 1 negatives (latent 0 silent, like class 2) are misclassified: accuracy ≈ 0.75, not 1
    expect(at('sae', 3, 1, 2).accuracy).toBe(1);
    expect(at('sae', 3, 1, 2).features).toEqual([2]);
    expect(at('sae', 1, 1, 2).accuracy).toBeGreaterThan(0.55);
    expect(at('sae', 1, 1, 2).accuracy).toBeLessThan(0.95);
    // mean rows average the classes
    for (const p of [1, 3]) {
      const per = [0, 1, 2].map((l) => at('sae', p, 1, l).accuracy);
      expect(at('sae', p, 1, 'mean').accuracy).toBeCloseTo((per[0] + per[1] + per[2]) / 3, 12);
    }
    // balanced tasks: as many negatives as positives
    expect(at('sae', 3, 1, 0).trainRows % 2).toBe(0);
    expect(at('sae', 3, 1, 0).trainRows).toBeGreaterThan(60);
    // the input baseline: top-k dims and all 3 dims (k = dIn)
    expect(at('input', null, 1, 0).accuracy).toBe(1);
    expect(at('input', null, 3, 2).accuracy).toBe(1);
    expect(at('input', null, 3, 'mean').accuracy).toBe(1);
    expect(rows.filter((r) => r.label === 'mean')).toHaveLength(2 * 2 + 2 + 1);
  });

  it('ranks latents by |mean difference| as SAEBench: a latent of the other class can be the pick', async () => {
    // two classes; latent 0 fires 0.2 on class 0, latent 1 fires 1 on class 1: for class 0, |diff| picks latent 1
    const y2 = Int32Array.from({ length: 40 }, (_, i) => i % 2);
    const x2 = fromRows(Array.from({ length: 40 }, (_, i) => (i % 2 ? [0, 1] : [0.2, 0])));
    const s2 = handSae([[1, 0], [0, 1]], [[1, 0], [0, 1]], [0, 0]);
    const rows = await sparseProbing(s2, x2, y2, { k: 1, baseline: false });
    const r0 = rows.find((r) => r.label === 0)!;
    expect(r0.features).toEqual([1]);
    expect(r0.accuracy).toBe(1);
    expect(rows).toHaveLength(3);
  });

  it('is seeded, and rejects a class missing from a split', async () => {
    const a = await sparseProbing(s, x, y, { k: 1, seed: 7, baseline: false });
    const b = await sparseProbing(s, x, y, { k: 1, seed: 7, baseline: false });
    expect(a).toEqual(b);
    const rare = Int32Array.from(y);
    rare.fill(0);
    rare[0] = 1; // one row of class 1: it cannot be in both splits
    await expect(sparseProbing(s, x, rare)).rejects.toThrow(/sae\.sparseProbing: labels must be rows of every class in both the train and the test split/);
    await expect(sparseProbing(s, x, y, { k: [0] })).rejects.toThrow('options.k[0]');
    await expect(sparseProbing(s, fromRows([[1, 0]]), y)).rejects.toThrow('x');
  });
});
