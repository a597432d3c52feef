import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';
import type { Matrix } from '../../src/data/matrix.js';
import {
  createMrl2d,
  defaultStarbucksPairs,
  disposeMrl2d,
  mrl2dAccuracy,
  mrl2dBatchLoss,
  mrl2dEmbed,
  mrl2dSchedule,
  trainMrl2d,
  type Mrl2dConfig,
  type Mrl2dModel,
} from '../../src/models/mrl2d.js';

/** Three well-separated Gaussian blobs in 6 dims (class c centered at 3·e_c). */
function blobs(n: number, seed: number): { x: Matrix; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 6);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 6; j++) x[i * 6 + j] = 0.5 * rng.normal() + (j === y[i] ? 3 : 0);
  }
  return { x: { data: x, rows: n, cols: 6 }, y };
}

// ---- an independent forward pass in plain numbers (no tfjs) --------------------------------
type Mat = number[][];
const matmul = (a: Mat, b: Mat): Mat => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const addRow = (a: Mat, b: number[]): Mat => a.map((r) => r.map((v, j) => v + b[j]));
const geluNew = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
function layerNorm(a: Mat, g: number[], b: number[]): Mat {
  return a.map((r) => {
    const mu = r.reduce((s, v) => s + v, 0) / r.length;
    const v2 = r.reduce((s, v) => s + (v - mu) ** 2, 0) / r.length;
    return r.map((v, j) => ((v - mu) / Math.sqrt(v2 + 1e-5)) * g[j] + b[j]);
  });
}
const logSoftmax = (r: number[]) => {
  const mx = Math.max(...r);
  const lse = mx + Math.log(r.reduce((s, v) => s + Math.exp(v - mx), 0));
  return r.map((v) => v - lse);
};

/** Weights as nested arrays, read from the model. */
function weightsOf(model: Mrl2dModel) {
  const arr = (t: tf.Tensor) => t.arraySync() as never;
  const [win, bin] = [arr(model.input.kernel) as Mat, arr(model.input.bias) as number[]];
  const blocks = model.blocks.map((b) => ({ g: arr(b.lnGain) as number[], beta: arr(b.lnBias) as number[], w1: arr(b.kernel1) as Mat, b1: arr(b.bias1) as number[], w2: arr(b.kernel2) as Mat, b2: arr(b.bias2) as number[] }));
  return { win, bin, blocks, heads: model.headKernels.map(arr) as Mat[], biases: model.headBiases.map(arr) as number[][] };
}

/** logits(l, m) of every row, computed by hand from the formula of docs/methods/mrl-2d.md §1. */
function handLogits(model: Mrl2dModel, x: Mat, layer: number, dim: number): Mat {
  const w = weightsOf(model);
  let h = addRow(matmul(x, w.win), w.bin);
  for (let l = 0; l < layer; l++) {
    const b = w.blocks[l];
    const inner = addRow(matmul(layerNorm(h, b.g, b.beta), b.w1), b.b1).map((r) => r.map(geluNew));
    const branch = addRow(matmul(inner, b.w2), b.b2);
    h = h.map((r, i) => r.map((v, j) => v + branch[i][j]));
  }
  return addRow(matmul(h.map((r) => r.slice(0, dim)), w.heads[layer - 1].slice(0, dim)), w.biases[layer - 1]);
}
const handCe = (logits: Mat, y: number[]) => -logits.reduce((s, r, i) => s + logSoftmax(r)[y[i]], 0) / y.length;

describe('2D Matryoshka embeddings (Starbucks, 2DMSE)', () => {
  beforeAll(async () => {
    await initBackend();
  });
  const tiny: Mrl2dConfig = { inputDim: 3, width: 4, hidden: 3, layers: 2, dims: [2, 4], classes: 3, loss: 'starbucks', pairs: [[1, 2], [2, 4]], seed: 5 };
  const xs: Mat = [[0.5, -1, 2], [1.5, 0.3, -0.7], [-2, 0.1, 0.4]];
  const ys = [0, 2, 1];

  it("Starbucks' default pairs grow in both layer and dim and end at (L, D), as the paper's list", () => {
    expect(defaultStarbucksPairs(12, [32, 64, 128, 256, 512, 768])).toEqual([[2, 32], [4, 64], [6, 128], [8, 256], [10, 512], [12, 768]]);
    expect(defaultStarbucksPairs(4, [8, 16, 32, 64, 128])).toEqual([[1, 16], [2, 32], [3, 64], [4, 128]]);
    expect(defaultStarbucksPairs(3, [4, 16])).toEqual([[2, 4], [3, 16]]);
  });

  it('the Starbucks loss is the mean of the pairs\' cross-entropies, as computed by hand', () => {
    const model = createMrl2d(tiny);
    // Fixed, non-trivial weights everywhere (layer-norm gains and biases included).
    const rng = new Rng(11);
    const weights = [model.input.kernel, model.input.bias, ...model.blocks.flatMap((b) => Object.values(b) as tf.Variable[])];
    for (const w of weights) w.assign(tf.tensor(rng.normalArray(w.size, 0.7), w.shape));
    for (const k of model.headKernels) k.assign(tf.tensor(rng.normalArray(k.size), k.shape));
    for (const b of model.headBiases) b.assign(tf.tensor(rng.normalArray(b.size, 0.3), b.shape));
    const x = tf.tensor2d(xs);
    const y = tf.tensor1d(ys, 'int32');
    const [step] = mrl2dSchedule(model.config, 1);
    expect(step).toEqual({ ce: [{ layer: 1, dim: 2, weight: 0.5 }, { layer: 2, dim: 4, weight: 0.5 }], kl: [] });
    const loss = mrl2dBatchLoss(model, x, y, step);
    const expected = (handCe(handLogits(model, xs, 1, 2), ys) + handCe(handLogits(model, xs, 2, 4), ys)) / 2;
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);

    // A 2DMSE-style step: CE at (2, 2) plus the KL of layer 1 to layer 2 at full width, T = 0.3.
    const kl = mrl2dBatchLoss(model, x, y, { ce: [{ layer: 2, dim: 2, weight: 1 }], kl: [{ layer: 1, dim: 4, weight: 0.3 }] });
    const T = 0.3;
    const [last, prior] = [handLogits(model, xs, 2, 4), handLogits(model, xs, 1, 4)];
    let klSum = 0;
    last.forEach((r, i) => {
      const lp = logSoftmax(r.map((v) => v / T));
      const lq = logSoftmax(prior[i].map((v) => v / T));
      lp.forEach((v, c) => (klSum += Math.exp(v) * (v - lq[c])));
    });
    expect(kl.dataSync()[0]).toBeCloseTo(handCe(handLogits(model, xs, 2, 2), ys) + (T * klSum) / xs.length, 4);
    tf.dispose([x, y, loss, kl]);
    disposeMrl2d(model);
  });

  it("2DMSE draws the last layer plus one prior layer (weight 1/l) and a KL per step, reproducibly for a seed, covering every layer and dim", () => {
    const cfg: Mrl2dConfig = { inputDim: 3, width: 16, layers: 4, dims: [2, 4, 8, 16], classes: 3, loss: '2dmse' };
    const a = mrl2dSchedule(cfg, 200, 7);
    expect(mrl2dSchedule(cfg, 200, 7)).toEqual(a);
    expect(mrl2dSchedule(cfg, 200, 8)).not.toEqual(a);
    const seen = new Set<string>();
    for (const step of a) {
      expect(step.ce).toHaveLength(2);
      expect(step.ce[0].layer).toBe(4);
      expect(step.ce[0].weight).toBe(1);
      const prior = step.ce[1];
      expect(prior.layer).toBeLessThan(4);
      expect(prior.weight).toBeCloseTo(1 / prior.layer, 12);
      expect(step.kl).toEqual([{ layer: prior.layer, dim: 16, weight: 0.3 }]);
      for (const t of step.ce) seen.add(`${t.layer},${t.dim}`);
    }
    // Every (layer, dim) cell is drawn at some step.
    expect(seen.size).toBe(16);
    // Starbucks' steps never vary.
    const sb = mrl2dSchedule({ ...cfg, loss: 'starbucks' }, 5, 7);
    expect(new Set(sb.map((s) => JSON.stringify(s))).size).toBe(1);
  });

  it('learns a separable problem at every trained cell, deterministically for a seed, without leaking tensors', async () => {
    const train = blobs(240, 1);
    const test = blobs(90, 2);
    const base: Omit<Mrl2dConfig, 'loss'> = { inputDim: 6, width: 8, layers: 2, dims: [2, 4, 8], classes: 3, seed: 1 };
    const before = tf.memory().numTensors;
    const results: Record<string, { layer: number; dim: number; accuracy: number }[]> = {};
    for (const cfg of [{ ...base, loss: 'starbucks' }, { ...base, loss: '2dmse' }, { ...base, layers: 1, loss: 'single', pairs: [[1, 2]] }] satisfies Mrl2dConfig[]) {
      const model = createMrl2d(cfg);
      const history = await trainMrl2d(model, train.x, train.y, { epochs: 15, seed: 1, learningRate: 1e-2, batchSize: 32 });
      expect(history[history.length - 1].loss).toBeLessThan(history[0].loss);
      results[cfg.loss] = await mrl2dAccuracy(model, test.x, test.y);
      const z = await mrl2dEmbed(model, test.x, cfg.layers, 2);
      expect([z.rows, z.cols]).toEqual([90, 2]);
      disposeMrl2d(model);
    }
    expect(tf.memory().numTensors).toBe(before);
    // Starbucks' pairs (1, 4), (2, 8); every cell of 2DMSE; the single model's own cell.
    expect(results.starbucks.map((c) => [c.layer, c.dim])).toEqual([[1, 2], [1, 4], [1, 8], [2, 2], [2, 4], [2, 8]]);
    for (const c of results.starbucks.filter((c) => (c.layer === 1 && c.dim === 4) || (c.layer === 2 && c.dim === 8))) expect(c.accuracy).toBe(1);
    for (const c of results['2dmse']) expect(c.accuracy).toBeGreaterThan(0.95);
    expect(results.single).toEqual([{ layer: 1, dim: 2, accuracy: 1 }]);

    const run = async () => {
      const m = createMrl2d({ ...base, loss: '2dmse' });
      const h = await trainMrl2d(m, train.x, train.y, { epochs: 2, seed: 4 });
      const e = await mrl2dEmbed(m, test.x, 1, 4);
      disposeMrl2d(m);
      return [h.map((r) => r.loss), Array.from(e.data)];
    };
    expect(await run()).toEqual(await run());
  });

  it('embeds the prefix of the residual stream: a smaller dim is the first columns of a larger one', async () => {
    const model = createMrl2d({ ...tiny, loss: '2dmse', pairs: undefined });
    const x: Matrix = { data: Float32Array.from(xs.flat()), rows: 3, cols: 3 };
    const [z2, z4] = [await mrl2dEmbed(model, x, 2, 2), await mrl2dEmbed(model, x, 2, 4)];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) expect(z2.data[i * 2 + j]).toBe(z4.data[i * 4 + j]);
    disposeMrl2d(model);
  });

  it('names the bad argument', async () => {
    const bad = (f: () => unknown, argument: string) => {
      try {
        f();
        throw new Error('no error');
      } catch (e) {
        expect(e).toBeInstanceOf(NestlabArgumentError);
        expect((e as NestlabArgumentError).argument).toBe(argument);
      }
    };
    bad(() => createMrl2d({ ...tiny, loss: 'matryoshka' as never }), 'config.loss');
    bad(() => createMrl2d({ ...tiny, pairs: [[1, 3]] }), 'config.pairs[0][1]');
    bad(() => createMrl2d({ ...tiny, pairs: [[3, 2]] }), 'config.pairs[0][0]');
    bad(() => createMrl2d({ ...tiny, dims: [4, 2] }), 'config.dims');
    bad(() => createMrl2d({ ...tiny, loss: 'single', pairs: [[1, 2]] }), 'config.pairs');
    bad(() => createMrl2d({ ...tiny, loss: '2dmse' }), 'config.pairs');
    bad(() => createMrl2d({ ...tiny, klTemperatur: 1 } as never), 'config.klTemperatur');
    const model = createMrl2d(tiny);
    const x: Matrix = { data: new Float32Array(8), rows: 2, cols: 4 };
    await expect(trainMrl2d(model, x, new Int32Array(2))).rejects.toMatchObject({ argument: 'x.cols' });
    const ok: Matrix = { data: new Float32Array(6), rows: 2, cols: 3 };
    await expect(trainMrl2d(model, ok, Int32Array.from([0, 3]))).rejects.toMatchObject({ argument: 'y[1]' });
    await expect(mrl2dEmbed(model, ok, 3, 2)).rejects.toMatchObject({ argument: 'layer' });
    await expect(mrl2dAccuracy(model, ok, new Int32Array(2), { cells: [[1, 5]] })).rejects.toMatchObject({ argument: 'options.cells[0].dim' });
    disposeMrl2d(model);
  });
});
