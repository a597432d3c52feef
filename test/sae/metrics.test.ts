import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { createSae, type Sae } from '../../src/sae/model.js';
import { evaluateSae, decoderFeatureCosines, meanMaxCosine, matchLatents, matchSummary, absorption, featureDensity } from '../../src/sae/metrics.js';
import type { SparseCode } from '../../src/sae/model.js';
import { hierarchicalFeatures } from '../../src/data/hierarchical.js';
import { fromRows } from '../../src/data/matrix.js';

beforeAll(async () => {
  await initBackend();
});

/** A ReLU SAE whose latents are exactly given unit directions (W_enc = W_decᵀ, b = 0). */
function sae(rows: number[][], prefixes?: number[]): Sae {
  const d = rows[0].length;
  const m = rows.length;
  const s = createSae({ dIn: d, dSae: m, activation: 'relu', prefixes: prefixes ?? [m] }, { bDecInit: 'zero' });
  rows.forEach((r, i) => {
    const n = Math.hypot(...r);
    r.forEach((v, j) => {
      s.params.wDec[i * d + j] = v / n;
      s.params.wEnc[j * m + i] = v / n;
    });
  });
  s.params.bEnc.fill(0);
  return s;
}

describe('evaluateSae', () => {
  it('computes MSE, FVU, L0, dead and dense fractions per prefix (hand-checked)', async () => {
    // latents e1, e2; x rows (1,0), (0,2), (1,2), (-1,0): the last has no positive code
    const s = sae([[1, 0], [0, 1]], [1, 2]);
    const x = fromRows([[1, 0], [0, 2], [1, 2], [-1, 0]]);
    const [p1, p2] = await evaluateSae(s, x);
    // prefix 2: only row 4 is missed: error 1 → mse 1/4; mean (0.25, 1), total var = (0.5625+0.0625+0.5625+1.5625 + 1+1+1+1)/4 = 1.6875
    expect(p2.mse).toBeCloseTo(0.25);
    expect(p2.mseElement).toBeCloseTo(0.125);
    expect(p2.fvu).toBeCloseTo(0.25 / 1.6875);
    expect(p2.explainedVariance).toBeCloseTo(1 - 0.25 / 1.6875);
    expect(p2.l0).toBeCloseTo(4 / 4);
    expect(p2.deadFraction).toBe(0);
    expect(p2.denseFraction).toBe(1);
    // prefix 1 drops latent 2: errors 0, 4, 4, 1
    expect(p1.mse).toBeCloseTo(9 / 4);
    expect(p1.l0).toBeCloseTo(2 / 4);
  });
});

describe('ground-truth metrics', () => {
  it('cosine matrix, mean max cosine and Hungarian matching', () => {
    const s = sae([[1, 0, 0], [1, 1, 0], [0, 0, 1]]);
    const cos = decoderFeatureCosines(s, fromRows([[0, 0, 2], [1, 0, 0]]));
    expect(cos.rows).toBe(3);
    expect(cos.data[0 * 2 + 1]).toBeCloseTo(1);
    expect(cos.data[1 * 2 + 1]).toBeCloseTo(Math.SQRT1_2);
    expect(meanMaxCosine(cos)).toBeCloseTo(1);
    expect(Array.from(matchLatents(cos))).toEqual([2, 0]);
    // greedy would pick wrong: feature 0 prefers latent 0 (0.9) but feature 1 needs it (0.8 vs 0)
    const tricky = { data: Float32Array.from([0.9, 0.8, 0.85, 0]), rows: 2, cols: 2 };
    expect(Array.from(matchLatents(tricky))).toEqual([1, 0]);
    const sum = matchSummary(tricky);
    expect(sum.diagMean).toBeCloseTo((0.85 + 0.8) / 2);
    expect(sum.below085).toBe(1);
  });

  it('absorption is 0 for the true dictionary and 1 when children absorb their parent', async () => {
    const data = hierarchicalFeatures({ samples: 3000, seed: 1, normJitter: 0 });
    const F = data.nFeatures;
    const d = data.samples.cols;
    const rowsOf = (i: number) => Array.from(data.features.data.subarray(i * d, (i + 1) * d));
    // the true features as a ReLU SAE: codes recover the active set exactly (orthonormal directions)
    const truth = sae(Array.from({ length: F }, (_, i) => rowsOf(i)));
    const a = await absorption(truth, data);
    expect(a.events).toBeGreaterThan(100);
    expect(a.rate).toBe(0);
    expect(a.meanAbsorptionFraction).toBe(0);
    expect(a.unlearned).toEqual([]);
    expect(a.eventsUnlearned).toBe(0);
    expect(a.match.diagMean).toBeCloseTo(1, 5);
    // absorbed dictionary: encoder of each parent is inhibited by its children; child decoders = (p + c)/√2
    const ab = sae(Array.from({ length: F }, (_, i) => rowsOf(i)));
    const m = F;
    for (const p of data.parentIndices) {
      for (const c of data.children[p]) {
        for (let j = 0; j < d; j++) {
          ab.params.wDec[c * d + j] = (rowsOf(p)[j] + rowsOf(c)[j]) / Math.SQRT2;
          ab.params.wEnc[j * m + p] -= 2 * rowsOf(c)[j]; // parent latent goes silent with a child
        }
      }
    }
    const b = await absorption(ab, data);
    expect(b.rate).toBe(1);
    expect(b.carriedRate).toBe(1); // cos((p + c)/√2, p) = 0.707 ≥ carryCos 0.5
    expect(b.carryCos).toBe(0.5);
    // SAEBench's projection rule with the parent as probe: a = 1, the child latent carries 1·0.707 ≥ 0.4 → fraction 1, full
    expect(b.meanAbsorptionFraction).toBe(1);
    expect(b.fullAbsorptionRate).toBe(1);
    expect(b.perParent.map((p) => p.latent)).toEqual(data.parentIndices);
    expect(b.unlearned).toEqual([]); // children matched at 0.707 ≥ learnedCos 0.5
    expect(b.match.below085).toBe(9);
  });

  it('carriedRate and the absorption fraction need the child latent to carry the parent; unlearned parents are kept apart', async () => {
    const data = hierarchicalFeatures({ samples: 3000, seed: 2, normJitter: 0 });
    const F = data.nFeatures;
    const d = data.samples.cols;
    const rowsOf = (i: number) => Array.from(data.features.data.subarray(i * d, (i + 1) * d));
    // child decoders c + 0.3 p (cos with p = 0.3/√1.09 = 0.287): parents silent with a child, but the children barely carry them
    const weak = sae(Array.from({ length: F }, (_, i) => rowsOf(i)));
    for (const p of data.parentIndices) {
      for (const c of data.children[p]) {
        const v = rowsOf(c).map((cj, j) => (cj + 0.3 * rowsOf(p)[j]) / Math.sqrt(1.09));
        for (let j = 0; j < d; j++) {
          weak.params.wDec[c * d + j] = v[j];
          weak.params.wEnc[j * F + p] -= 2 * rowsOf(c)[j];
        }
      }
    }
    const w = await absorption(weak, data);
    expect(w.rate).toBe(1);
    expect(w.carriedRate).toBe(0); // 0.287 < 0.5
    expect((await absorption(weak, data, { carryCos: 0.1 })).carriedRate).toBe(1); // the old default passed anything
    expect(w.meanAbsorptionFraction).toBe(0); // 1·0.287 < 0.4·a with a = 1
    // parent 0's latent replaced by a copy of independent feature 19: parent 0 is unlearned (matched cos 0)
    const lost = sae(Array.from({ length: F }, (_, i) => rowsOf(i === 0 ? 19 : i)));
    const l = await absorption(lost, data);
    expect(l.unlearned).toEqual([0]);
    expect(l.unlearnedCount).toBe(1);
    expect(l.perParent[0].learned).toBe(false);
    expect(l.perParent[0].matchedCos).toBeLessThan(0.5);
    expect(l.eventsUnlearned).toBe(l.perParent[0].events);
    expect(l.eventsUnlearned).toBeGreaterThan(50);
    expect(l.silentUnlearned).toBe(l.perParent[0].silent); // silent latent of an unlearned parent: not absorption
    expect(l.silentUnlearned).toBeGreaterThan(0);
    expect(l.events).toBe(l.perParent[1].events + l.perParent[2].events);
    expect(l.rate).toBe(0);
    await expect(absorption(lost, data, { learnedCos: 2 })).rejects.toThrow('sae.absorption: options.learnedCos must be a finite number in [-1, 1], got 2');
  });
});

describe('featureDensity', () => {
  /** Rows of a CSR code from per-row active latents (value 1). */
  const code = (rows: number[][], m: number): SparseCode => {
    const ptr = new Int32Array(rows.length + 1);
    rows.forEach((r, b) => (ptr[b + 1] = ptr[b] + r.length));
    return { rows: rows.length, dSae: m, ptr, idx: Int32Array.from(rows.flat()), val: new Float32Array(ptr[rows.length]).fill(1) };
  };

  it('bins log10 frequencies per prefix and per group, dead latents apart (hand-checked)', async () => {
    // 10 rows, 4 latents, prefixes [2, 4]: latent 0 fires on every row (log 0), latent 1 on one (log −1), 2 and 3 never
    const s = sae([[1, 0], [0, 1], [1, 1], [1, -1]], [2, 4]);
    const c = code(Array.from({ length: 10 }, (_, b) => (b === 0 ? [0, 1] : [0])), 4);
    const x = fromRows(Array.from({ length: 10 }, () => [0, 0]));
    const dens = await featureDensity(s, x, { code: c, bins: 2 });
    expect(Array.from(dens.frequency)).toEqual([1, 0.1, 0, 0]);
    expect(dens.edges).toEqual([-1, -0.5, 0]); // default range [⌊log10(1/10)⌋, 0]
    const [p2, p4] = dens.byPrefix;
    expect(p2).toMatchObject({ scope: 'prefix', start: 0, end: 2, latents: 2, dead: 0, counts: [1, 1], outside: 0, medianLog10: -0.5 });
    expect(p4).toMatchObject({ end: 4, dead: 2, deadFraction: 0.5, counts: [1, 1] });
    const [g1, g2] = dens.byGroup;
    expect(g1).toMatchObject({ scope: 'group', start: 0, end: 2, dead: 0, counts: [1, 1] });
    expect(g2).toMatchObject({ scope: 'group', start: 2, end: 4, latents: 2, dead: 2, deadFraction: 1, counts: [0, 0], medianLog10: null }); // the last group is dead
    // a custom range drops latent 1 (log −1) out of the bins
    const narrow = await featureDensity(s, x, { code: c, bins: 4, range: [-0.5, 0] });
    expect(narrow.byPrefix[0].counts).toEqual([0, 0, 0, 1]);
    expect(narrow.byPrefix[0].outside).toBe(1);
  });

  it('a uniform firing pattern puts every latent in one bin; encodes x itself when no code is given', async () => {
    // one-hot rows cycling over 4 latents: every latent fires on 1/4 of 400 rows (log10 0.25 = −0.602)
    const s = sae([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], [1, 2, 4]);
    const x = fromRows(Array.from({ length: 400 }, (_, b) => [0, 1, 2, 3].map((j) => (j === b % 4 ? 1 : 0))));
    const dens = await featureDensity(s, x, { bins: 30 }); // range [−3, 0], bins of 0.1
    expect(Array.from(dens.frequency)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const bin = Math.floor((Math.log10(0.25) + 3) / 0.1); // 23
    expect(dens.byPrefix[2].counts[bin]).toBe(4);
    expect(dens.byPrefix[2].counts.reduce((a, v) => a + v, 0)).toBe(4);
    expect(dens.byGroup.map((g) => [g.start, g.end, g.counts[bin], g.dead])).toEqual([[0, 1, 1, 0], [1, 2, 1, 0], [2, 4, 2, 0]]);
    await expect(featureDensity(s, x, { range: [0, -1] })).rejects.toThrow('sae.featureDensity: options.range must be lo < hi, got [0, -1]');
  });
});
