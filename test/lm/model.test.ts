import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { initBackend, selectBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { writeSafetensors, type NamedTensor } from '../../src/data/safetensors.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { learningRateAt, lmArchitecture, lmTraining, type LmArchitecture } from '../../src/lm/config.js';
import {
  createLm, crossEntropy, disposeLm, hookNames, hookWidth, lmCrossEntropy, lmForward, lmFromParameters, parameterShapes, softmaxCrossEntropyInPlace, type Lm,
} from '../../src/lm/model.js';

// The GPT-style decoder of src/lm/model.ts checked four ways: by its definition (causality, hook
// algebra), by central differences of its loss (every parameter's gradient, both activations, tied
// and untied), against float64 references of its fused cross-entropy (all three code paths), and
// against the PyTorch model the LM bench runs (bench/peers/lm_torch.py) through
// test/lm/gpt_reference.py.

const f = Math.fround;

beforeAll(async () => {
  const info = await initBackend();
  if (info.name !== 'wasm') await selectBackend('wasm');
});

/** Runs `fn` on the pure-JS cpu backend, then goes back to wasm. */
async function onCpu<T>(fn: () => T | Promise<T>): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return await fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

/**
 * Weights far from GPT-2's small initialization, so that every part acts: attention that is not
 * uniform, GELU / ReLU off their linear part, LayerNorm gains and biases that are not 1 and 0.
 * Matrices N(0, 1/fanIn) (O(1) activations), embeddings N(0, 1), biases N(0, 0.1²), gains 1 + N(0, 0.2²).
 */
function randomParameters(arch: LmArchitecture, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(arch)) {
    const size = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (/\.w$/.test(name)) data = rng.normalArray(size, 0.2).map((v) => 1 + v);
    else if (name === 'embed.W_E' || name === 'pos_embed.W_pos') data = rng.normalArray(size, name === 'embed.W_E' ? 1 : 0.5);
    else if (shape.length === 2) data = rng.normalArray(size, 1 / Math.sqrt(shape[0]));
    else data = rng.normalArray(size, 0.1);
    out.set(name, data);
  }
  return out;
}

function randomIds(n: number, V: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(V));
}

/** Float64 mean cross-entropy of `logits` [N, V] (rows with target < 0 ignored) and its gradient. */
function referenceCrossEntropy(logits: ArrayLike<number>, N: number, V: number, targets: Int32Array): { loss: number; grad: Float64Array } {
  let count = 0;
  for (const t of targets) if (t >= 0) count++;
  let loss = 0;
  const grad = new Float64Array(N * V);
  for (let i = 0; i < N; i++) {
    if (targets[i] < 0) continue;
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, logits[i * V + j]);
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(logits[i * V + j] - max);
    loss += Math.log(sum) + max - logits[i * V + targets[i]];
    for (let j = 0; j < V; j++) grad[i * V + j] = Math.exp(logits[i * V + j] - max) / sum / count;
    grad[i * V + targets[i]] -= 1 / count;
  }
  return { loss: count === 0 ? 0 : loss / count, grad };
}

/** Logits [N, V] as a plain array (the tensor is freed). */
function logitsOf(model: Lm, ids: Int32Array, batch: number, options: Parameters<typeof lmForward>[3] = {}): Float32Array {
  const t = tf.tidy(() => lmForward(model, ids, batch, options));
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v.slice();
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const small = (options: Partial<LmArchitecture> = {}) =>
  lmArchitecture({ vocabSize: 11, contextLength: 5, dModel: 8, nHeads: 2, nLayers: 2, dMlp: 16, ...options });

describe('causal masking', () => {
  it('a token changes the logits at its position and after, never before, and never another sequence', () => {
    const arch = small();
    const model = lmFromParameters(arch, randomParameters(arch, 1));
    const [B, T, V] = [2, 5, 11];
    const ids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]);
    const base = logitsOf(model, ids, B);
    for (let t = 0; t < T; t++) {
      const changed = ids.slice();
      changed[t] = (ids[t] + 7) % V; // sequence 0 only
      const z = logitsOf(model, changed, B);
      for (let row = 0; row < B * T; row++) {
        const d = maxAbsDiff(base.subarray(row * V, (row + 1) * V), z.subarray(row * V, (row + 1) * V));
        if (row < t || row >= T) expect(d, `row ${row} after changing position ${t}`).toBeLessThanOrEqual(1e-6);
        else expect(d, `row ${row} after changing position ${t}`).toBeGreaterThan(1e-3);
      }
    }
    disposeLm(model);
  });

  it('runs shorter sequences on the first rows of the position table: a prefix gives the same logits', () => {
    const arch = small();
    const model = lmFromParameters(arch, randomParameters(arch, 2));
    const ids = Int32Array.from([3, 1, 4, 1, 5]);
    const full = logitsOf(model, ids, 1);
    const prefix = logitsOf(model, ids.subarray(0, 3), 1);
    expect(maxAbsDiff(prefix, full.subarray(0, 3 * 11))).toBeLessThanOrEqual(1e-5);
    expect(() => lmForward(model, Int32Array.from([1, 2, 3, 4, 5, 6]), 1)).toThrow(/lm.forward: ids must be B·T ids with 1 ≤ T ≤ contextLength 5, got 6 ids for B = 1/);
    expect(() => lmForward(model, Int32Array.from([1, 2, 3]), 2)).toThrow(NestlabArgumentError);
    disposeLm(model);
  });
});

describe('gradients of lmCrossEntropy against central differences', () => {
  /**
   * Every parameter: ~20 random entries (all of a small one) of ∂loss/∂θ from tf.variableGrads vs
   * (L(θ+ε) − L(θ−ε)) / (θ₊ − θ₋), L in float64 from the float32 logits of lmForward (so the
   * difference quotient also checks that lmCrossEntropy is the cross-entropy of lmForward).
   * ε = 1e-2 on O(1/√d) weights: truncation ~ε²·L'''/6 and float32 noise ~5e-7/ε are both ≲ 1e-4.
   * A ReLU kink inside [θ − ε, θ + ε] spoils a difference quotient (measured: 2.4% off for one
   * W_in entry); it rarely lies inside the 3× smaller step too, so an entry fails only when both
   * step sizes disagree with the gradient (a wrong gradient disagrees at every step size).
   */
  function check(arch: LmArchitecture, seed: number, B: number, T: number): number {
    const model = lmFromParameters(arch, randomParameters(arch, seed));
    const V = arch.vocabSize;
    const ids = randomIds(B * T, V, seed + 10);
    ids[1] = ids[0]; // a repeated token: the embedding gradient adds its rows
    const targets = randomIds(B * T, V, seed + 20);
    targets[2] = -1;
    targets[B * T - 1] = -1;
    const vars = [...model.params.values()];
    const { value, grads } = tf.variableGrads(() => lmCrossEntropy(model, ids, targets, B), vars);
    const lossAt = () => referenceCrossEntropy(logitsOf(model, ids, B), B * T, V, targets).loss;
    expect(Math.abs(value.dataSync()[0] - lossAt())).toBeLessThan(1e-5 * lossAt());
    value.dispose();
    const eps = 1e-2;
    const rng = new Rng(seed + 30);
    let worst = 0;
    for (const [name, v] of model.params) {
      const g = grads[v.name].dataSync() as Float32Array;
      const orig = v.dataSync().slice() as Float32Array;
      const picks = orig.length <= 20 ? Array.from(orig.keys()) : Array.from(rng.permutation(orig.length).subarray(0, 20));
      for (const i of picks) {
        const at = (x: number) => {
          const p = orig.slice();
          p[i] = x;
          tf.tidy(() => v.assign(tf.tensor(p, v.shape)));
          return lossAt();
        };
        const central = (e: number) => {
          const hi = f(orig[i] + e);
          const lo = f(orig[i] - e);
          return (at(hi) - at(lo)) / (hi - lo);
        };
        const tolerance = (fd: number) => 2e-2 * Math.abs(fd) + 2e-4;
        let fd = central(eps);
        if (Math.abs(g[i] - fd) > tolerance(fd)) fd = central(eps / 3);
        tf.tidy(() => v.assign(tf.tensor(orig, v.shape)));
        const err = Math.abs(g[i] - fd);
        expect(err, `${name}[${i}]: variableGrads ${g[i]}, central difference ${fd}`).toBeLessThanOrEqual(tolerance(fd));
        worst = Math.max(worst, err / tolerance(fd));
      }
      // Rows that no id touches get no gradient in the token embedding (untied: exactly 0).
      if (name === 'embed.W_E' && !arch.tiedEmbeddings) {
        const d = arch.dModel;
        for (let tok = 0; tok < V; tok++) if (!ids.includes(tok)) expect(Math.max(...Array.from(g.subarray(tok * d, (tok + 1) * d), Math.abs))).toBe(0);
      }
    }
    tf.dispose(grads);
    disposeLm(model);
    return worst;
  }

  it('GELU, tied embeddings, 2 layers, T = contextLength (wasm)', () => {
    expect(check(small({ activation: 'gelu', tiedEmbeddings: true, nLayers: 2 }), 3, 2, 5)).toBeLessThanOrEqual(1);
  });

  it('ReLU, untied embeddings, 1 layer, T < contextLength (wasm)', () => {
    expect(check(small({ activation: 'relu', tiedEmbeddings: false, nLayers: 1 }), 4, 2, 4)).toBeLessThanOrEqual(1);
  });

  it('GELU, untied, 1 layer and ReLU, tied, 2 layers (cpu: the JS cross-entropy path)', async () => {
    await onCpu(() => {
      expect(check(small({ activation: 'gelu', tiedEmbeddings: false, nLayers: 1 }), 5, 2, 5)).toBeLessThanOrEqual(1);
      expect(check(small({ activation: 'relu', tiedEmbeddings: true, nLayers: 2 }), 6, 1, 5)).toBeLessThanOrEqual(1);
    });
  });
});

describe('crossEntropy: the fused softmax cross-entropy op', () => {
  /** Random logits N(0, 3²) and bias N(0, 1), targets with two ignored rows. */
  function problem(N: number, V: number, seed: number) {
    const rng = new Rng(seed);
    const logits = rng.normalArray(N * V, 3);
    const bias = rng.normalArray(V);
    const targets = randomIds(N, V, seed + 1);
    targets[1] = -1;
    targets[N - 1] = -1;
    const biased = new Float64Array(N * V);
    for (let i = 0; i < N * V; i++) biased[i] = logits[i] + bias[i % V];
    return { logits, bias, targets, ref: referenceCrossEntropy(biased, N, V, targets) };
  }

  function checkPath(N: number, V: number, seed: number): { value: number; grad: number } {
    const { logits, bias, targets, ref } = problem(N, V, seed);
    const x = tf.tensor2d(logits, [N, V]);
    const b = tf.tensor1d(bias);
    const loss = crossEntropy(x, b, targets);
    const value = loss.dataSync()[0];
    expect(Math.abs(value - ref.loss) / ref.loss).toBeLessThan(1e-5);
    // tfjs' own op on one-hot labels, ignored rows weighted 0 (its mean is over non-zero weights)
    const theirs = tf.tidy(() => {
      const onehot = tf.oneHot(tf.tensor1d(Array.from(targets, (t) => Math.max(t, 0)), 'int32'), V);
      const w = tf.tensor1d(Array.from(targets, (t) => (t >= 0 ? 1 : 0)));
      return tf.losses.softmaxCrossEntropy(onehot, tf.add(x, b), w).dataSync()[0];
    });
    expect(Math.abs(value - theirs) / theirs).toBeLessThan(1e-5);
    // gradients, through an upstream factor −2.5 (dy reaches both inputs)
    const [gx, gb] = tf.grads((l: tf.Tensor, c: tf.Tensor) => tf.mul(crossEntropy(l as tf.Tensor2D, c as tf.Tensor1D, targets), -2.5) as tf.Scalar)([x, b]);
    const gxv = gx.dataSync();
    const gbv = gb.dataSync();
    const wantB = new Float64Array(V);
    for (let i = 0; i < N * V; i++) wantB[i % V] += ref.grad[i];
    const gradErr = Math.max(maxAbsDiff(gxv, ref.grad.map((g) => -2.5 * g)), maxAbsDiff(gbv, wantB.map((g) => -2.5 * g)));
    expect(gradErr).toBeLessThan(1e-5);
    for (let j = 0; j < V; j++) {
      expect(Math.abs(gxv[1 * V + j])).toBe(0); // an ignored row gets no gradient
      expect(Math.abs(gxv[(N - 1) * V + j])).toBe(0);
    }
    // the inputs are untouched (the op rewrites its own sum x + b, not x)
    expect(Array.from(x.dataSync())).toEqual(Array.from(logits));
    expect(Array.from(b.dataSync())).toEqual(Array.from(bias));
    tf.dispose([x, b, loss, gx, gb]);
    return { value: Math.abs(value - ref.loss) / ref.loss, grad: gradErr };
  }

  it('matches a float64 reference and tf.losses.softmaxCrossEntropy on wasm with V a multiple of 4 (SIMD kernels)', () => {
    const e = checkPath(9, 12, 7);
    expect(e.value).toBeLessThan(1e-5);
  });

  it('matches on wasm with V not a multiple of 4 (JS loop on the heap)', () => {
    checkPath(9, 11, 8);
  });

  it('matches on the cpu backend (JS loop on a copy)', async () => {
    await onCpu(() => {
      checkPath(9, 12, 7);
      checkPath(9, 11, 8);
    });
  });

  it('stays finite when the target logit is ≥ 104 below the row max (float32 exp underflows), on every path', async () => {
    // Confidently wrong predictions: the target's logit 120 and 105 below the row max. The loss
    // is logsumexp − z_t ≈ 113; exp(−120) is 0 in float32, so log(softmax_t) must not be taken.
    const run = (V: number) => {
      const N = 2;
      const z = new Float32Array(N * V).fill(-1);
      z[0] = 0;
      z[1] = -120;
      z[V] = 5;
      z[V + 1] = -100;
      const targets = Int32Array.from([1, 1]);
      const ref = referenceCrossEntropy(z, N, V, targets).loss;
      const loss = tf.tidy(() => crossEntropy(tf.tensor2d(z, [N, V]), tf.zeros([V]) as tf.Tensor1D, targets).dataSync()[0]);
      return { got: loss, ref };
    };
    const results: Record<string, { got: number; ref: number }> = { 'wasm, V 8 (SIMD)': run(8), 'wasm, V 7 (JS)': run(7) };
    await onCpu(() => {
      results['cpu, V 8 (JS)'] = run(8);
    });
    for (const [path, { got, ref }] of Object.entries(results)) {
      expect(ref).toBeGreaterThan(100);
      expect.soft(Math.abs(got - ref) / ref, `${path}: loss ${got}, float64 reference ${ref}`).toBeLessThan(1e-5);
    }
  });

  it('gives loss 0 and zero gradients when every target is ignored, and rejects bad targets', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const b = tf.zeros([4]) as tf.Tensor1D;
    const none = Int32Array.from([-1, -1]);
    const [gx, gb] = tf.grads((l: tf.Tensor, c: tf.Tensor) => crossEntropy(l as tf.Tensor2D, c as tf.Tensor1D, none))([x, b]);
    expect(tf.tidy(() => crossEntropy(x, b, none).dataSync()[0])).toBe(0);
    expect(Array.from(gx.dataSync())).toEqual(new Array(8).fill(0));
    expect(Array.from(gb.dataSync())).toEqual([0, 0, 0, 0]);
    expect(() => crossEntropy(x, b, Int32Array.from([0, 4]))).toThrow(/lm.crossEntropy: targets must be ids below 4, got 4/);
    expect(() => crossEntropy(x, b, Int32Array.from([0]))).toThrow(/lm.crossEntropy: targets must be 2 ids, got 1/);
    tf.dispose([x, b, gx, gb]);
  });

  it('softmaxCrossEntropyInPlace leaves weights·(softmax − one-hot) in z and adds its column sums', () => {
    // two rows of V = 3: [0, ln 2, ln 3] → softmax [1/6, 2/6, 3/6]; weights 0.5 and 2
    const z = Float32Array.from([0, Math.LN2, Math.log(3), 0, Math.LN2, Math.log(3)]);
    const sums = Float32Array.from([1, 1, 1]);
    const loss = softmaxCrossEntropyInPlace(z, 2, 3, Int32Array.from([2, 0]), Float32Array.from([0.5, 2]), sums);
    expect(loss).toBeCloseTo(0.5 * Math.log(2) + 2 * Math.log(6), 6);
    const want = [0.5 / 6, 0.5 * 2 / 6, 0.5 * (3 / 6 - 1), 2 * (1 / 6 - 1), 2 * 2 / 6, 2 * 3 / 6];
    Array.from(z).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    Array.from(sums).forEach((v, j) => expect(v).toBeCloseTo(1 + want[j] + want[3 + j], 6));
  });
});

describe('hooks', () => {
  const arch = small({ nLayers: 2 });
  let model: Lm;
  const B = 2;
  const T = 4;
  const N = B * T;
  const d = 8;
  const ids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
  beforeAll(() => {
    model = lmFromParameters(arch, randomParameters(arch, 9));
  });
  afterAll(() => disposeLm(model));

  /** The activation at every hook point as [N, d] arrays ([N, dMlp] at mlp.hook_pre / hook_post), and the logits. */
  function capture(hook?: (name: string, x: tf.Tensor2D) => tf.Tensor2D | void): { acts: Map<string, Float32Array>; order: string[]; logits: Float32Array } {
    const acts = new Map<string, Float32Array>();
    const order: string[] = [];
    const logits = logitsOf(model, ids, B, {
      hook: (name, x) => {
        order.push(name);
        expect(x.shape, name).toEqual([N, hookWidth(arch, name)]);
        acts.set(name, (x.dataSync() as Float32Array).slice());
        return hook?.(name, x);
      },
    });
    return { acts, order, logits };
  }

  const add = (a: Float32Array, b: Float32Array) => a.map((v, i) => v + b[i]);
  const paramValues = (name: string) => model.params.get(name)!.dataSync() as Float32Array;

  it('calls every hook point once, in forward order', () => {
    const { order } = capture();
    expect(order).toEqual(hookNames(arch));
    expect(hookNames(arch)).toEqual([
      'hook_embed', 'hook_pos_embed',
      ...[0, 1].flatMap((l) => ['hook_resid_pre', 'hook_attn_out', 'hook_resid_mid', 'mlp.hook_pre', 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post'].map((h) => `blocks.${l}.${h}`)),
      'ln_final.hook_normalized',
    ]);
  });

  it('sees activations that add up as the residual stream says', () => {
    const { acts, logits } = capture();
    const at = (name: string) => acts.get(name)!;
    // embed = W_E rows of the ids; pos_embed = W_pos rows of the positions; resid_pre 0 = their sum
    const WE = paramValues('embed.W_E');
    const Wpos = paramValues('pos_embed.W_pos');
    const embedWant = new Float32Array(N * d);
    const posWant = new Float32Array(N * d);
    for (let r = 0; r < N; r++) {
      embedWant.set(WE.subarray(ids[r] * d, (ids[r] + 1) * d), r * d);
      posWant.set(Wpos.subarray((r % T) * d, (r % T + 1) * d), r * d);
    }
    expect(Array.from(at('hook_embed'))).toEqual(Array.from(embedWant));
    expect(Array.from(at('hook_pos_embed'))).toEqual(Array.from(posWant));
    expect(maxAbsDiff(at('blocks.0.hook_resid_pre'), add(embedWant, posWant))).toBeLessThanOrEqual(1e-6);
    for (let l = 0; l < 2; l++) {
      const p = `blocks.${l}.`;
      expect(maxAbsDiff(add(at(p + 'hook_resid_pre'), at(p + 'hook_attn_out')), at(p + 'hook_resid_mid'))).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(add(at(p + 'hook_resid_mid'), at(p + 'hook_mlp_out')), at(p + 'hook_resid_post'))).toBeLessThanOrEqual(1e-6);
    }
    expect(Array.from(at('blocks.0.hook_resid_post'))).toEqual(Array.from(at('blocks.1.hook_resid_pre')));
    // logits = ln_final.hook_normalized · W_Eᵀ + b_U (tied)
    const fin = at('ln_final.hook_normalized');
    const bU = paramValues('unembed.b_U');
    let err = 0;
    for (let r = 0; r < N; r++) {
      for (let v = 0; v < 11; v++) {
        let s = bU[v];
        for (let j = 0; j < d; j++) s += fin[r * d + j] * WE[v * d + j];
        err = Math.max(err, Math.abs(s - logits[r * 11 + v]));
      }
    }
    expect(err).toBeLessThanOrEqual(1e-5);
    // The hooks observe: the logits are those of a forward pass without hooks.
    expect(maxAbsDiff(logits, logitsOf(model, ids, B))).toBeLessThanOrEqual(1e-6);
  });

  it('stopAt returns the activation at each hook point, [N, d] ([N, dMlp] in the MLP), as the hook saw it', () => {
    const { acts } = capture();
    for (const name of hookNames(arch)) {
      const out = tf.tidy(() => lmForward(model, ids, B, { stopAt: name }));
      expect(out.shape, name).toEqual([N, hookWidth(arch, name)]);
      expect(maxAbsDiff(out.dataSync(), acts.get(name)!), name).toBeLessThanOrEqual(1e-6);
      out.dispose();
    }
  });

  it('rejects a stopAt that is not a hook point instead of returning logits silently', () => {
    expect(() => tf.tidy(() => lmForward(model, ids, B, { stopAt: 'blocks.7.hook_resid_post' }))).toThrow(/lm.forward: options.stopAt must be one of/);
  });

  it('lets a hook replace an activation: itself changes nothing, zeros change what follows', () => {
    const plain = logitsOf(model, ids, B);
    const same = capture((name, x) => (name === 'blocks.0.hook_resid_post' ? x : undefined));
    expect(Array.from(same.logits)).toEqual(Array.from(plain));
    // zeros after the last block: ln_final sees 0, so every row is ln_final.b · W_Eᵀ + b_U
    const zeroed = capture((name, x) => (name === 'blocks.1.hook_resid_post' ? tf.zerosLike(x) : undefined));
    const lnB = paramValues('ln_final.b');
    const WE = paramValues('embed.W_E');
    const bU = paramValues('unembed.b_U');
    const row = Array.from({ length: 11 }, (_, v) => bU[v] + lnB.reduce((s, b, j) => s + b * WE[v * d + j], 0));
    for (let r = 0; r < N; r++) expect(maxAbsDiff(zeroed.logits.subarray(r * 11, (r + 1) * 11), row)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(zeroed.logits, plain)).toBeGreaterThan(1e-2);
    // zeros at block 0: block 1 starts from 0 (its resid_pre is the replacement)
    const early = capture((name, x) => (name === 'blocks.0.hook_resid_post' ? tf.zerosLike(x) : undefined));
    expect(Math.max(...Array.from(early.acts.get('blocks.1.hook_resid_pre')!, Math.abs))).toBe(0);
    expect(maxAbsDiff(early.logits, plain)).toBeGreaterThan(1e-2);
    // zeros at hook_pos_embed remove the positions from the stream
    const noPos = capture((name, x) => (name === 'hook_pos_embed' ? tf.zerosLike(x) : undefined));
    expect(maxAbsDiff(noPos.acts.get('blocks.0.hook_resid_pre')!, noPos.acts.get('hook_embed')!)).toBeLessThanOrEqual(1e-6);
  });

  it('applies the same hook in lmCrossEntropy as in lmForward', () => {
    const targets = Int32Array.from([1, 4, 1, -1, 9, 2, 6, 5]);
    const hook = (name: string, x: tf.Tensor2D) => (name === 'blocks.0.hook_attn_out' ? tf.mul(x, 0.5) as tf.Tensor2D : undefined);
    const want = referenceCrossEntropy(logitsOf(model, ids, B, { hook }), N, 11, targets).loss;
    const got = tf.tidy(() => lmCrossEntropy(model, ids, targets, B, { hook }).dataSync()[0]);
    const plain = tf.tidy(() => lmCrossEntropy(model, ids, targets, B).dataSync()[0]);
    expect(Math.abs(got - want) / want).toBeLessThan(1e-5);
    expect(Math.abs(got - plain)).toBeGreaterThan(1e-3);
  });
});

describe('no tensor leaks', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`forward (with hooks) and variableGrads leave tf.memory() as they found it on ${backend}`, async () => {
      const run = () => {
        const arch = small({ tiedEmbeddings: false, activation: 'relu' });
        const model = createLm(arch, 0);
        const ids = randomIds(10, 11, 1);
        const targets = randomIds(10, 11, 2);
        targets[3] = -1;
        const hook = (name: string, x: tf.Tensor2D) => (name === 'blocks.1.hook_mlp_out' ? tf.mul(x, 2) as tf.Tensor2D : undefined);
        tf.tidy(() => lmForward(model, ids, 2)); // warm-up: the causal mask of T = 5 is cached once
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          lmForward(model, ids, 2, { hook });
          lmForward(model, ids, 2, { stopAt: 'blocks.0.hook_resid_mid' });
        });
        expect(tf.memory().numTensors).toBe(before);
        const { value, grads } = tf.variableGrads(() => lmCrossEntropy(model, ids, targets, 2, { hook }), [...model.params.values()]);
        expect(Object.keys(grads)).toHaveLength(model.params.size);
        value.dispose();
        tf.dispose(grads);
        expect(tf.memory().numTensors).toBe(before);
        disposeLm(model);
        expect(tf.memory().numTensors).toBe(before - parameterShapes(arch).length);
      };
      if (backend === 'cpu') await onCpu(run);
      else run();
    });
  }
});

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.warn(`test/lm/model.test.ts: skipping the PyTorch cross-check: ${PY} cannot import torch (set NESTLAB_PEER_PYTHON)`);
const REFERENCE = fileURLToPath(new URL('./gpt_reference.py', import.meta.url));

describe.skipIf(!hasTorch)('the same weights in PyTorch (bench/peers/lm_torch.py, float64; needs torch)', () => {
  it('gives the same logits (1e-4), loss (1e-5) and gradients (1e-5 of each tensor\'s largest entry)', () => {
    const arch = lmArchitecture({ vocabSize: 40, contextLength: 10, dModel: 16, nHeads: 4, nLayers: 2, dMlp: 48 });
    const [B, T] = [3, 8]; // T < contextLength: nanoGPT uses the first T rows of wpe too
    const params = randomParameters(arch, 11);
    const model = lmFromParameters(arch, params);
    const ids = randomIds(B * T, arch.vocabSize, 12);
    const targets = randomIds(B * T, arch.vocabSize, 13);
    const ignored = targets.slice();
    for (const i of [0, 5, 17]) ignored[i] = -1;
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-lm-'));
    try {
      const tensors: Record<string, NamedTensor> = {};
      for (const [name, shape] of parameterShapes(arch)) tensors[name] = { dtype: 'F32', shape, data: params.get(name)! };
      for (const [name, data] of [['ids', ids], ['targets', targets], ['targets_ignored', ignored]] as const) tensors[name] = { dtype: 'I32', shape: [B, T], data };
      const meta = Object.fromEntries(Object.entries(arch).map(([k, v]) => [k, String(v)]));
      writeSafetensors(join(dir, 'lm.safetensors'), tensors, meta);
      const res = spawnSync(PY, [REFERENCE, dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(res.status, res.stderr).toBe(0);
      const ref = JSON.parse(res.stdout) as { logits: number[]; loss: number; loss_ignored: number; grads: Record<string, number[]> };

      const logits = logitsOf(model, ids, B);
      expect(maxAbsDiff(logits, ref.logits)).toBeLessThanOrEqual(1e-4); // measured 3.6e-6 on logits up to 17
      const loss = tf.tidy(() => lmCrossEntropy(model, ids, targets, B).dataSync()[0]);
      expect(Math.abs(loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
      const { value, grads } = tf.variableGrads(() => lmCrossEntropy(model, ids, ignored, B), [...model.params.values()]);
      expect(Math.abs(value.dataSync()[0] - ref.loss_ignored) / ref.loss_ignored).toBeLessThan(1e-5);
      expect(Object.keys(ref.grads).sort()).toEqual([...model.params.keys()].sort());
      for (const [name, v] of model.params) {
        const g = grads[v.name].dataSync();
        const want = ref.grads[name];
        const scale = Math.max(...want.map(Math.abs));
        if (/attn\.b_K$/.test(name)) {
          // b_K adds q·b_K to a whole row of scores, which softmax ignores: no gradient at all
          expect(scale, name).toBeLessThan(1e-12);
          expect(Math.max(...Array.from(g, Math.abs)), name).toBeLessThan(1e-6);
          continue;
        }
        expect(scale, name).toBeGreaterThan(1e-4); // every other parameter has a gradient here
        expect(maxAbsDiff(g, want) / scale, name).toBeLessThan(1e-5); // measured ≤ 9.1e-7
      }
      value.dispose();
      tf.dispose(grads);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      disposeLm(model);
    }
  });
});

describe('configuration', () => {
  it('rejects nHeads that do not divide dModel and unknown keys, naming the option', () => {
    expect(() => lmArchitecture({ vocabSize: 11, contextLength: 5, dModel: 8, nHeads: 3 })).toThrow(
      /^lm.architecture: options.nHeads must be a divisor of dModel 8, got 3$/,
    );
    expect(() => lmArchitecture({ vocabSize: 11, contextLength: 5, dModel: 8, nHead: 2 } as never)).toThrow(
      /^lm.architecture: options.nHead must be one of the known options \(vocabSize, .*\), got nHead$/,
    );
    expect(() => lmArchitecture({ vocabSize: 11, contextLength: 5, dModel: 8, activation: 'silu' as never })).toThrow(
      /lm.architecture: options.activation must be one of "gelu", "relu", got silu/,
    );
    expect(() => lmTraining({ learningRate: 1e-3, warmup: 10 } as never)).toThrow(/^lm.training: options.warmup must be one of the known options/);
    const a = lmArchitecture({ vocabSize: 11, contextLength: 5, dModel: 8 });
    expect(a).toEqual({ vocabSize: 11, contextLength: 5, dModel: 8, nLayers: 2, nHeads: 4, dMlp: 32, activation: 'gelu', tiedEmbeddings: true, layerNormEps: 1e-5 });
  });

  it('learningRateAt warms up linearly to the peak, then decays by a cosine to the floor', () => {
    const t = lmTraining({ steps: 110, warmupSteps: 10, learningRate: 1e-3, minLearningRateFraction: 0.1 });
    expect(learningRateAt(t, 0)).toBeCloseTo(1e-4, 15); // (0 + 1)/10 of the peak
    expect(learningRateAt(t, 4)).toBeCloseTo(5e-4, 15);
    expect(learningRateAt(t, 9)).toBeCloseTo(1e-3, 15); // the peak at the last warm-up step
    expect(learningRateAt(t, 10)).toBeCloseTo(1e-3, 15); // cos 0 = 1
    expect(learningRateAt(t, 60)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 15); // halfway: cos(π/2) = 0
    expect(learningRateAt(t, 35)).toBeCloseTo(1e-4 + 0.5 * (1 + Math.SQRT1_2) * 9e-4, 15); // a quarter: cos(π/4)
    expect(learningRateAt(t, 110)).toBeCloseTo(1e-4, 15); // the floor at the end
    expect(learningRateAt(t, 500)).toBeCloseTo(1e-4, 15); // and after it
    expect(learningRateAt(lmTraining({ steps: 10, warmupSteps: 0, learningRate: 2e-3 }), 0)).toBe(2e-3);
  });
});
