/**
 * Figure `neuron-census`: the census of Voita, Ferrando & Nalmpantis ("Neurons in Large Language
 * Models: Dead, N-gram, Positional", ACL Findings 2024) on GPTs trained here on the Brown corpus:
 * per layer, the share of MLP neurons that never fire on held-out text, that are token or n-gram
 * detectors, and that are positional (lm.neuronCensus, docs/methods/neuron-census.md), for LMs of
 * growing width. The paper studies OPT models, whose MLPs use ReLU; the sizes here are ReLU GPTs,
 * beside a GELU GPT (the nonlinearity of the other lm-* figures' LM) of the largest width; all are
 * trained as that LM is (lm-common.ts `brownLm`: corpus, steps, schedule). Each trained LM is set
 * against the same LM at initialization, which says what the architecture alone gives (its
 * position embeddings can make some neurons positional before any training). Beside the neurons:
 * the dead and dense latents of a Matryoshka BatchTopK SAE on the GELU GPT's residual stream.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Matrix } from '../data/matrix.js';
import { captureActivations } from '../lm/capture.js';
import { NEURON_CENSUS_DEFAULTS, neuronCensus, type NeuronCensusSummary } from '../lm/census.js';
import type { LmActivation } from '../lm/config.js';
import { createLm, disposeLm, type Lm } from '../lm/model.js';
import { evaluationWindows } from '../lm/train.js';
import { evaluateSae } from '../sae/metrics.js';
import { defineExperiment } from './define.js';
import { HOOK_SAE_SIZES, LM_SIZES, brownLm, hookSaes, type HookSaeParams, type LmRunParams } from './lm-common.js';

/** One LM of the census: its width, heads and nonlinearity (the rest as the shared LM). */
export interface CensusLm {
  dModel: number;
  nHeads: number;
  activation: LmActivation;
}

/** Parameters of a run: the shared LM's and its SAE's (lm-common.ts), the LMs censused, the census' tokens. */
export interface NeuronCensusParams extends LmRunParams, HookSaeParams {
  /** The LMs censused, smallest first; the GELU one at `dModel` gets the SAE. */
  lms: CensusLm[];
  /** Consecutive test windows of contextLength tokens the census reads (the first ones of the test stream). */
  censusWindows: number;
  /** The hook of the SAE whose latents stand beside the neurons. */
  saeHook: string;
}

/** The census' measures: shares of a layer's neurons (of an SAE's latents for 'SAE ...'). */
export const CENSUS_MEASURES = ['dead', 'token detector', 'n-gram detector', 'positional', 'dense (fires > 10%)'] as const;
type CensusMeasure = (typeof CENSUS_MEASURES)[number];

/** A row: one measure of one layer of one LM, trained or at initialization, or of the SAE. */
export type CensusRow = {
  /** 'relu d=64', 'gelu d=128', or 'SAE (blocks.1.hook_resid_pre)'. */
  model: string;
  activation: LmActivation | null;
  dModel: number | null;
  stage: 'initialization' | 'trained';
  /** The MLP's layer (null for the SAE). */
  layer: number | null;
  /** The SAE's prefix (null for neurons). */
  prefix: number | null;
  measure: CensusMeasure;
  /** Share of the layer's neurons (the prefix's latents). */
  fraction: number;
  /** How many. */
  count: number;
  /** Neurons in the layer (latents in the prefix). */
  of: number;
};

/** One LM's census summary per layer, trained and at initialization. */
export interface LmCensus {
  model: string;
  dModel: number;
  activation: LmActivation;
  parameters: number;
  testPerplexity: number;
  trained: NeuronCensusSummary[];
  initialization: NeuronCensusSummary[];
}

/** What the run found. */
export interface NeuronCensusMeta {
  /** Tokens the census read (rows of every capture). */
  tokens: number;
  /** The census' thresholds (lm.neuronCensus defaults). */
  thresholds: Record<string, number>;
  lms: LmCensus[];
  /** The SAE beside the neurons: dead and dense shares per prefix on the census tokens. */
  sae: { hook: string; prefixes: number[]; deadFraction: number[]; denseFraction: number[] };
  /** The paper's claims, each tested on the numbers (null where the LMs cannot say). */
  claims: { claim: string; holds: boolean; evidence: string }[];
}

/** The censuses of every MLP layer of `model` on the census tokens. */
async function censusOf(model: Lm, windows: ReturnType<typeof evaluationWindows>, positions: Int32Array): Promise<NeuronCensusSummary[]> {
  const hooks = Array.from({ length: model.architecture.nLayers }, (_, l) => `blocks.${l}.mlp.hook_pre`);
  const out: NeuronCensusSummary[] = [];
  for (const hook of hooks) {
    // One hook at a time: a layer's activations are rows · dMlp floats.
    const acts = (await captureActivations(model, windows, [hook], { batchSize: 32 })).get(hook) as Matrix;
    out.push(neuronCensus(acts, windows.inputs, positions, { hook }).summary);
  }
  return out;
}

function summaryRows(model: string, lm: CensusLm, stage: CensusRow['stage'], layers: NeuronCensusSummary[]): CensusRow[] {
  return layers.flatMap((s, layer) => {
    const counts: Record<CensusMeasure, number> = {
      dead: s.dead,
      'token detector': s.tokenDetectors,
      'n-gram detector': s.ngramDetectors,
      positional: s.positional,
      'dense (fires > 10%)': s.dense,
    };
    return CENSUS_MEASURES.map((measure) => ({ model, activation: lm.activation, dModel: lm.dModel, stage, layer, prefix: null, measure, fraction: counts[measure] / s.neurons, count: counts[measure], of: s.neurons }));
  });
}

const nameOf = (lm: CensusLm) => `${lm.activation} d=${lm.dModel}`;

export const neuronCensusFigure = defineExperiment<NeuronCensusParams, CensusRow, NeuronCensusMeta>({
  id: 'neuron-census',
  title: 'Neuron census: dead, token and n-gram detector, and positional MLP neurons per layer and LM width',
  sizes: {
    smoke: {
      ...LM_SIZES.smoke,
      ...HOOK_SAE_SIZES.smoke,
      hooks: ['blocks.1.hook_resid_pre'],
      lms: [
        { dModel: 16, nHeads: 2, activation: 'relu' },
        { dModel: 32, nHeads: 2, activation: 'relu' },
        { dModel: 32, nHeads: 2, activation: 'gelu' },
      ],
      censusWindows: 40,
      saeHook: 'blocks.1.hook_resid_pre',
    },
    full: {
      ...LM_SIZES.full,
      ...HOOK_SAE_SIZES.full,
      dModel: 64,
      nHeads: 4,
      hooks: ['blocks.1.hook_resid_pre'],
      saeWindows: 2000,
      dSae: 1024,
      lms: [
        { dModel: 16, nHeads: 2, activation: 'relu' },
        { dModel: 32, nHeads: 2, activation: 'relu' },
        { dModel: 64, nHeads: 4, activation: 'relu' },
        { dModel: 64, nHeads: 4, activation: 'gelu' },
      ],
      censusWindows: 1000,
      saeHook: 'blocks.1.hook_resid_pre',
    },
  },
  async run({ params: cfg, seed, progress }) {
    progress.start(cfg.lms.length * cfg.lmSteps + 2, 'neuron-census');
    const rows: CensusRow[] = [];
    const lms: LmCensus[] = [];
    let tokens = 0;
    let sae: NeuronCensusMeta['sae'] | null = null;
    for (const [i, spec] of cfg.lms.entries()) {
      const lmProgress = { start() {}, stop() {}, update: (s: number, info?: string) => progress.update(i * cfg.lmSteps + s, `${nameOf(spec)}: ${info ?? ''}`) };
      // GELU is the default nonlinearity: leaving it out keeps the cache key of the lm-* figures' LM.
      const params: LmRunParams = { ...cfg, dModel: spec.dModel, nHeads: spec.nHeads, ...(spec.activation === 'gelu' ? {} : { activation: spec.activation }) };
      const lm = await brownLm(params, seed, lmProgress);
      const T = lm.architecture.contextLength;
      const windows = evaluationWindows(lm.streams.test.ids, T, cfg.censusWindows);
      const positions = Int32Array.from(windows.inputs, (_, r) => r % T);
      tokens = windows.inputs.length;
      const trained = await censusOf(lm.model, windows, positions);
      const init = createLm(lm.architecture, seed);
      let initialization: NeuronCensusSummary[];
      try {
        initialization = await censusOf(init, windows, positions);
      } finally {
        disposeLm(init);
      }
      rows.push(...summaryRows(nameOf(spec), spec, 'trained', trained), ...summaryRows(nameOf(spec), spec, 'initialization', initialization));
      lms.push({ model: nameOf(spec), dModel: spec.dModel, activation: spec.activation, parameters: lm.parameters, testPerplexity: lm.scores.model.test.perplexity, trained, initialization });
      if (spec.activation === 'gelu' && spec.dModel === cfg.dModel && sae === null) {
        // The SAE of the GELU GPT at the run's width (the lm-geometry figures' one when every parameter agrees).
        const saes = await hookSaes(lm, { ...cfg, hooks: [cfg.saeHook] }, seed, (info) => progress.update((i + 1) * cfg.lmSteps, info));
        const h = saes.byHook[0];
        const acts = (await captureActivations(lm.model, windows, [cfg.saeHook])).get(cfg.saeHook) as Matrix;
        const x = { ...acts, data: acts.data.map((v) => v * h.scale) };
        const metrics = await evaluateSae(h.sae, x);
        sae = { hook: cfg.saeHook, prefixes: metrics.map((m) => m.prefix), deadFraction: metrics.map((m) => m.deadFraction), denseFraction: metrics.map((m) => m.denseFraction) };
        for (const m of metrics) {
          for (const [measure, fraction] of [['dead', m.deadFraction], ['dense (fires > 10%)', m.denseFraction]] as const) {
            rows.push({ model: `SAE (${cfg.saeHook})`, activation: null, dModel: null, stage: 'trained', layer: null, prefix: m.prefix, measure, fraction, count: Math.round(fraction * m.prefix), of: m.prefix });
          }
        }
      }
      progress.update((i + 1) * cfg.lmSteps, `${nameOf(spec)} censused`);
    }
    progress.stop();
    return { rows, meta: { tokens, thresholds: { ...NEURON_CENSUS_DEFAULTS }, lms, sae: sae ?? { hook: cfg.saeHook, prefixes: [], deadFraction: [], denseFraction: [] }, claims: claimsOf(lms) } };
  },
  spec: (rows, meta) => censusSpec(rows, meta),
});

/** The paper's findings, each checked on the ReLU LMs' numbers. */
function claimsOf(lms: LmCensus[]): NeuronCensusMeta['claims'] {
  const relu = lms.filter((l) => l.activation === 'relu');
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const perLayer = (l: LmCensus, f: (s: NeuronCensusSummary) => number) => l.trained.map((s) => pct(f(s))).join(' / ');
  const claims: NeuronCensusMeta['claims'] = [];
  if (relu.length > 0) {
    const biggest = relu[relu.length - 1];
    const first = (l: LmCensus, f: (s: NeuronCensusSummary) => number) => f(l.trained[0]);
    const rest = (l: LmCensus, f: (s: NeuronCensusSummary) => number) => l.trained.slice(1).reduce((s, t) => s + f(t), 0) / Math.max(1, l.trained.length - 1);
    const dead = (s: NeuronCensusSummary) => s.deadFraction;
    claims.push({
      claim: 'dead neurons sit in the first layer rather than later ones (largest ReLU LM)',
      holds: first(biggest, dead) > rest(biggest, dead),
      evidence: `${biggest.model}: dead per layer ${perLayer(biggest, dead)}`,
    });
    claims.push({
      claim: 'wider LMs have a larger share of dead neurons in their first layer',
      holds: relu.every((l, i) => i === 0 || first(l, dead) >= first(relu[i - 1], dead)) && first(biggest, dead) > first(relu[0], dead),
      evidence: relu.map((l) => `${l.model}: ${pct(first(l, dead))}`).join(', '),
    });
    const detectors = (s: NeuronCensusSummary) => s.tokenDetectorFraction + s.ngramDetectorFraction;
    claims.push({
      claim: 'token and n-gram detectors sit in the first layer rather than later ones (largest ReLU LM)',
      holds: first(biggest, detectors) > rest(biggest, detectors),
      evidence: `${biggest.model}: detectors per layer ${perLayer(biggest, detectors)}`,
    });
    const positional = (s: NeuronCensusSummary) => s.positionalFraction;
    const initPositional = biggest.initialization.reduce((s, t) => s + t.positionalFraction, 0) / biggest.initialization.length;
    const trainedPositional = biggest.trained.reduce((s, t) => s + t.positionalFraction, 0) / biggest.trained.length;
    claims.push({
      claim: 'training makes positional neurons (more than the architecture alone gives at initialization)',
      holds: trainedPositional > initPositional,
      evidence: `${biggest.model}: positional per layer ${perLayer(biggest, positional)} trained, mean ${pct(initPositional)} at initialization`,
    });
  }
  return claims;
}

/**
 * Per measure: the share per layer and LM (trained solid, initialization hollow), and the SAE's dead and dense shares per prefix.
 *
 * @internal exported to redraw a saved result.
 * @example const spec = censusSpec(result.rows, result.meta);
 */
export function censusSpec(rows: CensusRow[], meta: NeuronCensusMeta): TopLevelSpec {
  const models = meta.lms.map((l) => l.model);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Neuron census of the Brown GPTs (Voita et al. 2024)', subtitle: [`${meta.tokens} test tokens; MLP layer 0 and 1 of each LM, trained and at initialization`, ...meta.claims.map((c) => `${c.holds ? 'holds' : 'does not hold'}: ${c.claim} (${c.evidence})`)] },
    data: { values: rows },
    resolve: { scale: { color: 'independent' } },
    vconcat: [
      {
        transform: [{ filter: 'datum.layer !== null' }],
        facet: { column: { field: 'measure', type: 'nominal', sort: [...CENSUS_MEASURES], title: null }, row: { field: 'layer', type: 'ordinal', title: 'MLP layer' } },
        spec: {
          width: 130,
          height: 110,
          layer: [
            { mark: { type: 'bar' }, transform: [{ filter: "datum.stage === 'trained'" }], encoding: { x: { field: 'model', type: 'nominal', sort: models, title: null }, y: { field: 'fraction', type: 'quantitative', title: 'share of neurons', axis: { format: '%' } }, color: { field: 'activation', type: 'nominal' } } },
            { mark: { type: 'point', shape: 'diamond', filled: false, color: 'black' }, transform: [{ filter: "datum.stage === 'initialization'" }], encoding: { x: { field: 'model', type: 'nominal', sort: models }, y: { field: 'fraction', type: 'quantitative' } } },
          ],
        },
      },
      {
        title: `SAE at ${meta.sae.hook}: dead and dense latents per prefix`,
        transform: [{ filter: 'datum.prefix !== null' }],
        mark: { type: 'line', point: true },
        width: 300,
        height: 150,
        encoding: { x: { field: 'prefix', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'prefix' }, y: { field: 'fraction', type: 'quantitative', title: 'share of latents', axis: { format: '%' } }, color: { field: 'measure', type: 'nominal', legend: { labelLimit: 300 } } },
      },
    ],
  } as unknown as TopLevelSpec;
}
