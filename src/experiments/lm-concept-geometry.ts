/**
 * Figure `lm-concept-geometry`: "The Geometry of Concepts" (Li, Michaud, Baek, Engels, Sun &
 * Tegmark 2024/2025; docs/methods/concept-geometry.md) on the Brown-corpus GPT's Matryoshka SAEs,
 * one per hook (layer), at every prefix:
 * - atomic: word pairs the corpus's tags give (singular/plural nouns, verb base/past/-ing/3rd
 *   person, adjective/comparative; regular spellings only) are represented by the mean of their
 *   tokens' prefix reconstructions (and, as a reference, their raw activations); the parallelogram
 *   quality of the pairs' differences in the full space and after LDA, cross-fitted, against LDA
 *   fitted on shuffled relations;
 * - brain: co-occurrence clusters (phi over the training windows, spectral clustering) vs spatial
 *   clusters (k-means of the decoder directions), adjusted mutual information against shuffled geometry;
 * - galaxy: the power-law slope of the decoder cloud's eigenvalues and its clustering entropy.
 */
import type { TopLevelSpec } from 'vega-lite';
import { Rng } from '../backend/rng.js';
import { mean, sampleStandardDeviation } from '../math/order.js';
import type { Matrix } from '../data/matrix.js';
import { encodeCode, type Sae } from '../sae/model.js';
import { clusteringEntropy, cooccurrencePhi, eigenvaluePowerLaw, ldaParallelograms, lobeAgreement } from '../sae/concepts.js';
import { defineExperiment } from './define.js';
import { HOOK_SAE_SIZES, LM_SIZES, brownLm, hookSaes, type HookSaeParams, type LmRunParams } from './lm-common.js';

/** Parameters of a run: the LM's and the hooks' SAEs (lm-common.ts), then the measures'. */
export interface LmConceptGeometryParams extends LmRunParams, HookSaeParams {
  /** Each word of a pair occurs at least this often among the SAE rows. */
  minWordCount: number;
  /** LDA's shrinkage of the within-relation covariance. */
  ldaShrinkage: number;
  /** Shuffled-relation LDA fits for the atomic null. */
  ldaNullDraws: number;
  /** Clusters of the co-occurrence and the spatial partitions. */
  lobeClusters: number;
  /** Latents in the brain-scale test fire in at least this many training windows (and not in all). */
  lobeMinWindows: number;
  /** Shuffles of the geometry for the brain-scale null. */
  lobeNullDraws: number;
  /** Neighbors of the k-NN entropy estimator. */
  entropyK: number;
}

/**
 * A row. scale 'atomic': stage ('full space', 'after LDA', 'after LDA, shuffled relations'), relation
 * (null: the mean over relations), value = parallelogram quality; prefix null = raw activations.
 * 'brain': value = AMI, nullMean/nullSd of the shuffled geometry, measure 'ami'. 'galaxy': measure
 * 'powerLawSlope' (nullMean: the slope of as many isotropic random directions, which a finite cloud
 * makes negative too) | 'clusteringEntropy' (already a difference to its null). 'spectrum': rank and
 * eigenvalue of the full SAE's cloud.
 */
export type LmConceptGeometryRow = {
  scale: 'atomic' | 'brain' | 'galaxy' | 'spectrum';
  hook: string;
  /** Index of the hook in the params' list (depth). */
  layer: number;
  prefix: number | null;
  stage: string | null;
  relation: string | null;
  measure: string | null;
  rank: number | null;
  value: number | null;
  nullMean: number | null;
  nullSd: number | null;
};

/** What the run found, per hook, and the three published claims checked in words. */
export interface LmConceptGeometryMeta {
  prefixes: number[];
  /** Pairs per relation (the same words at every hook). */
  relations: { name: string; pairs: number; examples: string[] }[];
  windows: number;
  perHook: {
    hook: string;
    /** The full SAE's reconstructions. */
    atomic: { before: number; after: number; nullMean: number; nullSd: number };
    /** The raw activations' parallelograms, as a reference. */
    atomicActivations: { before: number; after: number; nullMean: number; nullSd: number };
    brain: { prefix: number; latents: number; ami: number; nullMean: number; nullSd: number; p: number }[];
    /** slope − nullSlope is the anisotropy beyond what a finite isotropic cloud of the same size shows. */
    galaxy: { prefix: number; latents: number; slope: number; nullSlope: number; nullSlopeSd: number; clusteringEntropy: number; entropy: number; nullEntropy: number; nullEntropySd: number }[];
  }[];
  verdict: string[];
}

/** A relation between two inflections of a word: the tags of each side and the regular spellings of the second. */
interface Relation {
  name: string;
  from: string;
  to: string;
  forms: (a: string) => string[];
}

/** Regular English inflections (the irregular ones are left out: "took" is not "take" + a suffix). */
export const INFLECTIONS: readonly Relation[] = [
  { name: 'noun → plural', from: 'nn', to: 'nns', forms: (a) => [a + 's', a + 'es', ...(a.endsWith('y') ? [a.slice(0, -1) + 'ies'] : [])] },
  { name: 'verb → past', from: 'vb', to: 'vbd', forms: (a) => [a + 'ed', a + 'd', a + a.at(-1) + 'ed', ...(a.endsWith('y') ? [a.slice(0, -1) + 'ied'] : [])] },
  { name: 'verb → -ing', from: 'vb', to: 'vbg', forms: (a) => [a + 'ing', a + a.at(-1) + 'ing', ...(a.endsWith('e') ? [a.slice(0, -1) + 'ing'] : [])] },
  { name: 'verb → 3rd person', from: 'vb', to: 'vbz', forms: (a) => [a + 's', a + 'es', ...(a.endsWith('y') ? [a.slice(0, -1) + 'ies'] : [])] },
  { name: 'adjective → comparative', from: 'jj', to: 'jjr', forms: (a) => [a + 'er', a + 'r', a + a.at(-1) + 'er', ...(a.endsWith('y') ? [a.slice(0, -1) + 'ier'] : [])] },
];

/** The tag a token carries most often in the stream, without the title/headline/cited markers ('' for none). */
export function dominantTags(ids: Int32Array, tagIds: Int16Array, tagNames: string[], vocabSize: number): string[] {
  const counts = new Map<number, Map<string, number>>();
  for (let i = 0; i < ids.length; i++) {
    const tag = tagNames[tagIds[i]].replace(/(-(tl|hl|nc))+$/, '');
    const byTag = counts.get(ids[i]) ?? new Map<string, number>();
    byTag.set(tag, (byTag.get(tag) ?? 0) + 1);
    counts.set(ids[i], byTag);
  }
  return Array.from({ length: vocabSize }, (_, id) => {
    let best = '';
    let most = 0;
    for (const [tag, c] of counts.get(id) ?? []) if (c > most || (c === most && tag < best)) [best, most] = [tag, c];
    return best;
  });
}

/**
 * Word pairs (token ids) of each relation in {@link INFLECTIONS}: a word whose dominant tag is the
 * relation's first tag, and the first of its regular forms that is a word of the vocabulary whose
 * dominant tag is the second; both at least `minCount` times in `counts`.
 */
export function inflectionPairs(vocab: string[], tags: string[], counts: Int32Array, minCount: number): { a: number; b: number; relation: number }[] {
  const index = new Map(vocab.map((w, i) => [w, i]));
  const pairs: { a: number; b: number; relation: number }[] = [];
  INFLECTIONS.forEach((rel, relation) => {
    vocab.forEach((word, a) => {
      if (tags[a] !== rel.from || counts[a] < minCount || !/^[a-z]+$/.test(word)) return;
      for (const form of rel.forms(word)) {
        const b = index.get(form);
        if (b !== undefined && tags[b] === rel.to && counts[b] >= minCount) {
          pairs.push({ a, b, relation });
          return;
        }
      }
    });
  });
  return pairs;
}

/** Mean of the rows of each listed token: raw rows, and codes (dense, over all latents). */
function wordMeans(x: Matrix, tokens: Int32Array, code: { ptr: Int32Array; idx: Int32Array; val: Float32Array }, words: number[], m: number): { activation: Map<number, Float64Array>; code: Map<number, Float64Array> } {
  const slot = new Map(words.map((w, i) => [w, i]));
  const d = x.cols;
  const act = words.map(() => new Float64Array(d));
  const cod = words.map(() => new Float64Array(m));
  const n = new Float64Array(words.length);
  for (let r = 0; r < x.rows; r++) {
    const s = slot.get(tokens[r]);
    if (s === undefined) continue;
    n[s]++;
    for (let j = 0; j < d; j++) act[s][j] += x.data[r * d + j];
    for (let e = code.ptr[r]; e < code.ptr[r + 1]; e++) cod[s][code.idx[e]] += code.val[e];
  }
  words.forEach((_, s) => {
    act[s] = act[s].map((v) => v / n[s]);
    cod[s] = cod[s].map((v) => v / n[s]);
  });
  return { activation: new Map(words.map((w, s) => [w, act[s]])), code: new Map(words.map((w, s) => [w, cod[s]])) };
}

/** b − a for each pair, from one representation of the words. */
function differences(pairs: { a: number; b: number }[], rep: (w: number) => Float64Array, d: number): Matrix {
  const out = new Float32Array(pairs.length * d);
  pairs.forEach(({ a, b }, i) => {
    const [ra, rb] = [rep(a), rep(b)];
    for (let j = 0; j < d; j++) out[i * d + j] = rb[j] - ra[j];
  });
  return { data: out, rows: pairs.length, cols: d };
}

/** The decoder rows of the listed latents. */
function decoderRows(sae: Sae, latents: number[]): Matrix {
  const d = sae.cfg.dIn;
  const out = new Float32Array(latents.length * d);
  latents.forEach((i, r) => out.set(sae.params.wDec.subarray(i * d, (i + 1) * d), r * d));
  return { data: out, rows: latents.length, cols: d };
}

/** Draws of the galaxy-scale nulls (isotropic directions for the slope, Gaussian clouds for the entropy). */
const GALAXY_NULL_DRAWS = 5;

function emptyRow(scale: LmConceptGeometryRow['scale'], hook: string, layer: number): LmConceptGeometryRow {
  return { scale, hook, layer, prefix: null, stage: null, relation: null, measure: null, rank: null, value: null, nullMean: null, nullSd: null };
}

export const lmConceptGeometry = defineExperiment<LmConceptGeometryParams, LmConceptGeometryRow, LmConceptGeometryMeta>({
  id: 'lm-concept-geometry',
  title: 'The geometry of concepts in a Brown-corpus GPT: parallelograms, lobes and the galaxy per layer and SAE prefix',
  sizes: {
    smoke: {
      ...LM_SIZES.smoke,
      ...HOOK_SAE_SIZES.smoke,
      minWordCount: 2, ldaShrinkage: 0.2, ldaNullDraws: 5, lobeClusters: 4, lobeMinWindows: 3, lobeNullDraws: 50, entropyK: 3,
    },
    full: {
      ...LM_SIZES.full,
      ...HOOK_SAE_SIZES.full,
      minWordCount: 5, ldaShrinkage: 0.2, ldaNullDraws: 20, lobeClusters: 10, lobeMinWindows: 10, lobeNullDraws: 200, entropyK: 3,
    },
  },
  async run({ params: cfg, seed, progress }) {
    progress.start(cfg.lmSteps + 2 * cfg.hooks.length, 'lm-concept-geometry');
    const lm = await brownLm(cfg, seed, progress);
    let done = cfg.lmSteps;
    const saes = await hookSaes(lm, cfg, seed, (info) => progress.update(++done, info));
    done = cfg.lmSteps + cfg.hooks.length;
    const { vocab } = lm.streams.tokenizer;
    const tokens = saes.windows.inputs;
    const T = cfg.contextLength;
    const nWindows = saes.windows.batchSize;
    const counts = new Int32Array(vocab.length);
    for (const t of tokens) counts[t]++;
    const tags = dominantTags(lm.streams.train.ids, lm.streams.train.tagIds, lm.streams.train.tagNames, vocab.length);
    const pairs = inflectionPairs(vocab, tags, counts, cfg.minWordCount);
    const used = INFLECTIONS.map((_, r) => pairs.filter((p) => p.relation === r).length >= 4);
    const kept = pairs.filter((p) => used[p.relation]);
    const relationIndex = INFLECTIONS.map((_, r) => used.slice(0, r).filter(Boolean).length);
    const relation = Int32Array.from(kept, (p) => relationIndex[p.relation]);
    const relationNames = INFLECTIONS.filter((_, r) => used[r]).map((r) => r.name);
    const words = [...new Set(kept.flatMap((p) => [p.a, p.b]))];

    const rows: LmConceptGeometryRow[] = [];
    const perHook: LmConceptGeometryMeta['perHook'] = [];
    for (const [layer, { hook, x, sae }] of saes.byHook.entries()) {
      const m = sae.cfg.dSae;
      const code = await encodeCode("figures.figure('lm-concept-geometry')", sae, x);
      const means = wordMeans(x, tokens, code, words, m);
      const d = x.cols;

      // Atomic: the raw activations, then each prefix's reconstruction (b_dec cancels in b − a).
      const atomicRows = (prefix: number | null, diffs: Matrix) => {
        const r = ldaParallelograms(diffs, relation, { shrinkage: cfg.ldaShrinkage, nullDraws: cfg.ldaNullDraws, seed });
        const base = { ...emptyRow('atomic', hook, layer), prefix };
        rows.push({ ...base, stage: 'full space', value: r.before });
        rows.push({ ...base, stage: 'after LDA', value: r.after });
        rows.push({ ...base, stage: 'after LDA, shuffled relations', value: r.nullMean, nullMean: r.nullMean, nullSd: r.nullSd });
        r.perRelation.forEach((q, i) => {
          rows.push({ ...base, stage: 'full space', relation: relationNames[i], value: q.before });
          rows.push({ ...base, stage: 'after LDA', relation: relationNames[i], value: q.after });
        });
        return { before: r.before, after: r.after, nullMean: r.nullMean, nullSd: r.nullSd };
      };
      const atomicActivations = atomicRows(null, differences(kept, (w) => means.activation.get(w)!, d));
      let atomic = atomicActivations;
      for (const p of saes.prefixes) {
        const reconstruct = (w: number): Float64Array => {
          const c = means.code.get(w)!;
          const out = new Float64Array(d);
          for (let i = 0; i < p; i++) if (c[i] !== 0) for (let j = 0; j < d; j++) out[j] += c[i] * sae.params.wDec[i * d + j];
          return out;
        };
        atomic = atomicRows(p, differences(kept, reconstruct, d));
      }

      // Brain: which latents fire in which windows; phi over the eligible ones, once for all prefixes.
      const windowCount = new Int32Array(m);
      const presence = new Uint8Array(nWindows * m);
      for (let r = 0; r < x.rows; r++) for (let e = code.ptr[r]; e < code.ptr[r + 1]; e++) presence[((r / T) | 0) * m + code.idx[e]] = 1;
      for (let w = 0; w < nWindows; w++) for (let i = 0; i < m; i++) windowCount[i] += presence[w * m + i];
      const eligible = Array.from({ length: m }, (_, i) => i).filter((i) => windowCount[i] >= cfg.lobeMinWindows && windowCount[i] < nWindows);
      const sub = new Float32Array(nWindows * eligible.length);
      for (let w = 0; w < nWindows; w++) eligible.forEach((i, c) => (sub[w * eligible.length + c] = presence[w * m + i]));
      const phiAll = await cooccurrencePhi({ data: sub, rows: nWindows, cols: eligible.length });
      const brain: LmConceptGeometryMeta['perHook'][number]['brain'] = [];
      const galaxy: LmConceptGeometryMeta['perHook'][number]['galaxy'] = [];
      for (const p of saes.prefixes) {
        const cols = eligible.flatMap((i, c) => (i < p ? [c] : []));
        if (cols.length >= 3 * cfg.lobeClusters) {
          const e = eligible.length;
          const phi = new Float64Array(cols.length * cols.length);
          cols.forEach((a, i) => cols.forEach((b, j) => (phi[i * cols.length + j] = phiAll[a * e + b])));
          // The null shuffles geometry only among latents of similar firing frequency (deciles).
          const latents = cols.map((c) => eligible[c]);
          const byFrequency = [...latents].sort((a, b) => windowCount[a] - windowCount[b] || a - b);
          const decile = new Map(byFrequency.map((l, rank) => [l, Math.floor((10 * rank) / byFrequency.length)]));
          const strata = Int32Array.from(latents, (l) => decile.get(l)!);
          const lobes = lobeAgreement(decoderRows(sae, latents), phi, { clusters: cfg.lobeClusters, nullDraws: cfg.lobeNullDraws, strata, seed });
          rows.push({ ...emptyRow('brain', hook, layer), prefix: p, measure: 'ami', value: lobes.ami, nullMean: lobes.nullMean, nullSd: lobes.nullSd });
          brain.push({ prefix: p, latents: cols.length, ami: lobes.ami, nullMean: lobes.nullMean, nullSd: lobes.nullSd, p: lobes.p });
        }
        // Galaxy: the live latents of the prefix (a dead latent's decoder row is its initialization).
        const live = Array.from({ length: p }, (_, i) => i).filter((i) => windowCount[i] > 0);
        if (live.length >= 5) {
          const cloud = decoderRows(sae, live);
          const law = await eigenvaluePowerLaw(cloud);
          // A finite cloud of isotropic directions has a falling spectrum too (n ≈ d: Marchenko–Pastur).
          const rng = new Rng(seed + p);
          const isotropic: number[] = [];
          for (let draw = 0; draw < GALAXY_NULL_DRAWS; draw++) isotropic.push((await eigenvaluePowerLaw({ data: rng.normalArray(cloud.rows * d), rows: cloud.rows, cols: d })).slope);
          const nullSlope = mean(isotropic);
          const nullSlopeSd = sampleStandardDeviation(isotropic);
          const entropy = await clusteringEntropy(cloud, { k: cfg.entropyK, seed, nullDraws: GALAXY_NULL_DRAWS });
          rows.push({ ...emptyRow('galaxy', hook, layer), prefix: p, measure: 'powerLawSlope', value: law.slope, nullMean: nullSlope, nullSd: nullSlopeSd });
          rows.push({ ...emptyRow('galaxy', hook, layer), prefix: p, measure: 'clusteringEntropy', value: entropy.value, nullSd: entropy.nullSd });
          galaxy.push({ prefix: p, latents: live.length, slope: law.slope, nullSlope, nullSlopeSd, clusteringEntropy: entropy.value, entropy: entropy.entropy, nullEntropy: entropy.nullEntropy, nullEntropySd: entropy.nullSd });
          if (p === m) law.eigenvalues.forEach((v, i) => rows.push({ ...emptyRow('spectrum', hook, layer), prefix: p, rank: i + 1, value: v }));
        }
      }
      perHook.push({ hook, atomic, atomicActivations, brain, galaxy });
      progress.update(++done, `concept geometry at ${hook}`);
    }
    progress.stop();
    return {
      rows,
      meta: {
        prefixes: saes.prefixes,
        relations: relationNames.map((name) => {
          const r = INFLECTIONS.findIndex((x) => x.name === name);
          const mine = kept.filter((p) => p.relation === r);
          return { name, pairs: mine.length, examples: mine.slice(0, 3).map((p) => `${vocab[p.a]} → ${vocab[p.b]}`) };
        }),
        windows: nWindows,
        perHook,
        verdict: conceptVerdict(perHook),
      },
    };
  },
  spec: (rows, meta) => lmConceptGeometrySpec(rows, meta.prefixes),
});

/** The three published claims checked on a run, in words with the numbers (full SAE of each hook). */
export function conceptVerdict(perHook: LmConceptGeometryMeta['perHook']): string[] {
  const f = (v: number) => v.toFixed(3);
  const lda = perHook.map((h) => `${h.hook}: ${f(h.atomic.before)} → ${f(h.atomic.after)} (shuffled ${f(h.atomic.nullMean)} ± ${f(h.atomic.nullSd)})`);
  const improves = perHook.filter((h) => h.atomic.after > h.atomic.nullMean + 2 * h.atomic.nullSd).length;
  const last = (h: (typeof perHook)[number]) => h.brain[h.brain.length - 1];
  const lobes = perHook.filter((h) => h.brain.length > 0).map((h) => `${h.hook}: AMI ${f(last(h).ami)} vs ${f(last(h).nullMean)} ± ${f(last(h).nullSd)} (p = ${last(h).p.toFixed(3)})`);
  const largest = Math.max(...perHook.filter((h) => h.brain.length > 0).map((h) => last(h).ami));
  const significant = perHook.filter((h) => h.brain.length > 0 && last(h).p < 0.05).length;
  const full = (h: (typeof perHook)[number]) => h.galaxy[h.galaxy.length - 1];
  const excess = perHook.map((h) => (full(h) ? full(h).slope - full(h).nullSlope : NaN));
  const finite = excess.filter(Number.isFinite);
  const steepest = finite.length > 0 ? excess.indexOf(Math.min(...finite)) : -1;
  const middle = steepest > 0 && steepest < perHook.length - 1;
  const entropies = perHook.map((h) => full(h)?.clusteringEntropy ?? NaN);
  return [
    `Atomic: parallelogram quality of the full SAE's reconstructions, full space → after LDA (held-out pairs): ${lda.join('; ')}. ` +
      `LDA beats the shuffled-relation null by more than 2 sd at ${improves} of ${perHook.length} layers.`,
    `Brain: co-occurrence vs spatial clusters of the full SAE: ${lobes.join('; ')}. Significant (p < 0.05) at ${significant} of ${lobes.length} layers (the null shuffles geometry within firing-frequency deciles); the agreement itself is ${largest < 0.2 ? 'weak' : 'substantial'} (largest AMI ${f(largest)}).`,
    `Galaxy: power-law slope of the full SAE per layer, and beyond isotropic directions of the same count (± the null's sd): ${perHook.map((h, i) => `${h.hook} ${f(full(h)?.slope ?? NaN)} (${f(excess[i])} ± ${f(full(h)?.nullSlopeSd ?? NaN)})`).join(', ')}; ` +
      `steepest beyond the null at ${perHook[steepest]?.hook ?? 'none'}${middle ? ' (a middle layer, as published)' : ' (not a middle layer)'}. ` +
      `Clustering entropy ${perHook.map((h, i) => `${h.hook} ${entropies[i].toFixed(2)} ± ${(full(h)?.nullEntropySd ?? NaN).toFixed(2)}`).join(', ')} nats (± the null's sd): ${entropies.every((v) => v > 0) ? 'the directions clump more than a Gaussian cloud of their shape' : entropies.every((v) => v < 0) ? 'the directions spread more evenly than a Gaussian cloud of their shape (negative at every layer)' : 'mixed in sign across layers'}.`,
  ];
}

/**
 * The figure: parallelogram quality per representation (raw activations, each prefix) and stage,
 * one column per layer; AMI of co-occurrence vs spatial clusters per prefix with the null's
 * band; the full SAEs' eigenvalue spectra, and the power-law slope and clustering entropy per prefix.
 */
export function lmConceptGeometrySpec(rows: LmConceptGeometryRow[], prefixes: number[]): TopLevelSpec {
  const representations = ['activations', ...prefixes.map((p) => `prefix ${p}`)];
  const prefixAxis = { field: 'prefix', type: 'quantitative', scale: { type: 'log', base: 2, domain: [prefixes[0] / 1.25, prefixes[prefixes.length - 1] * 1.25], nice: false }, axis: { values: prefixes, format: 'd' }, title: 'prefix size (latents)' };
  const hookColor = { field: 'hook', type: 'nominal', title: 'layer (hook)', sort: [...new Set(rows.map((r) => r.hook))], legend: { labelLimit: 300 } };
  const galaxy = (measure: string) => ({ filter: { and: [{ field: 'scale', equal: 'galaxy' }, { field: 'measure', equal: measure }] } });
  const y = (title: string) => ({ field: 'value', type: 'quantitative', title, scale: { zero: false } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'The geometry of concepts in a Brown-corpus GPT, per layer and Matryoshka prefix', subtitle: 'Li, Michaud, Baek et al. 2024: atomic (parallelograms), brain (lobes), galaxy (spectrum) scales' },
    data: { values: rows },
    vconcat: [
      {
        title: 'Atomic: parallelogram quality of word-pair differences (mean cosine within a relation, mean over relations)',
        transform: [
          { filter: "datum.scale === 'atomic' && datum.relation === null" },
          { calculate: "datum.prefix === null ? 'activations' : 'prefix ' + datum.prefix", as: 'representation' },
        ],
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'representation', type: 'ordinal', sort: representations, title: null, axis: { labelAngle: -40 } },
          y: { field: 'value', type: 'quantitative', title: 'parallelogram quality' },
          color: { field: 'stage', type: 'nominal', title: null, sort: ['full space', 'after LDA', 'after LDA, shuffled relations'], scale: { range: ['#4c78a8', '#e45756', '#bab0ac'] }, legend: { labelLimit: 300 } },
          column: { field: 'hook', type: 'nominal', title: null, sort: hookColor.sort },
        },
        width: 170,
        height: 150,
      },
      {
        hconcat: [
          {
            title: { text: 'Brain: co-occurrence vs spatial clusters', subtitle: 'AMI; grey: shuffled geometry ± 2 sd' },
            transform: [{ filter: "datum.scale === 'brain'" }, { calculate: 'datum.nullMean - 2 * datum.nullSd', as: 'low' }, { calculate: 'datum.nullMean + 2 * datum.nullSd', as: 'high' }],
            layer: [
              { mark: { type: 'errorbar', color: '#bab0ac' }, encoding: { x: prefixAxis, y: { field: 'low', type: 'quantitative', title: 'adjusted mutual information' }, y2: { field: 'high' } } },
              { mark: { type: 'line', point: true }, encoding: { x: prefixAxis, y: { field: 'value', type: 'quantitative' }, color: hookColor } },
            ],
            width: 260,
            height: 170,
          },
          {
            title: 'Galaxy: eigenvalues of the decoder cloud (full SAE)',
            transform: [{ filter: "datum.scale === 'spectrum'" }],
            mark: { type: 'line' },
            encoding: {
              x: { field: 'rank', type: 'quantitative', scale: { type: 'log', domain: [1, Math.max(2, ...rows.filter((r) => r.scale === 'spectrum').map((r) => r.rank as number))] }, title: 'rank i' },
              y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'eigenvalue λ_i' },
              color: hookColor,
            },
            width: 220,
            height: 170,
          },
        ],
      },
      {
        title: 'Galaxy per prefix',
        hconcat: [
          {
            title: { text: 'power-law slope', subtitle: 'dashed: as many isotropic random directions' },
            transform: [galaxy('powerLawSlope')],
            layer: [
              { mark: { type: 'line', point: true }, encoding: { x: prefixAxis, y: y('slope of log λ_i vs log i'), color: hookColor } },
              { mark: { type: 'line', strokeDash: [4, 3] }, encoding: { x: prefixAxis, y: { field: 'nullMean', type: 'quantitative' }, color: hookColor } },
            ],
            width: 220,
            height: 150,
          },
          {
            title: { text: 'clustering entropy', subtitle: '> 0: clumped beyond a Gaussian cloud of the same shape' },
            transform: [galaxy('clusteringEntropy')],
            mark: { type: 'line', point: true },
            encoding: { x: prefixAxis, y: y('nats'), color: hookColor },
            width: 220,
            height: 150,
          },
        ],
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}
