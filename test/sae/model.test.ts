import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { selectByRuns } from '../../src/sae/kernels.js';
import {
  createSae, encoderPre, selectTopK, selectBatchTopK, selectAbove, rowTopKJs, geometricMedian,
  encodeSae, decodeSae, reconstructSae, codeToDense, truncateCode, JS_ENCODER_MAX_MACS, foldActivationScale,
} from '../../src/sae/model.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { kthLargest } from '../../src/math/order.js';

beforeAll(async () => {
  await initBackend();
});

function randomBatch(rows: number, d: number, seed: number): Float32Array {
  return new Rng(seed).normalArray(rows * d);
}

describe('createSae', () => {
  it('has SAELens shapes, unit decoder rows and W_enc = W_decᵀ', () => {
    const sae = createSae({ dIn: 6, dSae: 10, k: 3 });
    const { wEnc, bEnc, wDec, bDec } = sae.params;
    expect([wEnc.length, bEnc.length, wDec.length, bDec.length]).toEqual([60, 10, 60, 6]);
    for (let i = 0; i < 10; i++) {
      let n = 0;
      for (let j = 0; j < 6; j++) {
        n += wDec[i * 6 + j] ** 2;
        expect(wEnc[j * 10 + i]).toBe(wDec[i * 6 + j]);
      }
      expect(n).toBeCloseTo(1, 5);
    }
  });

  it('initializes b_dec to the geometric median or the mean of a sample', () => {
    // median of {0, 0, 0, 10} points on a line: 0 (the mean is 2.5)
    const sample = { data: Float32Array.from([0, 0, 0, 0, 0, 0, 10, 0]), rows: 4, cols: 2 };
    expect(geometricMedian(sample)[0]).toBeLessThan(0.01);
    expect(createSae({ dIn: 2, dSae: 4, k: 1 }, { bDecInit: 'mean', sample }).params.bDec[0]).toBeCloseTo(2.5);
    expect(createSae({ dIn: 2, dSae: 4, k: 1 }, { sample }).params.bDec[0]).toBeLessThan(0.01);
  });
});

describe('selection', () => {
  it('rowTopKJs keeps the r largest per row, descending', () => {
    const pre = Float32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
    const t = rowTopKJs(pre, 2, 4, 2);
    expect(Array.from(t.val)).toEqual([4, 3, 9, 6]);
    expect(Array.from(t.idx)).toEqual([2, 0, 1, 3]);
  });

  it('selectByRuns selects what rowTopKJs selects (same order, ties to the lower index) from the run maxima', () => {
    const rng = new Rng(7);
    for (const [rows, m, r] of [[5, 64, 2], [7, 256, 8], [3, 128, 4], [4, 32, 1]] as const) {
      // small integers make ties common; one row is all equal, one has −∞ entries
      const pre = Float32Array.from(rng.normalArray(rows * m), (v) => Math.round(v * 3));
      pre.fill(2, 0, m);
      pre.fill(-Infinity, m, m + m / 2);
      const gmax = new Float32Array((rows * m) / 32);
      for (let g = 0; g < gmax.length; g++) gmax[g] = Math.max(...pre.subarray(g * 32, g * 32 + 32));
      const want = rowTopKJs(pre, rows, m, r);
      const got = { val: new Float32Array(rows * r), idx: new Int32Array(rows * r) };
      selectByRuns(pre, 0, gmax, 0, m, r, 0, rows, got.val, got.idx, 0);
      expect(Array.from(got.idx)).toEqual(Array.from(want.idx));
      expect(Array.from(got.val)).toEqual(Array.from(want.val));
    }
  });

  it('kthLargest matches a sort', () => {
    const a = new Rng(1).normalArray(1001);
    const sorted = Array.from(a).sort((x, y) => y - x);
    for (const k of [1, 2, 500, 1001]) expect(kthLargest(a, k)).toBe(sorted[k - 1]);
  });

  for (const rows of [16, 256]) {
    const path = rows * 32 * 256 > JS_ENCODER_MAX_MACS ? 'tfjs' : 'JS';
    it(`TopK selects exactly k per row (${path} encoder)`, async () => {
      const sae = createSae({ dIn: 32, dSae: 256, k: 5, activation: 'topk' });
      const x = randomBatch(rows, 32, 2);
      const { pre } = encoderPre(sae, x, rows);
      const full = (await pre.full()).slice();
      const code = await selectTopK(pre, 5);
      pre.dispose();
      for (let b = 0; b < rows; b++) {
        expect(code.ptr[b + 1] - code.ptr[b]).toBe(5);
        const kth = Array.from(full.subarray(b * 256, (b + 1) * 256)).sort((p, q) => q - p)[4];
        for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) {
          expect(code.val[a]).toBe(full[b * 256 + code.idx[a]]);
          expect(code.val[a]).toBeGreaterThanOrEqual(kth);
          if (a > code.ptr[b]) expect(code.idx[a]).toBeGreaterThan(code.idx[a - 1]);
        }
      }
    });

    it(`BatchTopK selects exactly k·B over the batch (${path} encoder)`, async () => {
      const sae = createSae({ dIn: 32, dSae: 256, k: 2.5 });
      const x = randomBatch(rows, 32, 3);
      const { pre } = encoderPre(sae, x, rows);
      const full = (await pre.full()).slice();
      const { code, minKept } = await selectBatchTopK(pre, 2.5);
      pre.dispose();
      const K = Math.floor(2.5 * rows);
      expect(code.idx.length).toBe(K);
      const kth = Array.from(full).sort((p, q) => q - p)[K - 1];
      expect(minKept).toBe(kth);
      for (let a = 0; a < code.idx.length; a++) expect(code.val[a]).toBeGreaterThanOrEqual(kth);
    });
  }

  it('BatchTopK stays exact when one row holds most of the batch budget', async () => {
    // row 0 is large everywhere: the top K = 2·4 entries all sit in row 0, beyond its 4k candidates
    const m = 64;
    const pre = new Float32Array(4 * m);
    const rng = new Rng(5);
    for (let j = 0; j < m; j++) pre[j] = 100 + rng.uniform();
    for (let j = m; j < 4 * m; j++) pre[j] = rng.uniform();
    const src = { rows: 4, dSae: m, rowTopK: async (r: number) => rowTopKJs(pre, 4, m, r), full: async () => pre, dispose() {} };
    const { code } = await selectBatchTopK(src, 2);
    expect(code.idx.length).toBe(8);
    expect(code.ptr[1]).toBe(8);
    const { code: wide } = await selectBatchTopK(src, 10);
    expect(wide.idx.length).toBe(40);
    expect(wide.ptr[1]).toBe(40);
  });

  it('ReLU keeps every positive entry; a threshold keeps entries above it', async () => {
    const pre = Float32Array.from([-1, 0.5, 2, 0, 0.1, -3]);
    const src = { rows: 2, dSae: 3, rowTopK: async (r: number) => rowTopKJs(pre, 2, 3, r), full: async () => pre, dispose() {} };
    const c = await selectAbove(src);
    expect(Array.from(c.ptr)).toEqual([0, 2, 3]);
    expect(Array.from(c.idx)).toEqual([1, 2, 1]);
    const t = await selectAbove(src, Float32Array.from([0.3, 0.3, 0.3]));
    expect(Array.from(t.idx)).toEqual([1, 2]);
    // per latent: latent 1 needs > 0.5 (not met by 0.5 itself), latent 2 a negative θ acts as ReLU
    const perLatent = await selectAbove(src, Float32Array.from([0, 0.5, -5]));
    expect(Array.from(perLatent.idx)).toEqual([2]);
  });
});

describe('inference', () => {
  it('encodes, truncates at a prefix and decodes with b_dec', async () => {
    const sae = createSae({ dIn: 4, dSae: 8, k: 2, activation: 'topk', prefixes: [3, 8] });
    sae.params.bDec.set([1, 2, 3, 4]);
    const x = { data: randomBatch(5, 4, 7), rows: 5, cols: 4 };
    const code = await encodeSae(sae, x);
    expect(code.idx.length).toBeLessThanOrEqual(10);
    const p3 = await encodeSae(sae, x, { prefix: 3 });
    expect(Array.from(p3.idx).every((j) => j < 3)).toBe(true);
    expect(p3).toEqual(truncateCode(code, 3));
    const dense = codeToDense(code);
    const xhat = decodeSae(sae, code);
    for (let b = 0; b < 5; b++) {
      for (let i = 0; i < 4; i++) {
        let want = sae.params.bDec[i];
        for (let j = 0; j < 8; j++) want += dense.data[b * 8 + j] * sae.params.wDec[j * 4 + i];
        expect(xhat.data[b * 4 + i]).toBeCloseTo(want, 5);
      }
    }
    expect((await reconstructSae(sae, x)).data).toEqual(xhat.data);
    // one option style: encode's {prefix, dense}, decode's and reconstruct's {prefix}
    expect(await encodeSae(sae, x, { dense: true })).toEqual(dense);
    expect(await encodeSae(sae, x, { prefix: 3, dense: true })).toEqual(codeToDense(p3));
    const x3 = decodeSae(sae, code, { prefix: 3 });
    expect(x3).toEqual(decodeSae(sae, p3));
    expect(await reconstructSae(sae, x, { prefix: 3 })).toEqual(x3);
  });

  it('rejects input of the wrong width or with NaN', async () => {
    const sae = createSae({ dIn: 4, dSae: 8, k: 2 });
    await expect(encodeSae(sae, { data: new Float32Array(6), rows: 2, cols: 3 })).rejects.toThrow(/x.cols must be dIn = 4/);
    await expect(encodeSae(sae, { data: Float32Array.from([0, 1, Number.NaN, 2]), rows: 1, cols: 4 })).rejects.toThrow(NestlabArgumentError);
    await expect(encodeSae(sae, { data: new Float32Array(4), rows: 1, cols: 4 }, { prefx: 2 } as never)).rejects.toThrow(/sae.encode: options.prefx/);
    expect(() => decodeSae(sae, { rows: 0, dSae: 8, ptr: Int32Array.of(0), idx: new Int32Array(0), val: new Float32Array(0) }, { prefix: 9 })).toThrow(/sae.decode: options.prefix must be an integer in \[1, 8\]/);
  });
});

describe('foldActivationScale', () => {
  it('turns an SAE trained on x·c into the same SAE on x: the same codes, reconstructions divided by c', async () => {
    const d = 12;
    const sae = createSae({ dIn: d, dSae: 40, k: 5, activation: 'topk', prefixes: [10, 40] }, { seed: 4 });
    sae.params.bDec.set(randomBatch(1, d, 9));
    for (let i = 0; i < sae.params.bEnc.length; i++) sae.params.bEnc[i] = 0.01 * i - 0.2;
    const c = 3.5;
    const x = { data: randomBatch(30, d, 2), rows: 30, cols: d };
    const xc = { data: x.data.map((v) => v * c), rows: 30, cols: d };
    const raw = foldActivationScale(sae, c);
    const [codeRaw, codeScaled] = [await encodeSae(raw, x), await encodeSae(sae, xc)];
    expect(Array.from(codeRaw.idx)).toEqual(Array.from(codeScaled.idx));
    codeRaw.val.forEach((v, i) => expect(v).toBeCloseTo(codeScaled.val[i], 4));
    const [a, b] = [await reconstructSae(raw, x, { prefix: 10 }), await reconstructSae(sae, xc, { prefix: 10 })];
    a.data.forEach((v, i) => expect(v).toBeCloseTo(b.data[i] / c, 4));
    expect(sae.params.wEnc[0]).not.toBe(raw.params.wEnc[0]); // a copy: the original is unchanged
    expect(() => foldActivationScale(sae, 0)).toThrow(/sae\.foldActivationScale: c must be a positive finite number/);
  });
});
