/**
 * What the two MRL figures share: the sizes of a run, the training of MRL / MRL-E / FF models on
 * MNIST (or any labeled rows), and the PCA / random-subset baselines on the FF embedding with a linear probe.
 */
import { Rng } from '../backend/rng.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { loadMnist, type LabeledImages } from '../data/mnist.js';
import { prefixColumns, type Matrix } from '../data/matrix.js';
import { createMrl, trainMrl, type MrlModel } from '../models/mrl.js';
import { createMlp, evaluateClassifier, trainClassifier } from '../models/mlp.js';
import { pca } from '../similarity/pca.js';
import type { Size } from './define.js';

/** Sizes of an MRL run: data, network and training. */
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

/** One fixed MNIST split for every seed: the seeds vary the models, not the data. */
export function mrlData(size: MrlRunSize): { train: LabeledImages; test: LabeledImages } {
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
  size: MrlRunSize,
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

/** Test accuracy of a linear classifier (softmax regression, Adam) trained on fixed features. */
export async function linearProbeAccuracy(train: Matrix, yTrain: Int32Array, test: Matrix, yTest: Int32Array, epochs: number, seed: number): Promise<number> {
  const probe = createMlp({ inputDim: train.cols, hidden: [], outputDim: Math.max(classCount(yTrain), classCount(yTest)), seed });
  try {
    await trainClassifier(probe, train, yTrain, { epochs, batchSize: 128, learningRate: 1e-2, seed });
    return (await evaluateClassifier(probe, test, yTest)).accuracy;
  } finally {
    probe.dispose();
  }
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
