/**
 * Matryoshka Representation Learning (Kusupati et al. 2022; RAIVNLab/MRL, MRL.py).
 *
 * An MLP encoder maps x to an embedding z in R^d; a linear head per nesting size m classifies
 * from the prefix z[:, :m]. Loss (their Eq. 1, as coded: batch-mean CE per head, summed):
 *   L = sum_{m in M} c_m * CE(W_m z[:, :m] + b_m, y)
 * MRL-E ties the heads: one W in R^{d x L} and one shared bias, logits_m = z[:, :m] W[:m] + b.
 * FF-m (the fixed-feature baseline) is the same model with d = m and M = {m}.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkLabels, checkNumber } from '../errors.js';
import { checkMatrix, checkModelInput, type Matrix } from '../data/matrix.js';
import { fitMinibatches, mapRowBatches, type EpochRecord, type FitOptions } from './fit.js';

/** Config of `mrl.create`: encoder widths, embedding size d, nesting sizes M and heads. */
export interface MrlConfig {
  /** Input width (784 for MNIST pixels). */
  inputDim: number;
  /** Hidden widths of the encoder before the embedding, e.g. [256, 128]. */
  hidden: number[];
  /** Embedding size d. */
  embeddingDim: number;
  /** Nesting sizes M, strictly increasing, ending at embeddingDim. Default {2,4,...} up to d. */
  nesting?: number[];
  /** Relative importance c_m of each size. Default 1 for every size (the paper's default). */
  weights?: number[];
  /** Number of classes L of every head. */
  classes: number;
  /** Weight-tied heads (MRL-E). Default false. */
  efficient?: boolean;
  /** Seed of the initialization. Default 0. */
  seed?: number;
}

/** A trained or training MRL model: encoder layers, heads, and the config it was built from. */
export interface MrlModel {
  /** The config with its defaults filled in. */
  config: Required<MrlConfig>;
  /** The MLP encoder x → z (Dense+ReLU hidden layers, linear embedding layer). */
  encoder: tf.Sequential;
  /** One [m, classes] kernel per nesting size (MRL), or a single [d, classes] kernel (MRL-E). */
  headKernels: tf.Variable[];
  /** One [classes] bias per head (a single shared one for MRL-E). */
  headBiases: tf.Variable[];
}

/**
 * The default nesting: powers of two from 2 up to d (d included even if not a power of two),
 * M = {2^j : j ≥ 1, 2^j < d} ∪ {d}: MRL's halving sizes (Kusupati et al. 2022; docs/methods/mrl.md §2).
 *
 * @example const nesting = mrl.defaultNesting(64); // [2, 4, 8, 16, 32, 64]
 */
export function defaultNesting(d: number): number[] {
  const out: number[] = [];
  for (let m = 2; m < d; m *= 2) out.push(m);
  out.push(d);
  return out;
}

function resolveConfig(config: MrlConfig): Required<MrlConfig> {
  const where = 'mrl.create';
  checkKnownKeys(where, config, ['inputDim', 'hidden', 'embeddingDim', 'nesting', 'weights', 'classes', 'efficient', 'seed']);
  checkInt(where, 'config.inputDim', config.inputDim, 1);
  const d = checkInt(where, 'config.embeddingDim', config.embeddingDim, 1);
  checkInt(where, 'config.classes', config.classes, 2);
  if (!Array.isArray(config.hidden)) throw new NestlabArgumentError(where, 'config.hidden', 'an array of layer widths', config.hidden);
  config.hidden.forEach((h, i) => checkInt(where, `config.hidden[${i}]`, h, 1));
  const nesting = config.nesting ?? defaultNesting(d);
  nesting.forEach((m, i) => {
    checkInt(where, `config.nesting[${i}]`, m, 1, d);
    if (i > 0 && m <= nesting[i - 1]) throw new NestlabArgumentError(where, 'config.nesting', 'strictly increasing sizes', `[${nesting}]`);
  });
  if (nesting.length === 0 || nesting[nesting.length - 1] !== d) {
    throw new NestlabArgumentError(where, 'config.nesting', `sizes ending at embeddingDim = ${d}`, `[${nesting}]`);
  }
  const weights = config.weights ?? nesting.map(() => 1);
  if (weights.length !== nesting.length) throw new NestlabArgumentError(where, 'config.weights', `${nesting.length} weights (one per nesting size)`, `${weights.length}`);
  weights.forEach((w, i) => checkNumber(where, `config.weights[${i}]`, w, 0));
  return { ...config, nesting: [...nesting], weights: [...weights], efficient: config.efficient ?? false, seed: config.seed ?? 0 };
}

/**
 * Builds an MRL (or MRL-E, or FF with nesting [d]) model with seeded Glorot-uniform weights and
 * zero head biases: an MLP encoder to z ∈ ℝ^d and a linear head per nesting size m on z[:, :m]
 * (Kusupati et al. 2022; RAIVNLab/MRL `MRL.py`; docs/methods/mrl.md §2–§4).
 *
 * @example const model = mrl.create({ inputDim: 784, hidden: [256, 128], embeddingDim: 64, classes: 10, seed: 0 }); // nesting [2, 4, 8, 16, 32, 64]
 */
export function createMrl(config: MrlConfig): MrlModel {
  const cfg = resolveConfig(config);
  const rng = new Rng(cfg.seed);
  const encoder = tf.sequential();
  [...cfg.hidden, cfg.embeddingDim].forEach((units, i) => {
    encoder.add(
      tf.layers.dense({
        units,
        inputShape: i === 0 ? [cfg.inputDim] : undefined,
        // The embedding layer is linear: the heads see z itself, as MRL's heads see the pooled features.
        activation: i < cfg.hidden.length ? 'relu' : 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextUint32() }),
        name: i < cfg.hidden.length ? `hidden${i + 1}` : 'embedding',
      }),
    );
  });
  const headSizes = cfg.efficient ? [cfg.embeddingDim] : cfg.nesting;
  // tidy frees the initial values; the variables themselves survive it.
  const headKernels = headSizes.map((m) =>
    tf.tidy(() => tf.variable(tf.initializers.glorotUniform({ seed: rng.nextUint32() }).apply([m, cfg.classes]) as tf.Tensor2D, true)),
  );
  const headBiases = headSizes.map(() => tf.tidy(() => tf.variable(tf.zeros([cfg.classes]), true)));
  return { config: cfg, encoder, headKernels, headBiases };
}

/** Logits of every nesting size for embeddings z: one [n, classes] tensor per size. */
export function mrlLogits(model: MrlModel, z: tf.Tensor2D): tf.Tensor2D[] {
  const { nesting, efficient } = model.config;
  return nesting.map((m, i) => {
    const prefix = m === z.shape[1] ? z : tf.slice(z, [0, 0], [-1, m]);
    const kernel = efficient ? tf.slice(model.headKernels[0], [0, 0], [m, -1]) : model.headKernels[i];
    const bias = efficient ? model.headBiases[0] : model.headBiases[i];
    return tf.add(tf.matMul(prefix, kernel), bias) as tf.Tensor2D;
  });
}

/** Options of `mrl.train` (`trainMrl`; epochs default 10). */
export type MrlTrainOptions = FitOptions;

/**
 * Trains with the Matryoshka loss L = Σ_{m∈M} c_m · CE(W_m·z[:, :m] + b_m, y), cross-entropy
 * averaged over the batch per head and summed over heads (paper Eq. 1 as coded in RAIVNLab/MRL
 * `Matryoshka_CE_Loss`; docs/methods/mrl.md §2), by minibatch Adam; returns the mean total loss per epoch.
 *
 * @example const history = await mrl.train(model, train.x, train.y, { epochs: 10, seed: 0 }); // [{ epoch, loss }]
 */
export async function trainMrl(model: MrlModel, x: Matrix, y: Int32Array, options: MrlTrainOptions = {}): Promise<EpochRecord[]> {
  const where = 'mrl.train';
  checkModelInput(where, x, model.config.inputDim);
  checkLabels(where, y, x.rows, model.config.classes);
  const variables = [...(model.encoder.trainableWeights.map((w) => w.read()) as tf.Variable[]), ...model.headKernels, ...model.headBiases];
  const batchLoss = (xb: tf.Tensor2D, yb: tf.Tensor1D) => {
    const onehot = tf.oneHot(yb, model.config.classes);
    const z = model.encoder.apply(xb, { training: true }) as tf.Tensor2D;
    const terms = mrlLogits(model, z).map((logits, i) => tf.mul(tf.losses.softmaxCrossEntropy(onehot, logits), model.config.weights[i]));
    return { loss: tf.addN(terms) as tf.Scalar };
  };
  return fitMinibatches(where, x, y, batchLoss, options, { epochs: 10 }, variables);
}

/**
 * The embeddings z = encoder(x) (the full d dimensions; take prefixes z[:, :m] with
 * `data.prefixColumns`), `options.batchSize` rows at a time (default 2048).
 *
 * @example const z = await mrl.embed(model, test.x); // Matrix [test.x.rows, 64]; data.prefixColumns(z, 8) is z[:, :8]
 */
export async function mrlEmbed(model: MrlModel, x: Matrix, options: { batchSize?: number } = {}): Promise<Matrix> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'mrl.embed';
  checkKnownKeys(where, options, ['batchSize']);
  checkMatrix(where, 'x', x);
  const batchSize = checkInt(where, 'options.batchSize', options.batchSize ?? 2048, 1);
  return mapRowBatches(x, batchSize, model.config.embeddingDim, (xb) => model.encoder.apply(xb) as tf.Tensor2D);
}

/**
 * Test accuracy of each nesting size's own head: [{size, accuracy}], accuracy_m =
 * mean_i 1[argmax(W_m·z_i[:m] + b_m) = y_i] (the paper's top-1 per size, docs/methods/mrl.md §8).
 *
 * @example const acc = await mrl.accuracy(model, test.x, test.y); // [{ size: 2, accuracy }, …, { size: 64, accuracy }]
 */
export async function mrlTestAccuracy(model: MrlModel, x: Matrix, y: Int32Array): Promise<{ size: number; accuracy: number }[]> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  checkMatrix('mrl.accuracy', 'x', x);
  checkLabels('mrl.accuracy', y, x.rows, model.config.classes);
  const z = await mrlEmbed(model, x);
  const preds = tf.tidy(() => mrlLogits(model, tf.tensor2d(z.data, [z.rows, z.cols])).map((l) => tf.argMax(l, 1)));
  const out: { size: number; accuracy: number }[] = [];
  for (let i = 0; i < preds.length; i++) {
    const p = (await preds[i].data()) as Int32Array;
    let hit = 0;
    for (let r = 0; r < y.length; r++) if (p[r] === y[r]) hit++;
    out.push({ size: model.config.nesting[i], accuracy: hit / y.length });
  }
  tf.dispose(preds);
  return out;
}

/**
 * Frees the model's weights (tfjs `dispose` of the encoder and the head variables); tfjs does not
 * garbage-collect tensors, so call it when a model is no longer needed.
 *
 * @example mrl.dispose(model); // model is unusable afterwards
 */
export function disposeMrl(model: MrlModel): void {
  model.encoder.dispose();
  tf.dispose([...model.headKernels, ...model.headBiases]);
}
