import { describe, it, expect } from 'vitest';
import { mpSae } from '../../src/experiments/mp-sae.js';

describe('mp-sae at smoke size: matching pursuit beside TopK and Matryoshka BatchTopK', () => {
  it('matches every SAE to the pursuit\'s L0 and scores each inside the GPT; the pursuit run longer at inference reconstructs better', async () => {
    const { rows, meta } = await mpSae.run({ size: 'smoke' });
    const toy = rows.filter((r) => r.panel === 'toy');
    const lm = rows.filter((r) => r.panel === 'lm');
    expect(toy.map((r) => r.model)).toEqual(['MP', 'TopK', 'Matryoshka BatchTopK']);
    // The toy: TopK takes the nearest integer to the pursuit's L0, BatchTopK the L0 itself.
    const [mp, topk, mbtk] = toy;
    expect(mp.l0).toBeLessThanOrEqual(mp.k);
    expect(topk.k).toBe(Math.max(1, Math.round(mp.l0)));
    expect(mbtk.k).toBeCloseTo(mp.l0, 12);
    for (const r of toy) {
      expect(r.absorption).toBeGreaterThanOrEqual(0);
      expect(r.absorption).toBeLessThanOrEqual(1);
      expect(r.matchedCosine).toBeGreaterThan(0.5); // each SAE found most of the 20 true features
      expect(r.fvu).toBeLessThan(0.3);
      expect(r.ceLossRecovered).toBeNull();
    }

    // The LM: one level per pursuit length, the longest read again with twice its steps.
    expect(meta.levels.map((l) => l.level)).toEqual([4, 8]);
    expect(lm).toHaveLength(3 * 2 + 1);
    const at = (level: (typeof meta.levels)[number], m: string) => level.models.find((e) => e.model === m)!;
    for (const level of meta.levels) {
      expect(at(level, 'MP').l0).toBeLessThanOrEqual(level.level);
      expect(at(level, 'MP').l0).toBeGreaterThan(0.9 * level.level); // a pursuit on a dense residual stream rarely stops early
      // Trained alike (the rate warmed up over a tenth of the run), the pursuit and TopK reconstruct
      // within a factor of 2 of each other at the same L0; an undertrained TopK would be far behind.
      // (Not closer: 400 steps of a pursuit, whose greedy choices follow the BLAS's rounding, end
      // 10–50% apart from TopK's FVU over seeds and CPUs; after 100 steps up to 3.3x.)
      const [mpFvu, topkFvu] = [at(level, 'MP').fvu, at(level, 'TopK').fvu];
      expect(Math.max(mpFvu, topkFvu) / Math.min(mpFvu, topkFvu)).toBeLessThan(2);
      for (const e of level.models) expect(e.ceLossRecovered).toBeGreaterThan(0.9);
    }
    // More active latents, less error, for every SAE.
    for (const m of ['MP', 'TopK', 'Matryoshka BatchTopK']) expect(at(meta.levels[1], m).fvu).toBeLessThan(at(meta.levels[0], m).fvu);
    // The verdicts count the levels where the claim held.
    const wins = meta.levels.filter((l) => at(l, 'MP').fvu < at(l, 'TopK').fvu).length;
    expect(meta.findings.lmFvu).toMatch(new RegExp(`in ${wins} of 2$`));
    const longest = meta.levels[1].models;
    const twice = longest.find((e) => e.model === 'MP, twice the steps at inference')!;
    expect(twice.k).toBe(16);
    expect(twice.l0).toBeGreaterThan(longest.find((e) => e.model === 'MP')!.l0);
    expect(twice.fvu).toBeLessThan(longest.find((e) => e.model === 'MP')!.fvu);
    // The verdicts are read from these numbers.
    expect(meta.findings.moreSteps).toMatch(/^holds/);
    expect(meta.findings.toyAbsorption).toMatch(/^(holds|does not hold|mixed): .* in \d of 1$/);
    expect(meta.lm.ceZeroAblation).toBeGreaterThan(meta.lm.ceClean);
  }, 180_000);
});
