/**
 * Figure `trsa-identification`: topological RSA model identification (Lin & Kriegeskorte 2023,
 * "The topology and geometry of neural representations"), following the authors' released
 * protocol (docs/methods/rsa.md §11, `main_trsa.dnn_noise_example`), scaled down:
 *
 * - networks: MLPs trained on MNIST from several seeds (seed = "subject"), hidden layers of equal
 *   width (layer = "region"); theirs was All-CNN-C on CIFAR-10, 10 seeds x 10 layers, 62 stimuli;
 * - stimuli: a fixed set of test digits, the same number per digit; RDMs: rsatoolbox 'euclidean'
 *   (squared distance / units) of each layer's activations;
 * - noise: every RDM entry += N(0, (k/10) sigma), sigma the SD of all RDM entries, k = 0..4,
 *   negatives clipped to 0;
 * - statistics: the raw RDM (the authors' baseline) and, to separate scale from geometry, the
 *   rank-normalized RDM (= RGTM(0, 1) in rank mode); RGTM(l, u) in the authors' rank mode for each of the five named
 *   regions of the (l, u) plane, `draws` (l, u) per region by the authors' rejection sampling
 *   (rounded to 2 decimals, u += 1e-5); the geodesic RDM of the authors' default graph
 *   (p_shortest, p = 0.05, ranks after, zero-weight edges kept);
 * - score: leave-one-seed-out nearest-centroid identification of the layer (Euclidean), chance
 *   1/layers; the RGTM accuracy of a region is the mean over its draws (`spread`: SD over draws);
 *   error bars `se`: SD over a bootstrap of the stimuli (pairs of two copies of one stimulus dropped,
 *   as the authors' handle_duplicate='drop'; the authors also resample RDM rows, we do not);
 * - heat map: accuracy over the authors' (l, u) grid (step 0.05, 229 cells) at noise 0.2 sigma.
 */
import type { TopLevelSpec } from 'vega-lite';
import { Rng } from '../backend/rng.js';
import { loadMnist } from '../data/mnist.js';
import { selectRows } from '../data/matrix.js';
import { createMlp, evaluateClassifier, layerActivations, trainClassifier } from '../models/mlp.js';
import { computeRdm } from '../rsa/rdm.js';
import { subsampleValues } from '../rsa/condensed.js';
import { identificationAccuracy } from '../rsa/inference.js';
import { type GtPrepared, applyGt, geodesicRdm, gtThresholds, prepareGt, prepareGtVector, rgtmGrid, rgtmRegion, RGTM_REGIONS, type RgtmRegion } from '../rsa/topological.js';
import { NestlabComputationError } from '../errors.js';
import { sampleStandardDeviation } from '../math/order.js';
import { defineExperiment, type RunContext } from './define.js';

/** Networks, stimuli and sampling of a run. */
export interface TrsaParams {
  /** Networks trained (one per seed: the "subjects"). */
  seeds: number;
  /** Hidden layer widths (the layers are the "regions" to identify). */
  hidden: number[];
  epochs: number;
  /** MNIST digits used (before the 4:1 train/test split). */
  limit: number;
  /** Test digits per class used as stimuli. */
  perDigit: number;
  /** (l, u) draws per RGTM region. */
  draws: number;
  /** Bootstrap samples over stimuli. */
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

/** Identification accuracy of the layer from statistic vectors (one per seed x layer). */
function accuracyOf(vectors: ArrayLike<number>[], seeds: Int32Array, layers: Int32Array): number {
  return identificationAccuracy(vectors, seeds, layers).accuracy;
}

/** The statistics of the figure, in legend order. */
export const TRSA_STATISTICS = ['RDM', 'RDM (rank-normalized)', ...RGTM_REGIONS.map((r) => `RGTM ${r}`), 'geodesic (RGDM)'] as const;

/**
 * Identification accuracy of every statistic from one set of (possibly bootstrap-resampled)
 * RDMs. `idx` (bootstrap stimulus indices) marks pairs of two copies of one stimulus as NaN in
 * `rdms`: they are dropped from every vector (the authors' handle_duplicate='drop'); for the
 * geodesic graph such copies are joined at distance 0 before the NaN pairs are dropped.
 */
function evaluateStatistics(
  rdms: Float64Array[], idx: number[] | null, seeds: Int32Array, layers: Int32Array, draws: Map<RgtmRegion, { l: number; u: number }[]>,
): Map<string, { accuracy: number; spread: number; region: string | null }> {
  const keep: number[] = [];
  for (let k = 0; k < rdms[0].length; k++) if (!Number.isNaN(rdms[0][k])) keep.push(k);
  const dropNaN = (v: ArrayLike<number>) => (keep.length === v.length ? v : Float64Array.from(keep, (k) => v[k]));
  const clean = rdms.map(dropNaN);
  const out = new Map<string, { accuracy: number; spread: number; region: string | null }>();
  out.set('RDM', { accuracy: accuracyOf(clean, seeds, layers), spread: 0, region: null });
  const prepared = clean.map((r) => prepareGtVector(r, 'rank'));
  out.set('RDM (rank-normalized)', { accuracy: accuracyOf(prepared.map((p) => p.values), seeds, layers), spread: 0, region: null });
  for (const region of RGTM_REGIONS) {
    const accs = draws.get(region)!.map(({ l, u }) => accuracyOf(prepared.map((p) => applyGt(p.values, ...gtThresholds(p, l, u))), seeds, layers));
    const mean = accs.reduce((x, y) => x + y, 0) / accs.length;
    const sd = Math.sqrt(accs.reduce((x, y) => x + (y - mean) ** 2, 0) / accs.length);
    out.set(`RGTM ${region}`, { accuracy: mean, spread: sd, region });
  }
  const geo = rdms.map((r) => {
    const full = idx === null ? r : Float64Array.from(r, (v) => (Number.isNaN(v) ? 0 : v));
    return dropNaN(geodesicRdm(full, { graph: 'epsilon', p: 0.05, rankAfter: true }).values);
  });
  out.set('geodesic (RGDM)', { accuracy: accuracyOf(geo, seeds, layers), spread: 0, region: null });
  return out;
}

/** A row: kind 'noise' (accuracy vs noise per statistic) or 'grid' (accuracy per (l, u) cell). */
export type TrsaRow = {
  kind: 'noise' | 'grid';
  statistic: string;
  noise: number;
  accuracy: number;
  se: number | null;
  spread: number | null;
  chance: number;
  l: number | null;
  u: number | null;
  region: string | null;
};

/** What the run found. */
export interface TrsaMeta {
  stimuli: number;
  rdmMethod: string;
  gridNoise: number;
  /** SD of all RDM entries (the noise unit). */
  sigma: number;
  chance: number;
  meanTestAccuracy: number;
  bestGridCell: { l: number; u: number; region: string; accuracy: number };
  /** Accuracy of every statistic at noise 0 and 0.4: accuracy[statistic] = [at 0, at 0.4]. */
  accuracy: Record<string, [number, number]>;
}

export const trsaIdentification = defineExperiment<TrsaParams, TrsaRow, TrsaMeta>({
  id: 'trsa-identification',
  title: 'Topological RSA: identifying the layer of a network from RDM, RGTM and geodesic statistics',
  sizes: {
    smoke: { seeds: 3, hidden: [32, 32, 32, 32], epochs: 1, limit: 2000, perDigit: 3, draws: 3, boots: 4 },
    full: { seeds: 8, hidden: [64, 64, 64, 64, 64, 64], epochs: 4, limit: 10000, perDigit: 6, draws: 10, boots: 50 },
  },
  run: runTrsa,
  spec: (rows, meta) => trsaSpec(rows, meta.params.hidden.length, meta.params.seeds),
});

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
  const nLayers = cfg.hidden.length;

  // train one network per seed; RDM of every hidden layer
  const rdms: Float64Array[] = [];
  const seedOf: number[] = [];
  const layerOf: number[] = [];
  const testAccuracies: number[] = [];
  progress.start(cfg.seeds, 'trsa-identification: networks');
  for (let s = 0; s < cfg.seeds; s++) {
    const netSeed = rng.nextUint32() % 2 ** 31;
    const model = createMlp({ inputDim: stimuli.cols, hidden: [...cfg.hidden], outputDim: 10, seed: netSeed });
    try {
      await trainClassifier(model, train.x, train.y, { epochs: cfg.epochs, batchSize: 128, learningRate: 1e-3, seed: netSeed });
      testAccuracies.push((await evaluateClassifier(model, test.x, test.y)).accuracy);
      const acts = await layerActivations(model, stimuli);
      for (let layer = 0; layer < nLayers; layer++) {
        rdms.push((await computeRdm(acts[layer], { method: 'euclidean' })).values);
        seedOf.push(s);
        layerOf.push(layer);
      }
    } finally {
      model.dispose();
    }
    progress.update(s + 1, `test accuracy ${testAccuracies[s].toFixed(3)}`);
  }
  progress.stop();
  const seeds = Int32Array.from(seedOf);
  const layers = Int32Array.from(layerOf);

  // sigma = SD of all RDM entries (pooled, as the authors)
  let sum = 0;
  let sq = 0;
  let count = 0;
  for (const r of rdms) for (const v of r) (sum += v, sq += v * v, count++);
  const sigma = Math.sqrt(sq / count - (sum / count) ** 2);

  // (l, u) draws per region, shared by every noise level (as the authors reuse them)
  const draws = new Map<RgtmRegion, { l: number; u: number }[]>();
  for (const region of RGTM_REGIONS) draws.set(region, Array.from({ length: cfg.draws }, () => sampleLu(rng, region)));
  const gridCells = rgtmGrid(0.05);

  const rows: TrsaRow[] = [];
  const chance = 1 / nLayers;
  const nStim = stimuli.rows;
  const bootRng = rng.fork();
  const bootIdx = Array.from({ length: cfg.boots }, () => Array.from({ length: nStim }, () => bootRng.int(nStim)));
  for (const level of NOISE_LEVELS) {
    const noiseRng = rng.fork();
    const noisy = rdms.map((r) => Float64Array.from(r, (v) => Math.max(0, v + noiseRng.normal() * level * sigma)));
    const point = evaluateStatistics(noisy, null, seeds, layers, draws);
    // bootstrap over stimuli (with replacement; pairs of two copies of one stimulus dropped)
    const bootAcc = new Map<string, number[]>();
    for (const idx of bootIdx) {
      if (new Set(idx).size < 3) continue;
      const sub = noisy.map((r) => subsampleValues(r, idx));
      const res = evaluateStatistics(sub, idx, seeds, layers, draws);
      for (const [stat, v] of res) bootAcc.set(stat, [...(bootAcc.get(stat) ?? []), v.accuracy]);
    }
    for (const [stat, v] of point) {
      const b = bootAcc.get(stat) ?? [];
      const se = b.length > 1 ? sampleStandardDeviation(b) : null;
      rows.push({ kind: 'noise', statistic: stat, noise: level, accuracy: v.accuracy, se, spread: v.spread, chance, l: null, u: null, region: v.region });
    }
    if (level === GRID_NOISE) {
      const prepared: GtPrepared[] = noisy.map((r) => prepareGt(r, 'rank'));
      for (const cell of gridCells) {
        const acc = accuracyOf(prepared.map((p) => applyGt(p.values, ...gtThresholds(p, cell.l, cell.u))), seeds, layers);
        rows.push({ kind: 'grid', statistic: 'RGTM', noise: level, accuracy: acc, se: null, spread: null, chance, l: cell.l, u: cell.u, region: cell.region });
      }
    }
  }

  const acc = (stat: string, noise: number) => rows.find((r) => r.kind === 'noise' && r.statistic === stat && r.noise === noise)!.accuracy;
  const grid = rows.filter((r) => r.kind === 'grid');
  const best = grid.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const accuracy: Record<string, [number, number]> = {};
  for (const stat of TRSA_STATISTICS) accuracy[stat] = [acc(stat, 0), acc(stat, 0.4)];
  return {
    rows,
    meta: {
      stimuli: stimuli.rows,
      rdmMethod: 'euclidean (squared / units)',
      gridNoise: GRID_NOISE,
      sigma,
      chance,
      meanTestAccuracy: testAccuracies.reduce((a, b) => a + b, 0) / testAccuracies.length,
      bestGridCell: { l: best.l!, u: best.u!, region: best.region!, accuracy: best.accuracy },
      accuracy,
    },
  };
}

/** Accuracy vs noise per statistic beside the (l, u) heat map. */
export function trsaSpec(rows: TrsaRow[], nLayers: number, nSeeds: number): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Layer identification across ${nSeeds} MLP seeds (${nLayers} layers, chance ${(100 / nLayers).toFixed(0)}%)`,
    data: { values: rows },
    hconcat: [
      {
        title: 'Accuracy vs RDM noise',
        transform: [{ filter: "datum.kind === 'noise'" }],
        layer: [
          {
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'noise', type: 'quantitative', title: 'noise SD (x RDM SD)' },
              y: { field: 'accuracy', type: 'quantitative', title: 'leave-one-seed-out accuracy', scale: { domain: [0, 1] } },
              color: { field: 'statistic', type: 'nominal', title: 'statistic' },
            },
          },
          {
            transform: [{ filter: 'datum.se != null' }, { calculate: 'datum.accuracy - datum.se', as: 'lo' }, { calculate: 'datum.accuracy + datum.se', as: 'hi' }],
            mark: { type: 'rule' },
            encoding: {
              x: { field: 'noise', type: 'quantitative' },
              y: { field: 'lo', type: 'quantitative' },
              y2: { field: 'hi' },
              color: { field: 'statistic', type: 'nominal' },
            },
          },
          {
            mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
            encoding: { y: { aggregate: 'mean', field: 'chance', type: 'quantitative' } },
          },
        ],
        width: 300,
        height: 240,
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
        width: 260,
        height: 240,
      },
    ],
  };
}
