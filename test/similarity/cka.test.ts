import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { linearCka, rbfCka } from '../../src/similarity/cka.js';
import { FX, FY, affine, gaussian, randomOrthogonal } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

describe('linear CKA', () => {
  it('matches the numpy values on fixture F (biased 0.6574019848, debiased 0.5078486493)', async () => {
    expect(await linearCka(FX, FY)).toBeCloseTo(0.6574019848, 6);
    expect(await linearCka(FX, FY, { debiased: true })).toBeCloseTo(0.5078486493, 6);
  });

  it('gives the same value in Gram form and feature form', async () => {
    const x = gaussian(40, 6, 1);
    const y = gaussian(40, 9, 2);
    for (const debiased of [false, true]) {
      const f = await linearCka(x, y, { form: 'feature', debiased });
      const g = await linearCka(x, y, { form: 'gram', debiased });
      expect(Math.abs(f - g)).toBeLessThan(1e-5);
    }
  });

  it('is 1 under an orthogonal transform, isotropic scaling and translation: CKA(X, 3 X Q + 5) = 1', async () => {
    const x = gaussian(200, 16, 3);
    const y = affine(x, randomOrthogonal(16, 4), 16, 3, 5);
    expect(await linearCka(x, y)).toBeCloseTo(1, 5);
    expect(await linearCka(x, y, { debiased: true })).toBeCloseTo(1, 5);
    expect(await linearCka(FX, affine(FX, randomOrthogonal(3, 9), 3, 3, 5))).toBeCloseTo(1, 6);
  });

  it('is not invariant to a general invertible linear map (unlike CCA)', async () => {
    const x = gaussian(200, 4, 5);
    const y = affine(x, [10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.1, 0, 0, 0, 0, 1], 4);
    expect(await linearCka(x, y)).toBeLessThan(0.9);
  });

  it('is small for independent random matrices, and the debiased estimate is near 0', async () => {
    const x = gaussian(500, 10, 6);
    const y = gaussian(500, 10, 7);
    const biased = await linearCka(x, y);
    const debiased = await linearCka(x, y, { debiased: true });
    expect(biased).toBeLessThan(0.05);
    expect(Math.abs(debiased)).toBeLessThan(0.02);
    expect(debiased).toBeLessThan(biased);
  });

  it('accepts tf.Tensor2D inputs and leaks no tensors', async () => {
    const xt = tf.tensor2d(FX.data, [8, 3]);
    const before = tf.memory().numTensors;
    const v = await linearCka(xt, FY);
    await linearCka(FX, FY, { form: 'gram', debiased: true });
    await rbfCka(FX, FY);
    await rbfCka(FX, FY, { debiased: true, sigma: 1 });
    expect(tf.memory().numTensors).toBe(before);
    xt.dispose();
    expect(v).toBeCloseTo(0.6574019848, 6);
  });

  it('rejects mismatched rows, NaN, too few samples, constant input and unknown options by name', async () => {
    const err = async (p: Promise<unknown>, arg: string) => {
      const e = await p.catch((x) => x);
      expect(e).toBeInstanceOf(NestlabArgumentError);
      expect((e as NestlabArgumentError).argument).toBe(arg);
    };
    await err(linearCka(FX, gaussian(7, 2, 1)), 'Y.rows');
    const bad = { data: Float32Array.from(FX.data), rows: 8, cols: 3 };
    bad.data[4] = NaN;
    await err(linearCka(bad, FY), 'X');
    await err(linearCka(gaussian(3, 2, 1), gaussian(3, 2, 2), { debiased: true }), 'X.rows');
    await err(linearCka({ data: new Float32Array(16).fill(2), rows: 8, cols: 2 }, FY), 'X');
    await err(linearCka(FX, FY, { form: 'fast' as 'gram' }), 'options.form');
    await err(linearCka(FX, FY, { debias: true } as object), 'options.debias');
  });
});

describe('RBF CKA', () => {
  it("matches Kornblith's gram_rbf on fixture F: threshold 1.0 -> 0.6946602024, 0.5 -> 0.7550972408", async () => {
    expect(await rbfCka(FX, FY, { bandwidthFraction: 1 })).toBeCloseTo(0.6946602024, 6);
    expect(await rbfCka(FX, FY)).toBeCloseTo(0.7550972408, 6);
  });

  it('with the median-relative bandwidth, is 1 under rotation + isotropic scaling', async () => {
    const x = gaussian(60, 5, 8);
    const y = affine(x, randomOrthogonal(5, 2), 5, 0.25, -1);
    expect(await rbfCka(x, y)).toBeCloseTo(1, 5);
    expect(await rbfCka(x, y, { debiased: true })).toBeCloseTo(1, 5);
  });

  it('with an absolute sigma, is not scale invariant', async () => {
    const x = gaussian(60, 5, 8);
    const y = affine(x, randomOrthogonal(5, 2), 5, 0.25);
    expect(await rbfCka(x, y, { sigma: 1 })).toBeLessThan(0.99);
  });

  it('rejects bandwidthFraction and sigma together', async () => {
    await expect(rbfCka(FX, FY, { bandwidthFraction: 1, sigma: 1 })).rejects.toThrow(/either bandwidthFraction/);
  });
});
