/**
 * A small multilayer perceptron classifier on tfjs-layers, trained by nestlab's seeded loop
 * (fit.ts), and read back layer by layer.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkLabels, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { fitMinibatches, type EpochRecord, type FitOptions } from './fit.js';

/** A classifier's epoch: mean training loss and accuracy. */
export type ClassifierEpoch = Required<EpochRecord>;

/** Config of `models.createMlp`: layer widths, non-linearity and seed. */
export interface MlpConfig {
  /** Input width (784 for MNIST pixels). */
  inputDim: number;
  /** Widths of the hidden layers, e.g. [128, 64]. */
  hidden: number[];
  /** Number of classes (the last layer outputs logits). */
  outputDim: number;
  /** Hidden non-linearity. Default 'relu'. */
  activation?: 'relu' | 'tanh';
  /** Seed of the weight initialization. Default 0. */
  seed?: number;
}

/**
 * Builds the MLP: Dense(hidden[i], activation) ... Dense(outputDim) -> logits, i.e.
 * h_l = σ(h_{l−1}·W_l + b_l) and logits = h_L·W_out + b_out, on tfjs-layers `tf.layers.dense`.
 * Glorot-uniform weights (Glorot & Bengio 2010: U(±√(6/(fan_in + fan_out)))) seeded from `seed`,
 * zero biases.
 *
 * @example const net = models.createMlp({ inputDim: 784, hidden: [128], outputDim: 10, seed: 0 }); // layers hidden1, logits
 */
export function createMlp(config: MlpConfig): tf.Sequential {
  const where = 'models.createMlp';
  checkKnownKeys(where, config, ['inputDim', 'hidden', 'outputDim', 'activation', 'seed']);
  checkInt(where, 'config.inputDim', config.inputDim, 1);
  checkInt(where, 'config.outputDim', config.outputDim, 2);
  if (!Array.isArray(config.hidden)) throw new NestlabArgumentError(where, 'config.hidden', 'an array of layer widths', config.hidden);
  config.hidden.forEach((h, i) => checkInt(where, `config.hidden[${i}]`, h, 1));
  const activation = checkOneOf(where, 'config.activation', config.activation ?? 'relu', ['relu', 'tanh'] as const);
  const rng = new Rng(config.seed ?? 0);
  const model = tf.sequential();
  const widths = [...config.hidden, config.outputDim];
  widths.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        inputShape: i === 0 ? [config.inputDim] : undefined,
        activation: i < config.hidden.length ? activation : 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextUint32() }),
        biasInitializer: 'zeros',
        name: i < config.hidden.length ? `hidden${i + 1}` : 'logits',
      }),
    );
  });
  return model;
}

/** Options of `models.trainClassifier` (epochs default 5). */
export type TrainClassifierOptions = FitOptions;

/**
 * Trains `model` with softmax cross-entropy, mean_b −log softmax(logits_b)[y_b] (tfjs
 * `tf.losses.softmaxCrossEntropy`), on (x, y) by minibatch Adam (Kingma & Ba 2015) with a seeded
 * batch order; returns the per-epoch mean training loss and accuracy.
 *
 * @example const history = await models.trainClassifier(net, train.x, train.y, { epochs: 5 }); // [{ epoch, loss, accuracy }]
 */
export async function trainClassifier(model: tf.Sequential, x: Matrix, y: Int32Array, options: TrainClassifierOptions = {}): Promise<ClassifierEpoch[]> {
  const where = 'models.trainClassifier';
  const classes = model.outputs[0].shape[1] as number;
  checkMatrix(where, 'x', x, 1, 1);
  checkLabels(where, y, x.rows, classes);
  const batchLoss = (xb: tf.Tensor2D, yb: tf.Tensor1D) => {
    const logits = model.apply(xb, { training: true }) as tf.Tensor2D;
    const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), yb), 'int32')) as tf.Scalar;
    return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(yb, classes), logits) as tf.Scalar, hits };
  };
  return (await fitMinibatches(where, x, y, batchLoss, options, { epochs: 5 })) as ClassifierEpoch[];
}

/** Logits of `model` on x, computed in batches (the caller disposes). */
function predictBatches(model: tf.Sequential, x: Matrix, batchSize: number, upTo?: number): tf.Tensor2D[] {
  const outs: tf.Tensor2D[] = [];
  for (let start = 0; start < x.rows; start += batchSize) {
    const end = Math.min(start + batchSize, x.rows);
    outs.push(
      tf.tidy(() => {
        let h: tf.Tensor = tf.tensor2d(x.data.subarray(start * x.cols, end * x.cols), [end - start, x.cols]);
        for (const layer of model.layers.slice(0, upTo ?? model.layers.length)) h = layer.apply(h) as tf.Tensor;
        return h as tf.Tensor2D;
      }),
    );
  }
  return outs;
}

/**
 * Test accuracy overall, mean_i 1[argmax logits_i = y_i], and per class (the same mean over the
 * rows of each label; NaN for a label with no rows).
 *
 * @example const { accuracy, perClass } = await models.evaluateClassifier(net, test.x, test.y); // perClass[d].accuracy for digit d
 */
export async function evaluateClassifier(model: tf.Sequential, x: Matrix, y: Int32Array): Promise<{ accuracy: number; perClass: { label: number; accuracy: number; count: number }[] }> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const classes = model.outputs[0].shape[1] as number;
  checkMatrix('models.evaluateClassifier', 'x', x);
  checkLabels('models.evaluateClassifier', y, x.rows, classes);
  const parts = predictBatches(model, x, 1024);
  const pred = tf.tidy(() => tf.argMax(tf.concat(parts, 0), 1));
  const p = (await pred.data()) as Int32Array;
  tf.dispose([...parts, pred]);
  const hit = new Array<number>(classes).fill(0);
  const count = new Array<number>(classes).fill(0);
  let correct = 0;
  for (let i = 0; i < y.length; i++) {
    count[y[i]]++;
    if (p[i] === y[i]) {
      hit[y[i]]++;
      correct++;
    }
  }
  return {
    accuracy: correct / y.length,
    perClass: count.map((c, label) => ({ label, accuracy: c === 0 ? NaN : hit[label] / c, count: c })),
  };
}

/**
 * Post-activation outputs h_l = σ(h_{l−1}·W_l + b_l) of every hidden layer (and the logits last)
 * on x, as Matrices, computed `options.batchSize` rows at a time (default 1024): the
 * representations rsa, similarity and sae analyze.
 *
 * @example const [h1, logits] = await models.layerActivations(net, test.x); // h1: Matrix [test.x.rows, 128]
 */
export async function layerActivations(model: tf.Sequential, x: Matrix, options: { batchSize?: number } = {}): Promise<Matrix[]> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'models.layerActivations';
  checkKnownKeys(where, options, ['batchSize']);
  checkMatrix(where, 'x', x);
  const batchSize = checkInt(where, 'options.batchSize', options.batchSize ?? 1024, 1);
  const out: Matrix[] = [];
  for (let layer = 1; layer <= model.layers.length; layer++) {
    const parts = predictBatches(model, x, batchSize, layer);
    const all = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    const data = (await all.data()) as Float32Array;
    // Conv layers give [rows, h, w, c]: flattened row-major to h*w*c columns per stimulus.
    out.push({ data: Float32Array.from(data), rows: x.rows, cols: all.size / x.rows });
    tf.dispose(parts.length === 1 ? parts : [...parts, all]);
  }
  return out;
}
