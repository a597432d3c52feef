import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { selectBackend } from '../../src/backend/select.js';
import { blasStatus, loadBlas } from '../../src/backend/blas.js';
import { matMulT, useBlasForWasmMatMul, wasmMatMulKernel } from '../../src/backend/wasm-matmul.js';

// CI installs libopenblas-dev before npm ci, so there the BLAS must load; elsewhere the parity
// tests run only where it did.
const blas = loadBlas();
const haveBlas = blas !== null;

/** Runs `f` once on XNNPACK and once on the BLAS and returns both results as plain arrays. */
async function both(f: () => tf.Tensor): Promise<[Float32Array, Float32Array, number[]]> {
  useBlasForWasmMatMul(null);
  const ref = f();
  const refData = (await ref.data()) as Float32Array;
  const shape = ref.shape;
  ref.dispose();
  useBlasForWasmMatMul(blas);
  const got = f();
  expect(got.shape).toEqual(shape);
  const gotData = (await got.data()) as Float32Array;
  got.dispose();
  return [refData, gotData, shape];
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  let scale = 1e-6;
  for (const v of a) scale = Math.max(scale, Math.abs(v));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / scale;
}

describe('wasm matrix products on the system BLAS', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });
  afterAll(() => {
    useBlasForWasmMatMul(blas); // leave the backend as selectBackend set it
  });

  it('loads the BLAS on CI (libopenblas-dev + nblas), or says why not', () => {
    const status = blasStatus();
    expect(status.loaded).toBe(haveBlas);
    expect(status.detail.length).toBeGreaterThan(0);
    if (process.env.CI === 'true') expect(status, 'CI installs libopenblas-dev so nblas must build and load').toMatchObject({ loaded: true });
  });

  it.runIf(haveBlas)('matches XNNPACK for every transpose combination, batches and broadcast batches', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 19], [19, 23], false, false],
      [[19, 37], [19, 23], true, false],
      [[37, 19], [23, 19], false, true],
      [[19, 37], [23, 19], true, true],
      [[3, 8, 5], [3, 5, 6], false, false],
      [[1, 8, 5], [4, 5, 6], false, false], // A shared by every batch
      [[4, 5, 8], [5, 6], true, false], // rank-2 B shared by every batch
      [[2, 3, 4, 5], [2, 3, 5, 2], false, false], // two batch dimensions
      [[1, 1], [1, 300], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
      const [ref, got] = await both(() => tf.matMul(a, b, ta, tb));
      expect(maxRelDiff(ref, got), `${sa} x ${sb} (${ta}, ${tb})`).toBeLessThan(1e-5);
      tf.dispose([a, b]);
    }
  });

  it.runIf(haveBlas)('computes X^T X and X X^T of one tensor as a full symmetric Gram matrix', async () => {
    const x = tf.randomNormal([50, 7], 0, 1, 'float32', 3);
    for (const [ta, tb] of [[true, false], [false, true]] as const) {
      const [ref, got, shape] = await both(() => tf.matMul(x, x, ta, tb));
      expect(shape).toEqual(ta ? [7, 7] : [50, 50]);
      expect(maxRelDiff(ref, got)).toBeLessThan(1e-5);
      const n = shape[0];
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(got[i * n + j]).toBe(got[j * n + i]);
    }
    x.dispose();
  });

  it.runIf(haveBlas)('fuses a bias and relu as XNNPACK does, and leaves other activations to it', async () => {
    const a = tf.randomNormal([16, 9], 0, 1, 'float32', 4);
    const w = tf.randomNormal([9, 12], 0, 1, 'float32', 5);
    const bias = tf.randomNormal([12], 0, 1, 'float32', 6);
    for (const activation of ['linear', 'relu', 'elu'] as const) {
      const [ref, got] = await both(() => tf.fused.matMul({ a, b: w, bias, activation }));
      expect(maxRelDiff(ref, got), activation).toBeLessThan(1e-5);
    }
    const [ref, got] = await both(() => tf.fused.matMul({ a, b: w, transposeB: false }));
    expect(maxRelDiff(ref, got)).toBeLessThan(1e-5);
    tf.dispose([a, w, bias]);
  });

  it.runIf(haveBlas)('gives the same gradients as XNNPACK', async () => {
    const a = tf.randomNormal([11, 6], 0, 1, 'float32', 7);
    const b = tf.randomNormal([6, 4], 0, 1, 'float32', 8);
    const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y)));
    const grads = () => tf.tidy(() => tf.concat(tf.grads(loss)([a, b]).map((g) => tf.reshape(g, [-1]))));
    const [ref, got] = await both(grads);
    expect(maxRelDiff(ref, got)).toBeLessThan(1e-5);
    tf.dispose([a, b]);
  });

  it.runIf(haveBlas)('hands empty products back to XNNPACK', async () => {
    const a = tf.zeros([0, 4]);
    const b = tf.ones([4, 3]);
    const c = tf.matMul(a, b);
    expect(c.shape).toEqual([0, 3]);
    tf.dispose([a, b, c]);
  });

  it('switches kernels both ways without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    useBlasForWasmMatMul(null);
    expect(wasmMatMulKernel()).toBe('xnnpack');
    useBlasForWasmMatMul(blas);
    expect(wasmMatMulKernel()).toBe(haveBlas ? 'blas' : 'xnnpack');
    const x = tf.randomNormal([30, 20], 0, 1, 'float32', 9);
    tf.matMul(x, x, true, false).dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matMulT equals tf.matMul on either kernel', async () => {
    const a = tf.randomNormal<tf.Rank.R2>([13, 8], 0, 1, 'float32', 10);
    const b = tf.randomNormal<tf.Rank.R2>([13, 5], 0, 1, 'float32', 11);
    const want = (await tf.matMul(a, b, true, false).data()) as Float32Array;
    for (const k of [null, blas]) {
      useBlasForWasmMatMul(k);
      const got = matMulT(a, b, true);
      expect(got.shape).toEqual([8, 5]);
      expect(maxRelDiff(want, (await got.data()) as Float32Array)).toBeLessThan(1e-5);
      got.dispose();
    }
    tf.dispose([a, b]);
  });
});
