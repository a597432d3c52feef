/**
 * Training a {@link Lm}: random windows of a token stream, AdamW (Loshchilov & Hutter 2019) with
 * warm-up and cosine decay, global-norm clipping, and a validation loss on fixed windows.
 * The batch of step s depends only on (seed, s), so a resumed run sees the batches an
 * uninterrupted one would.
 */
import { initBackend } from '../backend/select.js';
import { tf } from '../backend/tf.js';
import { Rng } from '../backend/rng.js';
import { eventLoopYielder } from '../backend/yield.js';
import { NestlabArgumentError, NestlabComputationError } from '../errors.js';
import { learningRateAt, type LmTraining } from './config.js';
import { isDecayed, lmCrossEntropy, type Lm, type LmHook } from './model.js';

/** AdamW's moments and the step count, per parameter name. */
export interface LmTrainerState {
  step: number;
  m: Map<string, tf.Variable>;
  v: Map<string, tf.Variable>;
}

/**
 * Zero moments for `model`.
 *
 * @example const state = lm.createTrainerState(model); // zero AdamW moments, step 0
 */
export function createLmTrainerState(model: Lm): LmTrainerState {
  const m = new Map<string, tf.Variable>();
  const v = new Map<string, tf.Variable>();
  for (const [name, p] of model.params) {
    // tf.variable copies its initial value: create that inside tidy so it is freed.
    m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }
  return { step: 0, m, v };
}

/** Frees the moments. */
export function disposeLmTrainerState(state: LmTrainerState): void {
  for (const t of state.m.values()) t.dispose();
  for (const t of state.v.values()) t.dispose();
}

/** splitmix32's finalizer on the seed's two 32-bit halves: a well-mixed 32-bit key. */
function seedHash(seed: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.floor(seed / 2 ** 32)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** B windows of T + 1 tokens: inputs are the first T, targets the last T. */
export interface TokenBatch {
  inputs: Int32Array;
  targets: Int32Array;
  batchSize: number;
}

/**
 * The training batch of `step`: B windows at uniform random offsets, seeded by (seed, step).
 *
 * @example const batch = lm.sampleWindows(ids, 32, 64, 0, step); // the same 32 windows for (seed 0, step) on every run
 */
export function sampleWindows(stream: Int32Array, batchSize: number, T: number, seed: number, step: number): TokenBatch {
  if (stream.length < T + 1) throw new NestlabArgumentError('lm.train', 'tokens', `at least contextLength + 1 = ${T + 1} tokens`, stream.length);
  // A 32-bit hash of the seed beside the step (below 2^21): distinct (seed, step) pairs get
  // distinct streams unless their seeds' hashes collide.
  const rng = new Rng(seedHash(seed) * 2 ** 21 + (step % 2 ** 21));
  const inputs = new Int32Array(batchSize * T);
  const targets = new Int32Array(batchSize * T);
  const span = stream.length - T;
  for (let b = 0; b < batchSize; b++) {
    const o = rng.int(span);
    inputs.set(stream.subarray(o, o + T), b * T);
    targets.set(stream.subarray(o + 1, o + T + 1), b * T);
  }
  return { inputs, targets, batchSize };
}

/**
 * Consecutive non-overlapping windows of T + 1 tokens (sharing one token), at most `maxWindows`.
 *
 * @example const val = lm.evaluationWindows(validationIds, 64); // every target of the stream but the first, once
 */
export function evaluationWindows(stream: Int32Array, T: number, maxWindows = Infinity): TokenBatch {
  const count = Math.min(maxWindows, Math.floor((stream.length - 1) / T));
  if (count < 1) throw new NestlabArgumentError('lm.evaluate', 'tokens', `at least contextLength + 1 = ${T + 1} tokens`, stream.length);
  const inputs = new Int32Array(count * T);
  const targets = new Int32Array(count * T);
  for (let w = 0; w < count; w++) {
    inputs.set(stream.subarray(w * T, w * T + T), w * T);
    targets.set(stream.subarray(w * T + 1, w * T + T + 1), w * T);
  }
  return { inputs, targets, batchSize: count };
}

/** What one optimizer step did. */
export interface LmStepRecord {
  step: number;
  loss: number;
  gradNorm: number;
  learningRate: number;
}

/**
 * One AdamW step on a batch; returns the loss before the update. Throws (naming the step) when the
 * loss or the gradient is not finite, before anything is updated.
 *
 * @example const { loss } = await lm.trainStep(model, state, training, lm.sampleWindows(ids, 32, 64, 0, state.step));
 */
export async function lmTrainStep(model: Lm, state: LmTrainerState, training: LmTraining, batch: TokenBatch): Promise<LmStepRecord> {
  await initBackend();
  const names = [...model.params.keys()];
  const vars = names.map((n) => model.params.get(n) as tf.Variable);
  const lr = learningRateAt(training, state.step);
  const { value, grads } = tf.variableGrads(() => lmCrossEntropy(model, batch.inputs, batch.targets, batch.batchSize), vars);
  const gradList = vars.map((v) => grads[v.name]);
  const sq = tf.tidy(() => tf.addN(gradList.map((g) => tf.sum(tf.square(g)))));
  const [lossValue, sqValue] = await Promise.all([value.data(), sq.data()]);
  value.dispose();
  sq.dispose();
  const loss = lossValue[0];
  const gradNorm = Math.sqrt(sqValue[0]);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    for (const g of gradList) g.dispose();
    throw new NestlabComputationError('lm.train', `step ${state.step + 1}: the ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} is ${Number.isFinite(loss) ? gradNorm : loss}; lower training.learningRate or raise training.warmupSteps (the last checkpoint is kept)`);
  }
  const clip = training.gradClip > 0 && gradNorm > training.gradClip ? training.gradClip / gradNorm : 1;
  const t = state.step + 1;
  const bc1 = 1 - training.beta1 ** t;
  const bc2 = 1 - training.beta2 ** t;
  tf.tidy(() => {
    names.forEach((name, i) => {
      const p = vars[i];
      const g = clip === 1 ? gradList[i] : tf.mul(gradList[i], clip);
      const m = state.m.get(name) as tf.Variable;
      const v = state.v.get(name) as tf.Variable;
      m.assign(tf.add(tf.mul(m, training.beta1), tf.mul(g, 1 - training.beta1)));
      v.assign(tf.add(tf.mul(v, training.beta2), tf.mul(tf.square(g), 1 - training.beta2)));
      const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), 1e-8));
      const decay = isDecayed(name) && training.weightDecay > 0 ? tf.mul(p, training.weightDecay) : null;
      p.assign(tf.sub(p, tf.mul(decay === null ? update : tf.add(update, decay), lr)));
    });
  });
  for (const g of gradList) g.dispose();
  state.step = t;
  return { step: t, loss, gradNorm, learningRate: lr };
}

/**
 * Mean next-token cross-entropy (nats) over `windows`, computed `batchSize` windows at a time,
 * optionally with a hook that edits activations (splicing).
 *
 * @example const nats = await lm.loss(model, lm.evaluationWindows(testIds, 64)); // Math.exp(nats) is the perplexity
 */
export async function lmLoss(model: Lm, windows: TokenBatch, options: { batchSize?: number; hook?: LmHook } = {}): Promise<number> {
  await initBackend();
  const T = windows.inputs.length / windows.batchSize;
  const chunk = options.batchSize ?? 32;
  let total = 0;
  let count = 0;
  const yieldNow = eventLoopYielder();
  for (let b0 = 0; b0 < windows.batchSize; b0 += chunk) {
    await yieldNow();
    const nb = Math.min(chunk, windows.batchSize - b0);
    const inputs = windows.inputs.subarray(b0 * T, (b0 + nb) * T);
    const targets = windows.targets.subarray(b0 * T, (b0 + nb) * T);
    const loss = tf.tidy(() => lmCrossEntropy(model, inputs, targets, nb, { hook: options.hook }));
    const n = targets.reduce((a, t) => a + (t >= 0 ? 1 : 0), 0);
    total += (await loss.data())[0] * n;
    count += n;
    loss.dispose();
  }
  if (count === 0) throw new NestlabArgumentError('lm.loss', 'windows.targets', 'at least one target ≥ 0', 'none');
  return total / count;
}
