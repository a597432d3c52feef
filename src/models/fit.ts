/**
 * The one minibatch training loop of nestlab's tfjs models (the MLP classifier, MRL, 2D MRL) and
 * their batched forward pass (mapRowBatches). The loop: a seeded permutation per epoch, Adam
 * through optimizer.minimize, one progress line per epoch, everything inside tidy.
 *
 * Why not tf.LayersModel.fit: it shuffles with Math.random, so runs would not repeat from a seed.
 * Early stopping on the training loss (`minDelta`, `patience`) follows Keras'
 * `keras.callbacks.EarlyStopping(monitor='loss', min_delta, patience)`.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { eventLoopYielder } from '../backend/yield.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import type { Matrix } from '../data/matrix.js';

/** The options every training loop takes (`models.trainClassifier`, `mrl.train`). */
export interface FitOptions {
  /** Passes over the data. Default: the caller's (5 for classifiers, 10 for MRL). */
  epochs?: number;
  /** Rows per batch. Default 128. */
  batchSize?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Seed of the batch order. Default 0. */
  seed?: number;
  /** One progress line per epoch. Default: silent. */
  progress?: Progress;
  /**
   * Early stopping (Keras' `EarlyStopping(monitor='loss', min_delta, patience)`): an epoch whose
   * mean training loss is not below best − minDelta (best = the lowest epoch loss that counted as
   * an improvement) adds one to a count that an improvement resets; training stops when the count
   * reaches `patience`, and `epochs` is then the most it runs. Default: no early stopping.
   */
  minDelta?: number;
  /** Epochs in a row without an improvement of `minDelta` that stop training. Default 3 (used only with `minDelta`). */
  patience?: number;
}

/** One row of a training history: mean loss (and accuracy, for classifiers) over the epoch. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's rows. */
  loss: number;
  /** Training accuracy over the epoch (classifiers only). */
  accuracy?: number;
}

/** A batch's mean loss, and optionally its count of correct predictions. */
export type BatchLoss = (xb: tf.Tensor2D, yb: tf.Tensor1D) => { loss: tf.Scalar; hits?: tf.Scalar };

/**
 * Minimizes `batchLoss` over minibatches of (x, y) with Adam; returns the per-epoch mean loss
 * (and accuracy when `batchLoss` reports hits). `variables` default to every trainable variable.
 */
export async function fitMinibatches(
  where: string,
  x: Matrix,
  y: Int32Array,
  batchLoss: BatchLoss,
  options: FitOptions,
  defaults: { epochs: number },
  variables?: tf.Variable[],
): Promise<EpochRecord[]> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  checkKnownKeys(where, options, ['epochs', 'batchSize', 'learningRate', 'seed', 'progress', 'minDelta', 'patience']);
  const epochs = checkInt(where, 'options.epochs', options.epochs ?? defaults.epochs, 1);
  const batchSize = checkInt(where, 'options.batchSize', options.batchSize ?? 128, 1);
  const learningRate = checkNumber(where, 'options.learningRate', options.learningRate ?? 1e-3, 1e-9, 10);
  const progress = options.progress ?? silentProgress;
  const minDelta = options.minDelta === undefined ? undefined : checkNumber(where, 'options.minDelta', options.minDelta, 0);
  const patience = checkInt(where, 'options.patience', options.patience ?? 3, 1);
  let best = Infinity;
  let stalled = 0;
  const rng = new Rng(checkInt(where, 'options.seed', options.seed ?? 0));
  const optimizer = tf.train.adam(learningRate);
  const xAll = tf.tensor2d(x.data, [x.rows, x.cols]);
  const yAll = tf.tensor1d(y, 'int32');
  const history: EpochRecord[] = [];
  progress.start(epochs, 'epoch');
  const yieldNow = eventLoopYielder();
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = rng.permutation(x.rows);
      let lossSum = 0;
      let correct = 0;
      let counted = false;
      for (let start = 0; start < x.rows; start += batchSize) {
        await yieldNow();
        const idx = tf.tensor1d(Int32Array.from(order.subarray(start, Math.min(start + batchSize, x.rows))), 'int32');
        const [loss, hits]: (tf.Tensor | undefined)[] = tf.tidy(() => {
          const xb = tf.gather(xAll, idx) as tf.Tensor2D;
          const yb = tf.gather(yAll, idx) as tf.Tensor1D;
          const kept: tf.Tensor[] = [];
          const l = optimizer.minimize(
            () => {
              const out = batchLoss(xb, yb);
              // Tensors made inside minimize die with its scope: keep the hit count.
              if (out.hits) kept.push(tf.keep(out.hits));
              return out.loss;
            },
            true,
            variables,
          ) as tf.Scalar;
          return [tf.mul(l, idx.shape[0]), ...kept];
        });
        lossSum += (await loss!.data())[0];
        if (hits !== undefined) {
          correct += (await hits.data())[0];
          counted = true;
        }
        tf.dispose([idx, loss!, ...(hits ? [hits] : [])]);
      }
      const rec: EpochRecord = { epoch, loss: lossSum / x.rows, ...(counted ? { accuracy: correct / x.rows } : {}) };
      history.push(rec);
      progress.update(epoch, `loss ${rec.loss.toFixed(4)}${rec.accuracy !== undefined ? `  train accuracy ${rec.accuracy.toFixed(4)}` : ''}`);
      if (minDelta !== undefined) {
        if (rec.loss < best - minDelta) {
          best = rec.loss;
          stalled = 0;
        } else if (++stalled >= patience) break;
      }
    }
  } finally {
    tf.dispose([xAll, yAll]);
    optimizer.dispose();
  }
  progress.stop();
  return history;
}

/**
 * f applied to x `batchSize` rows at a time (each batch inside tidy), the outputs stacked into one
 * Matrix of `cols` columns: the batched forward pass of the models' embed functions.
 */
export async function mapRowBatches(x: Matrix, batchSize: number, cols: number, f: (xb: tf.Tensor2D) => tf.Tensor2D): Promise<Matrix> {
  const out = new Float32Array(x.rows * cols);
  for (let start = 0; start < x.rows; start += batchSize) {
    const end = Math.min(start + batchSize, x.rows);
    const z = tf.tidy(() => f(tf.tensor2d(x.data.subarray(start * x.cols, end * x.cols), [end - start, x.cols])));
    out.set((await z.data()) as Float32Array, start * cols);
    z.dispose();
  }
  return { data: out, rows: x.rows, cols };
}
