/**
 * Figure `msae-prefix` (FIGURES.md): Matryoshka vs flat BatchTopK SAEs on real activations
 * (MNIST pixels, and the first hidden layer of an MLP trained on MNIST), read prefix by prefix:
 * explained variance (1 − FVU) on held-out digits, L0 and dead-latent fraction of every prefix.
 * A flat SAE has no order of its own, so its latents are ranked by firing frequency on the
 * training data (most frequent first) and its "prefix p" is its p most frequent latents.
 * Absorption needs a ground-truth hierarchy, which real data lacks: it is measured in msae-toy.
 */
import type { TopLevelSpec } from 'vega-lite';
import { initBackend } from '../backend/select.js';
import { loadMnist } from '../data/mnist.js';
import type { Matrix } from '../data/matrix.js';
import { createMlp, layerActivations, trainClassifier } from '../models/mlp.js';
import { encodeSae, permuteLatents, type Sae } from '../sae/model.js';
import { trainSae } from '../sae/train.js';
import { evaluateSae } from '../sae/metrics.js';
import { resolveOptions, type Experiment, type ExperimentOptions, type ExperimentResult, type Row } from './types.js';

const SIZES = {
  smoke: { limit: 1500, mlpHidden: [64], mlpEpochs: 2, dSae: 64, k: 8, epochs: 4, batchSize: 256 },
  full: { limit: 10000, mlpHidden: [256, 128], mlpEpochs: 6, dSae: 512, k: 16, epochs: 60, batchSize: 512 },
} as const;

/** Prefix sizes m/16, m/8, m/4, m/2, m. */
export function halvingPrefixes(m: number): number[] {
  return [16, 8, 4, 2, 1].map((f) => Math.max(1, Math.floor(m / f)));
}

/** Latent indices ordered by how often they fire on x (most first; ties by index). */
export async function latentsByFrequency(sae: Sae, x: Matrix): Promise<Int32Array> {
  const code = await encodeSae(sae, x);
  const count = new Float64Array(sae.cfg.dSae);
  for (const i of code.idx) count[i]++;
  return Int32Array.from(Array.from({ length: sae.cfg.dSae }, (_, i) => i).sort((a, b) => count[b] - count[a] || a - b));
}

/** Runs the comparison; rows: {source, model, prefix, explainedVariance, fvu, l0, deadFraction}. */
export async function runMsaePrefix(options: ExperimentOptions = {}): Promise<ExperimentResult> {
  const { size, seed, progress } = resolveOptions('msaePrefix', options);
  const cfg = SIZES[size];
  const t0 = performance.now();
  const backend = await initBackend();
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
  const rows: Row[] = [];
  let done = 1;
  for (const [source, [xTrain, xTest]] of Object.entries(sources)) {
    for (const model of ['Matryoshka', 'flat'] as const) {
      const { sae } = await trainSae(xTrain, {
        dIn: xTrain.cols, dSae: cfg.dSae, activation: 'batchtopk', k: cfg.k, batchSize: cfg.batchSize, epochs: cfg.epochs,
        prefixes: model === 'Matryoshka' ? prefixes : [cfg.dSae], warmupSteps: 50, deadTokens: 20 * xTrain.rows, seed,
      });
      const readable = model === 'flat' ? permuteLatents(sae, await latentsByFrequency(sae, xTrain)) : sae;
      for (const m of await evaluateSae(readable, xTest, { prefixes })) {
        rows.push({ source, model, prefix: m.prefix, explainedVariance: m.explainedVariance, fvu: m.fvu, l0: m.l0, deadFraction: m.deadFraction });
      }
      progress.update(++done, `${source}: ${model}`);
    }
  }
  progress.stop();
  const ev = (source: string, model: string, p: number) => rows.find((r) => r.source === source && r.model === model && r.prefix === p)!.explainedVariance as number;
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
    spec: msaePrefixSpec(rows, prefixes),
    meta: {
      id: 'msae-prefix',
      backend: backend.name,
      seed,
      size,
      seconds: (performance.now() - t0) / 1000,
      trainRows: train.x.rows,
      testRows: test.x.rows,
      dSae: cfg.dSae,
      k: cfg.k,
      epochs: cfg.epochs,
      prefixes,
      mlp: `784-${cfg.mlpHidden.join('-')}-10, ${cfg.mlpEpochs} epochs`,
      flatOrder: 'latents ranked by firing frequency on the training rows',
      findings,
    },
  };
}

export function msaePrefixSpec(rows: Row[], prefixes: number[]): TopLevelSpec {
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

export const msaePrefix: Experiment = {
  id: 'msae-prefix',
  title: 'Matryoshka vs flat SAEs on MNIST pixels and MLP activations: metrics of every prefix',
  run: runMsaePrefix,
};
