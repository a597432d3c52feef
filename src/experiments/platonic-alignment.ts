/**
 * Figure `platonic-alignment`: the convergence claim of Huh, Cheung, Wang & Isola ("The Platonic
 * Representation Hypothesis", ICML 2024) on language models trained here: GPTs of several widths
 * and depths on the Brown corpus (lm-common.ts `watchBrownLmTraining`, so each is measured at
 * several points of its training too, which spreads their competence), represented on the same
 * held-out passages by the mean over a passage's tokens of each layer's residual stream, and
 * compared by mutual kNN alignment as platonic-rep measures it (similarity.mutualKnnAlignment:
 * features clipped at the 0.95 quantile, best layer pair, k = 10). The paper's plot: alignment to
 * a strong reference model against each model's competence; its claim: the better a model, the
 * more aligned with the others. Competence here is the test cross-entropy.
 *
 * The paper's cross-modal test (language models against vision models on image–caption pairs) has
 * no data here: no vision model on the machine sees the concepts of the Brown corpus (MNIST has
 * digits, nsfwjs five image categories), so the figure is language against language.
 */
import type { TopLevelSpec } from 'vega-lite';
import { Rng } from '../backend/rng.js';
import type { Matrix } from '../data/matrix.js';
import { captureBatches } from '../lm/capture.js';
import { disposeLm, type Lm } from '../lm/model.js';
import { evaluationWindows, lmLoss, type TokenBatch } from '../lm/train.js';
import { spearmanCorrelation } from '../math/order.js';
import { mutualKnnAlignment } from '../similarity/knn.js';
import type { BrownStreams } from '../workflows/lm-brown.js';
import { defineExperiment } from './define.js';
import { LM_SIZES, watchBrownLmTraining, type LmRunParams } from './lm-common.js';

/** One GPT of the family: width, depth and heads (the rest as the lm-* figures' LM). */
export interface AlignmentLm {
  dModel: number;
  nLayers: number;
  nHeads: number;
}

/** Parameters of a run: the corpus and training of lm-common.ts, the family, the passages. */
export interface PlatonicParams extends LmRunParams {
  /** The GPTs compared, weakest expected first. */
  models: AlignmentLm[];
  /** Training steps at which each GPT is measured (the last one is the trained model). */
  snapshots: number[];
  /** Held-out passages (contextLength tokens inside one test file; a seeded draw) all models see. */
  passages: number;
  /** Test windows whose mean cross-entropy is a model's competence. */
  lossWindows: number;
  /** Neighbors of the mutual kNN. */
  k: number;
}

/** A row: a model at a step with its test loss and its alignment to the reference, or (kind 'pair') two trained models' alignment. */
export type PlatonicRow = {
  kind: 'toReference' | 'pair';
  model: string;
  step: number;
  /** Mean test cross-entropy in nats per token. */
  testLoss: number;
  /** 'toReference': the reference model; 'pair': the other model (at its last step). */
  other: string;
  /** Mutual kNN alignment (best layer pair). */
  alignment: number;
  /** The layers of the best pair (index into each model's layers: 0 = embeddings, l + 1 = after block l). */
  layerA: number;
  layerB: number;
};

/** What the run found. */
export interface PlatonicMeta {
  /** The reference: the trained model with the lowest test loss. */
  reference: string;
  passages: number;
  /** Per model: parameters of the architecture and test loss per snapshot. */
  models: { model: string; testLoss: number[] }[];
  /** Spearman ρ over every non-reference snapshot between alignment to the reference and −test loss. */
  competenceAlignmentRho: number;
  /** Spearman ρ over pairs of trained non-reference models between their alignment and −(mean of their test losses). */
  pairAlignmentRho: number;
  /** Whether each holds (ρ > 0), and the paper's claim in words with the numbers. */
  convergence: boolean;
  verdict: string;
  crossModal: string;
}

const nameOf = (m: AlignmentLm) => `d${m.dModel} L${m.nLayers}`;

/** Passages: every run of T tokens inside one document of the split (a partial last run dropped), a seeded draw of `count` of them. */
function testPassages(streams: BrownStreams, T: number, count: number, seed: number): TokenBatch {
  const enc = streams.test;
  const starts: number[] = [];
  for (let i = 0; i < enc.ids.length; ) {
    let end = i;
    while (end < enc.ids.length && enc.document[end] === enc.document[i]) end++;
    for (let o = i; o + T <= end; o += T) starts.push(o);
    i = end;
  }
  const chosen = Array.from(new Rng(seed).permutation(starts.length).subarray(0, Math.min(count, starts.length)), (j) => starts[j]).sort((a, b) => a - b);
  const inputs = new Int32Array(chosen.length * T);
  chosen.forEach((o, w) => inputs.set(enc.ids.subarray(o, o + T), w * T));
  return { inputs, targets: new Int32Array(inputs.length), batchSize: chosen.length };
}

/** Each layer's residual stream (embeddings, then after every block) averaged over each passage's tokens. */
async function pooledLayers(model: Lm, passages: TokenBatch): Promise<Matrix[]> {
  const a = model.architecture;
  const hooks = ['blocks.0.hook_resid_pre', ...Array.from({ length: a.nLayers }, (_, l) => `blocks.${l}.hook_resid_post`)];
  const T = a.contextLength;
  const d = a.dModel;
  const out = hooks.map(() => new Float32Array(passages.batchSize * d));
  for await (const b of captureBatches(model, passages, hooks, { batchSize: 64 })) {
    hooks.forEach((h, i) => {
      const v = b.activations.get(h) as Float32Array;
      for (let r = 0; r < b.rows; r++) {
        const w = ((b.firstRow + r) / T) | 0;
        for (let j = 0; j < d; j++) out[i][w * d + j] += v[r * d + j] / T;
      }
    });
  }
  return out.map((data) => ({ data, rows: passages.batchSize, cols: d }));
}

export const platonicAlignment = defineExperiment<PlatonicParams, PlatonicRow, PlatonicMeta>({
  id: 'platonic-alignment',
  title: 'Platonic alignment: mutual kNN between GPTs of several sizes against their competence',
  sizes: {
    smoke: {
      ...LM_SIZES.smoke,
      models: [
        { dModel: 16, nLayers: 1, nHeads: 2 },
        { dModel: 32, nLayers: 1, nHeads: 2 },
        { dModel: 32, nLayers: 2, nHeads: 2 },
      ],
      snapshots: [50, 150, 400],
      passages: 150,
      lossWindows: 16,
      k: 10,
    },
    full: {
      ...LM_SIZES.full,
      models: [
        { dModel: 16, nLayers: 1, nHeads: 2 },
        { dModel: 32, nLayers: 1, nHeads: 2 },
        { dModel: 32, nLayers: 2, nHeads: 2 },
        { dModel: 64, nLayers: 2, nHeads: 4 },
      ],
      snapshots: [100, 250, 500, 1000, 2000],
      passages: 1024,
      lossWindows: 128,
      k: 10,
    },
  },
  async run({ params: cfg, seed, progress }) {
    progress.start(cfg.models.length * cfg.lmSteps, 'platonic-alignment');
    const measured: { model: string; step: number; testLoss: number; layers: Matrix[] }[] = [];
    let passages: TokenBatch | null = null;
    let lossWindows: TokenBatch | null = null;
    for (const [i, m] of cfg.models.entries()) {
      const lmProgress = { start() {}, stop() {}, update: (s: number, info?: string) => progress.update(i * cfg.lmSteps + s, `${nameOf(m)}: ${info ?? ''}`) };
      const params: LmRunParams = { ...cfg, dModel: m.dModel, nLayers: m.nLayers, nHeads: m.nHeads };
      const { model } = await watchBrownLmTraining(params, seed, cfg.snapshots, async (lm, step, streams) => {
        passages ??= testPassages(streams, cfg.contextLength, cfg.passages, seed);
        lossWindows ??= evaluationWindows(streams.test.ids, cfg.contextLength, cfg.lossWindows);
        measured.push({ model: nameOf(m), step, testLoss: await lmLoss(lm, lossWindows, { batchSize: 32 }), layers: await pooledLayers(lm, passages) });
      }, lmProgress);
      disposeLm(model);
    }
    progress.stop();
    const last = cfg.snapshots[cfg.snapshots.length - 1];
    const trained = measured.filter((s) => s.step === last);
    const reference = trained.reduce((best, s) => (s.testLoss < best.testLoss ? s : best));
    const rows: PlatonicRow[] = [];
    for (const s of measured) {
      if (s === reference) continue;
      const a = await mutualKnnAlignment(s.layers, reference.layers, { k: cfg.k });
      rows.push({ kind: 'toReference', model: s.model, step: s.step, testLoss: s.testLoss, other: reference.model, alignment: a.score, layerA: a.layerA, layerB: a.layerB });
    }
    const others = trained.filter((s) => s !== reference);
    const pairs: { alignment: number; loss: number }[] = [];
    for (let i = 0; i < trained.length; i++) {
      for (let j = 0; j < trained.length; j++) {
        if (i === j) continue;
        const a = await mutualKnnAlignment(trained[i].layers, trained[j].layers, { k: cfg.k });
        rows.push({ kind: 'pair', model: trained[i].model, step: last, testLoss: trained[i].testLoss, other: trained[j].model, alignment: a.score, layerA: a.layerA, layerB: a.layerB });
        if (i < j && others.includes(trained[i]) && others.includes(trained[j])) pairs.push({ alignment: a.score, loss: (trained[i].testLoss + trained[j].testLoss) / 2 });
      }
    }
    const toRef = rows.filter((r) => r.kind === 'toReference');
    const competenceAlignmentRho = spearmanCorrelation(toRef.map((r) => r.alignment), toRef.map((r) => -r.testLoss));
    const pairAlignmentRho = pairs.length >= 3 ? spearmanCorrelation(pairs.map((p) => p.alignment), pairs.map((p) => -p.loss)) : NaN;
    const convergence = competenceAlignmentRho > 0 && !(pairAlignmentRho <= 0);
    const worst = toRef.reduce((w, r) => (r.testLoss > w.testLoss ? r : w));
    const best = toRef.reduce((b, r) => (r.testLoss < b.testLoss ? r : b));
    const verdict =
      `Alignment to the reference (${reference.model}, test loss ${reference.testLoss.toFixed(2)}) against competence over ${toRef.length} model snapshots: Spearman ρ = ${competenceAlignmentRho.toFixed(2)} ` +
      `(the weakest, ${worst.model} at step ${worst.step}, loss ${worst.testLoss.toFixed(2)}: ${worst.alignment.toFixed(3)}; the strongest, ${best.model} at step ${best.step}, loss ${best.testLoss.toFixed(2)}: ${best.alignment.toFixed(3)}); ` +
      `between the other trained models, pair alignment against their mean competence: ρ = ${Number.isNaN(pairAlignmentRho) ? 'n/a (fewer than 3 pairs)' : pairAlignmentRho.toFixed(2)}. ` +
      `The paper's convergence claim (more competent models are more aligned) ${convergence ? 'holds' : 'does not hold'} here.`;
    return {
      rows,
      meta: {
        reference: reference.model,
        passages: (passages as TokenBatch | null)?.batchSize ?? 0,
        models: cfg.models.map((m) => ({ model: nameOf(m), testLoss: measured.filter((s) => s.model === nameOf(m)).map((s) => s.testLoss) })),
        competenceAlignmentRho,
        pairAlignmentRho,
        convergence,
        verdict,
        crossModal: 'not measured: no vision model here sees the concepts of the Brown corpus (MNIST digits; nsfwjs\'s five image classes)',
      },
    };
  },
  spec: (rows, meta) => platonicSpec(rows, meta),
});

/**
 * Alignment to the reference against test loss (one line per model over its snapshots), and the trained models' pairwise alignment.
 *
 * @internal exported to redraw a saved result.
 * @example const spec = platonicSpec(result.rows, result.meta);
 */
export function platonicSpec(rows: PlatonicRow[], meta: PlatonicMeta): TopLevelSpec {
  const models = meta.models.map((m) => m.model);
  const atEmbeddings = rows.filter((r) => r.layerA === 0 && r.layerB === 0).length;
  // The reference's own earlier snapshots converge to it by construction: the claim without them.
  const others = rows.filter((r) => r.kind === 'toReference' && r.model !== meta.reference);
  const rhoOthers = spearmanCorrelation(others.map((r) => r.alignment), others.map((r) => -r.testLoss));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Platonic alignment of GPTs trained on the Brown corpus',
      subtitle: [
        `mutual kNN (k = 10, best layer pair) on ${meta.passages} held-out passages; the best pair is embeddings with embeddings in ${atEmbeddings} of ${rows.length} comparisons`,
        ...meta.verdict.split(/(?<=\.) (?=[A-Z])|(?<=\)); /),
        `Without the reference's own snapshots: ρ = ${rhoOthers.toFixed(2)} over ${others.length} snapshots of the other models.`,
      ],
    },
    data: { values: rows },
    hconcat: [
      {
        title: `alignment to ${meta.reference} vs competence`,
        transform: [{ filter: "datum.kind === 'toReference'" }],
        mark: { type: 'line', point: true },
        width: 320,
        height: 240,
        encoding: {
          x: { field: 'testLoss', type: 'quantitative', title: 'test cross-entropy (nats per token, lower is better)', scale: { reverse: true, zero: false } },
          y: { field: 'alignment', type: 'quantitative', title: 'mutual kNN alignment' },
          color: { field: 'model', type: 'nominal', sort: models },
          order: { field: 'step', type: 'quantitative' },
          tooltip: [{ field: 'model' }, { field: 'step' }, { field: 'alignment', format: '.3f' }],
        },
      },
      {
        title: 'trained models, pairwise',
        transform: [{ filter: "datum.kind === 'pair'" }],
        mark: 'rect',
        width: 200,
        height: 200,
        encoding: {
          x: { field: 'other', type: 'nominal', sort: models, title: null },
          y: { field: 'model', type: 'nominal', sort: models, title: null },
          color: { field: 'alignment', type: 'quantitative', scale: { scheme: 'viridis' }, title: 'alignment' },
        },
      },
    ],
  } as unknown as TopLevelSpec;
}
