/**
 * Figure `lm-geometry-nested`: representation geometry across nested sizes inside the Brown-corpus
 * GPT (lm-common.ts). Stimuli are held-out test tokens. (1) Between layers: linear CKA, RSA and
 * tRSA between the residual stream at each hook, persistent homology and a UMAP panel per layer,
 * colored by the tokens' coarse part of speech. (2) Between the prefixes of the Matryoshka SAE at
 * one hook: the same measures on its prefix codes (the `geometry-nested` figure's measures,
 * nested-geometry.ts). (3) MRL on real text: passages of `contextLength` tokens from the test and
 * training files, represented by the LM's mean-pooled final residual stream, classified into the
 * corpus's 15 genres by nested embeddings (MRL, Kusupati et al. 2022) against an FF model per
 * size, PCA of FF-d and random units of FF-d: linear accuracy and mAP@10 retrieval vs size, over
 * seeds.
 */
import type { TopLevelSpec } from 'vega-lite';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError } from '../errors.js';
import { prefixColumns, selectRows, type Matrix } from '../data/matrix.js';
import { BROWN_COARSE_TAGS, BROWN_GENRES, coarseTag } from '../data/brown.js';
import { captureActivations, captureBatches } from '../lm/capture.js';
import type { TokenBatch } from '../lm/train.js';
import type { EncodedDocuments } from '../lm/tokenizer.js';
import { disposeMrl, mrlEmbed, mrlTestAccuracy } from '../models/mrl.js';
import { retrieveNearest, retrievalMetrics } from '../models/retrieval.js';
import { encodeSae } from '../sae/model.js';
import type { BrownSplitName } from '../workflows/lm-brown.js';
import { defineExperiment } from './define.js';
import { HOOK_SAE_SIZES, LM_SIZES, brownLm, hookSaes, type BrownLmRun, type HookSaeParams, type LmRunParams } from './lm-common.js';
import { ffBaselines, linearProbeAccuracy, trainNested, type MrlRunSize } from './mrl-common.js';
import { nestedGeometryRows, TRSA_LU, type NestedFamily, type NestedGeometryRow } from './nested-geometry.js';

/** Parameters of a run: the LM's and the hooks' SAEs (lm-common.ts), then the measures'. */
export interface LmGeometryNestedParams extends LmRunParams, HookSaeParams {
  /** The hook whose SAE's prefix codes form the nested family. */
  saeHook: string;
  /** Test windows spread over the test stream; the stimuli are drawn from their tokens. */
  testWindows: number;
  /** Test tokens used as stimuli (UMAP uses all of them), at positions ≥ `minPosition` of their window. */
  stimuli: number;
  /** Tokens earlier in their window see little context; they are not drawn. */
  minPosition: number;
  /** Stimuli for RSA/tRSA/topology (a seeded subset). */
  rsaStimuli: number;
  /** Points kept for persistence (max–min landmarks). */
  topologyPoints: number;
  /** SAE prefixes that get a UMAP panel (every layer gets one). */
  umapPrefixes: number[];
  /** The MRL models on passages (the mrl figures' settings, `limit` unused). */
  mrl: MrlRunSize;
}

/** A row: the geometry rows of nested-geometry.ts, plus the genre panels ('genreAccuracy', 'genreMapAt10'). */
export type LmGeometryNestedRow = Omit<NestedGeometryRow, 'panel'> & {
  panel: NestedGeometryRow['panel'] | 'genreAccuracy' | 'genreMapAt10';
  /** Genre panels: 'MRL', 'FF', 'PCA of FF', 'random FF units' (else null). */
  method: string | null;
  /** Genre panels: the seed of the models (else null). */
  seed: number | null;
};

/** What the run found. */
export interface LmGeometryNestedMeta {
  lm: { parameters: number; testPerplexity: number; bigramTestPerplexity: number };
  /** The layers family's sizes are indices into this list. */
  layers: string[];
  saeHook: string;
  prefixes: number[];
  stimuli: number;
  /** The coarse part of speech of label i of the UMAP rows is posNames[i]. */
  posNames: string[];
  /** How many stimuli each part of speech has. */
  posCounts: Record<string, number>;
  trsa: string;
  /** CKA / RSA / tRSA between the first and the last layer, and between the smallest and the largest SAE prefix. */
  firstVsLast: { family: string; a: number; b: number; cka: number; rsa: number; trsa: number }[];
  /** Passages (train / test) for the genre task, the pooling hook, and chance (the test's majority genre). */
  passages: { train: number; test: number; hook: string; majorityAccuracy: number };
  /** Mean over seeds per method and size: genre[method][size] = { accuracy, mapAt10 }. */
  genre: Record<string, Record<number, { accuracy: number; mapAt10: number }>>;
}

const LAYERS_FAMILY = 'residual stream (layers)';
const RETRIEVAL_K = 10;

/** `count` windows of T tokens at evenly spaced offsets of the stream, and those offsets. */
export function spreadWindows(stream: Int32Array, count: number, T: number): { windows: TokenBatch; offsets: Int32Array } {
  const span = stream.length - T - 1;
  const n = Math.max(1, Math.min(count, Math.floor(span / T)));
  const offsets = Int32Array.from({ length: n }, (_, i) => Math.floor((i * span) / n));
  const inputs = new Int32Array(n * T);
  const targets = new Int32Array(n * T);
  offsets.forEach((o, w) => {
    inputs.set(stream.subarray(o, o + T), w * T);
    targets.set(stream.subarray(o + 1, o + T + 1), w * T);
  });
  return { windows: { inputs, targets, batchSize: n }, offsets };
}

/** Test tokens as stimuli: the windows they sit in, their rows there, and their coarse part of speech. */
export interface PosStimuli {
  /** `testWindows` windows spread over the stream (spreadWindows). */
  windows: TokenBatch;
  /** Rows of `windows` chosen, in row order. */
  chosen: number[];
  /** Index into `posNames` of each chosen row's coarse tag. */
  labels: Int32Array;
  /** The coarse tags but 'other'. */
  posNames: string[];
}

/**
 * Stimuli for the geometry of the LM's layers: the tokens at positions ≥ `minPosition` of
 * `testWindows` windows spread over the split, 'other' (a grab bag of tags) left out, and a seeded
 * draw of `stimuli` of them, put back in row order (windows stay together).
 */
export function posStimuli(split: Pick<EncodedDocuments, 'ids' | 'tagIds' | 'tagNames'>, cfg: { contextLength: number; testWindows: number; minPosition: number; stimuli: number }, seed: number): PosStimuli {
  const T = cfg.contextLength;
  const { windows, offsets } = spreadWindows(split.ids, cfg.testWindows, T);
  const candidates: number[] = [];
  const pos: string[] = [];
  for (let r = 0; r < windows.inputs.length; r++) {
    const t = r % T;
    const tag = coarseTag(split.tagNames[split.tagIds[offsets[(r / T) | 0] + t]]);
    if (t >= cfg.minPosition && tag !== 'other') candidates.push(r);
    pos.push(tag);
  }
  const posNames = BROWN_COARSE_TAGS.filter((c) => c !== 'other');
  const chosen = Array.from(new Rng(seed).permutation(candidates.length).subarray(0, Math.min(cfg.stimuli, candidates.length)), (i) => candidates[i]).sort((a, b) => a - b);
  const labels = Int32Array.from(chosen, (r) => posNames.indexOf(pos[r] as (typeof posNames)[number]));
  return { windows, chosen, labels, posNames: [...posNames] };
}

/**
 * Passages of one split: every run of T tokens inside one document (from its `<doc>`, non-
 * overlapping, a partial last run dropped), represented by the mean over its positions of the
 * activations at `hook`, labeled by the document's genre (index into BROWN_GENRES).
 */
export async function genrePassages(lm: BrownLmRun, split: BrownSplitName, hook: string): Promise<{ x: Matrix; y: Int32Array }> {
  const enc = lm.streams[split];
  const docs = lm.streams.documents[split];
  const T = lm.architecture.contextLength;
  const starts: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < enc.ids.length; ) {
    const doc = enc.document[i];
    let end = i;
    while (end < enc.ids.length && enc.document[end] === doc) end++;
    for (let o = i; o + T <= end; o += T) {
      starts.push(o);
      labels.push(BROWN_GENRES.findIndex((g) => g.name === docs[doc].genre));
    }
    i = end;
  }
  const inputs = new Int32Array(starts.length * T);
  starts.forEach((o, w) => inputs.set(enc.ids.subarray(o, o + T), w * T));
  const windows: TokenBatch = { inputs, targets: new Int32Array(inputs.length), batchSize: starts.length };
  const d = lm.architecture.dModel;
  const x = new Float32Array(starts.length * d);
  for await (const b of captureBatches(lm.model, windows, [hook], { batchSize: 64 })) {
    const a = b.activations.get(hook) as Float32Array;
    for (let r = 0; r < b.rows; r++) {
      const w = (b.firstRow + r) / T | 0;
      for (let j = 0; j < d; j++) x[w * d + j] += a[r * d + j] / T;
    }
  }
  return { x: { data: x, rows: starts.length, cols: d }, y: Int32Array.from(labels) };
}

function row(fields: Partial<LmGeometryNestedRow> & Pick<LmGeometryNestedRow, 'family' | 'panel'>): LmGeometryNestedRow {
  const { family, sizeA = null, sizeB = null, panel, value = null, size = null, dim = null, measure = null, x = null, y = null, label = null, method = null, seed = null } = fields;
  return { family, sizeA, sizeB, panel, value, size, dim, measure, x, y, label, method, seed };
}

/** Genre accuracy and retrieval rows for MRL, FF-m, PCA of FF-d and random units of FF-d, one seed. */
async function genreRows(train: { x: Matrix; y: Int32Array }, test: { x: Matrix; y: Int32Array }, cfg: MrlRunSize, seed: number): Promise<LmGeometryNestedRow[]> {
  const rows: LmGeometryNestedRow[] = [];
  const family = 'genre from passages';
  const add = (method: string, size: number, accuracy: number, db: Matrix, q: Matrix) => async () => {
    const r = retrievalMetrics(await retrieveNearest(db, q, RETRIEVAL_K), RETRIEVAL_K, train.y, test.y);
    rows.push(row({ family, panel: 'genreAccuracy', method, size, seed, value: accuracy }));
    rows.push(row({ family, panel: 'genreMapAt10', method, size, seed, value: r.mapAtK }));
  };
  const d = cfg.embeddingDim;
  const mrl = await trainNested(train, cfg, { efficient: false, embeddingDim: d, nesting: cfg.nesting }, seed);
  const accuracy = await mrlTestAccuracy(mrl, test.x, test.y);
  const [zTrain, zTest] = [await mrlEmbed(mrl, train.x), await mrlEmbed(mrl, test.x)];
  disposeMrl(mrl);
  for (const a of accuracy) await add('MRL', a.size, a.accuracy, prefixColumns(zTrain, a.size), prefixColumns(zTest, a.size))();
  for (const m of cfg.nesting) {
    const ff = await trainNested(train, cfg, { efficient: false, embeddingDim: m, nesting: [m] }, seed);
    const acc = (await mrlTestAccuracy(ff, test.x, test.y))[0].accuracy;
    const [fTrain, fTest] = [await mrlEmbed(ff, train.x), await mrlEmbed(ff, test.x)];
    disposeMrl(ff);
    await add('FF', m, acc, fTrain, fTest)();
    if (m !== d) continue;
    // PCA and random-unit baselines live on the largest FF model's embedding.
    const base = await ffBaselines(fTrain, fTest, cfg.nesting, seed);
    for (const k of cfg.nesting) {
      for (const [method, [tr, te]] of [['PCA of FF', base.pca(k)], ['random FF units', base.random(k)]] as const) {
        await add(method, k, await linearProbeAccuracy(tr, train.y, te, test.y, cfg.probeEpochs, seed), tr, te)();
      }
    }
  }
  return rows;
}

export const lmGeometryNested = defineExperiment<LmGeometryNestedParams, LmGeometryNestedRow, LmGeometryNestedMeta>({
  id: 'lm-geometry-nested',
  title: 'Geometry inside a Brown-corpus GPT: CKA, RSA, tRSA and UMAP across layers and SAE prefixes; MRL genre embeddings',
  sizes: {
    smoke: {
      ...LM_SIZES.smoke,
      ...HOOK_SAE_SIZES.smoke,
      saeHook: 'blocks.1.hook_resid_pre', testWindows: 40, stimuli: 300, minPosition: 4, rsaStimuli: 120, topologyPoints: 80, umapPrefixes: [8, 128],
      mrl: { limit: 0, seeds: [0], hidden: [32], embeddingDim: 16, nesting: [2, 4, 16], epochs: 6, probeEpochs: 6 },
    },
    full: {
      ...LM_SIZES.full,
      ...HOOK_SAE_SIZES.full,
      saeHook: 'blocks.1.hook_resid_pre', testWindows: 300, stimuli: 1500, minPosition: 8, rsaStimuli: 500, topologyPoints: 300, umapPrefixes: [128, 512, 2048],
      mrl: { limit: 0, seeds: [0, 1, 2], hidden: [256], embeddingDim: 64, nesting: [2, 4, 8, 16, 32, 64], epochs: 20, probeEpochs: 20 },
    },
  },
  async run({ params: cfg, seed, progress }) {
    if (!cfg.hooks.includes(cfg.saeHook)) {
      throw new NestlabArgumentError("figures.figure('lm-geometry-nested')", 'options.overrides.saeHook', `one of the hooks (${cfg.hooks.join(', ')})`, cfg.saeHook);
    }
    progress.start(cfg.lmSteps + cfg.hooks.length + 3 + cfg.mrl.seeds.length, 'lm-geometry-nested');
    const lm = await brownLm(cfg, seed, progress);
    let done = cfg.lmSteps;
    const saes = await hookSaes(lm, cfg, seed, (info) => progress.update(++done, info));
    done = cfg.lmSteps + cfg.hooks.length;
    const saeHook = saes.byHook.find((h) => h.hook === cfg.saeHook)!;

    // Stimuli: test tokens at positions ≥ minPosition of windows spread over the test files,
    // 'other' (a grab bag of tags) left out; a seeded draw keeps `stimuli` of them.
    const { windows, chosen, labels, posNames } = posStimuli(lm.streams.test, cfg, seed);
    const captured = await captureActivations(lm.model, windows, cfg.hooks);
    const pick = (m: Matrix) => selectRows(m, chosen);
    const common = { labels, rsaStimuli: cfg.rsaStimuli, topologyPoints: cfg.topologyPoints, seed };
    const layersFam: NestedFamily = { family: LAYERS_FAMILY, prefixes: cfg.hooks.map((h, i) => ({ size: i, x: pick(captured.get(h) as Matrix) })) };
    const rows: LmGeometryNestedRow[] = (await nestedGeometryRows(layersFam, { ...common, umapSizes: layersFam.prefixes.map((p) => p.size) })).map((r) => ({ ...r, method: null, seed: null }));
    progress.update(++done, 'geometry across layers');
    const scaled = pick(captured.get(cfg.saeHook) as Matrix).data.map((v) => v * saeHook.scale);
    const code = await encodeSae(saeHook.sae, { data: scaled, rows: chosen.length, cols: lm.architecture.dModel }, { dense: true });
    const saeFam: NestedFamily = { family: `Matryoshka SAE code (${cfg.saeHook})`, prefixes: saes.prefixes.map((p) => ({ size: p, x: prefixColumns(code, p) })) };
    rows.push(...(await nestedGeometryRows(saeFam, { ...common, umapSizes: cfg.umapPrefixes })).map((r) => ({ ...r, method: null, seed: null })));
    progress.update(++done, 'geometry across SAE prefixes');

    const passageHook = cfg.hooks[cfg.hooks.length - 1];
    const train = await genrePassages(lm, 'train', passageHook);
    const testPassages = await genrePassages(lm, 'test', passageHook);
    progress.update(++done, `${train.x.rows} + ${testPassages.x.rows} passages`);
    for (const s of cfg.mrl.seeds) {
      rows.push(...(await genreRows(train, testPassages, cfg.mrl, seed + s)));
      progress.update(++done, `genre models, seed ${seed + s}`);
    }
    progress.stop();

    const genre: LmGeometryNestedMeta['genre'] = {};
    for (const r of rows.filter((q) => q.panel === 'genreAccuracy' || q.panel === 'genreMapAt10')) {
      const cell = ((genre[r.method!] ??= {})[r.size!] ??= { accuracy: 0, mapAt10: 0 });
      cell[r.panel === 'genreAccuracy' ? 'accuracy' : 'mapAt10'] += (r.value as number) / cfg.mrl.seeds.length;
    }
    const firstVsLast = [layersFam, saeFam].map((f) => {
      const [a, b] = [f.prefixes[0].size, f.prefixes[f.prefixes.length - 1].size];
      const at = (panel: string) => rows.find((r) => r.family === f.family && r.panel === panel && r.sizeA === a && r.sizeB === b)!.value as number;
      return { family: f.family, a, b, cka: at('cka'), rsa: at('rsa'), trsa: at('trsa') };
    });
    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    return {
      rows,
      meta: {
        lm: { parameters: lm.parameters, testPerplexity: lm.scores.model.test.perplexity, bigramTestPerplexity: lm.scores.bigram.test.perplexity },
        layers: cfg.hooks,
        saeHook: cfg.saeHook,
        prefixes: saes.prefixes,
        stimuli: chosen.length,
        posNames,
        posCounts: Object.fromEntries(posNames.map((n, i) => [n, counts.get(i) ?? 0])),
        trsa: `Pearson r of GT(l=${TRSA_LU.l}, u=${TRSA_LU.u}) of Euclidean RDMs (rank quantiles)`,
        firstVsLast,
        passages: { train: train.x.rows, test: testPassages.x.rows, hook: passageHook, majorityAccuracy: majorityShare(testPassages.y) },
        genre,
      },
    };
  },
  spec: (rows, meta) => lmGeometryNestedSpec(rows, meta),
});

function majorityShare(y: Int32Array): number {
  const counts = new Map<number, number>();
  for (const v of y) counts.set(v, (counts.get(v) ?? 0) + 1);
  return Math.max(...counts.values()) / y.length;
}

/** One family's prefix x prefix (or layer x layer) matrix of a measure. */
function pairHeatmap(family: string, panel: string, title: string, axis: object, domain: [number, number] | null): object {
  return {
    title,
    transform: [{ filter: { and: [{ field: 'family', equal: family }, { field: 'panel', equal: panel }] } }],
    mark: 'rect',
    encoding: {
      x: { field: 'sizeA', type: 'ordinal', sort: 'ascending', ...axis },
      y: { field: 'sizeB', type: 'ordinal', sort: 'descending', ...axis },
      color: { field: 'value', type: 'quantitative', scale: domain ? { scheme: 'viridis', domain } : { scheme: 'viridis', zero: false }, title: null },
    },
    width: 130,
    height: 130,
  };
}

/** A genre panel: mean over seeds ± 1 sd of one measure vs embedding size, one line per method. */
function genrePanel(panel: string, title: string): object {
  const x = { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'embedding size m' };
  const color = { field: 'method', type: 'nominal', title: null, sort: ['MRL', 'FF', 'PCA of FF', 'random FF units'] };
  return {
    transform: [{ filter: { field: 'panel', equal: panel } }],
    layer: [
      { mark: { type: 'errorbar', extent: 'stdev' }, encoding: { x, color, y: { field: 'value', type: 'quantitative', title } } },
      { mark: { type: 'line', point: true }, encoding: { x, color, y: { aggregate: 'mean', field: 'value', type: 'quantitative', title } } },
    ],
    width: 260,
    height: 170,
  };
}

/**
 * The figure: CKA / RSA / tRSA between layers and between SAE prefixes, UMAP panels colored by
 * part of speech, and genre accuracy and mAP@10 vs size for the MRL, FF, PCA and random baselines.
 */
export function lmGeometryNestedSpec(rows: LmGeometryNestedRow[], meta: Pick<LmGeometryNestedMeta, 'layers' | 'posNames' | 'saeHook'>): TopLevelSpec {
  const saeFamily = `Matryoshka SAE code (${meta.saeHook})`;
  const layerNames = JSON.stringify(meta.layers.map((h) => h.replace('blocks.', '').replace('.hook_', ' ')));
  const layerAxis = { title: null, axis: { labelExpr: `${layerNames}[datum.value]`, labelAngle: -30 } };
  const prefixAxis = { title: 'prefix size' };
  const umapOrder = [
    ...meta.layers.map((h) => `layer ${h}`),
    ...[...new Set(rows.filter((r) => r.panel === 'umap' && r.family === saeFamily).map((r) => r.size as number))].sort((a, b) => a - b).map((p) => `SAE prefix ${p}`),
  ];
  const families = [LAYERS_FAMILY, saeFamily];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Geometry inside a Brown-corpus GPT: across layers, across SAE prefixes, and nested genre embeddings', subtitle: 'held-out test tokens; RSA = Spearman of Euclidean RDMs, tRSA = GT(0.4, 0.6); genres: mean ± 1 sd over seeds' },
    data: { values: rows },
    vconcat: [
      ...families.map((f, i) => ({
        title: i === 0 ? 'between layers (residual stream)' : `between prefixes of the Matryoshka SAE at ${meta.saeHook}`,
        // Layers span the whole range; the prefixes of one SAE sit near 1, so they get their own color range.
        hconcat: [['cka', 'linear CKA'], ['rsa', 'RSA'], ['trsa', 'tRSA']].map(([panel, title]) => pairHeatmap(f, panel, title, i === 0 ? layerAxis : prefixAxis, i === 0 ? [0, 1] : null)),
        resolve: { scale: { color: 'shared' } },
      })),
      {
        title: 'UMAP of the test tokens, colored by part of speech',
        transform: [
          { filter: "datum.panel === 'umap'" },
          { calculate: `datum.family === '${LAYERS_FAMILY}' ? 'layer ' + ${JSON.stringify(meta.layers)}[datum.size] : 'SAE prefix ' + datum.size`, as: 'umapPanel' },
          { calculate: `${JSON.stringify(meta.posNames)}[datum.label]`, as: 'part of speech' },
        ],
        mark: { type: 'circle', size: 7, opacity: 0.7 },
        encoding: {
          x: { field: 'x', type: 'quantitative', axis: null },
          y: { field: 'y', type: 'quantitative', axis: null },
          color: { field: 'part of speech', type: 'nominal', scale: { domain: meta.posNames, scheme: 'tableau10' } },
          facet: { field: 'umapPanel', type: 'nominal', title: null, columns: 3, sort: umapOrder },
        },
        width: 160,
        height: 160,
        resolve: { scale: { x: 'independent', y: 'independent' } },
      },
      {
        title: 'MRL on real text: the 15 genres from mean-pooled passage states (test files)',
        hconcat: [genrePanel('genreAccuracy', 'genre accuracy (linear)'), genrePanel('genreMapAt10', `mAP@${RETRIEVAL_K} (same genre)`)],
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}
