/**
 * Figure `deconfounded-similarity`: the check of Cui, Kumar, Marttinen & Kaski (NeurIPS 2022)
 * that random networks stop looking similar once the inputs' similarity is regressed out. CKA and
 * RSA between the layers of two networks credit the similarity structure both inherit from the
 * inputs, so a random network's layers score high against a trained one's; dCKA and dRSA
 * (similarity.deconfoundedCka, rsa.deconfoundedRsa) regress the input's Gram / RDM out first.
 *
 * Two model families, every layer against every layer:
 * - MLPs on MNIST: `networks` trained and `networks` random-init MLPs (different seeds); pairs
 *   trained vs trained, trained vs random, random vs random; the input is the pixels.
 * - The Brown-corpus GPT of the lm-* figures (lm-common.ts) against `lmRandomNetworks` random-init
 *   GPTs of the same architecture, and its layers against each other; stimuli are test tokens and
 *   the input at a token is what the model reads there: its token and its position, one-hot.
 *
 * RSA uses correlation-distance RDMs compared by Pearson r; dRSA the same after the input RDM is
 * regressed out (docs/methods/rsa.md §16, docs/methods/similarity.md §15).
 */
import type { TopLevelSpec } from 'vega-lite';
import { Rng } from '../backend/rng.js';
import { selectRows, type Matrix } from '../data/matrix.js';
import { loadMnist } from '../data/mnist.js';
import { captureActivations } from '../lm/capture.js';
import { createLm, disposeLm } from '../lm/model.js';
import { createMlp, evaluateClassifier, layerActivations, trainClassifier } from '../models/mlp.js';
import { compareRdms } from '../rsa/compare.js';
import type { Rdm } from '../rsa/condensed.js';
import { deconfoundRdm } from '../rsa/deconfound.js';
import { computeRdm } from '../rsa/rdm.js';
import { linearCka } from '../similarity/cka.js';
import { partialCka } from '../similarity/deconfounded.js';
import { defineExperiment } from './define.js';
import { LM_SIZES, brownLm, type LmRunParams } from './lm-common.js';
import { spreadWindows } from './lm-geometry-nested.js';

/** Parameters of a run: the MLPs', then the LM's (lm-common.ts) and its stimuli. */
export interface DeconfoundedParams extends LmRunParams {
  /** MNIST digits used (before the 4:1 train/test split). */
  mnistLimit: number;
  /** Hidden widths of every MLP. */
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Trained MLPs, and as many random-init ones. */
  networks: number;
  /** MNIST test images compared. */
  stimuli: number;
  /** The GPT's hooks compared, in forward order. */
  lmHooks: string[];
  /** Random-init GPTs compared with the trained one and with each other. */
  lmRandomNetworks: number;
  /** Test windows spread over the test stream; the token stimuli are drawn from them. */
  testWindows: number;
  /** Test tokens compared, at positions ≥ `minPosition` of their window (a seeded draw). */
  lmStimuli: number;
  minPosition: number;
}

/** The kinds of network pair compared. */
export const PAIR_KINDS = ['trained vs trained', 'trained vs random', 'random vs random', 'trained, within'] as const;
/** One kind of network pair: two networks of the same family, or one network with itself ('within'). */
export type PairKind = (typeof PAIR_KINDS)[number];
/** The four similarity measures. */
export const MEASURES = ['CKA', 'dCKA', 'RSA', 'dRSA'] as const;
type Measure = (typeof MEASURES)[number];

/** A row: one (model, pair kind, measure, layer A, layer B) cell, averaged over the network pairs of that kind. */
export type DeconfoundedRow = {
  model: string;
  pair: PairKind;
  measure: Measure;
  layerA: string;
  layerB: string;
  /** Mean over the network pairs. */
  value: number;
  /** Standard deviation over the network pairs (0 for one pair). */
  sd: number;
  /** Network pairs averaged. */
  pairs: number;
};

/** Per model: means over the layers of the same-layer cells (layer i vs layer i), and what they say. */
export interface ModelFindings {
  model: string;
  layers: string[];
  /** Mean same-layer similarity per pair kind and measure (kinds the model has; not 'trained, within', where it is 1). */
  sameLayer: Partial<Record<PairKind, Record<Measure, number>>>;
  /** The LM: mean similarity of consecutive layers (i, i + 1) of the trained network, per measure. */
  adjacentWithin?: Record<Measure, number>;
  /** Linear CKA of each layer with the input, mean over the trained and over the random networks. */
  ckaWithInput: { trained: number[]; random: number[] };
  /** dCKA(trained, random) ≤ half of CKA(trained, random), averaged over same-layer cells. */
  randomStopsLookingSimilar: boolean;
  /** MLPs: the share of (pair, layer) where the most similar layer of the other trained network is the same layer, per measure. */
  layerIdentification?: Record<Measure, number>;
}

/** What the run found. */
export interface DeconfoundedMeta {
  mlp: ModelFindings & { testAccuracy: number[] };
  lm: ModelFindings & { testPerplexity: number; parameters: number };
  rsa: string;
  lmInput: string;
  /** One line per model from the numbers above. */
  verdicts: string[];
}

/** A representation of one network at one layer, with what every comparison reuses. */
interface Layer {
  x: Matrix;
  ckaInput: number;
  rdm: Rdm;
  residual: Rdm;
}

async function prepareLayer(x: Matrix, input: Matrix, inputRdm: Rdm): Promise<Layer> {
  const rdm = await computeRdm(x, { method: 'correlation' });
  return { x, ckaInput: await linearCka(x, input), rdm, residual: deconfoundRdm(rdm, inputRdm) };
}

const WHERE = "figures.figure('deconfounded-similarity')";

/** The four measures between every layer of network a and every layer of network b. */
async function comparePair(a: Layer[], b: Layer[]): Promise<Record<Measure, number>[][]> {
  const out: Record<Measure, number>[][] = [];
  for (const la of a) {
    const line: Record<Measure, number>[] = [];
    for (const lb of b) {
      const cka = la === lb ? 1 : await linearCka(la.x, lb.x);
      line.push({
        CKA: cka,
        dCKA: la === lb ? 1 : partialCka(WHERE, cka, la.ckaInput, lb.ckaInput),
        RSA: compareRdms(la.rdm, lb.rdm, { method: 'corr' }),
        dRSA: compareRdms(la.residual, lb.residual, { method: 'corr' }),
      });
    }
    out.push(line);
  }
  return out;
}

/** Rows and findings of one model family from its trained and random networks' layers. */
async function familyRows(model: string, layerNames: string[], trained: Layer[][], random: Layer[][], progress: (info: string) => void): Promise<{ rows: DeconfoundedRow[]; findings: ModelFindings }> {
  const pairs: [PairKind, Layer[], Layer[]][] = [];
  for (let i = 0; i < trained.length; i++) for (let j = i + 1; j < trained.length; j++) pairs.push(['trained vs trained', trained[i], trained[j]]);
  for (const t of trained) for (const r of random) pairs.push(['trained vs random', t, r]);
  for (let i = 0; i < random.length; i++) for (let j = i + 1; j < random.length; j++) pairs.push(['random vs random', random[i], random[j]]);
  if (trained.length === 1) pairs.push(['trained, within', trained[0], trained[0]]);
  const byKind = new Map<PairKind, Record<Measure, number>[][][]>();
  for (const [kind, a, b] of pairs) {
    const list = byKind.get(kind) ?? [];
    list.push(await comparePair(a, b));
    byKind.set(kind, list);
    progress(`${model}: ${kind} ${list.length}`);
  }
  const L = layerNames.length;
  const rows: DeconfoundedRow[] = [];
  const sameLayer: ModelFindings['sameLayer'] = {};
  let adjacentWithin: Record<Measure, number> | undefined;
  for (const [kind, grids] of byKind) {
    const means = {} as Record<Measure, number>;
    const adjacent = {} as Record<Measure, number>;
    for (const measure of MEASURES) {
      let diagonal = 0;
      adjacent[measure] = 0;
      for (let i = 0; i < L; i++) {
        for (let j = 0; j < L; j++) {
          const v = grids.map((g) => g[i][j][measure]);
          const mean = v.reduce((s, t) => s + t, 0) / v.length;
          const sd = v.length > 1 ? Math.sqrt(v.reduce((s, t) => s + (t - mean) ** 2, 0) / (v.length - 1)) : 0;
          rows.push({ model, pair: kind, measure, layerA: layerNames[i], layerB: layerNames[j], value: mean, sd, pairs: v.length });
          if (i === j) diagonal += mean / L;
          if (j === i + 1) adjacent[measure] += mean / (L - 1);
        }
      }
      means[measure] = diagonal;
    }
    if (kind === 'trained, within') adjacentWithin = adjacent;
    else sameLayer[kind] = means;
  }
  const meanOver = (nets: Layer[][], l: number) => nets.reduce((s, n) => s + n[l].ckaInput, 0) / nets.length;
  const tr = sameLayer['trained vs random']!;
  const findings: ModelFindings = {
    model,
    layers: layerNames,
    sameLayer,
    ckaWithInput: { trained: layerNames.map((_, l) => meanOver(trained, l)), random: layerNames.map((_, l) => meanOver(random, l)) },
    randomStopsLookingSimilar: tr.dCKA <= tr.CKA / 2,
  };
  if (adjacentWithin !== undefined) findings.adjacentWithin = adjacentWithin;
  const tt = byKind.get('trained vs trained');
  if (tt !== undefined) {
    // Layer identification (Kornblith et al. 2019's sanity check, used by Cui et al.): for each
    // layer of one trained network, is the most similar layer of the other the same layer?
    const id = {} as Record<Measure, number>;
    for (const measure of MEASURES) {
      let hits = 0;
      for (const g of tt) {
        for (let i = 0; i < L; i++) {
          let best = 0;
          for (let j = 1; j < L; j++) if (g[i][j][measure] > g[i][best][measure]) best = j;
          if (best === i) hits++;
        }
      }
      id[measure] = hits / (tt.length * L);
    }
    findings.layerIdentification = id;
  }
  return { rows, findings };
}

/** One-hot token ⊕ one-hot position of each chosen row (columns: the distinct tokens present, then positions). */
function tokenInput(tokens: Int32Array, positions: Int32Array, T: number): Matrix {
  const distinct = [...new Set(tokens)].sort((a, b) => a - b);
  const column = new Map(distinct.map((t, i) => [t, i]));
  const cols = distinct.length + T;
  const data = new Float32Array(tokens.length * cols);
  for (let r = 0; r < tokens.length; r++) {
    data[r * cols + column.get(tokens[r])!] = 1;
    data[r * cols + distinct.length + positions[r]] = 1;
  }
  return { data, rows: tokens.length, cols };
}

export const deconfoundedSimilarity = defineExperiment<DeconfoundedParams, DeconfoundedRow, DeconfoundedMeta>({
  id: 'deconfounded-similarity',
  title: 'Deconfounded CKA and RSA: trained vs random networks (MLPs on MNIST, the Brown GPT)',
  sizes: {
    smoke: {
      mnistLimit: 2000, hidden: [64, 64, 32], epochs: 2, batchSize: 64, learningRate: 1e-3, networks: 2, stimuli: 200,
      ...LM_SIZES.smoke,
      lmHooks: ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_mid', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_mid', 'blocks.1.hook_resid_post', 'ln_final.hook_normalized'],
      lmRandomNetworks: 2, testWindows: 20, lmStimuli: 200, minPosition: 8,
    },
    full: {
      mnistLimit: 10000, hidden: [256, 128, 64], epochs: 8, batchSize: 64, learningRate: 1e-3, networks: 3, stimuli: 1000,
      ...LM_SIZES.full,
      lmHooks: ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_mid', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_mid', 'blocks.1.hook_resid_post', 'ln_final.hook_normalized'],
      lmRandomNetworks: 3, testWindows: 300, lmStimuli: 1000, minPosition: 8,
    },
  },
  async run({ params: cfg, seed, progress }) {
    progress.start(2 * cfg.networks + cfg.lmSteps + cfg.lmRandomNetworks + 3, 'deconfounded-similarity');
    let done = 0;
    const tick = (info: string) => progress.update(++done, info);

    // MLPs on MNIST.
    const { train, test } = loadMnist({ seed, limit: cfg.mnistLimit });
    const chosen = new Rng(seed).permutation(test.x.rows).subarray(0, Math.min(cfg.stimuli, test.x.rows));
    const pixels = selectRows(test.x, chosen);
    const pixelRdm = await computeRdm(pixels, { method: 'correlation' });
    const mlpLayers = [...cfg.hidden.map((_, i) => `hidden ${i + 1}`), 'logits'];
    const testAccuracy: number[] = [];
    const mlps: Layer[][][] = [[], []];
    for (const kind of [0, 1]) {
      for (let s = 0; s < cfg.networks; s++) {
        const net = createMlp({ inputDim: 784, hidden: cfg.hidden, outputDim: 10, seed: seed + 1000 * kind + s });
        try {
          if (kind === 0) {
            await trainClassifier(net, train.x, train.y, { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, seed: seed + s });
            testAccuracy.push((await evaluateClassifier(net, test.x, test.y)).accuracy);
          }
          const acts = await layerActivations(net, pixels);
          mlps[kind].push(await Promise.all(acts.map((a) => prepareLayer(a, pixels, pixelRdm))));
        } finally {
          net.dispose();
        }
        tick(`MLP ${kind === 0 ? 'trained' : 'random'} ${s + 1}`);
      }
    }
    const mlp = await familyRows('MLP on MNIST', mlpLayers, mlps[0], mlps[1], (info) => progress.update(done, info));
    tick('MLP comparisons');

    // The Brown GPT against random-init GPTs of the same architecture.
    const lm = await brownLm(cfg, seed, progress);
    done += cfg.lmSteps;
    const T = cfg.contextLength;
    const { windows } = spreadWindows(lm.streams.test.ids, cfg.testWindows, T);
    const candidates: number[] = [];
    for (let r = 0; r < windows.inputs.length; r++) if (r % T >= cfg.minPosition) candidates.push(r);
    const rows = Array.from(new Rng(seed + 1).permutation(candidates.length).subarray(0, Math.min(cfg.lmStimuli, candidates.length)), (i) => candidates[i]).sort((a, b) => a - b);
    const input = tokenInput(Int32Array.from(rows, (r) => windows.inputs[r]), Int32Array.from(rows, (r) => r % T), T);
    const inputRdm = await computeRdm(input, { method: 'correlation' });
    const lmLayersOf = async (model: typeof lm.model): Promise<Layer[]> => {
      const captured = await captureActivations(model, windows, cfg.lmHooks);
      return Promise.all(cfg.lmHooks.map((h) => prepareLayer(selectRows(captured.get(h) as Matrix, rows), input, inputRdm)));
    };
    const lmTrained = [await lmLayersOf(lm.model)];
    const lmRandom: Layer[][] = [];
    for (let s = 0; s < cfg.lmRandomNetworks; s++) {
      const model = createLm(lm.architecture, seed + 1000 + s);
      try {
        lmRandom.push(await lmLayersOf(model));
      } finally {
        disposeLm(model);
      }
      tick(`GPT random ${s + 1}`);
    }
    const gpt = await familyRows('GPT on Brown', cfg.lmHooks, lmTrained, lmRandom, (info) => progress.update(done, info));
    tick('GPT comparisons');
    progress.stop();

    const verdicts = [mlp.findings, gpt.findings].map((f) => {
      const tr = f.sameLayer['trained vs random']!;
      const line = `${f.model}: same-layer CKA trained vs random ${tr.CKA.toFixed(2)}, dCKA ${tr.dCKA.toFixed(2)}; RSA ${tr.RSA.toFixed(2)}, dRSA ${tr.dRSA.toFixed(2)}: random networks ${f.randomStopsLookingSimilar ? 'stop' : 'do not stop'} looking similar (dCKA ${f.randomStopsLookingSimilar ? '≤' : '>'} half of CKA)`;
      const tt = f.sameLayer['trained vs trained'];
      if (f.adjacentWithin !== undefined) return `${line}; consecutive layers of the trained GPT: CKA ${f.adjacentWithin.CKA.toFixed(2)}, dCKA ${f.adjacentWithin.dCKA.toFixed(2)}`;
      return tt === undefined ? line : `${line}; trained vs trained dCKA ${tt.dCKA.toFixed(2)}, layer identification CKA ${f.layerIdentification!.CKA.toFixed(2)}, dCKA ${f.layerIdentification!.dCKA.toFixed(2)}`;
    });
    return {
      rows: [...mlp.rows, ...gpt.rows],
      meta: {
        mlp: { ...mlp.findings, testAccuracy },
        lm: { ...gpt.findings, testPerplexity: lm.scores.model.test.perplexity, parameters: lm.parameters },
        rsa: 'correlation-distance RDMs compared by Pearson r; dRSA after the input RDM is regressed out of each (OLS with intercept over pairs)',
        lmInput: 'one-hot of the token and one-hot of its position in the window, concatenated',
        verdicts,
      },
    };
  },
  spec: (rows, meta) => deconfoundedSpec(rows, meta),
});

/** Axis labels without TransformerLens's prefixes: 'blocks.1.hook_resid_mid' reads '1 resid_mid', 'ln_final.hook_normalized' 'ln_final normalized'. */
const SHORT_HOOKS = { labelExpr: "replace(replace(datum.label, 'blocks.', ''), '.hook_', ' ')", labelLimit: 200 };

/**
 * Per model: heat maps of every layer pair (rows: pair kind, columns: measure), then the same-layer means as bars.
 *
 * @internal exported to redraw a saved result.
 * @example const spec = deconfoundedSpec(result.rows, result.meta);
 */

export function deconfoundedSpec(rows: DeconfoundedRow[], meta: DeconfoundedMeta): TopLevelSpec {
  const family = (f: ModelFindings) => ({
    title: { text: f.model, subtitle: 'rows: layer of network A; columns: layer of network B' },
    vconcat: [
      {
        transform: [{ filter: { field: 'model', equal: f.model } }],
        facet: {
          row: { field: 'pair', type: 'nominal' as const, title: null, sort: [...PAIR_KINDS], header: { labelAngle: 0, labelAlign: 'left' as const, labelFontWeight: 'bold' as const } },
          column: { field: 'measure', type: 'nominal' as const, title: null, sort: [...MEASURES], header: { labelFontWeight: 'bold' as const } },
        },
        spec: {
          width: 22 * f.layers.length,
          height: 22 * f.layers.length,
          mark: 'rect' as const,
          encoding: {
            x: { field: 'layerB', type: 'ordinal' as const, sort: f.layers, title: null, axis: SHORT_HOOKS },
            y: { field: 'layerA', type: 'ordinal' as const, sort: f.layers, title: null, axis: SHORT_HOOKS },
            color: { field: 'value', type: 'quantitative' as const, scale: { domain: [-0.2, 1], scheme: 'viridis' }, title: 'similarity' },
            tooltip: [{ field: 'value', format: '.3f' }, { field: 'sd', format: '.3f' }, { field: 'pairs' }],
          },
        },
      },
      {
        title: 'same layer (A = B), mean over layers',
        transform: [{ filter: { field: 'model', equal: f.model } }, { filter: "datum.layerA === datum.layerB && datum.pair !== 'trained, within'" }, { aggregate: [{ op: 'mean' as const, field: 'value', as: 'mean' }], groupby: ['pair', 'measure'] }],
        mark: 'bar' as const,
        width: 300,
        encoding: {
          y: { field: 'pair', type: 'nominal' as const, title: null, sort: [...PAIR_KINDS] },
          x: { field: 'mean', type: 'quantitative' as const, title: 'similarity', scale: { domain: [-0.2, 1] } },
          color: { field: 'measure', type: 'nominal' as const, sort: [...MEASURES] },
          yOffset: { field: 'measure', sort: [...MEASURES] },
        },
      },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Deconfounded similarity: do random networks stop looking similar?', subtitle: meta.verdicts },
    data: { values: rows },
    hconcat: [family(meta.mlp), family(meta.lm)],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
