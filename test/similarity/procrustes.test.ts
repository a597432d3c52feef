import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { shapeDistance } from '../../src/similarity/procrustes.js';
import { Rng } from '../../src/backend/rng.js';
import { FX, FY, affine, gaussian, randomOrthogonal } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

describe('shapeDistance (generalized shape metrics, Williams et al. 2021)', () => {
  it('matches netrep on fixture F: angular 0.6971170766 rad, Euclidean 3.3650992778', async () => {
    expect(await shapeDistance(FX, FY)).toBeCloseTo(0.6971170766, 6);
    expect(await shapeDistance(FX, FY, { score: 'euclidean' })).toBeCloseTo(3.3650992778, 5);
  });

  it('is 0 for a rotated (and translated) copy, > 0 otherwise', async () => {
    const x = gaussian(100, 8, 1);
    const rotated = affine(x, randomOrthogonal(8, 2), 8, 1, 4);
    expect(await shapeDistance(x, rotated)).toBeLessThan(2e-3); // arccos near 1 amplifies float32 rounding
    expect(await shapeDistance(x, rotated, { score: 'euclidean' })).toBeLessThan(2e-2); // vs ||X||_F ~ 28
    expect(await shapeDistance(x, gaussian(100, 8, 3))).toBeGreaterThan(0.5);
  });

  it('angular distance ignores isotropic scaling, Euclidean does not', async () => {
    const x = gaussian(100, 5, 4);
    const y = affine(x, randomOrthogonal(5, 5), 5, 3);
    expect(await shapeDistance(x, y)).toBeLessThan(2e-3);
    expect(await shapeDistance(x, y, { score: 'euclidean' })).toBeGreaterThan(10);
  });

  it('alpha = 0 (full whitening) makes Y = X W distance 0; alpha = 1 does not', async () => {
    const x = gaussian(200, 4, 6);
    const rng = new Rng(7);
    const w = Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 2 : 0) + rng.normal());
    const y = affine(x, w, 4);
    expect(await shapeDistance(x, y, { alpha: 0 })).toBeLessThan(2e-3);
    expect(await shapeDistance(x, y, { alpha: 1 })).toBeGreaterThan(0.05);
  });

  it('satisfies the triangle inequality for alpha in {0, 0.5, 1}', async () => {
    const a = gaussian(50, 4, 8);
    const b = gaussian(50, 4, 9);
    const c = affine(a, randomOrthogonal(4, 10), 4, 1);
    for (let i = 0; i < c.data.length; i++) c.data[i] += 0.5 * b.data[i];
    for (const alpha of [0, 0.5, 1]) {
      for (const score of ['angular', 'euclidean'] as const) {
        const ab = await shapeDistance(a, b, { alpha, score });
        const bc = await shapeDistance(b, c, { alpha, score });
        const ac = await shapeDistance(a, c, { alpha, score });
        expect(ac).toBeLessThanOrEqual(ab + bc + 1e-9);
        expect(ab).toBeLessThanOrEqual(ac + bc + 1e-9);
      }
    }
  });

  it('zero-pads different widths, or refuses them with zeroPad: false; leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    expect(await shapeDistance(FX, FY, { zeroPad: true, alpha: 0.5 })).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    const e = await shapeDistance(FX, FY, { zeroPad: false }).catch((x) => x);
    expect(e).toBeInstanceOf(NestlabArgumentError);
    expect(e.argument).toBe('Y.cols');
    await expect(shapeDistance(FX, FX, { alpha: 2 })).rejects.toThrow(/options.alpha/);
  });
});
