/**
 * Figure `msae-toy` (FIGURES.md): a flat BatchTopK SAE vs a Matryoshka BatchTopK SAE on the
 * hierarchical tree toy of Bussmann et al. 2025 (research/msae.md §6.1 data, §6.2 training setup):
 * 20 features (3 parents × 3 exclusive children, 8 independent), d = m = 20, k = 1.12 (224 kept
 * per batch of 200), tied init, median b_dec, Adam 1e-3, AuxK (dead after 10k samples),
 * Matryoshka prefixes [3, 11, 20] with equal weights, θ inference.
 *
 * Rows: kind 'cosine' (decoder-latent × true-feature cosine, latents ordered by their Hungarian
 * match, first seed) and kind 'absorption' (parent-absorption rate per model and seed, with the
 * matched-cosine summary). Meta: per model, the mean over seeds and every seed's numbers.
 */
import type { TopLevelSpec } from 'vega-lite';
import { initBackend } from '../backend/select.js';
import { hierarchicalFeatures } from '../data/hierarchical.js';
import { trainSae } from '../sae/train.js';
import { absorption, decoderFeatureCosines, evaluateSae, meanMaxCosine } from '../sae/metrics.js';
import { resolveOptions, type Experiment, type ExperimentOptions, type ExperimentResult, type Row } from './types.js';

const SIZES = {
  smoke: { samples: 4000, steps: 1500, seeds: 1 },
  full: { samples: 20000, steps: 30000, seeds: 3 },
} as const;

const MODELS = [
  { model: 'flat', prefixes: [20] },
  { model: 'matryoshka', prefixes: [3, 11, 20] },
] as const;

const FEATURE_NAMES = ['P1', 'C11', 'C12', 'C13', 'P2', 'C21', 'C22', 'C23', 'P3', 'C31', 'C32', 'C33', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8'];

/** Per model and seed: what the figure and meta report. */
interface Outcome {
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

function blankRow(): Row {
  return {
    kind: '', model: '', seed: null, latent: null, latentFeature: null, feature: null, featureIndex: null, latentOrder: null, cos: null,
    absorption: null, carriedAbsorption: null, diagMean: null, diagMin: null, maxOffDiag: null, fvu: null, l0: null,
  };
}

/** Trains both SAEs on each seed's toy and measures them. */
export async function runMsaeToy(options: ExperimentOptions = {}): Promise<ExperimentResult> {
  const { size, seed, progress } = resolveOptions('msaeToy', options);
  const sz = SIZES[size];
  const t0 = performance.now();
  const backend = await initBackend();
  const rows: Row[] = [];
  const outcomes: Outcome[] = [];
  const batchSize = 200;
  progress.start(sz.seeds * MODELS.length, 'msae-toy');
  let done = 0;
  for (let s = 0; s < sz.seeds; s++) {
    const dataSeed = seed + s;
    const data = hierarchicalFeatures({ samples: sz.samples, seed: dataSeed });
    for (const { model, prefixes } of MODELS) {
      const { sae } = await trainSae(data.samples, {
        dIn: 20, dSae: 20, activation: 'batchtopk', k: 1.12, batchSize, lr: 1e-3, prefixes: [...prefixes],
        deadTokens: 10000, auxK: 10, warmupSteps: 100, thresholdStart: Math.min(1000, Math.floor(sz.steps / 3)),
        epochs: (sz.steps * batchSize) / sz.samples, seed: dataSeed,
      });
      const ab = await absorption(sae, data);
      const ev = await evaluateSae(sae, data.samples, { prefixes: [20] });
      const cos = decoderFeatureCosines(sae, data.features);
      const o: Outcome = {
        model, seed: dataSeed, absorption: ab.rate, carriedAbsorption: ab.carriedRate, diagMean: ab.match.diagMean, diagMin: ab.match.diagMin,
        maxOffDiag: ab.match.maxOffDiag, below085: ab.match.below085, meanMaxCosine: meanMaxCosine(cos), fvu: ev[0].fvu, l0: ev[0].l0, threshold: sae.threshold,
        parentLatents: ab.perParent.map((p) => p.latent),
      };
      outcomes.push(o);
      rows.push({ ...blankRow(), kind: 'absorption', model, seed: dataSeed, absorption: o.absorption, carriedAbsorption: o.carriedAbsorption, diagMean: o.diagMean, diagMin: o.diagMin, maxOffDiag: o.maxOffDiag, fvu: o.fvu, l0: o.l0 });
      if (s === 0) {
        const F = data.nFeatures;
        const featureOf = new Int32Array(sae.cfg.dSae).fill(-1);
        ab.match.latentOf.forEach((l, f) => (featureOf[l] = f));
        for (let l = 0; l < sae.cfg.dSae; l++) {
          const order = featureOf[l] >= 0 ? featureOf[l] : F + l;
          for (let f = 0; f < F; f++) {
            rows.push({
              ...blankRow(), kind: 'cosine', model, seed: dataSeed, latent: l, latentFeature: featureOf[l] >= 0 ? FEATURE_NAMES[featureOf[l]] ?? `F${featureOf[l]}` : `L${l}`,
              latentOrder: order, feature: FEATURE_NAMES[f] ?? `F${f}`, featureIndex: f, cos: cos.data[l * F + f],
            });
          }
        }
      }
      progress.update(++done, `${model} seed ${dataSeed}: absorption ${ab.rate.toFixed(2)}`);
    }
  }
  progress.stop();
  const summary = (model: string) => {
    const os = outcomes.filter((o) => o.model === model);
    const mean = (k: keyof Outcome) => os.reduce((a, o) => a + (o[k] as number), 0) / os.length;
    return {
      absorption: mean('absorption'), carriedAbsorption: mean('carriedAbsorption'), matchedCosine: mean('diagMean'), matchedCosineMin: mean('diagMin'),
      maxOffDiag: mean('maxOffDiag'), meanMaxCosine: mean('meanMaxCosine'), fvu: mean('fvu'), l0: mean('l0'), perSeed: os,
    };
  };
  const flat = summary('flat');
  const nested = summary('matryoshka');
  return {
    rows,
    spec: msaeToySpec(rows, flat.absorption, nested.absorption),
    meta: {
      id: 'msae-toy', backend: backend.name, seed, size, seconds: (performance.now() - t0) / 1000,
      samples: sz.samples, steps: sz.steps, seeds: sz.seeds, batchSize, k: 1.12, dSae: 20, prefixes: { flat: [20], matryoshka: [3, 11, 20] },
      flat, matryoshka: nested,
      absorptionFlat: flat.absorption, absorptionMatryoshka: nested.absorption,
      matchedCosineFlat: flat.matchedCosine, matchedCosineMatryoshka: nested.matchedCosine,
    },
  };
}

/** Two cosine heat maps side by side (latents ordered by their matched feature) above the absorption per seed. */
export function msaeToySpec(rows: Row[], flatAbs: number, nestedAbs: number): TopLevelSpec {
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

export const msaeToy: Experiment = {
  id: 'msae-toy',
  title: 'Matryoshka vs flat SAE on hierarchical features: decoder cosines and absorption',
  run: runMsaeToy,
};
