import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { cca, pwcca, svcca, trimmedMean } from '../../src/similarity/cca.js';
import { Rng } from '../../src/backend/rng.js';
import { FX, FY, affine, gaussian, hcat } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

function randomInvertible(d: number, seed: number): Float64Array {
  // identity + a random perturbation: well conditioned and invertible.
  const rng = new Rng(seed);
  const w = Float64Array.from({ length: d * d }, () => 0.5 * rng.normal());
  for (let i = 0; i < d; i++) w[i * d + i] += 2;
  return w;
}

describe('CCA', () => {
  it('gives fixture F its canonical correlations [0.9908317204, 0.9303122153]', async () => {
    const r = await cca(FX, FY);
    expect(r.rho.length).toBe(2);
    expect(r.rho[0]).toBeCloseTo(0.9908317204, 6);
    expect(r.rho[1]).toBeCloseTo(0.9303122153, 6);
    expect(r.mean).toBeCloseTo(0.9605719679, 6); // = google/svcca get_cca_similarity "mean"
    expect(trimmedMean(r.rho)).toBeCloseTo(0.9605719679, 6);
    expect(r.saturated).toBe(false);
  });

  it('is invariant to invertible linear maps and translations: Y = X W + b gives all rho = 1', async () => {
    const x = gaussian(300, 6, 1);
    const r = await cca(x, affine(x, randomInvertible(6, 2), 6, 1, 3));
    for (const v of r.rho) expect(v).toBeCloseTo(1, 4);
    const y = gaussian(300, 4, 3);
    const a = await cca(x, y);
    const b = await cca(affine(x, randomInvertible(6, 4), 6), y);
    for (let i = 0; i < 4; i++) expect(b.rho[i]).toBeCloseTo(a.rho[i], 4);
  });

  it('is degenerate when p + q >= n: all rho = 1 even for independent data (flagged saturated)', async () => {
    const r = await cca(gaussian(12, 8, 5), gaussian(12, 8, 6));
    expect(r.saturated).toBe(true);
    // rank(X_c) = rank(Y_c) = 8 inside an 11-dimensional centered space: 5 correlations are forced to 1.
    for (let i = 0; i < 5; i++) expect(r.rho[i]).toBeCloseTo(1, 3);
  });

  it('leaks no tensors and rejects bad input by name', async () => {
    const before = tf.memory().numTensors;
    await cca(FX, FY);
    await svcca(FX, FY, { dims: 2 });
    await pwcca(FX, FY);
    expect(tf.memory().numTensors).toBe(before);
    const e = await cca(FX, gaussian(9, 2, 1)).catch((x) => x);
    expect(e).toBeInstanceOf(NestlabArgumentError);
    expect(e.argument).toBe('Y.rows');
    await expect(svcca(FX, FY, { dims: 2, varianceKept: 0.9 })).rejects.toThrow(/either varianceKept or dims/);
    await expect(svcca(FX, FY, { varianceKept: 1.5 })).rejects.toThrow(/options.varianceKept/);
  });
});

describe('SVCCA', () => {
  it('keeps the fewest directions reaching the variance fraction', async () => {
    // 3 strong directions + 5 weak ones (variance 1e-4): 99 % of the variance is in the first 3.
    const strong = gaussian(400, 3, 7);
    const weak = gaussian(400, 5, 8, 0.01);
    const x = hcat(strong, weak);
    const r = await svcca(x, x);
    expect(r.keptX).toBe(3);
    expect(r.mean).toBeCloseTo(1, 4);
  });

  it('is invariant to invertible linear maps of the kept subspace', async () => {
    const x = gaussian(300, 5, 9);
    const y = hcat(affine(x, randomInvertible(5, 10), 3), gaussian(300, 2, 11)); // shares 3 directions with X
    const a = await svcca(x, y, { dims: 5 });
    const b = await svcca(affine(x, randomInvertible(5, 12), 5), y, { dims: 5 });
    expect(b.mean).toBeCloseTo(a.mean, 4);
    for (let i = 0; i < a.rho.length; i++) expect(b.rho[i]).toBeCloseTo(a.rho[i], 4);
    expect(a.rho[2]).toBeCloseTo(1, 4); // the three shared directions
    expect(a.rho[3]).toBeLessThan(0.5);
  });
});

describe('PWCCA', () => {
  it("reproduces google/svcca's compute_pwcca on fixture F (0.9584202742) with variant 'google'", async () => {
    const g = await pwcca(FX, FY, { variant: 'google' });
    expect(g.side).toBe('Y');
    expect(g.similarity).toBeCloseTo(0.9584202742, 6);
    expect((await pwcca(FY, FX, { variant: 'google' })).similarity).toBeCloseTo(0.9584202742, 6); // symmetric rule
    const p = await pwcca(FX, FY);
    expect(p.similarity).toBeCloseTo(0.9626799132, 6); // paper's canonical-variate weighting (numpy)
    expect(p.distance).toBeCloseTo(1 - p.similarity, 12);
    expect(p.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
  });

  it('is 1 for Y = X W + b with W invertible, and invariant to such maps of the wider layer', async () => {
    const x = gaussian(300, 5, 13);
    for (const variant of ['paper', 'google'] as const) {
      expect((await pwcca(x, affine(x, randomInvertible(5, 14), 5, 1, 2), { variant })).similarity).toBeCloseTo(1, 4);
    }
    // The weights live on the narrower layer's units, so only maps of the wider one leave PWCCA unchanged.
    // Two shared directions with different noise levels (distinct rho; equal rho would make the
    // canonical variates, hence the weights, ambiguous) plus two unrelated units.
    const shared = affine(x, randomInvertible(5, 15), 2);
    const noise = gaussian(300, 2, 18);
    for (let i = 0; i < 300; i++) {
      shared.data[2 * i] += 0.3 * noise.data[2 * i];
      shared.data[2 * i + 1] += 1.5 * noise.data[2 * i + 1];
    }
    const y = hcat(shared, gaussian(300, 2, 16));
    const a = await pwcca(y, x);
    const b = await pwcca(y, affine(x, randomInvertible(5, 17), 5));
    expect(a.side).toBe('X');
    expect(b.similarity).toBeCloseTo(a.similarity, 4);
    expect(a.similarity).toBeGreaterThan(0.3);
    expect(a.similarity).toBeLessThan(0.9);
  });
});
