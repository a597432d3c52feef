import { describe, expect, it } from 'vitest';
import { platonicAlignment } from '../../src/experiments/platonic-alignment.js';

describe('platonic-alignment at smoke size', () => {
  it('finds more competent GPT snapshots more aligned with the strongest one', async () => {
    const { rows, meta } = await platonicAlignment.run({ size: 'smoke' });
    const p = platonicAlignment.sizes.smoke;
    // Every snapshot of every model but the reference is compared with it; trained models pairwise.
    const toRef = rows.filter((r) => r.kind === 'toReference');
    expect(toRef).toHaveLength(p.models.length * p.snapshots.length - 1);
    expect(rows.filter((r) => r.kind === 'pair')).toHaveLength(p.models.length * (p.models.length - 1));
    expect(meta.passages).toBe(p.passages);
    // The reference is the trained model with the lowest test loss.
    const finals = meta.models.map((m) => m.testLoss[m.testLoss.length - 1]);
    expect(meta.models[finals.indexOf(Math.min(...finals))].model).toBe(meta.reference);
    for (const m of meta.models) expect(m.testLoss[m.testLoss.length - 1]).toBeLessThan(m.testLoss[0]); // training helps
    for (const r of rows) {
      expect(r.alignment).toBeGreaterThan(10 / (p.passages - 1)); // above chance for independent representations
      expect(r.alignment).toBeLessThanOrEqual(1);
    }
    // The paper's claim at smoke size: competence and alignment to the reference rise together.
    expect(meta.competenceAlignmentRho).toBeGreaterThan(0.5);
    expect(meta.verdict).toMatch(/Spearman ρ = /);
    // Pairwise alignment is symmetric.
    const pair = (a: string, b: string) => rows.find((r) => r.kind === 'pair' && r.model === a && r.other === b)!.alignment;
    expect(pair(meta.models[0].model, meta.models[1].model)).toBeCloseTo(pair(meta.models[1].model, meta.models[0].model), 12);
  }, 300_000);
});
