import { describe, it, expect } from 'vitest';
import { hierarchicalFeatures, activeFeatures } from '../../src/data/hierarchical.js';
import { NestlabArgumentError } from '../../src/errors.js';

describe('hierarchicalFeatures (the tree toy of docs/methods/msae.md §6.1)', () => {
  const data = hierarchicalFeatures({ samples: 40000, seed: 3 });
  const F = data.nFeatures;

  it('has the paper tree: 20 features, 3 parents with 3 children each, 8 independent', () => {
    expect(F).toBe(20);
    expect(data.parentIndices).toEqual([0, 4, 8]);
    expect(data.children[0]).toEqual([1, 2, 3]);
    expect(Array.from(data.parent.slice(0, 5))).toEqual([-1, 0, 0, 0, -1]);
    expect(data.expectedL0).toBeCloseTo(1.12, 10);
    expect(data.samples.cols).toBe(20);
  });

  it('never fires a child without its parent, and siblings are mutually exclusive', () => {
    let orphans = 0;
    let siblingPairs = 0;
    let childEvents = 0;
    for (let s = 0; s < data.samples.rows; s++) {
      for (const p of data.parentIndices) {
        const on = data.children[p].filter((c) => data.active[s * F + c]).length;
        childEvents += on;
        if (on > 1) siblingPairs++;
        if (on > 0 && !data.active[s * F + p]) orphans++;
      }
    }
    expect(childEvents).toBeGreaterThan(1000);
    expect(orphans).toBe(0);
    expect(siblingPairs).toBe(0);
  });

  it('fires each feature near its specified probability', () => {
    const n = data.samples.rows;
    for (let i = 0; i < F; i++) {
      let c = 0;
      for (let s = 0; s < n; s++) c += data.active[s * F + i];
      const p = data.probability[i];
      const se = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs(c / n - p)).toBeLessThan(5 * se);
    }
    expect(data.probability[0]).toBeCloseTo(0.15);
    expect(data.probability[1]).toBeCloseTo(0.03);
    expect(data.probability[19]).toBeCloseTo(0.05);
  });

  it('builds each sample as the sum of its active directions, which are orthogonal with norms ≈ 1', () => {
    const d = data.samples.cols;
    for (const s of [0, 1, 2, 17, 999]) {
      const act = activeFeatures(data, s);
      for (let j = 0; j < d; j++) {
        const want = act.reduce((a, f) => a + data.features.data[f * d + j], 0);
        expect(data.samples.data[s * d + j]).toBeCloseTo(want, 5);
      }
    }
    for (let a = 0; a < F; a++) {
      for (let b = 0; b < F; b++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += data.features.data[a * d + j] * data.features.data[b * d + j];
        if (a === b) expect(Math.abs(Math.sqrt(dot) - 1)).toBeLessThan(0.25);
        else expect(Math.abs(dot)).toBeLessThan(1e-5);
      }
    }
  });

  it('embeds more features than dimensions in superposition when d < features', () => {
    const small = hierarchicalFeatures({ samples: 10, d: 8, seed: 1, normJitter: 0 });
    expect(small.features.rows).toBe(20);
    expect(small.features.cols).toBe(8);
    let norm = 0;
    for (let j = 0; j < 8; j++) norm += small.features.data[j] ** 2;
    expect(norm).toBeCloseTo(1, 5);
  });

  it('is seeded', () => {
    const a = hierarchicalFeatures({ samples: 50, seed: 9 });
    const b = hierarchicalFeatures({ samples: 50, seed: 9 });
    const c = hierarchicalFeatures({ samples: 50, seed: 10 });
    expect(a.samples.data).toEqual(b.samples.data);
    expect(a.samples.data).not.toEqual(c.samples.data);
  });

  it('rejects bad options', () => {
    expect(() => hierarchicalFeatures({ childProbs: [0.6, 0.6] })).toThrow(NestlabArgumentError);
    expect(() => hierarchicalFeatures({ parentProb: 2 })).toThrow(/parentProb/);
    expect(() => hierarchicalFeatures({ sampels: 3 } as never)).toThrow(/sampels/);
  });
});
