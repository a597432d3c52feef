/**
 * What the MRL figures share: the sizes of a run, the training of MRL / MRL-E / FF-m models on
 * MNIST (or any labeled rows), the PCA / random-subset baselines on the FF-d embedding, the linear
 * probe every representation is scored by (docs/methods/mrl.md §4), and the figures' colors and
 * zoomed axes.
 */
import { Rng } from '../backend/rng.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { loadMnist, type LabeledImages } from '../data/mnist.js';
import { columnMeans, prefixColumns, type Matrix } from '../data/matrix.js';
import { createMrl, trainMrl, type MrlModel } from '../models/mrl.js';
import { createMlp, evaluateClassifier, trainClassifier } from '../models/mlp.js';
import { pca } from '../similarity/pca.js';
import type { Size } from './define.js';
import { spread, type Spread } from './msae-prefix.js';

/** Sizes of an MRL run: data, network and training (`probeEpochs`: the fixed-epoch probe of lm-geometry-nested). */
export interface MrlRunSize {
  limit: number;
  seeds: number[];
  hidden: number[];
  embeddingDim: number;
  nesting: number[];
  epochs: number;
  probeEpochs: number;
}

export const MRL_SIZES: Record<Size, MrlRunSize> = {
  smoke: { limit: 1500, seeds: [0], hidden: [32], embeddingDim: 16, nesting: [2, 4, 16], epochs: 2, probeEpochs: 3 },
  full: { limit: 10000, seeds: [0, 1, 2], hidden: [256, 128], embeddingDim: 64, nesting: [2, 4, 8, 16, 32, 64], epochs: 10, probeEpochs: 20 },
};

/** The models of the two MRL figures: data, network, training and seeds (the probe is mrl-accuracy's). */
export type MrlModelSize = Omit<MrlRunSize, 'probeEpochs'>;

/**
 * The MRL figures' models: MRL_SIZES (which geometry-nested keeps) with three seeds at both sizes,
 * so every method's spread over seeds is drawn even at smoke size, and 5 epochs at smoke size,
 * where 2 left the jointly trained heads near chance.
 */
export const MRL_FIGURE_SIZES: Record<Size, MrlModelSize> = {
  smoke: { limit: 1500, seeds: [0, 1, 2], hidden: [32], embeddingDim: 16, nesting: [2, 4, 16], epochs: 5 },
  full: { limit: 10000, seeds: [0, 1, 2], hidden: [256, 128], embeddingDim: 64, nesting: [2, 4, 8, 16, 32, 64], epochs: 10 },
};

/** One fixed MNIST split for every seed: the seeds vary the models, not the data. */
export function mrlData(size: Pick<MrlRunSize, 'limit'>): { train: LabeledImages; test: LabeledImages } {
  return loadMnist({ seed: 0, limit: size.limit });
}

/** The number of classes of labels 0 .. L − 1: the largest label + 1. */
export function classCount(y: Int32Array): number {
  let max = 0;
  for (const v of y) if (v > max) max = v;
  return max + 1;
}

/** Trains MRL (efficient = false), MRL-E (true) or FF-m (nesting = [m]) with the run's settings. */
export async function trainNested(
  train: LabeledImages,
  size: Pick<MrlRunSize, 'hidden' | 'epochs'>,
  kind: { efficient: boolean; embeddingDim: number; nesting: number[] },
  seed: number,
  progress: Progress = silentProgress,
): Promise<MrlModel> {
  const model = createMrl({ inputDim: train.x.cols, hidden: size.hidden, embeddingDim: kind.embeddingDim, nesting: kind.nesting, classes: classCount(train.y), efficient: kind.efficient, seed });
  await trainMrl(model, train.x, train.y, { epochs: size.epochs, batchSize: 128, learningRate: 1e-3, seed, progress });
  return model;
}

/** Projects rows of X onto PCA components fitted elsewhere: (X - mean) C^T. */
export function projectOnComponents(x: Matrix, mean: Float64Array, components: Matrix, k: number): Matrix {
  const out = new Float32Array(x.rows * k);
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < x.cols; j++) s += (x.data[i * x.cols + j] - mean[j]) * components.data[c * x.cols + j];
      out[i * k + c] = s;
    }
  }
  return { data: out, rows: x.rows, cols: k };
}

/** How `linearProbe` trains: the most epochs, and optionally early stopping and standardized inputs. */
export interface ProbeOptions {
  /** Passes over the rows (the most, with `minDelta`). */
  epochs: number;
  /** Seed of the probe's initialization and batch order. */
  seed: number;
  /** Adam's step size. Default 1e-2. */
  learningRate?: number;
  /** Early stopping on the training loss (fit.ts, Keras' min_delta); default none: all `epochs` run. */
  minDelta?: number;
  /** Epochs in a row without an improvement of `minDelta` that stop the probe (default 3). */
  patience?: number;
  /** Z-score every column with the training rows' mean and sd first. Default false. */
  standardize?: boolean;
}

/** A probe's test accuracy, the epochs it trained and its per-epoch mean training loss. */
export interface ProbeResult {
  accuracy: number;
  epochs: number;
  loss: number[];
}

/**
 * The linear probe: softmax regression (an MLP without hidden layers) on fixed features by
 * minibatch Adam (lr 1e-2 unless given), batch 128 (docs/methods/mrl.md §4); the test rows' accuracy.
 */
export async function linearProbe(train: Matrix, yTrain: Int32Array, test: Matrix, yTest: Int32Array, options: ProbeOptions): Promise<ProbeResult> {
  const [xTrain, xTest] = options.standardize ? standardizeColumns(train, test) : [train, test];
  const probe = createMlp({ inputDim: train.cols, hidden: [], outputDim: Math.max(classCount(yTrain), classCount(yTest)), seed: options.seed });
  try {
    const stop = options.minDelta === undefined ? {} : { minDelta: options.minDelta, patience: options.patience ?? 3 };
    const history = await trainClassifier(probe, xTrain, yTrain, { epochs: options.epochs, batchSize: 128, learningRate: options.learningRate ?? 1e-2, seed: options.seed, ...stop });
    return { accuracy: (await evaluateClassifier(probe, xTest, yTest)).accuracy, epochs: history.length, loss: history.map((h) => h.loss) };
  } finally {
    probe.dispose();
  }
}

/** Test accuracy of the linear probe trained a fixed number of epochs on raw features (lm-geometry-nested's). */
export async function linearProbeAccuracy(train: Matrix, yTrain: Int32Array, test: Matrix, yTest: Int32Array, epochs: number, seed: number): Promise<number> {
  return (await linearProbe(train, yTrain, test, yTest, { epochs, seed })).accuracy;
}

/**
 * Z-scores of both matrices' columns with the training rows' mean and (population) sd:
 * (x − μ_train) / σ_train; a constant column is only centered. A linear probe on them spans the
 * same classifiers as on the raw columns; only the optimizer's conditioning changes.
 */
export function standardizeColumns(train: Matrix, test: Matrix): [Matrix, Matrix] {
  const mu = columnMeans(train);
  const sd = new Float64Array(train.cols);
  for (let i = 0; i < train.rows; i++) for (let j = 0; j < train.cols; j++) sd[j] += (train.data[i * train.cols + j] - mu[j]) ** 2;
  for (let j = 0; j < train.cols; j++) sd[j] = Math.sqrt(sd[j] / train.rows) || 1;
  const apply = (x: Matrix): Matrix => ({ data: Float32Array.from(x.data, (v, k) => (v - mu[k % x.cols]) / sd[k % x.cols]), rows: x.rows, cols: x.cols });
  return [apply(train), apply(test)];
}

/** The FF-d embedding's baselines at size m: its first m PCA scores, and m random units. */
export async function ffBaselines(ffTrain: Matrix, ffTest: Matrix, sizes: number[], seed: number): Promise<{ pca: (m: number) => [Matrix, Matrix]; random: (m: number) => [Matrix, Matrix] }> {
  const fit = await pca(ffTrain, { components: Math.max(...sizes) });
  const order = new Rng(seed + 1000).permutation(ffTrain.cols);
  const pickColumns = (x: Matrix, m: number): Matrix => {
    const cols = Array.from(order.subarray(0, m));
    const out = new Float32Array(x.rows * m);
    for (let i = 0; i < x.rows; i++) cols.forEach((c, t) => (out[i * m + t] = x.data[i * x.cols + c]));
    return { data: out, rows: x.rows, cols: m };
  };
  return {
    pca: (m) => [prefixColumns(fit.scores, m), projectOnComponents(ffTest, fit.mean, fit.components, m)],
    random: (m) => [pickColumns(ffTrain, m), pickColumns(ffTest, m)],
  };
}

/** Mean and sample sd over seeds per method and size: out[method][size], from rows with `method`, `size` and the value. */
export function spreadBy<R extends { method: string; size: number }>(rows: R[], value: (r: R) => number): Record<string, Record<number, Spread>> {
  const acc: Record<string, Record<number, number[]>> = {};
  for (const r of rows) ((acc[r.method] ??= {})[r.size] ??= []).push(value(r));
  const out: Record<string, Record<number, Spread>> = {};
  for (const [method, bySize] of Object.entries(acc)) {
    out[method] = {};
    for (const [m, v] of Object.entries(bySize)) out[method][Number(m)] = spread(v);
  }
  return out;
}

/** a − b per seed at size m (rows of the same seed paired), mean and sd over the seeds. */
export function pairedGap<R extends { method: string; size: number; seed: number }>(rows: R[], a: string, b: string, m: number, value: (r: R) => number): Spread {
  const at = (method: string) => new Map(rows.filter((r) => r.method === method && r.size === m).map((r) => [r.seed, value(r)]));
  const [ra, rb] = [at(a), at(b)];
  return spread([...ra].filter(([s]) => rb.has(s)).map(([s, v]) => v - (rb.get(s) as number)));
}

/** The smallest size from which every gap's mean is ≥ −tolerance up to the largest size (null if the largest fails). */
export function withinFrom(gaps: { size: number; gap: Spread }[], tolerance: number): number | null {
  const sorted = [...gaps].sort((x, y) => x.size - y.size);
  let from: number | null = null;
  for (let i = sorted.length - 1; i >= 0 && sorted[i].gap.mean >= -tolerance; i--) from = sorted[i].size;
  return from;
}

/** A signed difference in points with two decimals: +0.35 pt, −1.02 pt. */
export function signedPoints(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)} pt`;
}

/** One color per method in both MRL figures (tableau10 hues). */
export const MRL_METHOD_COLORS: Record<string, string> = {
  MRL: '#4c78a8',
  'MRL-E': '#f58518',
  'FF-m': '#e45756',
  'PCA of FF': '#b279a2',
  'random FF units': '#54a24b',
  'FF (first m units)': '#9d755d',
};

/**
 * A vega-lite transform that spreads the methods' points at one size apart on a log2 size axis
 * (field `sizeDodged` = size · 2^(0.04 · (i − (n − 1)/2)) for the i-th of n methods), so that
 * their error bars do not hide each other.
 */
export function dodgeSizes(methods: readonly string[]): { calculate: string; as: string } {
  const mid = (methods.length - 1) / 2;
  return { calculate: `datum.size * pow(2, 0.04 * (indexof(${JSON.stringify(methods)}, datum.method) - ${mid}))`, as: 'sizeDodged' };
}

/**
 * A y domain that shows differences of a few tenths of a point: the range of mean ± sd of the
 * drawn cells, padded by 10 % of it (at least 0.002 each side).
 */
export function zoomDomain(cells: Spread[]): [number, number] {
  const lo = Math.min(...cells.map((c) => c.mean - c.sd));
  const hi = Math.max(...cells.map((c) => c.mean + c.sd));
  const pad = Math.max(0.1 * (hi - lo), 0.002);
  return [lo - pad, hi + pad];
}

/**
 * The sizes a zoom panel draws: from the smallest size at which every method's mean is within
 * `within` of the best method's mean at that size, up (the sizes where the methods are close).
 */
export function zoomSizes(cells: Record<string, Record<number, Spread>>, within = 0.05): number[] {
  const sizes = [...new Set(Object.values(cells).flatMap((bySize) => Object.keys(bySize).map(Number)))].sort((a, b) => a - b);
  const close = (m: number) => {
    const means = Object.values(cells).map((bySize) => bySize[m]?.mean).filter((v): v is number => v !== undefined);
    return Math.max(...means) - Math.min(...means) <= within;
  };
  let from = sizes.length - 1;
  while (from > 0 && close(sizes[from - 1])) from--;
  return sizes.slice(Math.max(0, Math.min(from, sizes.length - 2))); // at least two sizes: a line
}
