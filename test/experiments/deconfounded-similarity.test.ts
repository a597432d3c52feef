import { describe, expect, it } from 'vitest';
import { deconfoundedSimilarity, MEASURES } from '../../src/experiments/deconfounded-similarity.js';
import { releaseLmFigureCache } from '../../src/experiments/lm-common.js';

describe('deconfounded-similarity at smoke size', () => {
  it('shows random networks looking similar under CKA and RSA, and not once the input is regressed out', async () => {
    const { rows, meta } = await deconfoundedSimilarity.run({ size: 'smoke' });
    releaseLmFigureCache();
    const { mlp, lm } = meta;
    expect(mlp.layers).toEqual(['hidden 1', 'hidden 2', 'hidden 3', 'logits']);
    // Every (pair kind, measure) grid is complete: MLPs 3 kinds, the GPT 3 (with 'within').
    expect(rows.filter((r) => r.model === mlp.model).length).toBe(3 * 4 * 16);
    expect(rows.filter((r) => r.model === lm.model).length).toBe(3 * 4 * 36);
    for (const r of rows) {
      expect(r.value).toBeGreaterThanOrEqual(-1);
      expect(r.value).toBeLessThanOrEqual(1 + 1e-12);
    }
    // A layer of the trained GPT compared with itself: every measure is 1.
    for (const r of rows.filter((q) => q.pair === 'trained, within' && q.layerA === q.layerB)) expect(r.value).toBeCloseTo(1, 10);

    for (const f of [mlp, lm]) {
      const tr = f.sameLayer['trained vs random']!;
      const rr = f.sameLayer['random vs random']!;
      // Plain CKA and RSA credit the structure every network inherits from the input ...
      expect(tr.CKA).toBeGreaterThan(0.3);
      expect(rr.CKA).toBeGreaterThan(0.3);
      // ... which the deconfounded measures remove: two random networks share nothing else.
      expect(tr.dCKA).toBeLessThan(tr.CKA / 2);
      expect(tr.dRSA).toBeLessThan(tr.RSA / 2);
      expect(Math.abs(rr.dCKA)).toBeLessThan(0.1);
      expect(Math.abs(rr.dRSA)).toBeLessThan(0.1);
      expect(f.randomStopsLookingSimilar).toBe(true);
      for (const c of [...f.ckaWithInput.trained, ...f.ckaWithInput.random]) expect(c).toBeGreaterThan(0.2);
    }
    // Trained networks keep what they learned alike: dCKA stays well above the random pairs'.
    const tt = mlp.sameLayer['trained vs trained']!;
    expect(tt.dCKA).toBeGreaterThan(mlp.sameLayer['trained vs random']!.dCKA + 0.3);
    expect(mlp.testAccuracy.every((a) => a > 0.7)).toBe(true);
    expect(Object.keys(mlp.layerIdentification!)).toEqual([...MEASURES]);
    // Consecutive layers of one trained GPT share their residual stream: dCKA stays high.
    expect(lm.adjacentWithin!.dCKA).toBeGreaterThan(0.5);
    expect(meta.verdicts).toHaveLength(2);
    expect(meta.verdicts[0]).toMatch(/^MLP on MNIST: .* random networks stop looking similar/);
  }, 120_000);
});
