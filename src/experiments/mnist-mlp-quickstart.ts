/**
 * Figure `mnist-mlp-quickstart`: the pipeline end to end on real data. A small MLP trained on
 * MNIST (the `mnist` package's 10,000 digits, seeded 8,000/2,000 split); training loss per epoch
 * and test accuracy per digit. It is the figure of notebooks/00-quickstart.ipynb.
 */
import type { TopLevelSpec } from 'vega-lite';
import { loadMnist } from '../data/mnist.js';
import { createMlp, evaluateClassifier, trainClassifier } from '../models/mlp.js';
import { defineExperiment } from './define.js';

/** Parameters of a run. */
export interface QuickstartParams {
  /** MNIST digits used (before the 4:1 train/test split). */
  limit: number;
  /** Hidden layer widths of the MLP. */
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
}

/** A row: kind 'loss' (one per epoch) or 'accuracy' (one per digit). */
export type QuickstartRow = {
  kind: 'loss' | 'accuracy';
  epoch: number | null;
  loss: number | null;
  trainAccuracy: number | null;
  digit: number | null;
  testAccuracy: number | null;
  count: number | null;
};

/** What the run found. */
export interface QuickstartMeta {
  trainRows: number;
  testRows: number;
  testAccuracy: number;
  finalLoss: number;
}

export const mnistMlpQuickstart = defineExperiment<QuickstartParams, QuickstartRow, QuickstartMeta>({
  id: 'mnist-mlp-quickstart',
  title: 'MLP on MNIST: training loss and per-digit test accuracy',
  sizes: {
    smoke: { limit: 2000, hidden: [64], epochs: 2, batchSize: 128, learningRate: 1e-3 },
    full: { limit: 10000, hidden: [128, 64], epochs: 8, batchSize: 128, learningRate: 1e-3 },
  },
  async run({ params, seed, progress }) {
    const { train, test } = loadMnist({ seed, limit: params.limit });
    const model = createMlp({ inputDim: 784, hidden: params.hidden, outputDim: 10, seed });
    try {
      const history = await trainClassifier(model, train.x, train.y, {
        epochs: params.epochs,
        batchSize: params.batchSize,
        learningRate: params.learningRate,
        seed,
        progress,
      });
      const evaluation = await evaluateClassifier(model, test.x, test.y);
      const rows: QuickstartRow[] = [
        ...history.map((h) => ({ kind: 'loss' as const, epoch: h.epoch, loss: h.loss, trainAccuracy: h.accuracy, digit: null, testAccuracy: null, count: null })),
        ...evaluation.perClass.map((c) => ({ kind: 'accuracy' as const, epoch: null, loss: null, trainAccuracy: null, digit: c.label, testAccuracy: c.accuracy, count: c.count })),
      ];
      return {
        rows,
        meta: { trainRows: train.x.rows, testRows: test.x.rows, testAccuracy: evaluation.accuracy, finalLoss: history[history.length - 1].loss },
      };
    } finally {
      model.dispose();
    }
  },
  spec: (rows, meta) => quickstartSpec(rows, meta.testAccuracy),
});

/** Loss curve beside per-digit test accuracy. */
export function quickstartSpec(rows: QuickstartRow[], testAccuracy: number): TopLevelSpec {
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
