/**
 * Figure `mrl-accuracy` (MRL's Fig. 2 at MNIST scale): test accuracy vs representation size m for
 * MRL, MRL-E, FF-m (a separately trained model with an m-dim embedding), PCA of the FF-d embedding
 * to m dims, and m random units of FF-d. Every method is scored the same way: its m-dim
 * representation is frozen and one linear softmax probe, trained until its training loss stops
 * falling, is fitted on it (docs/methods/mrl.md §4). The jointly trained heads' accuracy is kept
 * in rows of their own (`score: 'head'`), for reference. Mean and sd over seeds.
 */
import type { TopLevelSpec } from 'vega-lite';
import { median } from '../math/order.js';
import { prefixColumns, type Matrix } from '../data/matrix.js';
import { disposeMrl, mrlEmbed, mrlTestAccuracy } from '../models/mrl.js';
import {
  MRL_FIGURE_SIZES,
  MRL_METHOD_COLORS,
  dodgeSizes,
  ffBaselines,
  linearProbe,
  mrlData,
  pairedGap,
  signedPoints,
  spreadBy,
  trainNested,
  withinFrom,
  zoomDomain,
  zoomSizes,
  type MrlModelSize,
} from './mrl-common.js';
import { defineExperiment } from './define.js';
import type { Spread } from './msae-prefix.js';

/** The methods, in the legend's order. */
export const MRL_METHODS = ['MRL', 'MRL-E', 'FF-m', 'PCA of FF', 'random FF units'] as const;

/** Parameters: the models (mrl-common.ts) and the probe's stopping rule. */
export interface MrlAccuracyParams extends MrlModelSize {
  /** The probe's Adam step size (batch 128). */
  probeLearningRate: number;
  /** The most epochs a probe trains. */
  probeMaxEpochs: number;
  /** A probe stops once its epoch-mean training cross-entropy has not fallen below its best − probeMinDelta (nats)... */
  probeMinDelta: number;
  /** ... for probePatience epochs in a row (Keras' EarlyStopping(monitor='loss')). */
  probePatience: number;
}

/**
 * A row: one method's test accuracy at one size for one seed, scored by the linear probe
 * (`score: 'probe'`, with the epochs it trained) or by the model's own jointly trained head
 * (`score: 'head'`: MRL, MRL-E and FF-m only; `probeEpochs` null).
 */
export type MrlAccuracyRow = { method: string; size: number; seed: number; score: 'probe' | 'head'; accuracy: number; probeEpochs: number | null };

/** How the probes trained. */
export interface MrlProbeSummary {
  /** The protocol in words. */
  rule: string;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  minDelta: number;
  patience: number;
  /** Probes trained, and how many stopped by the rule before `maxEpochs`. */
  probes: number;
  stoppedEarly: number;
  /** Epochs the probes trained, per method: min, median, max over sizes and seeds. */
  epochs: Record<string, { min: number; median: number; max: number }>;
  /** Per-epoch mean training loss of the first seed's probes, to see each curve flatten. */
  lossCurves: { method: string; size: number; seed: number; loss: number[] }[];
}

/** What the run found. */
export interface MrlAccuracyMeta {
  trainRows: number;
  testRows: number;
  /** The seeds actually used (base seed + the preset's offsets). */
  seeds: number[];
  encoder: string;
  /** Probe test accuracy per method and size, mean and sample sd over seeds: probeAccuracy[method][size]. */
  probeAccuracy: Record<string, Record<number, Spread>>;
  /** The jointly trained heads' test accuracy (MRL, MRL-E, FF-m), for reference only. */
  headAccuracy: Record<string, Record<number, Spread>>;
  /** MRL − FF-m probe accuracy per size: the same-seed differences' mean and sd. */
  mrlMinusFf: { size: number; gap: Spread }[];
  /** The smallest size m such that MRL's mean is at most 1 point below FF-m's at m and every larger size (null: not even at d). */
  mrlWithinOnePointFrom: number | null;
  probe: MrlProbeSummary;
  /** The paper's two claims checked on the probe means, in words with the numbers. */
  verdict: string[];
}

const PROBE_BATCH_SIZE = 128; // linearProbe's (mrl-common.ts)

export const mrlAccuracy = defineExperiment<MrlAccuracyParams, MrlAccuracyRow, MrlAccuracyMeta>({
  id: 'mrl-accuracy',
  title: 'Matryoshka representations: accuracy vs representation size, one linear probe for MRL, MRL-E, FF-m, PCA and random units',
  sizes: {
    smoke: { ...MRL_FIGURE_SIZES.smoke, probeLearningRate: 3e-2, probeMaxEpochs: 200, probeMinDelta: 1e-3, probePatience: 3 },
    full: { ...MRL_FIGURE_SIZES.full, probeLearningRate: 3e-2, probeMaxEpochs: 200, probeMinDelta: 1e-3, probePatience: 3 },
  },
  async run({ params: size, seed: baseSeed, progress }) {
    const { train, test } = mrlData(size);
    const d = size.embeddingDim;
    const seeds = size.seeds.map((s) => baseSeed + s);
    const rows: MrlAccuracyRow[] = [];
    const lossCurves: MrlProbeSummary['lossCurves'] = [];
    const probe = async (method: string, m: number, seed: number, [zTrain, zTest]: [Matrix, Matrix]) => {
      const p = await linearProbe(zTrain, train.y, zTest, test.y, { epochs: size.probeMaxEpochs, learningRate: size.probeLearningRate, minDelta: size.probeMinDelta, patience: size.probePatience, standardize: true, seed });
      rows.push({ method, size: m, seed, score: 'probe', accuracy: p.accuracy, probeEpochs: p.epochs });
      if (seed === seeds[0]) lossCurves.push({ method, size: m, seed, loss: p.loss });
    };
    const head = (method: string, m: number, seed: number, accuracy: number) => rows.push({ method, size: m, seed, score: 'head', accuracy, probeEpochs: null });
    progress.start(seeds.length * (2 + size.nesting.length), 'models');
    let done = 0;
    for (const seed of seeds) {
      for (const efficient of [false, true]) {
        const method = efficient ? 'MRL-E' : 'MRL';
        const model = await trainNested(train, size, { efficient, embeddingDim: d, nesting: size.nesting }, seed);
        const heads = await mrlTestAccuracy(model, test.x, test.y);
        const [zTrain, zTest] = [await mrlEmbed(model, train.x), await mrlEmbed(model, test.x)];
        disposeMrl(model);
        for (const a of heads) head(method, a.size, seed, a.accuracy);
        for (const m of size.nesting) await probe(method, m, seed, [prefixColumns(zTrain, m), prefixColumns(zTest, m)]);
        progress.update(++done, `${method} seed ${seed}`);
      }
      for (const m of size.nesting) {
        const ff = await trainNested(train, size, { efficient: false, embeddingDim: m, nesting: [m] }, seed);
        head('FF-m', m, seed, (await mrlTestAccuracy(ff, test.x, test.y))[0].accuracy);
        const [zTrain, zTest] = [await mrlEmbed(ff, train.x), await mrlEmbed(ff, test.x)];
        disposeMrl(ff);
        await probe('FF-m', m, seed, [zTrain, zTest]);
        if (m === d) {
          // PCA and random-unit baselines live on the largest FF model's (FF-d's) embedding.
          const base = await ffBaselines(zTrain, zTest, size.nesting, seed);
          for (const k of size.nesting) {
            await probe('PCA of FF', k, seed, base.pca(k));
            await probe('random FF units', k, seed, base.random(k));
          }
        }
        progress.update(++done, `FF-${m} seed ${seed}`);
      }
    }
    progress.stop();
    const probes = rows.filter((r) => r.score === 'probe');
    const probeAccuracy = spreadBy(probes, (r) => r.accuracy);
    const mrlMinusFf = size.nesting.map((m) => ({ size: m, gap: pairedGap(probes, 'MRL', 'FF-m', m, (r) => r.accuracy) }));
    const epochs: MrlProbeSummary['epochs'] = {};
    for (const method of MRL_METHODS) {
      const e = probes.filter((r) => r.method === method).map((r) => r.probeEpochs as number);
      if (e.length > 0) epochs[method] = { min: Math.min(...e), median: median(Float64Array.from(e)), max: Math.max(...e) };
    }
    return {
      rows,
      meta: {
        trainRows: train.x.rows,
        testRows: test.x.rows,
        seeds,
        encoder: `784-${size.hidden.join('-')}-${d}`,
        probeAccuracy,
        headAccuracy: spreadBy(
          rows.filter((r) => r.score === 'head'),
          (r) => r.accuracy,
        ),
        mrlMinusFf,
        mrlWithinOnePointFrom: withinFrom(mrlMinusFf, 0.01),
        probe: {
          rule:
            `softmax regression on the frozen m-dim representation, columns z-scored with the training rows' mean and sd; Adam lr ${size.probeLearningRate}, batch ${PROBE_BATCH_SIZE}, ` +
            `the same seed as the model; stops once the epoch-mean training cross-entropy has not fallen below its best − ${size.probeMinDelta} for ${size.probePatience} epochs in a row, at most ${size.probeMaxEpochs} epochs`,
          learningRate: size.probeLearningRate,
          batchSize: PROBE_BATCH_SIZE,
          maxEpochs: size.probeMaxEpochs,
          minDelta: size.probeMinDelta,
          patience: size.probePatience,
          probes: probes.length,
          stoppedEarly: probes.filter((r) => (r.probeEpochs as number) < size.probeMaxEpochs).length,
          epochs,
          lossCurves,
        },
        verdict: mrlVerdict(probeAccuracy, mrlMinusFf),
      },
    };
  },
  spec: (rows, meta) => mrlAccuracySpec(rows, meta.params.embeddingDim, meta.seeds.length),
});

const pt = signedPoints;
const pct = (s: Spread) => `${(100 * s.mean).toFixed(2)} ± ${(100 * s.sd).toFixed(2)} %`;

/**
 * The paper's two claims checked on the probe means, in words with the numbers (gaps to two
 * decimals, so a 1.02-point gap never reads as "within 1 point"): (1) MRL is within `tolerance`
 * of FF-m at every size; (2) at the smallest size MRL beats PCA and random units of FF-d by more
 * than `tolerance`.
 */
export function mrlVerdict(accuracy: Record<string, Record<number, Spread>>, gaps: { size: number; gap: Spread }[], tolerance = 0.01): string[] {
  const sizes = Object.keys(accuracy.MRL ?? {})
    .map(Number)
    .sort((a, b) => a - b);
  if (sizes.length === 0 || !accuracy['FF-m']) return ['no MRL/FF-m results to compare'];
  const gapAt = (m: number) => gaps.find((g) => g.size === m)?.gap ?? { mean: accuracy.MRL[m].mean - accuracy['FF-m'][m].mean, sd: NaN };
  const worst = sizes.reduce((w, m) => (gapAt(m).mean < gapAt(w).mean ? m : w), sizes[0]);
  const from = withinFrom(
    sizes.map((m) => ({ size: m, gap: gapAt(m) })),
    tolerance,
  );
  const tol = `${(100 * tolerance).toFixed(0)} pt`;
  const lines = [
    `MRL vs FF-m per size (probe, mean ± sd over seeds; gap = same-seed MRL − FF-m): ${sizes.map((m) => `m=${m}: ${pct(accuracy.MRL[m])} vs ${pct(accuracy['FF-m'][m])} (${pt(gapAt(m).mean)} ± ${(100 * gapAt(m).sd).toFixed(2)})`).join('; ')}.`,
    gapAt(worst).mean >= -tolerance
      ? `Claim 1 reproduced: MRL is within ${tol} of (or above) FF-m at every size (smallest gap ${pt(gapAt(worst).mean)}, at m=${worst}).`
      : `Claim 1 not reproduced at this scale: MRL trails FF-m by ${pt(gapAt(worst).mean)} at m=${worst}; ${from === null ? `not within ${tol} at any size up to d` : `within ${tol} from m=${from} up`}.`,
  ];
  const m0 = sizes[0];
  const pcaGap = accuracy.MRL[m0].mean - (accuracy['PCA of FF']?.[m0]?.mean ?? NaN);
  const randGap = accuracy.MRL[m0].mean - (accuracy['random FF units']?.[m0]?.mean ?? NaN);
  lines.push(
    pcaGap > tolerance && randGap > tolerance
      ? `Claim 2 reproduced: at m=${m0}, MRL beats PCA of FF by ${pt(pcaGap)} and random FF units by ${pt(randGap)}.`
      : `Claim 2 not reproduced at m=${m0}: MRL − PCA of FF = ${pt(pcaGap)}, MRL − random FF units = ${pt(randGap)}.`,
  );
  return lines;
}

/**
 * Three panels, probe rows only in the first two: accuracy vs m (y from the data), a zoom on the
 * sizes where the methods are within 5 points, and probe − jointly trained head per model.
 */
export function mrlAccuracySpec(rows: MrlAccuracyRow[], d: number, seedCount: number): TopLevelSpec {
  const probes = rows.filter((r) => r.score === 'probe');
  const cells = spreadBy(probes, (r) => r.accuracy);
  const zoom = zoomSizes(cells);
  const domain = zoomDomain(Object.values(cells).flatMap((bySize) => zoom.filter((m) => bySize[m]).map((m) => bySize[m])));
  const methods = MRL_METHODS.filter((m) => cells[m]);
  const color = { field: 'method', type: 'nominal', title: null, scale: { domain: methods, range: methods.map((m) => MRL_METHOD_COLORS[m]) }, legend: { labelLimit: 0 } };
  const x = (values: number[]) => ({ field: 'sizeDodged', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values }, title: 'representation size m' });
  const dodge = dodgeSizes(methods);
  const allSizes = [...new Set(rows.map((r) => r.size))].sort((a, b) => a - b);
  const meanSd = (y: object, clip: boolean) => [
    { mark: { type: 'errorbar', extent: 'stdev', thickness: 1.5, clip }, encoding: { y: { field: 'accuracy', type: 'quantitative', ...y } } },
    { mark: { type: 'line', point: { size: 30 }, clip }, encoding: { y: { aggregate: 'mean', field: 'accuracy', type: 'quantitative', ...y } } },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'MNIST: test accuracy of one linear probe vs representation size',
      subtitle: [
        `every method's m-dim representation (of d = ${d}) frozen, then the same softmax probe trained until its training loss stops falling`,
        `lines: mean over ${seedCount} seeds; bars: ± 1 sd over the ${seedCount} seeds`,
      ],
    },
    data: { values: rows },
    hconcat: [
      {
        title: 'all sizes',
        transform: [{ filter: "datum.score === 'probe'" }, dodge],
        encoding: { x: x(allSizes), color },
        layer: meanSd({ title: 'test accuracy (probe)', scale: { zero: false } }, false),
        width: 300,
        height: 260,
      },
      {
        title: `zoom: m ≥ ${zoom[0]}`,
        transform: [{ filter: `datum.score === 'probe' && datum.size >= ${zoom[0]}` }, dodge],
        encoding: { x: x(zoom), color },
        layer: meanSd({ title: 'test accuracy (probe)', scale: { domain, zero: false } }, true),
        width: 240,
        height: 260,
      },
      {
        title: 'probe − jointly trained head',
        transform: [
          { pivot: 'score', value: 'accuracy', groupby: ['method', 'size', 'seed'] },
          { filter: 'isValid(datum.head)' },
          { calculate: '100 * (datum.probe - datum.head)', as: 'delta' },
          dodge,
        ],
        encoding: { x: x(allSizes), color },
        layer: [
          { mark: { type: 'rule', color: '#888', strokeDash: [3, 3] }, encoding: { y: { datum: 0 } } },
          { mark: { type: 'errorbar', extent: 'stdev', thickness: 1.5 }, encoding: { y: { field: 'delta', type: 'quantitative', title: 'probe − head (points)' } } },
          { mark: { type: 'line', point: { size: 30 } }, encoding: { y: { aggregate: 'mean', field: 'delta', type: 'quantitative', title: 'probe − head (points)' } } },
        ],
        width: 200,
        height: 260,
      },
    ],
    config: { legend: { orient: 'bottom' } },
  } as TopLevelSpec;
}
