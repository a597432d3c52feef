/**
 * Figure `msae-toy`: flat vs Matryoshka SAEs on the hierarchical tree toy of Bussmann et al. 2025
 * (docs/methods/msae.md §6.1 data), in two trainings:
 *
 * - the paper's own (§2.3, Nabeshima's code): ReLU + L1 with the sparsity controller steering L0
 *   to the toy's 1.12, inputs scaled to norm √d on average, Adam (0.5, 0.9375) at 3e-2, batch
 *   200, a warm-up–stable–decay schedule; the Matryoshka SAE draws 10 random (Pareto) prefixes per
 *   batch and re-sorts its latents, the flat one has one prefix and keeps its order;
 * - BatchTopK (§6.2, not in the papers): k = 1.12 (224 kept per batch of 200), tied init, median
 *   b_dec, Adam 1e-3, AuxK (dead after 10k samples), Matryoshka prefixes [3, 11, 20] with equal
 *   weights, θ inference.
 *
 * d = m = 20. Rows: kind 'cosine' (decoder-latent × true-feature cosine, latents ordered by their
 * Hungarian match, every seed) and kind 'absorption' (per model and seed: parent absorption over
 * learned parents, features not learned, matched-cosine summary). Meta: per model, the mean over
 * seeds and every seed's numbers.
 */
import type { TopLevelSpec } from 'vega-lite';
import { hierarchicalFeatures, type HierarchicalData } from '../data/hierarchical.js';
import type { SaeTrainingInput } from '../sae/config.js';
import { trainSae } from '../sae/train.js';
import { absorption, decoderFeatureCosines, evaluateSae, meanMaxCosine } from '../sae/metrics.js';
import { defineExperiment } from './define.js';

/** Parameters of a run. */
export interface MsaeToyParams {
  /** Samples of the toy (per seed). */
  samples: number;
  /** Training steps of each BatchTopK SAE. */
  steps: number;
  /** Training steps of each ReLU + L1 SAE (Nabeshima's notebook: 10,000). */
  reluSteps: number;
  /** Seeds (each draws its own toy and trains every SAE). */
  seeds: number;
  batchSize: number;
  /** Mean active latents per sample: BatchTopK's k and the ReLU controller's target (the toy's expected L0, 1.12). */
  k: number;
  dSae: number;
  /** Prefixes of the Matryoshka BatchTopK SAE. */
  matryoshkaPrefixes: number[];
  /** Random prefixes per batch of the Matryoshka ReLU SAE (Nabeshima: 10). */
  randomPrefixCount: number;
}

const FEATURE_NAMES = ['P1', 'C11', 'C12', 'C13', 'P2', 'C21', 'C22', 'C23', 'P3', 'C31', 'C32', 'C33', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8'];

/** The four SAEs, in the figure's order. */
export const MSAE_TOY_MODELS = ['flat ReLU', 'Matryoshka ReLU', 'flat BatchTopK', 'Matryoshka BatchTopK'] as const;
/** One of `MSAE_TOY_MODELS`. */
export type MsaeToyModel = (typeof MSAE_TOY_MODELS)[number];

/** Per model and seed: what the figure and meta report. */
export interface MsaeToyOutcome {
  model: MsaeToyModel;
  seed: number;
  /** Parent absorption over the parents the SAE learned (sae.absorption's rate). */
  absorption: number;
  /** …with the child's latent carrying the parent direction (decoder cos ≥ 0.5). */
  carriedAbsorption: number;
  /** SAEBench's absorption fraction on the toy, mean over events. */
  absorptionFraction: number;
  /** True features whose matched latent has cosine < 0.5: not learned, kept apart from absorption. */
  unlearned: number;
  diagMean: number;
  diagMin: number;
  maxOffDiag: number;
  below085: number;
  meanMaxCosine: number;
  fvu: number;
  l0: number;
  /** BatchTopK's inference threshold θ (−1 for ReLU). */
  threshold: number;
  /** Latent index matched to each parent feature (Matryoshka: < the first prefix means it sits in the first group). */
  parentLatents: number[];
}

/** Per model: the mean over seeds, and every seed's numbers. */
export interface MsaeToySummary {
  absorption: number;
  carriedAbsorption: number;
  absorptionFraction: number;
  unlearned: number;
  matchedCosine: number;
  matchedCosineMin: number;
  maxOffDiag: number;
  below085: number;
  meanMaxCosine: number;
  fvu: number;
  l0: number;
  perSeed: MsaeToyOutcome[];
}

/** A row: kind 'cosine' (decoder latent x true feature, per seed) or 'absorption' (per model and seed). */
export type MsaeToyRow = {
  kind: 'cosine' | 'absorption';
  model: MsaeToyModel;
  seed: number;
  latent: number | null;
  latentFeature: string | null;
  feature: string | null;
  featureIndex: number | null;
  latentOrder: number | null;
  cos: number | null;
  absorption: number | null;
  carriedAbsorption: number | null;
  unlearned: number | null;
  diagMean: number | null;
  diagMin: number | null;
  maxOffDiag: number | null;
  fvu: number | null;
  l0: number | null;
};

/** What the run found: one summary per model. */
export type MsaeToyMeta = Record<MsaeToyModel, MsaeToySummary>;

/** The columns a row does not use, in the CSV's column order (after kind, model, seed). */
const BLANK = {
  latent: null, latentFeature: null, feature: null, featureIndex: null, latentOrder: null, cos: null,
  absorption: null, carriedAbsorption: null, unlearned: null, diagMean: null, diagMin: null, maxOffDiag: null, fvu: null, l0: null,
};

/** The toy with its samples scaled so that their mean norm is √d (Nabeshima's input normalization). */
function scaledToy(data: HierarchicalData): HierarchicalData {
  const { rows, cols, data: x } = data.samples;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    for (let j = 0; j < cols; j++) sq += x[i * cols + j] ** 2;
    total += Math.sqrt(sq);
  }
  const c = Math.sqrt(cols) / (total / rows);
  return { ...data, samples: { rows, cols, data: x.map((v) => v * c) } };
}

/** The architecture, training and data of one model (BatchTopK: §6.2; ReLU: Nabeshima's recipe, §2.3). */
function setup(model: MsaeToyModel, sz: MsaeToyParams, data: HierarchicalData, seed: number): { data: HierarchicalData; prefixes: number[]; activation: 'batchtopk' | 'relu'; training: SaeTrainingInput } {
  const matryoshka = model.startsWith('Matryoshka');
  if (model.endsWith('BatchTopK')) {
    return {
      data,
      prefixes: matryoshka ? [...sz.matryoshkaPrefixes] : [sz.dSae],
      activation: 'batchtopk',
      training: {
        batchSize: sz.batchSize, learningRate: 1e-3, deadTokens: 10000, auxK: 10, warmupSteps: 100, thresholdStart: Math.min(1000, Math.floor(sz.steps / 3)),
        epochs: (sz.steps * sz.batchSize) / sz.samples, seed,
      },
    };
  }
  return {
    data: scaledToy(data),
    prefixes: [sz.dSae],
    activation: 'relu',
    training: {
      batchSize: sz.batchSize, learningRate: 3e-2, beta1: 0.5, beta2: 0.9375, warmupSteps: 100, decayStart: 0.8, decayFloor: 0.1, clipNorm: 1,
      l1Coeff: 1.2, l1TargetL0: sz.k, auxK: 0, epochs: (sz.reluSteps * sz.batchSize) / sz.samples, seed,
      ...(matryoshka ? { randomPrefixCount: sz.randomPrefixCount, latentOrderEma: 0.95 } : {}),
    },
  };
}

export const msaeToy = defineExperiment<MsaeToyParams, MsaeToyRow, MsaeToyMeta>({
  id: 'msae-toy',
  title: 'Matryoshka vs flat SAEs on hierarchical features: decoder cosines and absorption',
  sizes: {
    smoke: { samples: 4000, steps: 1500, reluSteps: 1500, seeds: 1, batchSize: 200, k: 1.12, dSae: 20, matryoshkaPrefixes: [3, 11, 20], randomPrefixCount: 10 },
    full: { samples: 20000, steps: 30000, reluSteps: 10000, seeds: 3, batchSize: 200, k: 1.12, dSae: 20, matryoshkaPrefixes: [3, 11, 20], randomPrefixCount: 10 },
  },
  async run({ params: sz, seed, progress }) {
    const rows: MsaeToyRow[] = [];
    const outcomes: MsaeToyOutcome[] = [];
    progress.start(sz.seeds * MSAE_TOY_MODELS.length, 'msae-toy');
    let done = 0;
    for (let s = 0; s < sz.seeds; s++) {
      const dataSeed = seed + s;
      const toy = hierarchicalFeatures({ samples: sz.samples, seed: dataSeed });
      for (const model of MSAE_TOY_MODELS) {
        const { data, prefixes, activation, training } = setup(model, sz, toy, dataSeed);
        const { sae } = await trainSae(data.samples, {
          architecture: { dIn: data.samples.cols, dSae: sz.dSae, activation, k: sz.k, prefixes },
          training,
        });
        const ab = await absorption(sae, data);
        const ev = await evaluateSae(sae, data.samples, { prefixes: [sz.dSae] });
        const cos = decoderFeatureCosines(sae, data.features);
        const o: MsaeToyOutcome = {
          model, seed: dataSeed, absorption: ab.rate, carriedAbsorption: ab.carriedRate, absorptionFraction: ab.meanAbsorptionFraction, unlearned: ab.unlearnedCount,
          diagMean: ab.match.diagMean, diagMin: ab.match.diagMin, maxOffDiag: ab.match.maxOffDiag, below085: ab.match.below085, meanMaxCosine: meanMaxCosine(cos),
          fvu: ev[0].fvu, l0: ev[0].l0, threshold: sae.threshold?.[0] ?? -1, parentLatents: ab.perParent.map((p) => p.latent),
        };
        outcomes.push(o);
        rows.push({
          kind: 'absorption', model, seed: dataSeed, ...BLANK, absorption: o.absorption, carriedAbsorption: o.carriedAbsorption, unlearned: o.unlearned,
          diagMean: o.diagMean, diagMin: o.diagMin, maxOffDiag: o.maxOffDiag, fvu: o.fvu, l0: o.l0,
        });
        // Every seed's cosines: latents are named by the feature they match in that seed, so the
        // figure can average the heat maps over seeds (dSae = features: every latent is matched).
        const F = data.nFeatures;
        const featureOf = new Int32Array(sae.cfg.dSae).fill(-1);
        ab.match.latentOf.forEach((l, f) => (featureOf[l] = f));
        for (let l = 0; l < sae.cfg.dSae; l++) {
          const order = featureOf[l] >= 0 ? featureOf[l] : F + l;
          for (let f = 0; f < F; f++) {
            rows.push({
              kind: 'cosine', model, seed: dataSeed, ...BLANK, latent: l, latentFeature: featureOf[l] >= 0 ? FEATURE_NAMES[featureOf[l]] ?? `F${featureOf[l]}` : `L${l}`,
              latentOrder: order, feature: FEATURE_NAMES[f] ?? `F${f}`, featureIndex: f, cos: cos.data[l * F + f],
            });
          }
        }
        progress.update(++done, `${model} seed ${dataSeed}: absorption ${ab.rate.toFixed(2)}, ${ab.unlearnedCount} unlearned`);
      }
    }
    progress.stop();
    const summary = (model: MsaeToyModel): MsaeToySummary => {
      const os = outcomes.filter((o) => o.model === model);
      const mean = (k: keyof MsaeToyOutcome) => os.reduce((a, o) => a + (o[k] as number), 0) / os.length;
      return {
        absorption: mean('absorption'), carriedAbsorption: mean('carriedAbsorption'), absorptionFraction: mean('absorptionFraction'), unlearned: mean('unlearned'),
        matchedCosine: mean('diagMean'), matchedCosineMin: mean('diagMin'), maxOffDiag: mean('maxOffDiag'), below085: mean('below085'),
        meanMaxCosine: mean('meanMaxCosine'), fvu: mean('fvu'), l0: mean('l0'), perSeed: os,
      };
    };
    const meta = Object.fromEntries(MSAE_TOY_MODELS.map((m) => [m, summary(m)])) as MsaeToyMeta;
    return { rows, meta };
  },
  spec: (rows) => msaeToySpec(rows),
});

/** The four cosine heat maps (mean over seeds, latents ordered by their matched feature) above absorption, unlearned features and matched cosine per seed. */
export function msaeToySpec(rows: MsaeToyRow[]): TopLevelSpec {
  const models = [...MSAE_TOY_MODELS];
  const nSeeds = new Set(rows.map((r) => r.seed)).size;
  const perSeed = (field: string, title: string, yTitle: string, domain?: number[]) => ({
    title,
    transform: [{ filter: "datum.kind === 'absorption'" }],
    mark: { type: 'bar' },
    width: 300,
    height: 130,
    encoding: {
      x: { field: 'model', type: 'nominal', title: null, sort: models, axis: { labelAngle: -25, labelLimit: 200 } },
      xOffset: { field: 'seed', type: 'nominal' },
      y: { field, type: 'quantitative', title: yTitle, ...(domain ? { scale: { domain } } : {}) },
      color: { field: 'seed', type: 'nominal', title: 'seed' },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Flat vs Matryoshka SAEs on the tree toy',
      subtitle: `ReLU + L1 (the paper's training) and BatchTopK, ${nSeeds} seed${nSeeds === 1 ? '' : 's'}; heat maps: decoder cosines averaged over the seeds (each seed's latents matched to the true features); bars: one per seed`,
    },
    data: { values: rows },
    vconcat: [
      {
        transform: [
          { filter: "datum.kind === 'cosine'" },
          { aggregate: [{ op: 'mean', field: 'cos', as: 'cos' }], groupby: ['model', 'latentFeature', 'latentOrder', 'feature', 'featureIndex'] },
        ],
        facet: { column: { field: 'model', type: 'nominal', title: null, sort: models } },
        spec: {
          width: 200,
          height: 200,
          mark: 'rect',
          encoding: {
            x: { field: 'feature', type: 'ordinal', title: 'true feature', sort: { field: 'featureIndex' } },
            y: { field: 'latentFeature', type: 'ordinal', title: 'decoder latent (by matched feature)', sort: { field: 'latentOrder' } },
            color: { field: 'cos', type: 'quantitative', title: 'cosine', scale: { scheme: 'redblue', domain: [-1, 1], reverse: true } },
            tooltip: [{ field: 'latentFeature' }, { field: 'feature' }, { field: 'cos', format: '.3f' }],
          },
        },
      },
      {
        hconcat: [
          perSeed('absorption', 'Parent absorption: P(parent latent silent | parent and child on)', 'absorption rate', [0, 1]),
          perSeed('unlearned', 'Features not learned (matched cos < 0.5)', 'true features'),
          perSeed('diagMean', 'Mean matched cosine (Hungarian match)', 'cosine', [0, 1]),
        ],
      },
    ],
  } as unknown as TopLevelSpec;
}
