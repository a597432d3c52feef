/**
 * Figure `mnist-mlp-quickstart`: the pipeline end to end on real data. A small MLP trained on
 * MNIST (the `mnist` package's 10,000 digits, seeded 8,000/2,000 split); training loss per epoch
 * and test accuracy per digit. It is the figure of notebooks/00-quickstart.ipynb.
 */
import type { TopLevelSpec } from 'vega-lite';
import { initBackend } from '../backend/select.js';
import { loadMnist } from '../data/mnist.js';
import { createMlp, evaluateClassifier, trainClassifier } from '../models/mlp.js';
import { resolveOptions, type Experiment, type ExperimentOptions, type ExperimentResult, type Row } from './types.js';

const SIZES = {
  smoke: { limit: 2000, hidden: [64], epochs: 2 },
  full: { limit: 10000, hidden: [128, 64], epochs: 8 },
} as const;

/** Trains the quickstart MLP; rows: kind 'loss' (per epoch) and kind 'accuracy' (per digit). */
export async function runMnistMlpQuickstart(options: ExperimentOptions = {}): Promise<ExperimentResult> {
  const { size, seed, progress } = resolveOptions('mnistMlpQuickstart', options);
  const cfg = SIZES[size];
  const t0 = performance.now();
  const backend = await initBackend();
  const { train, test } = loadMnist({ seed, limit: cfg.limit });
  const model = createMlp({ inputDim: 784, hidden: [...cfg.hidden], outputDim: 10, seed });
  try {
    const history = await trainClassifier(model, train.x, train.y, {
      epochs: cfg.epochs,
      batchSize: 128,
      learningRate: 1e-3,
      seed,
      progress,
    });
    const evaluation = await evaluateClassifier(model, test.x, test.y);
    const rows: Row[] = [
      ...history.map((h) => ({ kind: 'loss', epoch: h.epoch, loss: h.loss, trainAccuracy: h.accuracy, digit: null, testAccuracy: null, count: null })),
      ...evaluation.perClass.map((c) => ({ kind: 'accuracy', epoch: null, loss: null, trainAccuracy: null, digit: c.label, testAccuracy: c.accuracy, count: c.count })),
    ];
    return {
      rows,
      spec: quickstartSpec(rows, evaluation.accuracy),
      meta: {
        id: 'mnist-mlp-quickstart',
        backend: backend.name,
        seed,
        size,
        seconds: (performance.now() - t0) / 1000,
        trainRows: train.x.rows,
        testRows: test.x.rows,
        hidden: [...cfg.hidden],
        epochs: cfg.epochs,
        testAccuracy: evaluation.accuracy,
        finalLoss: history[history.length - 1].loss,
      },
    };
  } finally {
    model.dispose();
  }
}

/** Loss curve beside per-digit test accuracy. */
export function quickstartSpec(rows: Row[], testAccuracy: number): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `MLP on MNIST: test accuracy ${(testAccuracy * 100).toFixed(1)}%`,
    data: { values: rows },
    hconcat: [
      {
        title: 'Training loss',
        transform: [{ filter: "datum.kind === 'loss'" }],
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
          y: { field: 'loss', type: 'quantitative', title: 'cross-entropy', scale: { zero: false } },
        },
        width: 260,
        height: 200,
      },
      {
        title: 'Test accuracy per digit',
        transform: [{ filter: "datum.kind === 'accuracy'" }],
        mark: 'bar',
        encoding: {
          x: { field: 'digit', type: 'ordinal', title: 'digit' },
          y: { field: 'testAccuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } },
        },
        width: 260,
        height: 200,
      },
    ],
  };
}

export const mnistMlpQuickstart: Experiment = {
  id: 'mnist-mlp-quickstart',
  title: 'MLP on MNIST: training loss and per-digit test accuracy',
  run: runMnistMlpQuickstart,
};
