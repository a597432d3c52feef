/**
 * Figure `mrl-2d`: 2D Matryoshka embeddings, Starbucks (Zhuang et al. 2024) vs 2DMSE (Li et al.
 * 2024), against separately trained small models, on the Brown GPT's passages for the 15 genres.
 *
 * The depth axis is a trainable residual encoder (models/mrl2d.ts) on the GPT's frozen, mean-pooled
 * last residual stream (`blocks.{L−1}.hook_resid_post`, standardized with the training passages'
 * mean and sd): fine-tuning the GPT itself per method and cell is out of this figure's budget
 * (docs/methods/mrl-2d.md §1). For every cell (layer, dim) of the grid and every seed:
 * - Starbucks: one model trained on its fixed pair list (every pair every step, mean CE);
 * - 2DMSE: one model trained with sentence-transformers' Matryoshka2dLoss recipe (last layer at a
 *   random dim, one random prior layer at a random dim, KL to the last layer at T = 0.3);
 * - separately trained: one model per cell, `layer` blocks deep, trained on that cell alone.
 * Scored by the cell's head (test accuracy) and by retrieval of test passages among the training
 * passages by cosine similarity of the cell's embedding (mAP@10 as MRL codes it, 1-NN accuracy).
 */
import type { TopLevelSpec } from 'vega-lite';
import { prefixColumns, type Matrix } from '../data/matrix.js';
import { createMrl2d, disposeMrl2d, mrl2dAccuracy, mrl2dEmbed, trainMrl2d, type Mrl2dConfig, type Mrl2dModel, type Mrl2dPair } from '../models/mrl2d.js';
import { retrievalMetrics, retrieveNearest } from '../models/retrieval.js';
import { defineExperiment } from './define.js';
import { LM_SIZES, brownLm, type LmRunParams } from './lm-common.js';
import { genrePassages } from './lm-geometry-nested.js';
import { classCount, signedPoints, standardizeColumns } from './mrl-common.js';
import { spread, type Spread } from './msae-prefix.js';

/** Parameters of a run: the LM's (lm-common.ts), then the 2D encoders' and their training. */
export interface Mrl2dParams extends LmRunParams {
  /** Width D of every encoder's residual stream (its largest dim). */
  width: number;
  /** Hidden width of each block's MLP. */
  hidden: number;
  /** Blocks L of the Starbucks and 2DMSE encoders (the grid's layers 1..L). */
  layers: number;
  /** The grid's dims (the last is `width`). */
  dims: number[];
  /** Starbucks' pair list [layer, dim], small to large. */
  pairs: number[][];
  /** Model seeds (each added to the run's seed); the LM and the data are the same for all. */
  seeds: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
}

/** The three ways of getting an embedding at a cell. */
export const MRL2D_METHODS = ['Starbucks', '2DMSE', 'separately trained'] as const;
/** One of {@link MRL2D_METHODS}. */
export type Mrl2dMethod = (typeof MRL2D_METHODS)[number];
/** What a row measures. */
export const MRL2D_MEASURES = ['accuracy', 'mAP@10', '1-NN accuracy'] as const;
type Measure = (typeof MRL2D_MEASURES)[number];

/** A row: one method's value of one measure at one (layer, dim) cell for one seed. */
export type Mrl2dRow = {
  method: Mrl2dMethod;
  layer: number;
  dim: number;
  seed: number;
  measure: Measure;
  value: number;
  /** The cell is on Starbucks' pair list. */
  starbucksPair: boolean;
};

/** Mean and sd over seeds of one method at one cell. */
export interface Mrl2dCell {
  method: Mrl2dMethod;
  layer: number;
  dim: number;
  starbucksPair: boolean;
  accuracy: Spread;
  mapAt10: Spread;
  oneNnAccuracy: Spread;
}

/** Mean differences over a set of cells (a − b, means over seeds first), for accuracy and mAP@10. */
export interface Mrl2dGap {
  accuracy: number;
  mapAt10: number;
  /** The largest accuracy gap over the cells. */
  maxAccuracy: number;
  /** Cells where a ≥ b in accuracy, and the cells compared. */
  atLeast: number;
  cells: number;
}

/** What the run found. */
export interface Mrl2dMeta {
  passages: { train: number; test: number; features: number; hook: string };
  classes: number;
  /** The share of the most common genre among the test passages (a constant classifier's accuracy). */
  majorityShare: number;
  lmTestPerplexity: number;
  cells: Mrl2dCell[];
  /** On Starbucks' pairs: Starbucks − 2DMSE, separately trained − Starbucks, separately trained − 2DMSE. */
  onPairs: { starbucksMinus2dmse: Mrl2dGap; singleMinusStarbucks: Mrl2dGap; singleMinus2dmse: Mrl2dGap };
  /** The same on the cells off Starbucks' list. */
  offPairs: { starbucksMinus2dmse: Mrl2dGap; singleMinusStarbucks: Mrl2dGap; singleMinus2dmse: Mrl2dGap };
  /** How close "close to separately trained" is (accuracy). */
  tolerance: number;
  /** Starbucks ≥ 2DMSE on its pairs (mean accuracy and mAP@10 gaps ≥ 0). */
  starbucksBeats2dmse: boolean;
  /** Starbucks within `tolerance` of the separately trained models on every pair (accuracy). */
  starbucksCloseToSingle: boolean;
  /** 2DMSE more than `tolerance` below them on average over Starbucks' pairs (accuracy). */
  twoDmseFallsShort: boolean;
  /** One line per claim, from the numbers above. */
  verdicts: string[];
}

const K = 10;
const TOLERANCE = 0.02;

/** Accuracy and retrieval of a model at its cells, one row per measure. */
async function scoreCells(model: Mrl2dModel, method: Mrl2dMethod, cells: Mrl2dPair[], train: { x: Matrix; y: Int32Array }, test: { x: Matrix; y: Int32Array }, seed: number, onList: (l: number, m: number) => boolean): Promise<Mrl2dRow[]> {
  const rows: Mrl2dRow[] = [];
  const accuracy = await mrl2dAccuracy(model, test.x, test.y, { cells });
  const byLayer = new Map<number, [Matrix, Matrix]>();
  for (const [i, [layer, dim]] of cells.entries()) {
    if (!byLayer.has(layer)) byLayer.set(layer, [await mrl2dEmbed(model, train.x, layer, model.config.width), await mrl2dEmbed(model, test.x, layer, model.config.width)]);
    const [zTrain, zTest] = byLayer.get(layer)!;
    const r = retrievalMetrics(await retrieveNearest(prefixColumns(zTrain, dim), prefixColumns(zTest, dim), K), K, train.y, test.y);
    const base = { method, layer, dim, seed, starbucksPair: onList(layer, dim) };
    rows.push({ ...base, measure: 'accuracy', value: accuracy[i].accuracy }, { ...base, measure: 'mAP@10', value: r.mapAtK }, { ...base, measure: '1-NN accuracy', value: r.oneNnAccuracy });
  }
  return rows;
}

function gap(cells: Mrl2dCell[], a: Mrl2dMethod, b: Mrl2dMethod, on: boolean): Mrl2dGap {
  const at = (method: Mrl2dMethod) => new Map(cells.filter((c) => c.method === method && c.starbucksPair === on).map((c) => [`${c.layer},${c.dim}`, c]));
  const [ca, cb] = [at(a), at(b)];
  const diffs = [...ca].filter(([key]) => cb.has(key)).map(([key, c]) => ({ acc: c.accuracy.mean - cb.get(key)!.accuracy.mean, map: c.mapAt10.mean - cb.get(key)!.mapAt10.mean }));
  const mean = (v: number[]) => (v.length === 0 ? NaN : v.reduce((s, t) => s + t, 0) / v.length);
  return {
    accuracy: mean(diffs.map((d) => d.acc)),
    mapAt10: mean(diffs.map((d) => d.map)),
    maxAccuracy: diffs.length === 0 ? NaN : Math.max(...diffs.map((d) => d.acc)),
    atLeast: diffs.filter((d) => d.acc >= 0).length,
    cells: diffs.length,
  };
}

export const mrl2d = defineExperiment<Mrl2dParams, Mrl2dRow, Mrl2dMeta>({
  id: 'mrl-2d',
  title: '2D Matryoshka embeddings: Starbucks vs 2DMSE vs separately trained models over (layer, dim), genres of Brown passages',
  sizes: {
    smoke: { ...LM_SIZES.smoke, width: 32, hidden: 64, layers: 2, dims: [4, 8, 32], pairs: [[1, 8], [2, 32]], seeds: [0], epochs: 10, batchSize: 64, learningRate: 2e-3 },
    full: { ...LM_SIZES.full, width: 128, hidden: 256, layers: 4, dims: [8, 16, 32, 64, 128], pairs: [[1, 16], [2, 32], [3, 64], [4, 128]], seeds: [0, 1, 2], epochs: 20, batchSize: 128, learningRate: 1e-3 },
  },
  async run({ params: cfg, seed, progress }) {
    const cellsPerSeed = cfg.layers * cfg.dims.length;
    progress.start(cfg.lmSteps + cfg.seeds.length * (2 + cellsPerSeed), 'mrl-2d');
    const lm = await brownLm(cfg, seed, progress);
    let done = cfg.lmSteps;
    const hook = `blocks.${cfg.nLayers - 1}.hook_resid_post`;
    const rawTrain = await genrePassages(lm, 'train', hook);
    const rawTest = await genrePassages(lm, 'test', hook);
    const [xTrain, xTest] = standardizeColumns(rawTrain.x, rawTest.x);
    const train = { x: xTrain, y: rawTrain.y };
    const test = { x: xTest, y: rawTest.y };
    const classes = Math.max(classCount(train.y), classCount(test.y));
    const pairs = cfg.pairs.map((p): Mrl2dPair => [p[0], p[1]]);
    const onList = (l: number, m: number) => pairs.some((p) => p[0] === l && p[1] === m);
    const grid: Mrl2dPair[] = Array.from({ length: cfg.layers }, (_, l) => cfg.dims.map((m): Mrl2dPair => [l + 1, m])).flat();
    const base = { inputDim: xTrain.cols, width: cfg.width, hidden: cfg.hidden, dims: cfg.dims, classes };
    const fit = { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate };

    const rows: Mrl2dRow[] = [];
    const trainAndScore = async (config: Mrl2dConfig, method: Mrl2dMethod, cells: Mrl2dPair[], s: number) => {
      const model = createMrl2d(config);
      try {
        await trainMrl2d(model, train.x, train.y, { ...fit, seed: s });
        rows.push(...(await scoreCells(model, method, cells, train, test, s, onList)));
      } finally {
        disposeMrl2d(model);
      }
    };
    for (const offset of cfg.seeds) {
      const s = seed + offset;
      await trainAndScore({ ...base, layers: cfg.layers, loss: 'starbucks', pairs, seed: s }, 'Starbucks', grid, s);
      progress.update(++done, `Starbucks seed ${s}`);
      await trainAndScore({ ...base, layers: cfg.layers, loss: '2dmse', seed: s }, '2DMSE', grid, s);
      progress.update(++done, `2DMSE seed ${s}`);
      for (const [layer, dim] of grid) {
        await trainAndScore({ ...base, layers: layer, loss: 'single', pairs: [[layer, dim]], seed: s }, 'separately trained', [[layer, dim]], s);
        progress.update(++done, `separately trained (${layer}, ${dim}) seed ${s}`);
      }
    }
    progress.stop();

    const cells: Mrl2dCell[] = [];
    for (const method of MRL2D_METHODS) {
      for (const [layer, dim] of grid) {
        const of = (measure: Measure) => spread(rows.filter((r) => r.method === method && r.layer === layer && r.dim === dim && r.measure === measure).map((r) => r.value));
        cells.push({ method, layer, dim, starbucksPair: onList(layer, dim), accuracy: of('accuracy'), mapAt10: of('mAP@10'), oneNnAccuracy: of('1-NN accuracy') });
      }
    }
    const gaps = (on: boolean) => ({ starbucksMinus2dmse: gap(cells, 'Starbucks', '2DMSE', on), singleMinusStarbucks: gap(cells, 'separately trained', 'Starbucks', on), singleMinus2dmse: gap(cells, 'separately trained', '2DMSE', on) });
    const onPairs = gaps(true);
    const offPairs = gaps(false);
    const counts = new Array<number>(classes).fill(0);
    for (const v of test.y) counts[v]++;
    const starbucksBeats2dmse = onPairs.starbucksMinus2dmse.accuracy >= 0 && onPairs.starbucksMinus2dmse.mapAt10 >= 0;
    const starbucksCloseToSingle = onPairs.singleMinusStarbucks.maxAccuracy <= TOLERANCE;
    const twoDmseFallsShort = onPairs.singleMinus2dmse.accuracy > TOLERANCE;
    const pts = signedPoints;
    const verdicts = [
      `(a) Starbucks vs 2DMSE on Starbucks' ${onPairs.starbucksMinus2dmse.cells} pairs: accuracy ${pts(onPairs.starbucksMinus2dmse.accuracy)}, mAP@10 ${pts(onPairs.starbucksMinus2dmse.mapAt10)} (Starbucks ≥ 2DMSE in accuracy on ${onPairs.starbucksMinus2dmse.atLeast} of ${onPairs.starbucksMinus2dmse.cells}): ${starbucksBeats2dmse ? 'reproduced' : 'not reproduced'}`,
      `(b) separately trained − Starbucks on its pairs: accuracy ${pts(onPairs.singleMinusStarbucks.accuracy)} (largest ${pts(onPairs.singleMinusStarbucks.maxAccuracy)}), mAP@10 ${pts(onPairs.singleMinusStarbucks.mapAt10)}: Starbucks ${starbucksCloseToSingle ? 'comes within' : 'does not come within'} ${pts(TOLERANCE)} on every pair; separately trained − 2DMSE: accuracy ${pts(onPairs.singleMinus2dmse.accuracy)}, mAP@10 ${pts(onPairs.singleMinus2dmse.mapAt10)}: 2DMSE ${twoDmseFallsShort ? 'falls short' : 'does not fall short'} (> ${pts(TOLERANCE)} on average): ${starbucksCloseToSingle && twoDmseFallsShort ? 'reproduced' : 'not reproduced'}`,
      offPairs.starbucksMinus2dmse.cells === 0
        ? '(c) every cell is on Starbucks\' list: no cells off it'
        : `(c) off Starbucks' list (${offPairs.starbucksMinus2dmse.cells} cells): Starbucks − 2DMSE accuracy ${pts(offPairs.starbucksMinus2dmse.accuracy)}, mAP@10 ${pts(offPairs.starbucksMinus2dmse.mapAt10)}; separately trained − Starbucks accuracy ${pts(offPairs.singleMinusStarbucks.accuracy)}, mAP@10 ${pts(offPairs.singleMinusStarbucks.mapAt10)}; separately trained − 2DMSE accuracy ${pts(offPairs.singleMinus2dmse.accuracy)}, mAP@10 ${pts(offPairs.singleMinus2dmse.mapAt10)}: ${offPairs.starbucksMinus2dmse.accuracy >= 0 ? 'Starbucks' : '2DMSE'} is ahead off the list in accuracy`,
    ];
    return {
      rows,
      meta: {
        passages: { train: train.x.rows, test: test.x.rows, features: train.x.cols, hook },
        classes,
        majorityShare: Math.max(...counts) / test.y.length,
        lmTestPerplexity: lm.scores.model.test.perplexity,
        cells,
        onPairs,
        offPairs,
        tolerance: TOLERANCE,
        starbucksBeats2dmse,
        starbucksCloseToSingle,
        twoDmseFallsShort,
        verdicts,
      },
    };
  },
  spec: (rows, meta) => mrl2dSpec(rows, meta),
});

/**
 * Heat maps over (layer, dim) of the seed-mean accuracy and mAP@10, one column per method; Starbucks'
 * pairs outlined in every panel.
 *
 * @internal exported to redraw a saved result.
 * @example const spec = mrl2dSpec(result.rows, result.meta);
 */
export function mrl2dSpec(rows: Mrl2dRow[], meta: Pick<Mrl2dMeta, 'verdicts'>): TopLevelSpec {
  const x = { field: 'dim', type: 'ordinal' as const, title: 'dim', sort: 'ascending' as const };
  const y = { field: 'layer', type: 'ordinal' as const, title: 'layer', sort: 'descending' as const };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // One verdict clause per line: a verdict on one line made the chart five times wider than its panels.
    title: { text: '2D Matryoshka: Starbucks vs 2DMSE vs separately trained (mean over seeds; outlined: Starbucks\' pairs)', subtitle: meta.verdicts.flatMap((v) => v.split('; ').map((clause, i) => (i === 0 ? clause : `  – ${clause}`))) },
    data: { values: rows },
    transform: [
      { filter: { field: 'measure', oneOf: ['accuracy', 'mAP@10'] } },
      { aggregate: [{ op: 'mean', field: 'value', as: 'mean' }, { op: 'stdev', field: 'value', as: 'sd' }], groupby: ['method', 'measure', 'layer', 'dim', 'starbucksPair'] },
      // The colors span the values drawn (on [0, 1] the full run's 0.15–0.39 were all one dark blue);
      // labels turn black on the light upper part of the scale.
      { joinaggregate: [{ op: 'min', field: 'mean', as: 'lowest' }, { op: 'max', field: 'mean', as: 'highest' }] },
    ],
    facet: {
      row: { field: 'measure', type: 'nominal', title: null, sort: ['accuracy', 'mAP@10'], header: { labelFontWeight: 'bold' } },
      column: { field: 'method', type: 'nominal', title: null, sort: [...MRL2D_METHODS], header: { labelFontWeight: 'bold' } },
    },
    spec: {
      width: 180,
      height: 140,
      layer: [
        {
          mark: 'rect',
          encoding: { x, y, color: { field: 'mean', type: 'quantitative', scale: { scheme: 'viridis' }, title: 'mean' }, tooltip: [{ field: 'mean', format: '.3f' }, { field: 'sd', format: '.3f' }] },
        },
        {
          transform: [{ filter: 'datum.starbucksPair' }],
          mark: { type: 'rect', fill: null, stroke: '#e45756', strokeWidth: 3 },
          encoding: { x, y },
        },
        {
          mark: { type: 'text', fontSize: 10 },
          encoding: { x, y, text: { field: 'mean', type: 'quantitative', format: '.2f' }, color: { condition: { test: 'datum.mean > datum.lowest + 0.6 * (datum.highest - datum.lowest)', value: 'black' }, value: 'white' } },
        },
      ],
    },
  } as TopLevelSpec;
}
