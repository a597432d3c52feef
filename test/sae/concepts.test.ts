import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { clusteringEntropy, cooccurrencePhi, eigenvaluePowerLaw, ldaParallelograms, lobeAgreement, parallelogramQuality } from '../../src/sae/concepts.js';

/** Differences b − a of word pairs: one direction per relation, a distractor of large variance shared by all, small noise. */
function wordPairDifferences(perRelation: number, relations: number, d: number, distractor: number, seed: number): { x: Matrix; relation: Int32Array } {
  const rng = new Rng(seed);
  const directions = Array.from({ length: relations }, () => rng.normalArray(d));
  const distractors = Array.from({ length: 3 }, () => rng.normalArray(d));
  const data = new Float32Array(relations * perRelation * d);
  const relation = new Int32Array(relations * perRelation);
  for (let r = 0; r < relations; r++) {
    for (let i = 0; i < perRelation; i++) {
      const row = r * perRelation + i;
      relation[row] = r;
      // Like word length: each pair moves along shared directions by its own random amount.
      const amounts = distractors.map(() => distractor * rng.normal());
      for (let j = 0; j < d; j++) {
        data[row * d + j] = directions[r][j] + amounts.reduce((s, a, t) => s + a * distractors[t][j], 0) + 0.1 * rng.normal();
      }
    }
  }
  return { x: { data, rows: relation.length, cols: d }, relation };
}

describe('atomic scale: parallelograms of word-pair differences', () => {
  it('is 1 for pairs that differ by exactly the same vector, and near 0 for unrelated differences', () => {
    const d = 50;
    const rng = new Rng(1);
    const plural = rng.normalArray(d);
    const exact = { data: new Float32Array(4 * d), rows: 4, cols: d };
    for (let i = 0; i < 4; i++) exact.data.set(plural.map((v) => v * (1 + i)), i * d); // the same direction, any length
    expect(parallelogramQuality(exact, new Int32Array(4))[0]).toBeCloseTo(1, 6);
    const random = { data: rng.normalArray(200 * d), rows: 200, cols: d };
    expect(Math.abs(parallelogramQuality(random, new Int32Array(200))[0])).toBeLessThan(0.02);
  });

  it('improves when LDA projects out a distractor that hides the relations, and not with shuffled relations', () => {
    const { x, relation } = wordPairDifferences(30, 4, 40, 4, 2);
    const r = ldaParallelograms(x, relation, { seed: 0, nullDraws: 10 });
    expect(r.components).toBe(3);
    expect(r.before).toBeLessThan(0.5); // the distractor dominates each difference
    expect(r.after).toBeGreaterThan(0.9); // held-out pairs line up once it is gone
    expect(r.after).toBeGreaterThan(r.nullMean + 5 * r.nullSd);
    expect(r.perRelation).toHaveLength(4);
  });

  it('names the argument when a relation has too few pairs', () => {
    const { x } = wordPairDifferences(3, 2, 10, 1, 3);
    expect(() => ldaParallelograms(x, Int32Array.from([0, 0, 0, 1, 1, 1]))).toThrow(/sae\.ldaParallelograms: relation must be at least two relations with at least 4 pairs/);
  });
});

describe('brain scale: co-occurrence lobes against the geometry', () => {
  it('computes phi as the Pearson correlation of the 0/1 firing columns', async () => {
    const rng = new Rng(4);
    const [n, m] = [300, 6];
    const presence = { data: Float32Array.from({ length: n * m }, (_, i) => (rng.uniform() < 0.2 + 0.1 * (i % m) ? 1 : 0)), rows: n, cols: m };
    for (let w = 0; w < n; w++) presence.data[w * m + 1] = presence.data[w * m]; // latent 1 copies latent 0: phi = 1
    const phi = await cooccurrencePhi(presence);
    const column = (j: number) => Array.from({ length: n }, (_, w) => presence.data[w * m + j]);
    const pearson = (a: number[], b: number[]) => {
      const [ma, mb] = [a.reduce((s, v) => s + v, 0) / n, b.reduce((s, v) => s + v, 0) / n];
      let [sab, saa, sbb] = [0, 0, 0];
      a.forEach((v, i) => ((sab += (v - ma) * (b[i] - mb)), (saa += (v - ma) ** 2), (sbb += (b[i] - mb) ** 2)));
      return sab / Math.sqrt(saa * sbb);
    };
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) expect(phi[i * m + j]).toBeCloseTo(pearson(column(i), column(j)), 10);
    expect(phi[0 * m + 1]).toBeCloseTo(1, 12);
  });

  it('finds planted lobes (latents that fire together and point together) far above shuffled geometry', async () => {
    const rng = new Rng(5);
    const [groups, perGroup, d, windows] = [4, 12, 16, 400];
    const m = groups * perGroup;
    const centers = Array.from({ length: groups }, () => rng.normalArray(d));
    const directions = { data: new Float32Array(m * d), rows: m, cols: d };
    const presence = { data: new Float32Array(windows * m), rows: windows, cols: m };
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) directions.data[i * d + j] = centers[Math.floor(i / perGroup)][j] + 0.3 * rng.normal();
    for (let w = 0; w < windows; w++) {
      const topic = rng.int(groups); // each window is about one topic: that group's latents fire
      for (let i = 0; i < m; i++) presence.data[w * m + i] = Math.floor(i / perGroup) === topic ? (rng.uniform() < 0.7 ? 1 : 0) : rng.uniform() < 0.05 ? 1 : 0;
    }
    const lobes = lobeAgreement(directions, await cooccurrencePhi(presence), { clusters: groups, nullDraws: 100, seed: 0 });
    expect(lobes.ami).toBeGreaterThan(0.9);
    expect(lobes.p).toBeCloseTo(1 / 101, 10); // no shuffle reaches the observed AMI
  });
});

describe('galaxy scale: the spectrum and the clustering of the decoder cloud', () => {
  it('has eigenvalues summing to the variance of the unit directions, flat for isotropic and steep for anisotropic clouds', async () => {
    const rng = new Rng(6);
    const [n, d] = [4000, 10];
    const iso = { data: rng.normalArray(n * d), rows: n, cols: d };
    const flat = await eigenvaluePowerLaw(iso);
    expect(Math.abs(flat.slope)).toBeLessThan(0.1);
    // Unit rows: the total variance is (n / (n − 1)) (1 − |mean|²).
    const unit = iso.data.slice();
    for (let i = 0; i < n; i++) {
      const norm = Math.hypot(...unit.subarray(i * d, (i + 1) * d));
      for (let j = 0; j < d; j++) unit[i * d + j] /= norm;
    }
    const mean = Array.from({ length: d }, (_, j) => Array.from({ length: n }, (_, i) => unit[i * d + j]).reduce((s, v) => s + v, 0) / n);
    const total = flat.eigenvalues.reduce((s, v) => s + v, 0);
    expect(total).toBeCloseTo((n / (n - 1)) * (1 - mean.reduce((s, v) => s + v * v, 0)), 6);
    const steep = { data: iso.data.map((v, i) => v * (1 + (i % d)) ** -1.5), rows: n, cols: d }; // sd of axis j ∝ j^-1.5
    expect((await eigenvaluePowerLaw(steep)).slope).toBeLessThan(-1.5);
    expect(flat.fitted).toEqual([1, 5]);
  });

  it('calls a cloud of tight clumps clustered, and a Gaussian cloud on the sphere not', async () => {
    const rng = new Rng(7);
    const [n, d] = [600, 8];
    const centers = Array.from({ length: 6 }, () => rng.normalArray(d));
    const clumps = { data: Float32Array.from({ length: n * d }, (_, t) => centers[Math.floor(t / d) % 6][t % d] + 0.05 * rng.normal()), rows: n, cols: d };
    const gaussian = { data: rng.normalArray(n * d), rows: n, cols: d };
    const clumped = await clusteringEntropy(clumps, { seed: 0 });
    const plain = await clusteringEntropy(gaussian, { seed: 0 });
    expect(clumped.value).toBeGreaterThan(5);
    expect(Math.abs(plain.value)).toBeLessThan(0.5);
    // With about as many points as dimensions the null is drawn with the cloud's exact sample
    // covariance, so a Gaussian cloud still reads as structureless.
    const few = await clusteringEntropy({ data: rng.normalArray(40 * 32), rows: 40, cols: 32 }, { seed: 1 });
    expect(Math.abs(few.value)).toBeLessThan(3 * few.nullSd + 0.5);
  });
});
