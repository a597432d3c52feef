/**
 * A GPT-style decoder in tfjs (no I/O): token + learned position embeddings, pre-LayerNorm blocks
 * of causal multi-head attention and an MLP, a final LayerNorm and a tied or separate unembedding.
 * GPT-2 (Radford et al. 2019) as nanoGPT writes it (github.com/karpathy/nanoGPT, model.py), with
 * TransformerLens's parameter and hook names (github.com/TransformerLensOrg/TransformerLens) so
 * that activations captured here are named as interpretability code expects.
 *
 * Two pieces are written by hand because the wasm backend lacks what tfjs would use: the
 * embedding's gradient (tf.gather's needs UnsortedSegmentSum, which wasm does not register) is a
 * scatter-add over the batch's token ids, and the cross-entropy is one custom op whose gradient is
 * softmax − one-hot, so no [rows, vocab] one-hot matrix is built in the forward pass.
 *
 * Shapes: B sequences of T tokens; N = B·T rows; d = dModel; H heads of dH = d / H; V vocab.
 */
import { tf } from '../backend/tf.js';
import { Rng } from '../backend/rng.js';
import { valuesSync } from '../backend/read.js';
import { heapSoftmaxKernels } from '../backend/simd-softmax.js';
import { gelu, layerNorm } from '../backend/nn-ops.js';
import { NestlabArgumentError, checkOneOf } from '../errors.js';
import type { LmArchitecture } from './config.js';

/** A GPT-style language model: its architecture and its weights by TransformerLens name. */
export interface Lm {
  architecture: LmArchitecture;
  /**
   * `embed.W_E` [V, d], `pos_embed.W_pos` [T, d], per block l `blocks.l.ln1.{w,b}` [d],
   * `blocks.l.attn.{W_Q,W_K,W_V}` [d, d] (head h owns columns h·dH..(h+1)·dH), `{b_Q,b_K,b_V,b_O}`
   * [d], `W_O` [d, d], `blocks.l.ln2.{w,b}`, `blocks.l.mlp.W_in` [d, dMlp], `b_in` [dMlp],
   * `W_out` [dMlp, d], `b_out` [d]; `ln_final.{w,b}` [d]; `unembed.W_U` [d, V] when untied,
   * `unembed.b_U` [V].
   */
  params: Map<string, tf.Variable>;
}

/**
 * A hook point's callback, TransformerLens style: it sees the activation at `name` as [N, d]
 * (rows in (sequence, position) order; [N, dMlp] at `blocks.l.mlp.hook_pre` / `hook_post`, see
 * {@link hookWidth}) and may return a tensor of the same shape to replace it.
 */
export type LmHook = (name: string, x: tf.Tensor2D) => tf.Tensor2D | void;

/**
 * The hook points of a model, in forward order (TransformerLens's names). Per block:
 * `hook_resid_pre`, `hook_attn_out`, `hook_resid_mid`, `mlp.hook_pre` (the MLP's pre-activation
 * h·W_in + b_in, [N, dMlp]), `mlp.hook_post` (after the GELU or ReLU, [N, dMlp]), `hook_mlp_out`,
 * `hook_resid_post`.
 *
 * @example const names = lm.hookNames(model.architecture); // ['hook_embed', 'hook_pos_embed', 'blocks.0.hook_resid_pre', ...]
 */
export function hookNames(arch: LmArchitecture): string[] {
  const names = ['hook_embed', 'hook_pos_embed'];
  for (let l = 0; l < arch.nLayers; l++) {
    for (const h of ['hook_resid_pre', 'hook_attn_out', 'hook_resid_mid', 'mlp.hook_pre', 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post']) names.push(`blocks.${l}.${h}`);
  }
  names.push('ln_final.hook_normalized');
  return names;
}

/**
 * The number of columns of the activation at a hook point: dMlp at the MLP's hidden layer
 * (`blocks.l.mlp.hook_pre`, `blocks.l.mlp.hook_post`), dModel everywhere else.
 *
 * @example const cols = lm.hookWidth(model.architecture, 'blocks.0.mlp.hook_post'); // dMlp, 4·dModel by default
 */
export function hookWidth(arch: LmArchitecture, hook: string): number {
  return /^blocks\.\d+\.mlp\.hook_(pre|post)$/.test(hook) ? arch.dMlp : arch.dModel;
}

/** The parameter names and shapes of an architecture, in a fixed order (checkpoints use it). */
export function parameterShapes(arch: LmArchitecture): [string, number[]][] {
  const { vocabSize: V, contextLength: T, dModel: d, dMlp } = arch;
  const out: [string, number[]][] = [['embed.W_E', [V, d]], ['pos_embed.W_pos', [T, d]]];
  for (let l = 0; l < arch.nLayers; l++) {
    const p = `blocks.${l}`;
    out.push([`${p}.ln1.w`, [d]], [`${p}.ln1.b`, [d]]);
    for (const m of ['Q', 'K', 'V']) out.push([`${p}.attn.W_${m}`, [d, d]], [`${p}.attn.b_${m}`, [d]]);
    out.push([`${p}.attn.W_O`, [d, d]], [`${p}.attn.b_O`, [d]]);
    out.push([`${p}.ln2.w`, [d]], [`${p}.ln2.b`, [d]]);
    out.push([`${p}.mlp.W_in`, [d, dMlp]], [`${p}.mlp.b_in`, [dMlp]], [`${p}.mlp.W_out`, [dMlp, d]], [`${p}.mlp.b_out`, [d]]);
  }
  out.push(['ln_final.w', [d]], ['ln_final.b', [d]]);
  if (!arch.tiedEmbeddings) out.push(['unembed.W_U', [d, V]]);
  out.push(['unembed.b_U', [V]]);
  return out;
}

/** Whether AdamW decays a parameter: matrices that multiply activations and the token embedding. */
export function isDecayed(name: string): boolean {
  return /\.W_(E|Q|K|V|O|in|out|U)$/.test(name);
}

/**
 * GPT-2's initialization: weights N(0, 0.02²), the two projections into the residual stream
 * (W_O, W_out) N(0, (0.02/√(2L))²), biases 0, LayerNorm gains 1. Seeded.
 */
export function initialParameters(arch: LmArchitecture, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  const residScale = 0.02 / Math.sqrt(2 * Math.max(1, arch.nLayers));
  for (const [name, shape] of parameterShapes(arch)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (/\.(ln1|ln2)\.w$|^ln_final\.w$/.test(name)) data.fill(1);
    else if (shape.length === 2) {
      const std = /W_O$|W_out$/.test(name) ? residScale : 0.02;
      for (let i = 0; i < size; i++) data[i] = std * rng.normal();
    }
    out.set(name, data);
  }
  return out;
}

/** A model from weights by name (shapes checked against the architecture). */
export function lmFromParameters(arch: LmArchitecture, values: Map<string, Float32Array>, where = 'lm.create'): Lm {
  const params = new Map<string, tf.Variable>();
  for (const [name, shape] of parameterShapes(arch)) {
    const data = values.get(name);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data === undefined || data.length !== size) {
      for (const v of params.values()) v.dispose();
      throw new NestlabArgumentError(where, `parameter ${name}`, `${size} values (shape [${shape.join(', ')}])`, data === undefined ? 'none' : `${data.length}`);
    }
    // tf.variable copies its initial value: create that inside tidy so it is freed.
    params.set(name, tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), true)));
  }
  return { architecture: arch, params };
}

/**
 * A freshly initialized model (GPT-2's initialization, seeded).
 *
 * @example const model = lm.create(lm.architecture({ vocabSize: 8192, contextLength: 64, dModel: 128 }), 0);
 */
export function createLm(arch: LmArchitecture, seed = 0): Lm {
  return lmFromParameters(arch, initialParameters(arch, seed));
}

/**
 * Frees the model's weights.
 *
 * @example lm.dispose(model); // frees its weights; model.params is empty after
 */
export function disposeLm(model: Lm): void {
  for (const v of model.params.values()) v.dispose();
  model.params.clear();
}

/**
 * Parameters in the model (a count).
 *
 * @example const n = lm.parameterCount(model); // 1,461,760 for 2 layers, d 128, V 8192, tied
 */
export function parameterCount(model: Lm): number {
  let n = 0;
  for (const v of model.params.values()) n += v.size;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Ops written by hand (see the header for why).

/** The embedding rows of `ids` with a scatter-add gradient into the table. */
function embed(table: tf.Tensor2D, ids: Int32Array, idsTensor: tf.Tensor1D): tf.Tensor2D {
  const [V, d] = table.shape;
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = tf.gather(args[0] as tf.Tensor2D, idsTensor);
    const gradFunc = (dy: tf.Tensor) => {
      const g = dy.dataSync() as Float32Array; // [N, d]
      const acc = new Float32Array(V * d);
      for (let i = 0; i < ids.length; i++) {
        const row = ids[i] * d;
        const src = i * d;
        for (let j = 0; j < d; j++) acc[row + j] += g[src + j];
      }
      return tf.tensor2d(acc, [V, d]);
    };
    return { value, gradFunc };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(table) as tf.Tensor2D;
}

/**
 * Softmax cross-entropy of rows of `z` [N, V] against `targets`, weighted by `weights`, in one
 * pass per row that leaves in `z` the loss's gradient, weights[i] · (softmax(z_i) − onehot(t_i)),
 * and adds its column sums to `columnSums`. Returns Σ weights[i] · (logsumexp(z_i) − z_i[t_i]).
 */
export function softmaxCrossEntropyInPlace(z: Float32Array, N: number, V: number, targets: Int32Array, weights: Float32Array, columnSums: Float32Array): number {
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const row = i * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (z[row + j] > max) max = z[row + j];
    const t = targets[i];
    // Read the target's logit before the row is overwritten: exp of a logit far below the max
    // rounds to 0 in float32, and log(0) would make the loss infinite.
    const picked = t >= 0 ? z[row + t] : 0;
    let sum = 0;
    for (let j = 0; j < V; j++) {
      const e = Math.exp(z[row + j] - max);
      z[row + j] = e;
      sum += e;
    }
    const w = weights[i];
    if (t >= 0) loss += w * (Math.log(sum) + max - picked);
    const s = w / sum;
    for (let j = 0; j < V; j++) {
      const g = z[row + j] * s;
      z[row + j] = g;
      columnSums[j] += g;
    }
    if (t >= 0) {
      z[row + t] -= w;
      columnSums[t] -= w;
    }
  }
  return loss;
}

/** {@link softmaxCrossEntropyInPlace} on the wasm heap with the SIMD kernels (same result). */
function softmaxCrossEntropyOnHeap(simd: NonNullable<ReturnType<typeof heapSoftmaxKernels>>, z: tf.Tensor, columnSums: tf.Tensor, N: number, V: number, targets: Int32Array, weights: Float32Array): number {
  const { kernels, heap, offsetOf } = simd;
  const zOffset = offsetOf(z);
  const sumOffset = offsetOf(columnSums);
  const z0 = zOffset / 4;
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const row = zOffset + i * V * 4;
    const t = targets[i];
    const w = weights[i];
    const max = kernels.rowMax(V, row);
    const picked = t >= 0 ? heap[z0 + i * V + t] : 0;
    const sum = kernels.expSum(V, max, row);
    if (t >= 0) loss += w * (Math.log(sum) + max - picked);
    kernels.scaleAccumulate(V, w / sum, row, sumOffset);
    if (t >= 0) {
      heap[z0 + i * V + t] -= w;
      heap[sumOffset / 4 + t] -= w;
    }
  }
  return loss;
}

/**
 * Mean cross-entropy of `logits` + `bias` ([N, V] + [V]) against `targets` (rows whose target is
 * negative are ignored), as one op: the forward pass leaves the gradient, (softmax − one-hot) /
 * count, where the biased logits were, so no [N, V] one-hot matrix and no second pass is needed.
 */
export function crossEntropy(logits: tf.Tensor2D, bias: tf.Tensor1D, targets: Int32Array): tf.Scalar {
  const [N, V] = logits.shape;
  const where = 'lm.crossEntropy';
  if (targets.length !== N) throw new NestlabArgumentError(where, 'targets', `${N} ids`, targets.length);
  let count = 0;
  for (let i = 0; i < N; i++) {
    if (targets[i] >= V) throw new NestlabArgumentError(where, 'targets', `ids below ${V}`, targets[i]);
    if (targets[i] >= 0) count++;
  }
  const weights = new Float32Array(N);
  for (let i = 0; i < N; i++) weights[i] = targets[i] >= 0 ? 1 / Math.max(1, count) : 0;
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    let z = tf.add(x, b) as tf.Tensor2D; // a tensor only this op holds: its memory becomes the gradient
    let columnSums = tf.zeros([V]) as tf.Tensor1D;
    const simd = V % 4 === 0 ? heapSoftmaxKernels() : null;
    let loss = 0;
    if (simd !== null) {
      loss = softmaxCrossEntropyOnHeap(simd, z, columnSums, N, V, targets, weights);
    } else {
      const { values, inPlace } = valuesSync(z);
      const sums = new Float32Array(V);
      loss = softmaxCrossEntropyInPlace(values, N, V, targets, weights, sums);
      columnSums.dispose();
      columnSums = tf.tensor1d(sums);
      if (!inPlace) {
        z.dispose();
        z = tf.tensor2d(values, [N, V]);
      }
    }
    save([z, columnSums]);
    const gradFunc = (dy: tf.Scalar, saved: tf.Tensor[]) => [tf.mul(saved[0], dy), tf.mul(saved[1], dy)];
    return { value: tf.scalar(loss), gradFunc };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(logits, bias) as tf.Scalar;
}

/** [T, T]: 0 where key ≤ query, −1e9 above the diagonal (a future token gets no weight). */
function causalMask(T: number): tf.Tensor2D {
  const data = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = -1e9;
  return tf.tensor2d(data, [T, T]);
}

/** Options of {@link lmForward}. */
export interface LmForwardOptions {
  /** Called at every hook point (see {@link hookNames}); may replace the activation. */
  hook?: LmHook;
  /** Stop after this hook point and return its activation instead of logits. */
  stopAt?: string;
}

/**
 * Logits [B·T, V] for token ids [B, T] (row b·T + t predicts the token after position t), or the
 * activation at `options.stopAt`. Not wrapped in tidy: call it inside `tf.tidy` or a gradient.
 *
 * @example const logits = tf.tidy(() => lm.forward(model, ids, 4)); // ids: Int32Array of 4·T token ids → [4·T, V]
 */
export function lmForward(model: Lm, ids: Int32Array, batch: number, options: LmForwardOptions = {}): tf.Tensor2D {
  const out = unbiasedForward(model, ids, batch, options);
  return options.stopAt === undefined ? (tf.add(out, model.params.get('unembed.b_U') as tf.Variable) as tf.Tensor2D) : out;
}

/**
 * Mean next-token cross-entropy (nats) of the model on `ids` [B, T] against `targets` [B, T]
 * (negative targets ignored), with the fused softmax-cross-entropy of {@link crossEntropy}.
 *
 * @example const loss = tf.tidy(() => lm.crossEntropy(model, batch.inputs, batch.targets, batch.batchSize)); // a scalar, nats
 */
export function lmCrossEntropy(model: Lm, ids: Int32Array, targets: Int32Array, batch: number, options: { hook?: LmHook } = {}): tf.Scalar {
  return crossEntropy(unbiasedForward(model, ids, batch, options), model.params.get('unembed.b_U') as tf.Variable as tf.Tensor1D, targets);
}

/** The forward pass up to the unembedding, without its bias (the loss adds it itself). */
function unbiasedForward(model: Lm, ids: Int32Array, batch: number, options: LmForwardOptions): tf.Tensor2D {
  const a = model.architecture;
  if (options.stopAt !== undefined) checkOneOf('lm.forward', 'options.stopAt', options.stopAt, hookNames(a));
  const p = (name: string) => model.params.get(name) as tf.Variable;
  const B = batch;
  const T = ids.length / B;
  if (!Number.isInteger(T) || T < 1 || T > a.contextLength) {
    throw new NestlabArgumentError('lm.forward', 'ids', `B·T ids with 1 ≤ T ≤ contextLength ${a.contextLength}`, `${ids.length} ids for B = ${B}`);
  }
  const d = a.dModel;
  const H = a.nHeads;
  const dH = d / H;
  const N = B * T;
  const hookAt = (name: string, x: tf.Tensor2D): tf.Tensor2D => {
    const out = options.hook?.(name, x);
    return out === undefined ? x : out;
  };
  const stop: { at: tf.Tensor2D | null } = { at: null };
  const at = (name: string, x: tf.Tensor2D): tf.Tensor2D => {
    const y = hookAt(name, x);
    if (options.stopAt === name) stop.at = y;
    return y;
  };

  const tok = at('hook_embed', embed(p('embed.W_E') as tf.Tensor2D, ids, tf.tensor1d(ids, 'int32')));
  // Positions broadcast over the batch (tf.tile's gradient would be B slices).
  const posRows = T === a.contextLength ? p('pos_embed.W_pos') : tf.slice(p('pos_embed.W_pos'), [0, 0], [T, d]);
  let x = tf.reshape(tf.add(tf.reshape(tok, [B, T, d]), posRows), [N, d]) as tf.Tensor2D;
  if (options.hook !== undefined || options.stopAt === 'hook_pos_embed') {
    // hook_pos_embed as TransformerLens has it ([N, d], the position rows of every token); a
    // replacement there changes the stream by its difference from the positions.
    const pos = tf.reshape(tf.broadcastTo(posRows, [B, T, d]), [N, d]) as tf.Tensor2D;
    const hooked = at('hook_pos_embed', pos);
    if (stop.at) return stop.at;
    if (hooked !== pos) x = tf.add(x, tf.sub(hooked, pos)) as tf.Tensor2D;
  }
  const scale = 1 / Math.sqrt(dH);
  const mask = causalMask(T);
  for (let l = 0; l < a.nLayers; l++) {
    const q = `blocks.${l}`;
    x = at(`${q}.hook_resid_pre`, x);
    if (stop.at) return stop.at;
    const h = layerNorm(x, p(`${q}.ln1.w`), p(`${q}.ln1.b`), a.layerNormEps);
    const heads = (m: string) => tf.transpose(tf.reshape(tf.add(tf.matMul(h, p(`${q}.attn.W_${m}`)), p(`${q}.attn.b_${m}`)), [B, T, H, dH]), [0, 2, 1, 3]);
    const scores = tf.add(tf.mul(tf.matMul(heads('Q'), heads('K'), false, true), scale), mask); // [B, H, T, T]
    const z = tf.matMul(tf.softmax(scores), heads('V')); // [B, H, T, dH]
    const merged = tf.reshape(tf.transpose(z, [0, 2, 1, 3]), [N, d]);
    const attnOut = at(`${q}.hook_attn_out`, tf.add(tf.matMul(merged, p(`${q}.attn.W_O`)), p(`${q}.attn.b_O`)) as tf.Tensor2D);
    if (stop.at) return stop.at;
    x = at(`${q}.hook_resid_mid`, tf.add(x, attnOut) as tf.Tensor2D);
    if (stop.at) return stop.at;
    const h2 = layerNorm(x, p(`${q}.ln2.w`), p(`${q}.ln2.b`), a.layerNormEps);
    const pre = at(`${q}.mlp.hook_pre`, tf.add(tf.matMul(h2, p(`${q}.mlp.W_in`)), p(`${q}.mlp.b_in`)) as tf.Tensor2D);
    if (stop.at) return stop.at;
    const act = at(`${q}.mlp.hook_post`, a.activation === 'gelu' ? gelu(pre) : (tf.relu(pre) as tf.Tensor2D));
    if (stop.at) return stop.at;
    const mlpOut = at(`${q}.hook_mlp_out`, tf.add(tf.matMul(act, p(`${q}.mlp.W_out`)), p(`${q}.mlp.b_out`)) as tf.Tensor2D);
    if (stop.at) return stop.at;
    x = at(`${q}.hook_resid_post`, tf.add(x, mlpOut) as tf.Tensor2D);
    if (stop.at) return stop.at;
  }
  const fin = at('ln_final.hook_normalized', layerNorm(x, p('ln_final.w'), p('ln_final.b'), a.layerNormEps));
  if (stop.at) return stop.at;
  return a.tiedEmbeddings ? tf.matMul(fin, p('embed.W_E'), false, true) : tf.matMul(fin, p('unembed.W_U'));
}
