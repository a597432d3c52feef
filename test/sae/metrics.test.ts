import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { createSae, type Sae } from '../../src/sae/model.js';
import { evaluateSae, decoderFeatureCosines, meanMaxCosine, matchLatents, matchSummary, absorption } from '../../src/sae/metrics.js';
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
    expect(b.carriedRate).toBe(1);
    expect(b.perParent.map((p) => p.latent)).toEqual(data.parentIndices);
    expect(b.match.below085).toBe(9);
  });
});
