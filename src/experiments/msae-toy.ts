/**
 * Figure `msae-toy`: a flat BatchTopK SAE vs a Matryoshka BatchTopK SAE on the
 * hierarchical tree toy of Bussmann et al. 2025 (docs/methods/msae.md §6.1 data, §6.2 training setup):
 * 20 features (3 parents × 3 exclusive children, 8 independent), d = m = 20, k = 1.12 (224 kept
 * per batch of 200), tied init, median b_dec, Adam 1e-3, AuxK (dead after 10k samples),
 * Matryoshka prefixes [3, 11, 20] with equal weights, θ inference.
 *
 * Rows: kind 'cosine' (decoder-latent × true-feature cosine, latents ordered by their Hungarian
 * match, first seed) and kind 'absorption' (parent-absorption rate per model and seed, with the
 * matched-cosine summary). Meta: per model, the mean over seeds and every seed's numbers.
 */
import type { TopLevelSpec } from 'vega-lite';
import { hierarchicalFeatures } from '../data/hierarchical.js';
import { trainSae } from '../sae/train.js';
import { absorption, decoderFeatureCosines, evaluateSae, meanMaxCosine } from '../sae/metrics.js';
import { defineExperiment } from './define.js';

/** Parameters of a run. */
export interface MsaeToyParams {
  /** Samples of the toy (per seed). */
  samples: number;
  /** Training steps of each SAE. */
  steps: number;
  /** Seeds (each draws its own toy and trains both SAEs). */
  seeds: number;
  batchSize: number;
  /** Mean active latents per sample (the toy's expected L0, 1.12). */
  k: number;
  dSae: number;
  /** Prefixes of the Matryoshka SAE. */
  matryoshkaPrefixes: number[];
}

const FEATURE_NAMES = ['P1', 'C11', 'C12', 'C13', 'P2', 'C21', 'C22', 'C23', 'P3', 'C31', 'C32', 'C33', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8'];

/** Per model and seed: what the figure and meta report. */
export interface MsaeToyOutcome {
  model: string;
  seed: number;
  absorption: number;
  carriedAbsorption: number;
  diagMean: number;
  diagMin: number;
  maxOffDiag: number;
  below085: number;
  meanMaxCosine: number;
  fvu: number;
  l0: number;
  threshold: number;
  /** Latent index matched to each parent feature (Matryoshka: < 3 means it sits in the first prefix). */
  parentLatents: number[];
}

/** Per model: the mean over seeds, and every seed's numbers. */
export interface MsaeToySummary {
  absorption: number;
  carriedAbsorption: number;
  matchedCosine: number;
  matchedCosineMin: number;
  maxOffDiag: number;
  meanMaxCosine: number;
  fvu: number;
  l0: number;
  perSeed: MsaeToyOutcome[];
}

/** A row: kind 'cosine' (decoder latent x true feature, first seed) or 'absorption' (per model and seed). */
export type MsaeToyRow = {
  kind: 'cosine' | 'absorption';
  model: string;
  seed: number;
  latent: number | null;
  latentFeature: string | null;
  feature: string | null;
  featureIndex: number | null;
  latentOrder: number | null;
  cos: number | null;
  absorption: number | null;
  carriedAbsorption: number | null;
  diagMean: number | null;
  diagMin: number | null;
  maxOffDiag: number | null;
  fvu: number | null;
  l0: number | null;
};

/** What the run found. */
export interface MsaeToyMeta {
  flat: MsaeToySummary;
  matryoshka: MsaeToySummary;
}

/** The columns a row does not use, in the CSV's column order (after kind, model, seed). */
const BLANK = {
  latent: null, latentFeature: null, feature: null, featureIndex: null, latentOrder: null, cos: null,
  absorption: null, carriedAbsorption: null, diagMean: null, diagMin: null, maxOffDiag: null, fvu: null, l0: null,
};

export const msaeToy = defineExperiment<MsaeToyParams, MsaeToyRow, MsaeToyMeta>({
  id: 'msae-toy',
  title: 'Matryoshka vs flat SAE on hierarchical features: decoder cosines and absorption',
  sizes: {
    smoke: { samples: 4000, steps: 1500, seeds: 1, batchSize: 200, k: 1.12, dSae: 20, matryoshkaPrefixes: [3, 11, 20] },
    full: { samples: 20000, steps: 30000, seeds: 3, batchSize: 200, k: 1.12, dSae: 20, matryoshkaPrefixes: [3, 11, 20] },
  },
  async run({ params: sz, seed, progress }) {
    const rows: MsaeToyRow[] = [];
    const outcomes: MsaeToyOutcome[] = [];
    const models = [
      { model: 'flat', prefixes: [sz.dSae] },
      { model: 'matryoshka', prefixes: sz.matryoshkaPrefixes },
    ];
    progress.start(sz.seeds * models.length, 'msae-toy');
    let done = 0;
    for (let s = 0; s < sz.seeds; s++) {
      const dataSeed = seed + s;
      const data = hierarchicalFeatures({ samples: sz.samples, seed: dataSeed });
      for (const { model, prefixes } of models) {
        const { sae } = await trainSae(data.samples, {
          architecture: { dIn: data.samples.cols, dSae: sz.dSae, activation: 'batchtopk', k: sz.k, prefixes: [...prefixes] },
          training: {
            batchSize: sz.batchSize, learningRate: 1e-3, deadTokens: 10000, auxK: 10, warmupSteps: 100, thresholdStart: Math.min(1000, Math.floor(sz.steps / 3)),
            epochs: (sz.steps * sz.batchSize) / sz.samples, seed: dataSeed,
          },
        });
        const ab = await absorption(sae, data);
        const ev = await evaluateSae(sae, data.samples, { prefixes: [sz.dSae] });
        const cos = decoderFeatureCosines(sae, data.features);
        const o: MsaeToyOutcome = {
          model, seed: dataSeed, absorption: ab.rate, carriedAbsorption: ab.carriedRate, diagMean: ab.match.diagMean, diagMin: ab.match.diagMin,
          maxOffDiag: ab.match.maxOffDiag, below085: ab.match.below085, meanMaxCosine: meanMaxCosine(cos), fvu: ev[0].fvu, l0: ev[0].l0, threshold: sae.threshold,
          parentLatents: ab.perParent.map((p) => p.latent),
        };
        outcomes.push(o);
        rows.push({
          kind: 'absorption', model, seed: dataSeed, ...BLANK, absorption: o.absorption, carriedAbsorption: o.carriedAbsorption, diagMean: o.diagMean,
          diagMin: o.diagMin, maxOffDiag: o.maxOffDiag, fvu: o.fvu, l0: o.l0,
        });
        if (s === 0) {
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
        }
        progress.update(++done, `${model} seed ${dataSeed}: absorption ${ab.rate.toFixed(2)}`);
      }
    }
    progress.stop();
    const summary = (model: string): MsaeToySummary => {
      const os = outcomes.filter((o) => o.model === model);
      const mean = (k: keyof MsaeToyOutcome) => os.reduce((a, o) => a + (o[k] as number), 0) / os.length;
      return {
        absorption: mean('absorption'), carriedAbsorption: mean('carriedAbsorption'), matchedCosine: mean('diagMean'), matchedCosineMin: mean('diagMin'),
        maxOffDiag: mean('maxOffDiag'), meanMaxCosine: mean('meanMaxCosine'), fvu: mean('fvu'), l0: mean('l0'), perSeed: os,
      };
    };
    return { rows, meta: { flat: summary('flat'), matryoshka: summary('matryoshka') } };
  },
  spec: (rows, meta) => msaeToySpec(rows, meta.flat.absorption, meta.matryoshka.absorption),
});

/** Two cosine heat maps side by side (latents ordered by their matched feature) above the absorption per seed. */
export function msaeToySpec(rows: MsaeToyRow[], flatAbs: number, nestedAbs: number): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Flat vs Matryoshka BatchTopK SAE on the tree toy: parent absorption ${flatAbs.toFixed(2)} vs ${nestedAbs.toFixed(2)}`,
    data: { values: rows },
    vconcat: [
      {
        transform: [{ filter: "datum.kind === 'cosine'" }],
        facet: { column: { field: 'model', type: 'nominal', title: null, sort: ['flat', 'matryoshka'] } },
        spec: {
          width: 260,
          height: 260,
          mark: 'rect',
          encoding: {
            x: { field: 'feature', type: 'ordinal', title: 'true feature', sort: { field: 'featureIndex' } },
            y: { field: 'latentFeature', type: 'ordinal', title: 'decoder latent (by matched feature)', sort: { field: 'latentOrder' } },
            color: { field: 'cos', type: 'quantitative', title: 'cosine', scale: { scheme: 'redblue', domain: [-1, 1], reverse: true } },
            tooltip: [{ field: 'latent' }, { field: 'feature' }, { field: 'cos', format: '.3f' }],
          },
        },
      },
      {
        title: 'Parent absorption: P(parent latent silent | parent and a child on)',
        transform: [{ filter: "datum.kind === 'absorption'" }],
        mark: { type: 'bar' },
        width: 260,
        height: 120,
        encoding: {
          x: { field: 'model', type: 'nominal', title: null, sort: ['flat', 'matryoshka'] },
          xOffset: { field: 'seed', type: 'nominal' },
          y: { field: 'absorption', type: 'quantitative', title: 'absorption rate', scale: { domain: [0, 1] } },
          color: { field: 'seed', type: 'nominal', title: 'seed' },
        },
      },
    ],
  };
}
