/**
 * Neuron census: which of a layer's MLP neurons are dead, token detectors, n-gram detectors or
 * positional, after Voita, Ferrando & Nalmpantis, "Neurons in Large Language Models: Dead,
 * N-gram, Positional" (ACL Findings 2024, arXiv 2309.04827). Like the paper it looks only at
 * whether a neuron fires (activation > 0) on each token of a corpus; the statistics where the
 * paper gives no formula, and the thresholds, are the choices written in
 * docs/methods/neuron-census.md.
 *
 * Pure typed-array code over captured activations (`lm.captureActivations` at
 * `blocks.l.mlp.hook_post` or `hook_pre`); no tensors. Written by hand: no npm package computes
 * these statistics. Cost O(rows · neurons) plus, per neuron, a pass over the token types and
 * bigrams it fires on.
 */
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';

/** Options of {@link neuronCensus}. */
export interface NeuronCensusOptions {
  /** Share of a neuron's firings its covering set of token types (or bigrams) must hold (default 0.95). */
  tokenCoverage?: number;
  /** Most token types in a token detector's covering set (default 5). */
  maxTokens?: number;
  /** Most bigrams (previous token, token) in an n-gram detector's covering set (default 5). */
  maxNgrams?: number;
  /** Least share of the occurrences of its covering tokens (bigrams) on which a detector fires (default 0.9). */
  minFireRate?: number;
  /** Least firings for a neuron to be called a detector or positional (default 10; fewer say too little). */
  minFires?: number;
  /** Least positional information (bias-corrected I(fires; position) / H(fires)) of a positional neuron (default 0.5). */
  minPositionalInfo?: number;
  /** A label carried into the result, e.g. the hook the activations come from ('blocks.0.mlp.hook_post'). */
  hook?: string;
}

/** The parameters a census ran with (its options with their defaults filled in). */
export type NeuronCensusParameters = Required<Omit<NeuronCensusOptions, 'hook'>>;

/** One neuron's statistics in a {@link NeuronCensus}. */
export interface NeuronCensusRow {
  /** Column of the activations. */
  neuron: number;
  /** Rows (tokens) on which it fires: activation > 0. */
  fires: number;
  /** fires / rows. */
  fireRate: number;
  /** Never fires on these rows. */
  dead: boolean;
  /** Size of the smallest set of token types that holds ≥ tokenCoverage of its firings (0 when dead). */
  tokenCount: number;
  /** The token types it fires on most (most firings first, ties by id), at most maxTokens: its covering set when tokenCount ≤ maxTokens. */
  tokens: number[];
  /** Firings on `tokens` / occurrences of `tokens` in the rows (0 when dead). */
  tokenFireRate: number;
  /** Size of the smallest set of bigrams (previous token, token) that holds ≥ tokenCoverage of its firings. */
  bigramCount: number;
  /** The bigrams it fires on most, [previous, token] (previous −1 at a window's first position), at most maxNgrams. */
  bigrams: [number, number][];
  /** Firings on `bigrams` / occurrences of `bigrams`. */
  bigramFireRate: number;
  /** Share of the uncertainty of firing that position removes: max(0, I(F; P) − (P − 1)/2N) / H(F), in [0, 1]; 0 when it always or never fires. */
  positionalInfo: number;
  /** Share of the activation's variance explained by position (η², the correlation ratio), in [0, 1]. */
  positionVarianceShare: number;
  /** Fires ≥ minFires times, tokenCount ≤ maxTokens and tokenFireRate ≥ minFireRate. */
  tokenDetector: boolean;
  /** Not a token detector, fires ≥ minFires times, bigramCount ≤ maxNgrams and bigramFireRate ≥ minFireRate. */
  ngramDetector: boolean;
  /** Fires ≥ minFires times and positionalInfo ≥ minPositionalInfo. */
  positional: boolean;
}

/** A layer's counts and fractions (of all its neurons) in a {@link NeuronCensus}. */
export interface NeuronCensusSummary {
  /** Neurons (columns). */
  neurons: number;
  /** Rows (tokens) the census saw. */
  rows: number;
  dead: number;
  deadFraction: number;
  /** Mean fireRate of the neurons that are not dead (NaN when all are dead). */
  meanAliveFireRate: number;
  /** Neurons firing on more than 10% of the rows (SAEBench's dense latents, for comparison with an SAE). */
  dense: number;
  denseFraction: number;
  tokenDetectors: number;
  tokenDetectorFraction: number;
  ngramDetectors: number;
  ngramDetectorFraction: number;
  positional: number;
  positionalFraction: number;
  /** Distinct token types in the covering sets of the token detectors. */
  tokensCovered: number;
}

/** The result of {@link neuronCensus}: one row per neuron, a summary, and what it ran with. */
export interface NeuronCensus {
  /** The `hook` option, when given. */
  hook?: string;
  parameters: NeuronCensusParameters;
  neurons: NeuronCensusRow[];
  summary: NeuronCensusSummary;
}

/** The thresholds {@link neuronCensus} uses unless told otherwise. */
export const NEURON_CENSUS_DEFAULTS: Readonly<NeuronCensusParameters> = { tokenCoverage: 0.95, maxTokens: 5, maxNgrams: 5, minFireRate: 0.9, minFires: 10, minPositionalInfo: 0.5 };

/**
 * The census of one layer's MLP neurons (Voita, Ferrando & Nalmpantis 2023): per neuron, whether
 * it fires (activation > 0) on each row, and from that
 * - dead: it never fires;
 * - token detector: at most `maxTokens` token types hold `tokenCoverage` of its firings, and it
 *   fires on at least `minFireRate` of their occurrences;
 * - n-gram detector: not a token detector, but the same holds for at most `maxNgrams` bigrams
 *   (previous token, token), the previous token being the row before within the same window;
 * - positional: position removes at least `minPositionalInfo` of the uncertainty of firing,
 *   max(0, I(F; P) − (P − 1)/2N) / H(F) (plug-in mutual information with the Miller–Madow bias
 *   correction, in nats).
 * Pass `blocks.l.mlp.hook_post` (or `hook_pre`: GELU and ReLU are positive exactly where their
 * input is, so the firings are the same; only positionVarianceShare differs). Rows are tokens
 * in (window, position) order, as `lm.captureActivations` returns them.
 *
 * @example const c = lm.neuronCensus(acts.get('blocks.0.mlp.hook_post')!, windows.inputs, positions, { hook: 'blocks.0.mlp.hook_post' }); // c.summary.deadFraction
 */
export function neuronCensus(activations: Matrix, tokens: Int32Array, positions: Int32Array, options: NeuronCensusOptions = {}): NeuronCensus {
  const where = 'lm.neuronCensus';
  checkKnownKeys(where, options, ['tokenCoverage', 'maxTokens', 'maxNgrams', 'minFireRate', 'minFires', 'minPositionalInfo', 'hook']);
  const x = checkMatrix(where, 'activations', activations, 1, 1);
  const N = x.rows;
  const C = x.cols;
  checkIds(where, 'tokens', tokens, N);
  checkIds(where, 'positions', positions, N);
  const tokenCoverage = options.tokenCoverage ?? NEURON_CENSUS_DEFAULTS.tokenCoverage;
  if (typeof tokenCoverage !== 'number' || !(tokenCoverage > 0 && tokenCoverage <= 1)) throw new NestlabArgumentError(where, 'options.tokenCoverage', 'a number in (0, 1]', tokenCoverage);
  const parameters: NeuronCensusParameters = {
    tokenCoverage,
    maxTokens: checkInt(where, 'options.maxTokens', options.maxTokens ?? NEURON_CENSUS_DEFAULTS.maxTokens, 1, 1e6),
    maxNgrams: checkInt(where, 'options.maxNgrams', options.maxNgrams ?? NEURON_CENSUS_DEFAULTS.maxNgrams, 1, 1e6),
    minFireRate: checkNumber(where, 'options.minFireRate', options.minFireRate ?? NEURON_CENSUS_DEFAULTS.minFireRate, 0, 1),
    minFires: checkInt(where, 'options.minFires', options.minFires ?? NEURON_CENSUS_DEFAULTS.minFires, 1),
    minPositionalInfo: checkNumber(where, 'options.minPositionalInfo', options.minPositionalInfo ?? NEURON_CENSUS_DEFAULTS.minPositionalInfo, 0, 1),
  };
  if (options.hook !== undefined && (typeof options.hook !== 'string' || options.hook === '')) throw new NestlabArgumentError(where, 'options.hook', 'a non-empty string', options.hook);

  // Dense ids of the token types and bigrams that occur, with their occurrence counts.
  // A bigram's key (previous + 1)·M + token is exact while M² < 2⁵³ (vocabularies below 9·10⁷).
  let M = 1;
  for (let r = 0; r < N; r++) M = Math.max(M, tokens[r] + 1);
  const tokenIds = denseIds(N, (r) => tokens[r]);
  const prevOf = (r: number) => (r > 0 && positions[r] === positions[r - 1] + 1 ? tokens[r - 1] : -1);
  const bigramIds = denseIds(N, (r) => (prevOf(r) + 1) * M + tokens[r]);
  const tokenOf = (id: number) => tokenIds.keys[id];
  const bigramOf = (id: number): [number, number] => {
    const key = bigramIds.keys[id];
    const t = key % M;
    return [(key - t) / M - 1, t];
  };
  let P = 0;
  for (let r = 0; r < N; r++) P = Math.max(P, positions[r] + 1);
  const rowsAt = new Float64Array(P);
  for (let r = 0; r < N; r++) rowsAt[positions[r]]++;
  let positionsSeen = 0;
  for (let p = 0; p < P; p++) if (rowsAt[p] > 0) positionsSeen++;

  const tokenCounter = new Counter(tokenIds, N);
  const bigramCounter = new Counter(bigramIds, N);
  const firesAt = new Float64Array(P);
  const sumAt = new Float64Array(P);
  const rows: NeuronCensusRow[] = [];
  for (let j = 0; j < C; j++) {
    firesAt.fill(0);
    sumAt.fill(0);
    let fires = 0;
    let sum = 0;
    let sumSq = 0;
    for (let r = 0, i = j; r < N; r++, i += C) {
      const v = x.data[i];
      sum += v;
      sumSq += v * v;
      sumAt[positions[r]] += v;
      if (v > 0) {
        fires++;
        firesAt[positions[r]]++;
        tokenCounter.add(tokenIds.ids[r]);
        bigramCounter.add(bigramIds.ids[r]);
      }
    }
    const tok = tokenCounter.cover(fires, tokenCoverage, parameters.maxTokens);
    const big = bigramCounter.cover(fires, tokenCoverage, parameters.maxNgrams);
    tokenCounter.clear();
    bigramCounter.clear();
    const positionalInfo = firingPositionInfo(firesAt, rowsAt, fires, N, positionsSeen);
    let between = -(sum * sum) / N;
    for (let p = 0; p < P; p++) if (rowsAt[p] > 0) between += (sumAt[p] * sumAt[p]) / rowsAt[p];
    const total = sumSq - (sum * sum) / N;
    const positionVarianceShare = total > 1e-12 * Math.max(1, sumSq) ? Math.min(1, Math.max(0, between / total)) : 0;
    const eligible = fires >= parameters.minFires;
    const tokenDetector = eligible && tok.count <= parameters.maxTokens && tok.fireRate >= parameters.minFireRate;
    rows.push({
      neuron: j,
      fires,
      fireRate: fires / N,
      dead: fires === 0,
      tokenCount: tok.count,
      tokens: tok.top.map(tokenOf),
      tokenFireRate: tok.fireRate,
      bigramCount: big.count,
      bigrams: big.top.map(bigramOf),
      bigramFireRate: big.fireRate,
      positionalInfo,
      positionVarianceShare,
      tokenDetector,
      ngramDetector: eligible && !tokenDetector && big.count <= parameters.maxNgrams && big.fireRate >= parameters.minFireRate,
      positional: eligible && positionalInfo >= parameters.minPositionalInfo,
    });
  }
  return { ...(options.hook === undefined ? {} : { hook: options.hook }), parameters, neurons: rows, summary: summarize(rows, N) };
}

function checkIds(where: string, argument: string, ids: unknown, n: number): void {
  if (!(ids instanceof Int32Array) || ids.length !== n) throw new NestlabArgumentError(where, argument, `an Int32Array with one entry per row of activations (${n})`, ids);
  for (let i = 0; i < n; i++) {
    if (ids[i] < 0) throw new NestlabArgumentError(where, argument, 'ids ≥ 0', `${ids[i]} at index ${i}`);
  }
}

/** Each row's id among the distinct keys, those keys (id → key) and how often each occurs. */
interface DenseIds {
  ids: Int32Array;
  keys: number[];
  occurrences: Float64Array;
  size: number;
}

/** Dense ids 0..size−1 of the distinct keys of rows 0..n−1 (in order of first appearance), with their counts. */
function denseIds(n: number, key: (r: number) => number): DenseIds {
  const index = new Map<number, number>();
  const ids = new Int32Array(n);
  const keys: number[] = [];
  const counts: number[] = [];
  for (let r = 0; r < n; r++) {
    const k = key(r);
    let id = index.get(k);
    if (id === undefined) {
      id = keys.length;
      index.set(k, id);
      keys.push(k);
      counts.push(0);
    }
    ids[r] = id;
    counts[id]++;
  }
  return { ids, keys, occurrences: Float64Array.from(counts), size: keys.length };
}

/**
 * Firing counts by dense id for one neuron at a time, and the smallest covering set: the number
 * of ids, taken by decreasing count, whose counts reach `coverage` of the firings. Its size does
 * not depend on how ties are broken (found from the histogram of counts); the listed top ids
 * break ties by the smaller key (token id; previous token, then token for a bigram).
 */
class Counter {
  private readonly counts: Int32Array;
  private readonly touched: Int32Array;
  private nTouched = 0;
  private readonly histogram: Int32Array;

  constructor(
    private readonly dense: DenseIds,
    maxCount: number,
  ) {
    this.counts = new Int32Array(dense.size);
    this.touched = new Int32Array(dense.size);
    this.histogram = new Int32Array(maxCount + 1);
  }

  add(id: number): void {
    if (this.counts[id]++ === 0) this.touched[this.nTouched++] = id;
  }

  clear(): void {
    for (let i = 0; i < this.nTouched; i++) this.counts[this.touched[i]] = 0;
    this.nTouched = 0;
  }

  cover(fires: number, coverage: number, keep: number): { count: number; top: number[]; fireRate: number } {
    if (fires === 0) return { count: 0, top: [], fireRate: 0 };
    const { counts, touched, histogram } = this;
    let maxCount = 0;
    for (let i = 0; i < this.nTouched; i++) {
      const c = counts[touched[i]];
      histogram[c]++;
      if (c > maxCount) maxCount = c;
    }
    // Walk the counts downward: all ids of count c cover c each.
    const need = coverage * fires * (1 - 1e-12);
    let covered = 0;
    let count = 0;
    let nAbove = 0; // ids with count ≥ the current c
    let cutForTop = 1; // the least count among the `keep` largest
    for (let c = maxCount; c >= 1; c--) {
      const h = histogram[c];
      if (h === 0) continue;
      if (covered < need) {
        const take = Math.min(h, Math.ceil((need - covered) / c));
        covered += take * c;
        count += take;
      }
      nAbove += h;
      if (nAbove >= keep) {
        cutForTop = c;
        break;
      }
    }
    // The walk may stop at the top-keep cut before the coverage is reached: finish it.
    if (covered < need) {
      for (let c = cutForTop - 1; c >= 1 && covered < need; c--) {
        const h = histogram[c];
        if (h === 0) continue;
        const take = Math.min(h, Math.ceil((need - covered) / c));
        covered += take * c;
        count += take;
      }
    }
    for (let i = 0; i < this.nTouched; i++) histogram[counts[touched[i]]] = 0;
    const candidates: number[] = [];
    for (let i = 0; i < this.nTouched; i++) if (counts[touched[i]] >= cutForTop) candidates.push(touched[i]);
    const { keys, occurrences } = this.dense;
    candidates.sort((a, b) => counts[b] - counts[a] || keys[a] - keys[b]);
    const top = candidates.slice(0, keep);
    let fired = 0;
    let occurred = 0;
    for (const id of top) {
      fired += counts[id];
      occurred += occurrences[id];
    }
    return { count, top, fireRate: fired / occurred };
  }
}

/** max(0, I(F; P) − (positions − 1)/2N) / H(F) for a binary firing F and the position P (nats). */
function firingPositionInfo(firesAt: Float64Array, rowsAt: Float64Array, fires: number, N: number, positionsSeen: number): number {
  if (fires === 0 || fires === N) return 0;
  const plogp = (k: number) => (k > 0 ? k * Math.log(k) : 0);
  // I = H(F) − H(F | P) with counts: N·H(F) = N ln N − Σ_f n_f ln n_f, N·H(F|P) = Σ_p (n_p ln n_p − Σ_f n_pf ln n_pf).
  const hF = (plogp(N) - plogp(fires) - plogp(N - fires)) / N;
  let hFgivenP = 0;
  for (let p = 0; p < rowsAt.length; p++) {
    const n = rowsAt[p];
    if (n === 0) continue;
    hFgivenP += plogp(n) - plogp(firesAt[p]) - plogp(n - firesAt[p]);
  }
  hFgivenP /= N;
  const corrected = hF - hFgivenP - (positionsSeen - 1) / (2 * N);
  return Math.min(1, Math.max(0, corrected / hF));
}

function summarize(rows: NeuronCensusRow[], N: number): NeuronCensusSummary {
  const C = rows.length;
  const count = (f: (r: NeuronCensusRow) => boolean) => rows.reduce((s, r) => s + (f(r) ? 1 : 0), 0);
  const dead = count((r) => r.dead);
  const tokenDetectors = count((r) => r.tokenDetector);
  const ngramDetectors = count((r) => r.ngramDetector);
  const positional = count((r) => r.positional);
  const dense = count((r) => r.fireRate > 0.1);
  let aliveRate = 0;
  for (const r of rows) if (!r.dead) aliveRate += r.fireRate;
  const covered = new Set<number>();
  for (const r of rows) if (r.tokenDetector) for (const t of r.tokens) covered.add(t);
  return {
    neurons: C,
    rows: N,
    dead,
    deadFraction: dead / C,
    meanAliveFireRate: C > dead ? aliveRate / (C - dead) : NaN,
    dense,
    denseFraction: dense / C,
    tokenDetectors,
    tokenDetectorFraction: tokenDetectors / C,
    ngramDetectors,
    ngramDetectorFraction: ngramDetectors / C,
    positional,
    positionalFraction: positional / C,
    tokensCovered: covered.size,
  };
}
