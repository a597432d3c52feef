/**
 * Figure `trsa-identification`: topological RSA model identification (Lin & Kriegeskorte 2023,
 * "The topology and geometry of neural representations"), following the authors' released
 * protocol (docs/methods/rsa.md §11, `main_trsa.dnn_noise_example`) on a CNN family like theirs:
 *
 * - networks: All-CNN-C-style CNNs (`models.createCnn`: 3x3 conv stacks, strided downsampling, 1x1
 *   convs, global average pooling; Springenberg et al. 2015) trained on MNIST from `seeds` seeds
 *   (seed = "subject"); every conv layer and the pooled output is a "region" to identify. Theirs:
 *   All-CNN-C on CIFAR-10, 10 seeds x 10 layers, 62 stimuli;
 * - stimuli: `perDigit` held-out test digits per class;
 * - RDMs: rsatoolbox 'euclidean' (squared distance / units; the authors read precomputed RDMs, so
 *   the measure is our assumption) and, as a scale-free control, 'correlation' (1 - Pearson r);
 * - noise (the authors' rule): every RDM entry += N(0, k/10 sigma), sigma the SD of all RDM entries
 *   of that measure pooled over networks and layers, k = 0..4, negatives clipped to 0;
 *   `noiseDraws` draws per level;
 * - statistics of the noisy Euclidean RDM: the raw RDM (the authors' baseline), the RDM standardized
 *   per RDM (z-scored entries: its overall scale removed, so the raw RDM's shortcut of recognizing
 *   a layer by its mean dissimilarity is measured), the rank-normalized RDM (= RGTM(0, 1) in rank
 *   mode), RGTM(l, u) for each of the five named regions of the (l, u) plane (`draws` (l, u) per
 *   region by the authors' rejection sampling), the geodesic RDM of the authors' default graph
 *   (p_shortest, p = 0.05, ranks after); and the noisy correlation-distance RDM;
 * - score: leave-one-seed-out nearest-centroid identification of the layer, chance 1/layers;
 *   the point estimate is the mean over the noise draws;
 * - intervals: `boots` bootstrap replicates resampling seeds and stimuli (with replacement; copies
 *   of one seed are held out together; pairs of two copies of one stimulus dropped, the authors'
 *   handle_duplicate='drop'), each with its own noise draw, so the 95 % percentile intervals
 *   include the noise as well as the choice of seeds and stimuli; differences between statistics
 *   are paired (the same replicate for both);
 * - heat map: accuracy over the authors' (l, u) grid (step 0.05, 229 cells) at noise 0.2 sigma.
 */
import type { TopLevelSpec } from 'vega-lite';
import { Rng } from '../backend/rng.js';
import { loadMnist } from '../data/mnist.js';
import { selectRows } from '../data/matrix.js';
import { createCnn } from '../models/cnn.js';
import { evaluateClassifier, layerActivations, trainClassifier } from '../models/mlp.js';
import { computeRdm } from '../rsa/rdm.js';
import { subsampleValues } from '../rsa/condensed.js';
import { identificationAccuracy } from '../rsa/inference.js';
import { applyGt, geodesicRdm, gtThresholds, prepareGtVector, rgtmGrid, rgtmRegion, RGTM_REGIONS, type RgtmRegion } from '../rsa/topological.js';
import { NestlabComputationError } from '../errors.js';
import { mean, quantileSorted, sampleStandardDeviation, sortedCopy } from '../math/order.js';
import { defineExperiment, type RunContext } from './define.js';

/** Networks, stimuli and sampling of a run. */
export interface TrsaParams {
  /** Networks trained (one per seed: the "subjects"). */
  seeds: number;
  /** Channels of the CNN's two stages (`models.createCnn`'s widths). */
  widths: number[];
  /** The most epochs a network trains; it stops earlier when its training loss stops falling. */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Early stopping: `patience` epochs in a row without the training loss falling by `minDelta`. */
  minDelta: number;
  patience: number;
  /** MNIST digits used (before the 4:1 train/test split). */
  limit: number;
  /** Test digits per class used as stimuli. */
  perDigit: number;
  /** (l, u) draws per RGTM region. */
  draws: number;
  /** Noise draws per level for the point estimate. */
  noiseDraws: number;
  /** Bootstrap replicates over seeds and stimuli. */
  boots: number;
}

/** RDM noise SDs as fractions of the SD of all RDM entries (the authors' k/10, k = 0..4). */
export const NOISE_LEVELS = [0, 0.1, 0.2, 0.3, 0.4] as const;
const GRID_NOISE = 0.2;

/** The authors' rejection sampler for one (l, u) of a region (`run_sample_rgtm`). */
export function sampleLu(rng: Rng, region: RgtmRegion): { l: number; u: number } {
  for (let attempt = 0; attempt < 100000; attempt++) {
    let l = rng.uniform();
    let u = rng.uniform();
    if (l > u) [l, u] = [u, l];
    if (l + u <= 0.01 || l + u >= 1.99) continue;
    l = Math.round(l * 100) / 100;
    u = Math.min(1, Math.round(u * 100) / 100 + 1e-5);
    if (l > u) continue;
    if (rgtmRegion(l, Math.min(1, u)) === region) return { l, u };
  }
  throw new NestlabComputationError('sampleLu', `no (l, u) found in region ${region} in 100000 draws`);
}

/** The raw Euclidean RDM: the authors' baseline, and the reference of the paired differences. */
export const RAW_RDM = 'RDM (euclidean)';
/** The statistics of the figure, in legend order. */
export const TRSA_STATISTICS = [
  RAW_RDM,
  'RDM (euclidean, standardized)',
  'RDM (correlation distance)',
  'RDM (rank-normalized)',
  ...RGTM_REGIONS.map((r) => `RGTM ${r}`),
  'geodesic (RGDM)',
] as const;

/** z-scored entries: the RDM with its mean and scale removed. */
function standardize(v: Float64Array): Float64Array {
  const m = mean(v);
  const sd = sampleStandardDeviation(v);
  return Float64Array.from(v, (x) => (sd > 0 ? (x - m) / sd : 0));
}

/** The authors' noise: entry + N(0, level sigma), clipped at 0. */
function addNoise(rdms: Float64Array[], level: number, sigma: number, rng: Rng): Float64Array[] {
  return rdms.map((r) => (level === 0 ? r : Float64Array.from(r, (v) => (Number.isNaN(v) ? v : Math.max(0, v + rng.normal() * level * sigma)))));
}

/** Who each RDM belongs to: its network (the subject) and its layer (the label). */
interface Design {
  subjects: Int32Array;
  layers: Int32Array;
}

/**
 * Identification accuracy of every statistic (TRSA_STATISTICS order) from one set of noisy
 * Euclidean and correlation RDMs, with the SD over (l, u) draws of each RGTM region. Pairs marked
 * NaN (two copies of one bootstrap stimulus) are dropped from every vector; for the geodesic graph
 * such copies are joined at distance 0 first.
 */
function evaluateStatistics(euclid: Float64Array[], corr: Float64Array[], design: Design, draws: Map<RgtmRegion, { l: number; u: number }[]>): { accuracy: number[]; spread: number[] } {
  const keep: number[] = [];
  for (let k = 0; k < euclid[0].length; k++) if (!Number.isNaN(euclid[0][k])) keep.push(k);
  const dropNaN = (v: Float64Array) => (keep.length === v.length ? v : Float64Array.from(keep, (k) => v[k]));
  const score = (vectors: Float64Array[]) => identificationAccuracy(vectors, design.subjects, design.layers).accuracy;
  const clean = euclid.map(dropNaN);
  const accuracy: number[] = [score(clean), score(clean.map(standardize)), score(corr.map(dropNaN))];
  const spread: number[] = [0, 0, 0];
  const prepared = clean.map((r) => prepareGtVector(r, 'rank'));
  accuracy.push(score(prepared.map((p) => p.values as Float64Array)));
  spread.push(0);
  for (const region of RGTM_REGIONS) {
    const accs = draws.get(region)!.map(({ l, u }) => score(prepared.map((p) => applyGt(p.values, ...gtThresholds(p, l, u)))));
    const m = mean(accs);
    accuracy.push(m);
    spread.push(Math.sqrt(accs.reduce((s, a) => s + (a - m) ** 2, 0) / accs.length));
  }
  const geo = euclid.map((r) => dropNaN(geodesicRdm(Float64Array.from(r, (v) => (Number.isNaN(v) ? 0 : v)), { graph: 'epsilon', p: 0.05, rankAfter: true }).values as Float64Array));
  accuracy.push(score(geo));
  spread.push(0);
  return { accuracy, spread };
}

/**
 * A row. kind 'noise': a statistic's accuracy at a noise level (mean over noise draws) with its
 * 95 % bootstrap interval; 'difference': statistic minus `baseline` (paired by replicate);
 * 'drop': the statistic's accuracy at `noise` minus at noise 0 (paired); 'grid': RGTM accuracy
 * of one (l, u) cell at the grid noise.
 */
export type TrsaRow = {
  kind: 'noise' | 'difference' | 'drop' | 'grid';
  statistic: string;
  baseline: string | null;
  noise: number;
  /** Accuracy ('noise', 'grid') or a difference of accuracies ('difference', 'drop'). */
  accuracy: number;
  /** 2.5 % and 97.5 % bootstrap percentiles (null for 'grid'). */
  lo: number | null;
  hi: number | null;
  /** SD over the (l, u) draws of an RGTM region (0 for the other statistics). */
  spread: number | null;
  chance: number;
  l: number | null;
  u: number | null;
  region: string | null;
};

/** One trained network of the family. */
export interface TrsaNetwork {
  seed: number;
  /** Epochs trained (early stopping may end before `params.epochs`). */
  epochs: number;
  finalLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
}

/** What the run found. */
export interface TrsaMeta {
  stimuli: number;
  /** The layers identified (the labels), in depth order. */
  layers: string[];
  seeds: number;
  noiseDraws: number;
  boots: number;
  gridNoise: number;
  /** SD of all RDM entries, per measure (the noise units). */
  sigma: { euclidean: number; correlation: number };
  chance: number;
  networks: TrsaNetwork[];
  meanTestAccuracy: number;
  bestGridCell: { l: number; u: number; region: string; accuracy: number };
  /** Accuracy of every statistic at noise 0 and 0.4: accuracy[statistic] = [at 0, at 0.4]. */
  accuracy: Record<string, [number, number]>;
}

export const trsaIdentification = defineExperiment<TrsaParams, TrsaRow, TrsaMeta>({
  id: 'trsa-identification',
  title: 'Topological RSA: identifying the layer of a CNN from RDM, RGTM and geodesic statistics',
  sizes: {
    smoke: { seeds: 3, widths: [4, 8], epochs: 3, batchSize: 32, learningRate: 3e-3, minDelta: 0.01, patience: 2, limit: 2000, perDigit: 3, draws: 2, noiseDraws: 3, boots: 8 },
    full: { seeds: 10, widths: [8, 16], epochs: 20, batchSize: 64, learningRate: 3e-3, minDelta: 0.005, patience: 3, limit: 10000, perDigit: 7, draws: 10, noiseDraws: 20, boots: 200 },
  },
  run: runTrsa,
  spec: (rows, meta) => trsaSpec(rows, meta),
});

/** 2.5 % and 97.5 % percentiles of bootstrap values. */
function interval(values: number[]): [number, number] {
  const s = sortedCopy(values);
  return [quantileSorted(s, 0.025), quantileSorted(s, 0.975)];
}

async function runTrsa({ params: cfg, seed, progress }: RunContext<TrsaParams>): Promise<{ rows: TrsaRow[]; meta: TrsaMeta }> {
  const rng = new Rng(seed);

  // data and stimuli: the first `perDigit` test digits of each class, ordered by digit
  const { train, test } = loadMnist({ seed, limit: cfg.limit });
  const stimIdx: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    let k = 0;
    for (let i = 0; i < test.y.length && k < cfg.perDigit; i++) if (test.y[i] === digit) (stimIdx.push(i), k++);
  }
  const stimuli = selectRows(test.x, stimIdx);

  // train one network per seed; RDMs of every conv layer and the pooled output
  const euclid: Float64Array[] = [];
  const corr: Float64Array[] = [];
  const subjectOf: number[] = [];
  const layerOf: number[] = [];
  const networks: TrsaNetwork[] = [];
  let layerNames: string[] = [];
  progress.start(cfg.seeds, 'trsa-identification: CNNs');
  for (let s = 0; s < cfg.seeds; s++) {
    const netSeed = rng.nextUint32() % 2 ** 31;
    const model = createCnn({ height: 28, width: 28, channels: 1, widths: [cfg.widths[0], cfg.widths[1]], classes: 10, seed: netSeed });
    try {
      const history = await trainClassifier(model, train.x, train.y, { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, minDelta: cfg.minDelta, patience: cfg.patience, seed: netSeed });
      const last = history[history.length - 1];
      networks.push({ seed: netSeed, epochs: history.length, finalLoss: last.loss, trainAccuracy: last.accuracy, testAccuracy: (await evaluateClassifier(model, test.x, test.y)).accuracy });
      const acts = await layerActivations(model, stimuli);
      const picked = model.layers.map((l, i) => ({ name: l.name, i })).filter(({ name }) => /^(conv|gap)/.test(name));
      layerNames = picked.map((p) => p.name);
      for (const [layer, { i }] of picked.entries()) {
        euclid.push((await computeRdm(acts[i], { method: 'euclidean' })).values as Float64Array);
        const c = (await computeRdm(acts[i], { method: 'correlation' })).values as Float64Array;
        if (c.some((v) => !Number.isFinite(v))) throw new NestlabComputationError('trsa-identification', `layer ${layerNames[layer]} of seed ${s} has a stimulus with constant activations (correlation distance undefined)`);
        corr.push(c);
        subjectOf.push(s);
        layerOf.push(layer);
      }
    } finally {
      model.dispose();
    }
    progress.update(s + 1, `test accuracy ${networks[s].testAccuracy.toFixed(3)}`);
  }
  progress.stop();
  const design: Design = { subjects: Int32Array.from(subjectOf), layers: Int32Array.from(layerOf) };
  const nLayers = layerNames.length;
  const chance = 1 / nLayers;

  // sigma = SD of all RDM entries of one measure (pooled, as the authors)
  const pooledSd = (rdms: Float64Array[]) => {
    let sum = 0;
    let sq = 0;
    let count = 0;
    for (const r of rdms) for (const v of r) (sum += v, sq += v * v, count++);
    return Math.sqrt(sq / count - (sum / count) ** 2);
  };
  const sigma = { euclidean: pooledSd(euclid), correlation: pooledSd(corr) };

  // (l, u) draws per region, shared by every noise level (as the authors reuse them)
  const draws = new Map<RgtmRegion, { l: number; u: number }[]>();
  for (const region of RGTM_REGIONS) draws.set(region, Array.from({ length: cfg.draws }, () => sampleLu(rng, region)));
  const noisy = (level: number, r: Rng, e = euclid, c = corr) => ({ e: addNoise(e, level, sigma.euclidean, r), c: addNoise(c, level, sigma.correlation, r) });

  // point estimates: mean over noise draws of the full sample (one draw at noise 0: nothing to draw)
  const nStats = TRSA_STATISTICS.length;
  const point = new Map<number, { accuracy: number[]; spread: number[] }>();
  const gridCells = rgtmGrid(0.05);
  const gridSum = new Float64Array(gridCells.length);
  const work = NOISE_LEVELS.length * cfg.noiseDraws + cfg.boots;
  let done = 0;
  progress.start(work, 'trsa-identification: statistics');
  for (const level of NOISE_LEVELS) {
    const noiseRng = rng.fork();
    const nDraws = level === 0 ? 1 : cfg.noiseDraws;
    const acc = new Float64Array(nStats);
    const spr = new Float64Array(nStats);
    for (let d = 0; d < nDraws; d++) {
      const { e, c } = noisy(level, noiseRng);
      const res = evaluateStatistics(e, c, design, draws);
      res.accuracy.forEach((a, i) => (acc[i] += a / nDraws, spr[i] += res.spread[i] / nDraws));
      if (level === GRID_NOISE) {
        const prepared = e.map((r) => prepareGtVector(r, 'rank'));
        gridCells.forEach((cell, g) => (gridSum[g] += identificationAccuracy(prepared.map((p) => applyGt(p.values, ...gtThresholds(p, cell.l, cell.u))), design.subjects, design.layers).accuracy / nDraws));
      }
      progress.update(done += level === 0 ? cfg.noiseDraws : 1);
    }
    point.set(level, { accuracy: Array.from(acc), spread: Array.from(spr) });
  }

  // bootstrap over seeds and stimuli, a fresh noise draw per replicate and level
  const bootRng = rng.fork();
  const nStim = stimuli.rows;
  const boot: number[][][] = NOISE_LEVELS.map(() => TRSA_STATISTICS.map(() => [])); // [level][stat][replicate]
  for (let b = 0; b < cfg.boots; b++) {
    const seedPick = Array.from({ length: cfg.seeds }, () => bootRng.int(cfg.seeds));
    const stimPick = Array.from({ length: nStim }, () => bootRng.int(nStim));
    if (new Set(seedPick).size < 2 || new Set(stimPick).size < 3) {
      b--; // a degenerate resample: draw again (rare: 1e-9 for 10 seeds)
      continue;
    }
    const rowsOf = seedPick.flatMap((s) => Array.from({ length: nLayers }, (_, layer) => s * nLayers + layer));
    const sub = (rdms: Float64Array[]) => rowsOf.map((i) => subsampleValues(rdms[i], stimPick));
    const bDesign: Design = { subjects: Int32Array.from(rowsOf, (i) => design.subjects[i]), layers: Int32Array.from(rowsOf, (i) => design.layers[i]) };
    const e0 = sub(euclid);
    const c0 = sub(corr);
    NOISE_LEVELS.forEach((level, li) => {
      const { e, c } = noisy(level, bootRng, e0, c0);
      evaluateStatistics(e, c, bDesign, draws).accuracy.forEach((a, si) => boot[li][si].push(a));
    });
    progress.update(done += 1);
  }
  progress.stop();

  const rows: TrsaRow[] = [];
  const base = { chance, l: null, u: null, region: null };
  const regionOf = (stat: string) => (stat.startsWith('RGTM ') ? stat.slice(5) : null);
  const rawIndex = TRSA_STATISTICS.indexOf(RAW_RDM);
  NOISE_LEVELS.forEach((level, li) => {
    const p = point.get(level)!;
    TRSA_STATISTICS.forEach((stat, si) => {
      const [lo, hi] = interval(boot[li][si]);
      rows.push({ ...base, kind: 'noise', statistic: stat, baseline: null, noise: level, accuracy: p.accuracy[si], lo, hi, spread: p.spread[si], region: regionOf(stat) });
      if (si !== rawIndex) {
        const [dlo, dhi] = interval(boot[li][si].map((a, b) => a - boot[li][rawIndex][b]));
        rows.push({ ...base, kind: 'difference', statistic: stat, baseline: RAW_RDM, noise: level, accuracy: p.accuracy[si] - p.accuracy[rawIndex], lo: dlo, hi: dhi, spread: null, region: regionOf(stat) });
      }
      if (li > 0) {
        const [dlo, dhi] = interval(boot[li][si].map((a, b) => a - boot[0][si][b]));
        rows.push({ ...base, kind: 'drop', statistic: stat, baseline: `${stat} at noise 0`, noise: level, accuracy: p.accuracy[si] - point.get(0)!.accuracy[si], lo: dlo, hi: dhi, spread: null, region: regionOf(stat) });
      }
    });
  });
  gridCells.forEach((cell, g) => rows.push({ ...base, kind: 'grid', statistic: 'RGTM', baseline: null, noise: GRID_NOISE, accuracy: gridSum[g], lo: null, hi: null, spread: null, l: cell.l, u: cell.u, region: cell.region }));

  const top = NOISE_LEVELS[NOISE_LEVELS.length - 1];
  const best = rows.filter((r) => r.kind === 'grid').reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const accuracy: Record<string, [number, number]> = {};
  TRSA_STATISTICS.forEach((stat, si) => (accuracy[stat] = [point.get(0)!.accuracy[si], point.get(top)!.accuracy[si]]));
  return {
    rows,
    meta: {
      stimuli: nStim,
      layers: layerNames,
      seeds: cfg.seeds,
      noiseDraws: cfg.noiseDraws,
      boots: cfg.boots,
      gridNoise: GRID_NOISE,
      sigma,
      chance,
      networks,
      meanTestAccuracy: mean(networks.map((n) => n.testAccuracy)),
      bestGridCell: { l: best.l!, u: best.u!, region: best.region!, accuracy: best.accuracy },
      accuracy,
    },
  };
}

/** Accuracy vs noise, the paired differences from the raw RDM, and the (l, u) heat map. */
export function trsaSpec(rows: TrsaRow[], meta: Pick<TrsaMeta, 'seeds' | 'layers' | 'stimuli' | 'noiseDraws' | 'boots' | 'chance'>): TopLevelSpec {
  const order = [...TRSA_STATISTICS];
  const color = { field: 'statistic', type: 'nominal' as const, title: 'statistic', sort: order, scale: { domain: order, scheme: 'tableau10' }, legend: { labelLimit: 0, orient: 'bottom' as const, columns: 3 } };
  const x = { field: 'noise', type: 'ordinal' as const, title: 'noise SD (x RDM SD)' };
  const bars = (kind: string, y: object) => ({
    transform: [{ filter: `datum.kind === '${kind}'` }],
    layer: [
      { mark: { type: 'rule' as const, strokeWidth: 1.5 }, encoding: { x, xOffset: { field: 'statistic', sort: order }, y: { field: 'lo', type: 'quantitative' as const, ...y }, y2: { field: 'hi' }, color } },
      { mark: { type: 'point' as const, filled: true, size: 30 }, encoding: { x, xOffset: { field: 'statistic', sort: order }, y: { field: 'accuracy', type: 'quantitative' as const, ...y }, color, tooltip: [{ field: 'statistic' }, { field: 'noise' }, { field: 'accuracy', format: '.3f' }, { field: 'lo', format: '.3f' }, { field: 'hi', format: '.3f' }] } },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Layer identification across ${meta.seeds} CNN seeds (${meta.layers.length} layers, chance ${(100 * meta.chance).toFixed(0)} %)`,
      subtitle: `${meta.stimuli} held-out digits; points: mean over ${meta.noiseDraws} noise draws; bars: 95 % bootstrap intervals over seeds and stimuli (${meta.boots} replicates, each with its own noise draw)`,
    },
    data: { values: rows },
    resolve: { scale: { color: 'independent' } },
    hconcat: [
      {
        // One color scale and one legend for the two panels of statistics.
        resolve: { scale: { color: 'shared' } },
        hconcat: [
          {
            title: 'Accuracy vs RDM noise',
            layer: [
              bars('noise', { title: 'leave-one-seed-out accuracy', scale: { domain: [0, 1] } }),
              { transform: [{ filter: "datum.kind === 'noise'" }], mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { aggregate: 'mean', field: 'chance', type: 'quantitative' } } },
            ],
            width: 340,
            height: 260,
          },
          {
            title: 'Paired difference from the raw Euclidean RDM',
            layer: [bars('difference', { title: 'accuracy minus RDM (euclidean)' }), { mark: { type: 'rule', color: 'black' }, encoding: { y: { datum: 0 } } }],
            width: 340,
            height: 260,
          },
        ],
      },
      {
        title: `RGTM accuracy over (l, u), noise ${GRID_NOISE}`,
        transform: [{ filter: "datum.kind === 'grid'" }],
        mark: 'rect',
        encoding: {
          x: { field: 'l', type: 'ordinal', title: 'l (quantile)', axis: { labelAngle: -90 } },
          y: { field: 'u', type: 'ordinal', title: 'u (quantile)', sort: 'descending' },
          color: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { scheme: 'greys' } },
          tooltip: [{ field: 'l' }, { field: 'u' }, { field: 'region' }, { field: 'accuracy', format: '.3f' }],
        },
        width: 240,
        height: 260,
      },
    ],
  };
}
