import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { fromRows } from '../../src/data/matrix.js';
import { covarianceSpectrum, participationRatio, twoNn } from '../../src/similarity/dimension.js';
import { FX, affine, gaussian, randomOrthogonal } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

/** n points uniform on [0, 1]^2, embedded in R^10 by a random rotation. */
function planeIn10D(n: number, seed: number) {
  const rng = new Rng(seed);
  const flat = { data: new Float32Array(n * 10), rows: n, cols: 10 };
  for (let i = 0; i < n; i++) {
    flat.data[i * 10] = rng.uniform();
    flat.data[i * 10 + 1] = rng.uniform();
  }
  return affine(flat, randomOrthogonal(10, seed + 1), 10);
}

describe('twoNn intrinsic dimension (Facco et al. 2017)', () => {
  it('gives about 2 for a 2-D square embedded in 10-D (boundary effects pull it slightly below 2)', async () => {
    const x = planeIn10D(1000, 1);
    const fit = await twoNn(x);
    expect(fit.dimension).toBeGreaterThan(1.8);
    expect(fit.dimension).toBeLessThan(2.15);
    expect(fit.used).toBe(1000);
    const mle = await twoNn(x, { estimator: 'mle' });
    expect(mle.dimension).toBeGreaterThan(1.8);
    expect(mle.dimension).toBeLessThan(2.15);
  });

  it('gives about 1 for a circle and about 5 for a 5-D Gaussian', async () => {
    const rng = new Rng(2);
    const circle = fromRows(Array.from({ length: 500 }, () => {
      const t = 2 * Math.PI * rng.uniform();
      return [Math.cos(t), Math.sin(t), 0];
    }));
    expect((await twoNn(circle)).dimension).toBeCloseTo(1, 0);
    const g = (await twoNn(gaussian(1500, 5, 3))).dimension;
    expect(g).toBeGreaterThan(4.3);
    expect(g).toBeLessThan(5.5);
  });

  it('drops duplicated rows and reports them; needs 3 rows', async () => {
    const x = planeIn10D(200, 4);
    x.data.set(x.data.subarray(0, 10), 10); // row 1 := row 0
    const r = await twoNn(x);
    expect(r.duplicates).toBe(2);
    expect(r.used).toBe(198);
    const e = await twoNn(fromRows([[0], [1]])).catch((z) => z);
    expect(e).toBeInstanceOf(NestlabArgumentError);
    expect(e.argument).toBe('X.rows');
  });
});

describe('participation ratio', () => {
  it('is 2.6181818182 on fixture F', async () => {
    expect(await participationRatio(FX)).toBeCloseTo(2.6181818182, 6);
  });

  it('is k for k equal eigenvalues, and about p / (1 + p / n) for isotropic data', async () => {
    // Columns +-1 patterns: 4 orthogonal, equal-variance directions.
    const rows = [];
    for (let i = 0; i < 16; i++) rows.push([0, 1, 2, 3].map((b) => ((i >> b) & 1 ? 1 : -1)));
    expect(await participationRatio(fromRows(rows))).toBeCloseTo(4, 6);
    const pr = await participationRatio(gaussian(1000, 20, 5));
    expect(Math.abs(pr - 20 / (1 + 20 / 1000))).toBeLessThan(0.5);
    // n < p: the n x n Gram path.
    const wide = await participationRatio(gaussian(30, 200, 6));
    expect(wide).toBeGreaterThan(20);
    expect(wide).toBeLessThanOrEqual(29 + 1e-9);
  });

  it('is invariant to rotation, translation and scale, and rejects a constant matrix', async () => {
    const x = gaussian(200, 6, 7);
    for (let i = 0; i < 200; i++) x.data[i * 6] *= 4; // anisotropic
    const a = await participationRatio(x);
    expect(await participationRatio(affine(x, randomOrthogonal(6, 8), 6, 7, -3))).toBeCloseTo(a, 4);
    await expect(participationRatio(fromRows([[1, 2], [1, 2]]))).rejects.toThrow(/non-zero variance/);
  });
});

describe('covarianceSpectrum', () => {
  it('gives the eigenvalues of the sample covariance, descending, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const x = fromRows([[1, 0], [-1, 0], [0, 2], [0, -2]]); // covariance diag(2/3, 8/3)
    const ev = await covarianceSpectrum(x);
    expect(ev[0]).toBeCloseTo(8 / 3, 6);
    expect(ev[1]).toBeCloseTo(2 / 3, 6);
    expect(tf.memory().numTensors).toBe(before);
  });
});
