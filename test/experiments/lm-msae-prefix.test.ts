import { describe, it, expect } from 'vitest';
import { lmMsaePrefix } from '../../src/experiments/lm-msae-prefix.js';

describe('lm-msae-prefix at smoke size: SAEs spliced into a GPT trained on Brown files', () => {
  it('trains an LM that learned more than word frequencies, and scores every prefix inside it', async () => {
    const r = await lmMsaePrefix.run({ size: 'smoke' });
    const { meta, rows } = r;
    const prefixes = meta.prefixes;
    expect(prefixes).toEqual([8, 16, 32, 64, 128]);
    expect(rows).toHaveLength(2 * meta.seeds.length * prefixes.length);
    // The model beats the unigram on held-out files (400 steps of a d-32 model come near the bigram at smoke size).
    expect(meta.lm.model.test.loss).toBeLessThan(meta.lm.unigram.test.loss);
    // The hook matters: zeroing the residual stream at block 1 costs the model over half a nat.
    expect(meta.ceZeroAblation).toBeGreaterThan(meta.ceClean + 0.5);
    for (const model of ['Matryoshka', 'flat'] as const) {
      for (const seed of meta.seeds) {
        const mine = prefixes.map((p) => rows.find((x) => x.model === model && x.seed === seed && x.prefix === p)!);
        // More latents can only add active ones.
        for (let i = 1; i < mine.length; i++) expect(mine[i].l0).toBeGreaterThanOrEqual(mine[i - 1].l0 - 1e-9);
        const full = mine[mine.length - 1];
        // The full SAE keeps most of what the hook carries and explains some variance.
        expect(full.ceLossRecovered).toBeGreaterThan(0.5);
        expect(full.ceLossRecovered).toBeLessThan(1.2);
        expect(full.explainedVariance).toBeGreaterThan(0.1);
        expect(full.threshold).toBeGreaterThan(0);
      }
    }
    // SAEBench's probes with parts of speech as classes, on the first seed only.
    expect(meta.probeClasses).toContain('noun');
    expect(meta.probeClasses).not.toContain('other');
    for (const row of rows) {
      if (row.seed === meta.seeds[0]) {
        expect(row.probeK1).toBeGreaterThan(0.5); // one latent tells a part of speech from the rest better than chance
        expect(row.absorptionFraction).toBeGreaterThanOrEqual(0);
        expect(row.absorptionFraction).toBeLessThanOrEqual(1);
      } else {
        expect([row.probeK1, row.absorptionFraction]).toEqual([null, null]);
      }
    }
    expect(meta.groupDensity.map((g) => g.end)).toEqual(prefixes);
    // The flat SAE read by frequency (on the training rows) puts its rarest latents last: its inner
    // prefixes have few latents silent on the test rows, and no more than its full width.
    for (const seed of meta.seeds) {
      const flat = rows.filter((x) => x.model === 'flat' && x.seed === seed);
      const fullDead = flat.find((x) => x.prefix === 128)!.deadFraction;
      for (const row of flat.filter((x) => x.prefix < 128)) {
        expect(row.deadFraction).toBeLessThan(0.1);
        expect(row.deadFraction).toBeLessThanOrEqual(fullDead);
      }
    }
  }, 120_000);
});
