import { describe, expect, it } from 'vitest';
import { CENSUS_MEASURES, neuronCensusFigure } from '../../src/experiments/neuron-census.js';
import { releaseLmFigureCache } from '../../src/experiments/lm-common.js';

describe('neuron-census at smoke size', () => {
  it('censuses every MLP layer of each LM, trained and at initialization, beside the SAE', async () => {
    const { rows, meta } = await neuronCensusFigure.run({ size: 'smoke' });
    releaseLmFigureCache();
    const p = neuronCensusFigure.sizes.smoke;
    expect(meta.lms.map((l) => l.model)).toEqual(p.lms.map((l) => `${l.activation} d=${l.dModel}`));
    // 2 stages x nLayers layers x 5 measures per LM; dead and dense per SAE prefix.
    expect(rows.filter((r) => r.layer !== null)).toHaveLength(p.lms.length * 2 * p.nLayers * CENSUS_MEASURES.length);
    expect(rows.filter((r) => r.prefix !== null)).toHaveLength(2 * meta.sae.prefixes.length);
    expect(meta.tokens).toBe(p.censusWindows * p.contextLength);
    for (const r of rows) {
      expect(r.fraction).toBeCloseTo(r.count / r.of, 12);
      expect(r.fraction).toBeGreaterThanOrEqual(0);
      expect(r.fraction).toBeLessThanOrEqual(1);
    }
    for (const l of meta.lms) {
      // Random weights: every neuron fires on some tokens and none picks out a handful of tokens.
      for (const s of l.initialization) {
        expect(s.dead).toBe(0);
        expect(s.tokenDetectors).toBe(0);
        expect(s.rows).toBe(meta.tokens);
      }
      expect(l.testPerplexity).toBeLessThan(p.vocabSize / 4); // trained: far better than a uniform guess
    }
    // Training makes token or n-gram detectors (none at initialization).
    expect(meta.lms.some((l) => l.trained.some((s) => s.tokenDetectors + s.ngramDetectors > 0))).toBe(true);
    const relu = meta.lms.filter((l) => l.activation === 'relu');
    const widest = relu[relu.length - 1];
    // The claims are the numbers' verdicts: recompute one.
    const deadFirst = meta.claims.find((c) => c.claim.startsWith('dead neurons sit in the first layer'))!;
    expect(deadFirst.holds).toBe(widest.trained[0].deadFraction > widest.trained[1].deadFraction);
    expect(meta.claims).toHaveLength(4);
    expect(meta.sae.deadFraction.every((f) => f >= 0 && f <= 1)).toBe(true);
  }, 300_000);
});
