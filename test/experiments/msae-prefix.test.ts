import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { createSae, permuteLatents, reconstructSae } from '../../src/sae/model.js';
import { msaePrefix } from '../../src/experiments/msae-prefix.js';
import { halvingPrefixes } from '../../src/sae/config.js';
import { latentsByFrequency } from '../../src/sae/metrics.js';

describe('msae-prefix pieces', () => {
  const x = { data: new Rng(1).normalArray(64 * 12), rows: 64, cols: 12 };
  const sae = createSae({ dIn: 12, dSae: 16, activation: 'topk', k: 3 }, { seed: 2, sample: x });

  it('halves the dictionary into five nested prefixes', () => {
    expect(halvingPrefixes(512)).toEqual([32, 64, 128, 256, 512]);
  });

  it('reordering latents leaves the full reconstruction unchanged', async () => {
    const order = new Rng(3).permutation(16);
    const a = await reconstructSae(sae, x);
    const b = await reconstructSae(permuteLatents(sae, order), x);
    for (let i = 0; i < a.data.length; i++) expect(b.data[i]).toBeCloseTo(a.data[i], 5);
    expect(() => permuteLatents(sae, [0, 0, ...Array.from({ length: 14 }, (_, i) => i + 2)])).toThrow(/order\[1\] must be an unused latent index/);
  });

  it('ranks latents by firing frequency, most frequent first', async () => {
    const order = await latentsByFrequency(sae, x);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const sorted = permuteLatents(sae, order);
    const again = await latentsByFrequency(sorted, x);
    expect(Array.from(again)).toEqual(Array.from({ length: 16 }, (_, i) => i)); // already in order
  });

  it('compares Matryoshka prefixes with standalone SAEs trained at the matched L0 (smoke size, 30 epochs)', async () => {
    const r = await msaePrefix.run({ size: 'smoke', overrides: { epochs: 30, seeds: 1 } });
    const prefixes = r.meta.prefixes; // [4, 8, 16, 32, 64]
    expect(r.rows).toHaveLength(2 * 3 * prefixes.length); // 2 sources × {Matryoshka, standalone, flat} × 5 prefixes
    for (const f of r.meta.findings) {
      for (const c of f.comparisons) {
        // matched L0: the standalone SAE of width p fires about as often as the Matryoshka prefix p
        expect(Math.abs(c.standaloneL0.mean - c.matryoshkaL0.mean) / c.matryoshkaL0.mean, `${f.source} p=${c.prefix}`).toBeLessThan(0.15);
        // θ inference: L0 is measured, not forced to k (the symptom was L0 = k exactly)
        expect(c.matryoshkaL0.mean).toBeLessThanOrEqual(c.prefix);
      }
      const ev = f.comparisons.map((c) => c.matryoshka.mean);
      for (let i = 1; i < ev.length; i++) expect(ev[i], `${f.source}: explained variance grows with the prefix`).toBeGreaterThan(ev[i - 1]);
      // the Matryoshka prefixes reconstruct far better than a flat SAE's most frequent latents
      for (const c of f.comparisons.slice(0, 2)) expect(c.matryoshka.mean - c.flat.mean, `${f.source} p=${c.prefix}`).toBeGreaterThan(0.05);
      // at the full width the standalone SAE is the flat SAE itself
      const full = f.comparisons[f.comparisons.length - 1];
      expect(full.standalone.mean).toBeCloseTo(full.flat.mean, 6);
    }
    for (const q of r.rows) expect(q.threshold, `${q.model} θ estimated`).toBeGreaterThan(0);
  }, 60_000);
});
