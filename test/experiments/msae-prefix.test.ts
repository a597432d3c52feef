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

  it('runs at smoke size with one row per source, model and prefix', async () => {
    const r = await msaePrefix.run({ size: 'smoke' });
    expect(r.rows).toHaveLength(2 * 2 * 5);
    expect(new Set(r.rows.map((q) => q.model))).toEqual(new Set(['Matryoshka', 'flat']));
    for (const q of r.rows) expect(q.explainedVariance as number).toBeLessThanOrEqual(1);
  });
});
