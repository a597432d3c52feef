/**
 * Figure `mrl-accuracy` (MRL's Fig. 2 at MNIST scale): test accuracy of a linear
 * classifier vs representation size for MRL, MRL-E, FF (one model per size), PCA of the FF-d
 * embedding truncated to m, and m random units of FF-d; mean and spread over seeds.
 */
import type { TopLevelSpec } from 'vega-lite';
import { disposeMrl, mrlEmbed, mrlTestAccuracy } from '../models/mrl.js';
import { MRL_SIZES, ffBaselines, linearProbeAccuracy, mrlData, trainNested, type MrlRunSize } from './mrl-common.js';
import { defineExperiment } from './define.js';

export const MRL_METHODS = ['MRL', 'MRL-E', 'FF', 'PCA of FF', 'random FF units'] as const;

/** A row: one method's test accuracy at one size for one seed. */
export type MrlAccuracyRow = { method: string; size: number; seed: number; accuracy: number };

/** What the run found. */
export interface MrlAccuracyMeta {
  trainRows: number;
  testRows: number;
  /** The seeds actually used (base seed + the preset's offsets). */
  seeds: number[];
  encoder: string;
  /** Mean test accuracy per method and size: meanAccuracy[method][size]. */
  meanAccuracy: Record<string, Record<number, number>>;
  /** The paper's two claims checked on the means, in words with the numbers. */
  verdict: string[];
}

export const mrlAccuracy = defineExperiment<MrlRunSize, MrlAccuracyRow, MrlAccuracyMeta>({
  id: 'mrl-accuracy',
  title: 'Matryoshka representations: accuracy vs representation size (MRL, MRL-E, FF, PCA, random)',
  sizes: MRL_SIZES,
  async run({ params: size, seed: baseSeed, progress }) {
    const { train, test } = mrlData(size);
    const d = size.embeddingDim;
    const rows: MrlAccuracyRow[] = [];
    const add = (method: string, m: number, seed: number, accuracy: number) => rows.push({ method, size: m, seed, accuracy });
    const jobs = size.seeds.length * (2 + size.nesting.length);
    let done = 0;
    progress.start(jobs, 'models');
    for (const s of size.seeds) {
      const seed = baseSeed + s;
      for (const efficient of [false, true]) {
        const model = await trainNested(train, size, { efficient, embeddingDim: d, nesting: size.nesting }, seed);
        for (const a of await mrlTestAccuracy(model, test.x, test.y)) add(efficient ? 'MRL-E' : 'MRL', a.size, seed, a.accuracy);
        disposeMrl(model);
        progress.update(++done, `${efficient ? 'MRL-E' : 'MRL'} seed ${seed}`);
      }
      for (const m of size.nesting) {
        const ff = await trainNested(train, size, { efficient: false, embeddingDim: m, nesting: [m] }, seed);
        add('FF', m, seed, (await mrlTestAccuracy(ff, test.x, test.y))[0].accuracy);
        if (m === d) {
          // PCA and random-unit baselines live on the largest FF model's embedding.
          const [zTrain, zTest] = [await mrlEmbed(ff, train.x), await mrlEmbed(ff, test.x)];
          const base = await ffBaselines(zTrain, zTest, size.nesting, seed);
          for (const k of size.nesting) {
            const [ptr, pte] = base.pca(k);
            add('PCA of FF', k, seed, await linearProbeAccuracy(ptr, train.y, pte, test.y, size.probeEpochs, seed));
            const [rtr, rte] = base.random(k);
            add('random FF units', k, seed, await linearProbeAccuracy(rtr, train.y, rte, test.y, size.probeEpochs, seed));
          }
        }
        disposeMrl(ff);
        progress.update(++done, `FF-${m} seed ${seed}`);
      }
    }
    progress.stop();
    const meanAccuracy = summarize(rows);
    return {
      rows,
      meta: {
        trainRows: train.x.rows,
        testRows: test.x.rows,
        seeds: size.seeds.map((s) => baseSeed + s),
        encoder: `784-${size.hidden.join('-')}-${d}`,
        meanAccuracy,
        verdict: mrlVerdict(meanAccuracy),
      },
    };
  },
  spec: (rows, meta) => mrlAccuracySpec(rows, meta.params.embeddingDim),
});

/** Mean accuracy per method and size: {method: {size: mean}}. */
export function summarize(rows: MrlAccuracyRow[]): Record<string, Record<number, number>> {
  const acc: Record<string, Record<number, number[]>> = {};
  for (const r of rows) ((acc[r.method] ??= {})[r.size] ??= []).push(r.accuracy);
  const out: Record<string, Record<number, number>> = {};
  for (const [method, bySize] of Object.entries(acc)) {
    out[method] = {};
    for (const [m, v] of Object.entries(bySize)) out[method][Number(m)] = v.reduce((a, b) => a + b, 0) / v.length;
  }
  return out;
}

export function mrlAccuracySpec(rows: MrlAccuracyRow[], d: number): TopLevelSpec {
  const color = { field: 'method', type: 'nominal' as const, sort: [...MRL_METHODS], title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'MNIST: test accuracy vs representation size', subtitle: `linear classifier on the first m of ${d} dims; mean ± sd over seeds` },
    data: { values: rows },
    width: 420,
    height: 280,
    encoding: {
      x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [...new Set(rows.map((r) => r.size))] }, title: 'representation size m' },
      color,
    },
    layer: [
      { mark: { type: 'errorbar', extent: 'stdev' }, encoding: { y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy' } } },
      { mark: { type: 'line', point: true }, encoding: { y: { aggregate: 'mean', field: 'accuracy', type: 'quantitative', title: 'test accuracy' } } },
    ],
  };
}

/**
 * The paper's two claims checked on a run's mean accuracies, in words with the numbers:
 * (1) MRL is within `tolerance` of FF at every size; (2) at the smallest size MRL beats PCA and
 * random units of FF-d clearly (by more than `tolerance`).
 */
export function mrlVerdict(meanAccuracy: Record<string, Record<number, number>>, tolerance = 0.01): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const sizes = Object.keys(meanAccuracy.MRL ?? {}).map(Number).sort((a, b) => a - b);
  if (sizes.length === 0 || !meanAccuracy.FF) return ['no MRL/FF results to compare'];
  const gaps = sizes.map((m) => meanAccuracy.MRL[m] - meanAccuracy.FF[m]);
  const worst = Math.min(...gaps);
  const lines = [
    `MRL vs FF per size: ${sizes.map((m, i) => `m=${m}: ${pct(meanAccuracy.MRL[m])} vs ${pct(meanAccuracy.FF[m])} (${gaps[i] >= 0 ? '+' : ''}${(100 * gaps[i]).toFixed(1)} pt)`).join('; ')}.`,
    worst >= -tolerance
      ? `Claim 1 reproduced: MRL is within ${(100 * tolerance).toFixed(0)} pt of (or above) FF at every size.`
      : `Claim 1 not reproduced at this scale: MRL trails FF by up to ${(-100 * worst).toFixed(1)} pt.`,
  ];
  const m0 = sizes[0];
  const pcaGap = meanAccuracy.MRL[m0] - (meanAccuracy['PCA of FF']?.[m0] ?? NaN);
  const randGap = meanAccuracy.MRL[m0] - (meanAccuracy['random FF units']?.[m0] ?? NaN);
  lines.push(
    pcaGap > tolerance && randGap > tolerance
      ? `Claim 2 reproduced: at m=${m0}, MRL beats PCA of FF by ${(100 * pcaGap).toFixed(1)} pt and random FF units by ${(100 * randGap).toFixed(1)} pt.`
      : `Claim 2 not reproduced at m=${m0}: MRL - PCA = ${(100 * pcaGap).toFixed(1)} pt, MRL - random = ${(100 * randGap).toFixed(1)} pt.`,
  );
  return lines;
}
