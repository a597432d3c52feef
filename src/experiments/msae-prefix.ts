/**
 * Figure `msae-prefix`: Matryoshka vs flat BatchTopK SAEs on real activations
 * (MNIST pixels, and the first hidden layer of an MLP trained on MNIST), read prefix by prefix:
 * explained variance (1 − FVU) on held-out digits, L0 and dead-latent fraction of every prefix.
 * A flat SAE has no order of its own, so its latents are ranked by firing frequency on the
 * training data (most frequent first) and its "prefix p" is its p most frequent latents.
 * Absorption needs a ground-truth hierarchy, which real data lacks: it is measured in msae-toy.
 */
import type { TopLevelSpec } from 'vega-lite';
import { loadMnist } from '../data/mnist.js';
import type { Matrix } from '../data/matrix.js';
import { createMlp, layerActivations, trainClassifier } from '../models/mlp.js';
import { permuteLatents } from '../sae/model.js';
import { halvingPrefixes } from '../sae/config.js';
import { trainSae } from '../sae/train.js';
import { evaluateSae, latentsByFrequency } from '../sae/metrics.js';
import { defineExperiment } from './define.js';

/** Parameters of a run. */
export interface MsaePrefixParams {
  /** MNIST digits used (before the 4:1 train/test split). */
  limit: number;
  /** Hidden widths of the MLP whose first layer is the second data source. */
  mlpHidden: number[];
  mlpEpochs: number;
  /** Dictionary size m of both SAEs (prefixes m/16 ... m). */
  dSae: number;
  /** Mean active latents per digit (BatchTopK). */
  k: number;
  epochs: number;
  batchSize: number;
}

/** A row: one source, model and prefix. */
export type MsaePrefixRow = { source: string; model: 'Matryoshka' | 'flat'; prefix: number; explainedVariance: number; fvu: number; l0: number; deadFraction: number };

/** What the run found, per source: explained variance at the smallest and the full prefix. */
export interface MsaePrefixFinding {
  source: string;
  smallestPrefix: number;
  matryoshkaSmallest: number;
  flatSmallest: number;
  matryoshkaFull: number;
  flatFull: number;
}

/** What the run found. */
export interface MsaePrefixMeta {
  trainRows: number;
  testRows: number;
  prefixes: number[];
  mlp: string;
  flatOrder: string;
  findings: MsaePrefixFinding[];
}

export const msaePrefix = defineExperiment<MsaePrefixParams, MsaePrefixRow, MsaePrefixMeta>({
  id: 'msae-prefix',
  title: 'Matryoshka vs flat SAEs on MNIST pixels and MLP activations: metrics of every prefix',
  sizes: {
    smoke: { limit: 1500, mlpHidden: [64], mlpEpochs: 2, dSae: 64, k: 8, epochs: 4, batchSize: 256 },
    full: { limit: 10000, mlpHidden: [256, 128], mlpEpochs: 6, dSae: 512, k: 16, epochs: 60, batchSize: 512 },
  },
  async run({ params: cfg, seed, progress }) {
    const { train, test } = loadMnist({ seed, limit: cfg.limit });
    progress.start(5, 'msae-prefix');
    const mlp = createMlp({ inputDim: 784, hidden: [...cfg.mlpHidden], outputDim: 10, seed });
    await trainClassifier(mlp, train.x, train.y, { epochs: cfg.mlpEpochs, seed });
    const sources: Record<string, [Matrix, Matrix]> = {
      'MNIST pixels': [train.x, test.x],
      'MLP hidden layer 1': [(await layerActivations(mlp, train.x))[0], (await layerActivations(mlp, test.x))[0]],
    };
    mlp.dispose();
    progress.update(1, 'trained the MLP');
    const prefixes = halvingPrefixes(cfg.dSae);
    const rows: MsaePrefixRow[] = [];
    let done = 1;
    for (const [source, [xTrain, xTest]] of Object.entries(sources)) {
      for (const model of ['Matryoshka', 'flat'] as const) {
        const { sae } = await trainSae(xTrain, {
          architecture: { dIn: xTrain.cols, dSae: cfg.dSae, activation: 'batchtopk', k: cfg.k, prefixes: model === 'Matryoshka' ? prefixes : [cfg.dSae] },
          training: { batchSize: cfg.batchSize, epochs: cfg.epochs, warmupSteps: 50, deadTokens: 20 * xTrain.rows, seed },
        });
        const readable = model === 'flat' ? permuteLatents(sae, await latentsByFrequency(sae, xTrain)) : sae;
        for (const m of await evaluateSae(readable, xTest, { prefixes })) {
          rows.push({ source, model, prefix: m.prefix, explainedVariance: m.explainedVariance, fvu: m.fvu, l0: m.l0, deadFraction: m.deadFraction });
        }
        progress.update(++done, `${source}: ${model}`);
      }
    }
    progress.stop();
    const ev = (source: string, model: string, p: number) => rows.find((r) => r.source === source && r.model === model && r.prefix === p)!.explainedVariance;
    const findings = Object.keys(sources).map((source) => ({
      source,
      smallestPrefix: prefixes[0],
      matryoshkaSmallest: ev(source, 'Matryoshka', prefixes[0]),
      flatSmallest: ev(source, 'flat', prefixes[0]),
      matryoshkaFull: ev(source, 'Matryoshka', cfg.dSae),
      flatFull: ev(source, 'flat', cfg.dSae),
    }));
    return {
      rows,
      meta: {
        trainRows: train.x.rows,
        testRows: test.x.rows,
        prefixes,
        mlp: `784-${cfg.mlpHidden.join('-')}-10, ${cfg.mlpEpochs} epochs`,
        flatOrder: 'latents ranked by firing frequency on the training rows',
        findings,
      },
    };
  },
  spec: (rows, meta) => msaePrefixSpec(rows, meta.prefixes),
});

export function msaePrefixSpec(rows: MsaePrefixRow[], prefixes: number[]): TopLevelSpec {
  const x = { field: 'prefix', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: prefixes }, title: 'prefix size (latents)' };
  const color = { field: 'model', type: 'nominal', title: null, scale: { domain: ['Matryoshka', 'flat'], range: ['#e45756', '#4c78a8'] } };
  const panel = (field: string, title: string, extra: object = {}) => ({
    mark: { type: 'line', point: true },
    encoding: { x, y: { field, type: 'quantitative', title, ...extra }, color, column: { field: 'source', type: 'nominal', title: null } },
    width: 230,
    height: 170,
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Matryoshka vs flat SAE, prefix by prefix (held-out MNIST digits)', subtitle: 'flat SAE latents ranked by firing frequency; BatchTopK, same width and k' },
    data: { values: rows },
    vconcat: [panel('explainedVariance', 'explained variance (1 − FVU)'), panel('deadFraction', 'dead latents (fraction)', { scale: { domain: [0, 1] } })],
  } as unknown as TopLevelSpec;
}
