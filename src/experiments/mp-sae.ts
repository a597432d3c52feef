/**
 * Figure `mp-sae`: matching-pursuit SAEs (Costa et al. 2025, "From Flat to Hierarchical: Extracting
 * Sparse Representations with Matching Pursuit"; docs/methods/mp-sae.md) beside TopK and Matryoshka
 * BatchTopK SAEs at matched L0, in two settings:
 *
 * - the hierarchical tree toy (msae-toy's data and BatchTopK recipe, docs/methods/msae.md §6):
 *   parent absorption, features not learned, matched decoder cosines, FVU. The MP-SAE runs
 *   `toySteps` pursuit steps; its measured L0 sets the others' sparsity (TopK: the nearest integer
 *   k; Matryoshka BatchTopK: k = that L0, fractional);
 * - the Brown-corpus GPT of the lm-* figures (lm-common.ts) at one residual-stream hook: per
 *   pursuit length in `ks`, an MP-SAE and the TopK / Matryoshka BatchTopK SAEs matched to its L0 on
 *   the training rows, each spliced into the model on held-out test files: FVU, CE loss recovered,
 *   L0, dead latents. The longest MP-SAE is also read with twice its steps at inference (the
 *   paper's adaptive sparsity: the pursuit may run longer than it was trained).
 *
 * Rows: one per (panel, model, seed, level). Meta: the means per model on the toy, the levels of
 * the LM panel, and each claim's verdict computed from them.
 */
import type { TopLevelSpec } from 'vega-lite';
import { selectRows, type Matrix } from '../data/matrix.js';
import { hierarchicalFeatures, type HierarchicalData } from '../data/hierarchical.js';
import { evaluationWindows, sampleWindows } from '../lm/train.js';
import { captureActivations } from '../lm/capture.js';
import { cloneSae, foldActivationScale, type Sae } from '../sae/model.js';
import { halvingPrefixes, type SaeActivation, type SaeTrainingInput } from '../sae/config.js';
import { trainSae } from '../sae/train.js';
import { absorption, evaluateSae } from '../sae/metrics.js';
import { spliceEvaluation } from '../workflows/lm-sae.js';
import { defineExperiment } from './define.js';
import { LM_SIZES, brownLm, scaleToRootD, type LmRunParams } from './lm-common.js';

/** Parameters of a run: the toy's, the LM's (lm-common.ts), then the LM SAEs'. */
export interface MpSaeParams extends LmRunParams {
  toySamples: number;
  /** Training steps of each toy SAE. */
  toyTrainSteps: number;
  toySeeds: number;
  toyBatchSize: number;
  /** Pursuit steps of the toy's MP-SAE. */
  toySteps: number;
  toyDSae: number;
  /** Prefixes of the toy's Matryoshka BatchTopK SAE. */
  toyPrefixes: number[];
  hook: string;
  /** Random training windows whose activations train the LM SAEs. */
  saeWindows: number;
  /** Test windows of the spliced evaluation. */
  evalWindows: number;
  dSae: number;
  /** Pursuit steps of the LM's MP-SAEs, one sparsity level each. */
  ks: number[];
  epochs: number;
  saeBatchSize: number;
}

/** The SAEs compared, in the figure's order. */
export const MP_SAE_MODELS = ['MP', 'TopK', 'Matryoshka BatchTopK', 'MP, twice the steps at inference'] as const;
/** One of `MP_SAE_MODELS`. */
export type MpSaeModel = (typeof MP_SAE_MODELS)[number];

/** One SAE on one setting. Columns a panel does not measure are null. */
export type MpSaeRow = {
  panel: 'toy' | 'lm';
  model: MpSaeModel;
  seed: number;
  /** The pursuit length of the MP-SAE this row is matched to (its sparsity level). */
  level: number;
  /** The SAE's own k (pursuit steps for MP; k per row for TopK; mean k per row for BatchTopK). */
  k: number;
  /** Mean active latents per row, measured (toy: its samples; LM: the test tokens). */
  l0: number;
  fvu: number;
  /** Toy: P(parent latent silent | parent and child on), over the parents learned. */
  absorption: number | null;
  /** Toy: true features whose matched latent has cosine < 0.5. */
  unlearned: number | null;
  /** Toy: mean decoder–feature cosine of the Hungarian match. */
  matchedCosine: number | null;
  /** LM: (CE_zero − CE_spliced) / (CE_zero − CE_clean). */
  ceLossRecovered: number | null;
  /** LM: latents that never fire on the test tokens (fraction). */
  deadFraction: number | null;
};

/** Means over seeds of one toy model. */
export interface MpToySummary {
  k: number;
  l0: number;
  fvu: number;
  absorption: number;
  unlearned: number;
  matchedCosine: number;
}

/** One sparsity level of the LM panel: each model's k, measured L0, FVU and CE loss recovered. */
export interface MpLmLevel {
  level: number;
  models: { model: MpSaeModel; k: number; l0: number; fvu: number; ceLossRecovered: number; deadFraction: number }[];
}

/** What the figure claims and whether it held, from the numbers. */
export interface MpSaeFindings {
  /** Costa et al.: MP-SAEs reconstruct better than shallow (TopK) SAEs at the same sparsity. */
  lmFvu: string;
  /** …which carries into the model: more CE loss recovered. */
  lmCe: string;
  /** The pursuit run longer at inference than in training keeps lowering the error. */
  moreSteps: string;
  /** On hierarchical features, MP-SAEs absorb parents less than TopK. */
  toyAbsorption: string;
}

/** Meta of `mp-sae`. */
export interface MpSaeMeta {
  toy: Record<'MP' | 'TopK' | 'Matryoshka BatchTopK', MpToySummary>;
  lm: {
    parameters: number;
    testPerplexity: number;
    hook: string;
    activationScale: number;
    saeTrainRows: number;
    testTokens: number;
    ceClean: number;
    ceZeroAblation: number;
  };
  levels: MpLmLevel[];
  findings: MpSaeFindings;
}

/** The toy's BatchTopK training (msae-toy's recipe, docs/methods/msae.md §6.2), for every activation here. */
function toyTraining(sz: MpSaeParams, seed: number): SaeTrainingInput {
  return {
    batchSize: sz.toyBatchSize, learningRate: 1e-3, deadTokens: 10000, auxK: 10, warmupSteps: 100, thresholdStart: Math.min(1000, Math.floor(sz.toyTrainSteps / 3)),
    epochs: (sz.toyTrainSteps * sz.toyBatchSize) / sz.toySamples, seed,
  };
}

/** k per row for a TopK SAE matched to a measured L0: the nearest integer, at least 1. */
const topkFor = (l0: number) => Math.max(1, Math.round(l0));

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** "holds" / "does not hold" with the counts behind it. */
function verdict(wins: number, of: number, what: string): string {
  return `${wins === of ? 'holds' : wins === 0 ? 'does not hold' : 'mixed'}: ${what} in ${wins} of ${of}`;
}

const BLANK = { absorption: null, unlearned: null, matchedCosine: null, ceLossRecovered: null, deadFraction: null };

export const mpSae = defineExperiment<MpSaeParams, MpSaeRow, MpSaeMeta>({
  id: 'mp-sae',
  title: 'Matching-pursuit SAEs vs TopK and Matryoshka BatchTopK at matched L0: hierarchical toy and a Brown-corpus GPT',
  sizes: {
    smoke: {
      toySamples: 4000, toyTrainSteps: 1500, toySeeds: 1, toyBatchSize: 200, toySteps: 2, toyDSae: 20, toyPrefixes: [3, 11, 20],
      ...LM_SIZES.smoke,
      hook: 'blocks.1.hook_resid_pre', saeWindows: 200, evalWindows: 16, dSae: 128, ks: [4, 8], epochs: 16, saeBatchSize: 256,
    },
    full: {
      toySamples: 20000, toyTrainSteps: 30000, toySeeds: 3, toyBatchSize: 200, toySteps: 2, toyDSae: 20, toyPrefixes: [3, 11, 20],
      ...LM_SIZES.full,
      hook: 'blocks.1.hook_resid_pre', saeWindows: 3000, evalWindows: 150, dSae: 2048, ks: [8, 16, 32], epochs: 5, saeBatchSize: 4096,
    },
  },
  async run({ params: cfg, seed, progress }) {
    const rows: MpSaeRow[] = [];
    const toyUnits = 3 * cfg.toySeeds;
    progress.start(toyUnits + cfg.lmSteps + 1 + 3 * cfg.ks.length, 'mp-sae');
    let done = 0;

    // Toy: MP first, its L0 sets the others'.
    for (let s = 0; s < cfg.toySeeds; s++) {
      const dataSeed = seed + s;
      const toy = hierarchicalFeatures({ samples: cfg.toySamples, seed: dataSeed });
      let matched = 0;
      for (const model of ['MP', 'TopK', 'Matryoshka BatchTopK'] as const) {
        const activation: SaeActivation = model === 'MP' ? 'mp' : model === 'TopK' ? 'topk' : 'batchtopk';
        const k = model === 'MP' ? cfg.toySteps : model === 'TopK' ? topkFor(matched) : matched;
        const prefixes = model === 'Matryoshka BatchTopK' ? [...cfg.toyPrefixes] : [cfg.toyDSae];
        const { sae } = await trainSae(toy.samples, { architecture: { dIn: toy.samples.cols, dSae: cfg.toyDSae, activation, k, prefixes }, training: toyTraining(cfg, dataSeed) });
        const row = await toyRow(sae, toy, model, dataSeed, cfg.toySteps);
        if (model === 'MP') matched = row.l0;
        rows.push(row);
        progress.update(++done, `toy seed ${dataSeed}: ${model} L0 ${row.l0.toFixed(2)}, absorption ${row.absorption?.toFixed(2)}`);
      }
    }

    // LM: the lm-* figures' GPT, its residual stream scaled to mean norm √d for training.
    const lm = await brownLm(cfg, seed, { start() {}, stop() {}, update: (step, info) => progress.update(toyUnits + step, info) });
    const { streams, model: gpt } = lm;
    const windows = sampleWindows(streams.train.ids, cfg.saeWindows, cfg.contextLength, seed, 0);
    const { x, scale } = scaleToRootD((await captureActivations(gpt, windows, [cfg.hook])).get(cfg.hook) as Matrix);
    const test = evaluationWindows(streams.test.ids, cfg.contextLength, cfg.evalWindows);
    done = toyUnits + cfg.lmSteps + 1;
    progress.update(done, `captured ${x.rows} rows at ${cfg.hook}`);
    // L0 on the training rows (a sample: a pursuit over every row costs k products of its size)
    const l0Rows = selectRows(x, Array.from({ length: Math.min(x.rows, 20000) }, (_, i) => i));
    // The learning rate warms up over a tenth of the run (the trainer's default 1000 steps would
    // outlast it: an SAE still at a fraction of its rate at the end is undertrained, and more so with larger k).
    const warmupSteps = Math.max(1, Math.round(0.1 * cfg.epochs * Math.floor(x.rows / cfg.saeBatchSize)));
    const levels: MpLmLevel[] = [];
    let ceClean = 0;
    let ceZero = 0;
    for (const level of cfg.ks) {
      const entry: MpLmLevel = { level, models: [] };
      let matched = 0;
      for (const model of ['MP', 'TopK', 'Matryoshka BatchTopK'] as const) {
        const activation: SaeActivation = model === 'MP' ? 'mp' : model === 'TopK' ? 'topk' : 'batchtopk';
        const k = model === 'MP' ? level : model === 'TopK' ? topkFor(matched) : matched;
        const prefixes = model === 'Matryoshka BatchTopK' ? halvingPrefixes(cfg.dSae) : [cfg.dSae];
        const { sae } = await trainSae(x, {
          architecture: { dIn: x.cols, dSae: cfg.dSae, activation, k, prefixes },
          training: { batchSize: cfg.saeBatchSize, epochs: cfg.epochs, seed, deadTokens: Math.min(x.rows, 1_000_000), warmupSteps },
        });
        if (model === 'MP') matched = (await evaluateSae(sae, l0Rows))[0].l0;
        const variants: [MpSaeModel, Sae][] = [[model, sae]];
        if (model === 'MP' && level === cfg.ks[cfg.ks.length - 1]) variants.push(['MP, twice the steps at inference', { ...cloneSae(sae), cfg: { ...sae.cfg, k: 2 * level } }]);
        for (const [name, s] of variants) {
          const [r] = await spliceEvaluation(gpt, foldActivationScale(s, scale), cfg.hook, test, { prefixes: [cfg.dSae] });
          ceClean = r.ceClean;
          ceZero = r.ceZeroAblation;
          rows.push({ panel: 'lm', model: name, seed, level, k: s.cfg.k, l0: r.l0, fvu: r.fvu, ...BLANK, ceLossRecovered: r.ceLossRecovered, deadFraction: r.deadFraction });
          entry.models.push({ model: name, k: s.cfg.k, l0: r.l0, fvu: r.fvu, ceLossRecovered: r.ceLossRecovered, deadFraction: r.deadFraction });
        }
        progress.update(++done, `LM level ${level}: ${model} (k ${Number(k.toFixed(3))})`);
      }
      levels.push(entry);
    }
    progress.stop();

    const toyModels = ['MP', 'TopK', 'Matryoshka BatchTopK'] as const;
    const toy = Object.fromEntries(
      toyModels.map((m) => {
        const rs = rows.filter((r) => r.panel === 'toy' && r.model === m);
        const avg = (f: (r: MpSaeRow) => number) => mean(rs.map(f));
        return [m, { k: avg((r) => r.k), l0: avg((r) => r.l0), fvu: avg((r) => r.fvu), absorption: avg((r) => r.absorption!), unlearned: avg((r) => r.unlearned!), matchedCosine: avg((r) => r.matchedCosine!) }];
      }),
    ) as MpSaeMeta['toy'];
    const at = (l: MpLmLevel, m: MpSaeModel) => l.models.find((e) => e.model === m)!;
    const seeds = cfg.toySeeds;
    const toyRowsOf = (m: MpSaeModel) => rows.filter((r) => r.panel === 'toy' && r.model === m);
    const mpToy = toyRowsOf('MP');
    const longest = levels[levels.length - 1];
    const findings: MpSaeFindings = {
      lmFvu: verdict(levels.filter((l) => at(l, 'MP').fvu < at(l, 'TopK').fvu).length, levels.length, 'the MP-SAE has a lower FVU than TopK at its level'),
      lmCe: verdict(levels.filter((l) => at(l, 'MP').ceLossRecovered > at(l, 'TopK').ceLossRecovered).length, levels.length, 'the MP-SAE recovers more CE loss than TopK at its level'),
      moreSteps: verdict(at(longest, 'MP, twice the steps at inference').fvu < at(longest, 'MP').fvu ? 1 : 0, 1, `twice the steps (${2 * longest.level}) lower the FVU of the MP-SAE trained with ${longest.level}`),
      toyAbsorption: verdict(mpToy.filter((r, i) => r.absorption! < toyRowsOf('TopK')[i].absorption!).length, seeds, 'the MP-SAE absorbs fewer parents than TopK (seeds)'),
    };
    return {
      rows,
      meta: {
        toy,
        lm: {
          parameters: lm.parameters, testPerplexity: lm.scores.model.test.perplexity, hook: cfg.hook, activationScale: scale, saeTrainRows: x.rows,
          testTokens: test.inputs.length, ceClean, ceZeroAblation: ceZero,
        },
        levels,
        findings,
      },
    };
  },
  spec: (rows) => mpSaeSpec(rows),
});

/** One toy model's row: absorption, matched cosines, FVU and L0 on its samples. */
async function toyRow(sae: Sae, toy: HierarchicalData, model: MpSaeModel, seed: number, level: number): Promise<MpSaeRow> {
  const ab = await absorption(sae, toy);
  const [ev] = await evaluateSae(sae, toy.samples, { prefixes: [sae.cfg.dSae] });
  return {
    panel: 'toy', model, seed, level, k: sae.cfg.k, l0: ev.l0, fvu: ev.fvu, ...BLANK,
    absorption: ab.rate, unlearned: ab.unlearnedCount, matchedCosine: ab.match.diagMean,
  };
}

const COLORS = { domain: [...MP_SAE_MODELS], range: ['#e45756', '#4c78a8', '#54a24b', '#f58518'] };

/** Toy: absorption, features not learned, matched cosine and FVU per model and seed; LM: FVU and CE loss recovered against measured L0. */
export function mpSaeSpec(rows: MpSaeRow[]): TopLevelSpec {
  const color = { field: 'model', type: 'nominal', title: null, scale: COLORS, legend: { labelLimit: 260 } };
  const toyBar = (field: string, title: string, domain?: number[]) => ({
    title,
    transform: [{ filter: "datum.panel === 'toy'" }],
    mark: 'bar',
    width: 150,
    height: 120,
    encoding: {
      x: { field: 'model', type: 'nominal', title: null, sort: MP_SAE_MODELS, axis: { labelAngle: -30, labelLimit: 150 } },
      xOffset: { field: 'seed', type: 'nominal' },
      y: { field, type: 'quantitative', title: null, ...(domain ? { scale: { domain } } : {}) },
      color,
      tooltip: [{ field: 'model' }, { field: 'seed' }, { field: 'k', format: '.3f' }, { field: 'l0', format: '.3f' }, { field, format: '.3f' }],
    },
  });
  const lmPanel = (field: string, title: string) => ({
    title,
    transform: [{ filter: "datum.panel === 'lm'" }],
    width: 260,
    height: 180,
    mark: { type: 'line', point: { size: 50 } },
    encoding: {
      x: { field: 'l0', type: 'quantitative', title: 'L0 on the test tokens (measured)', scale: { type: 'log', base: 2 } },
      y: { field, type: 'quantitative', title: null, scale: { zero: false } },
      color,
      tooltip: [{ field: 'model' }, { field: 'level' }, { field: 'k', format: '.3f' }, { field: 'l0', format: '.2f' }, { field, format: '.4f' }],
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Matching-pursuit SAEs vs TopK and Matryoshka BatchTopK at matched L0', subtitle: "top: the hierarchical tree toy (one bar per seed); bottom: a Brown-corpus GPT's residual stream, SAEs spliced in on held-out files" },
    data: { values: rows },
    vconcat: [
      { hconcat: [toyBar('absorption', 'Parent absorption', [0, 1]), toyBar('unlearned', 'Features not learned'), toyBar('matchedCosine', 'Matched decoder cosine', [0, 1]), toyBar('fvu', 'FVU')] },
      { hconcat: [lmPanel('fvu', 'FVU (lower is better)'), lmPanel('ceLossRecovered', 'CE loss recovered')] },
    ],
    resolve: { scale: { color: 'shared' } },
  } as unknown as TopLevelSpec;
}
