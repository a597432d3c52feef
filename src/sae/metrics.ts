/**
 * SAE metrics (docs/methods/msae.md §5): per-prefix reconstruction and sparsity, feature density
 * per prefix and Matryoshka group, and, on data with ground truth (src/data/hierarchical.ts),
 * decoder–feature cosines, matching and absorption. The probing metrics (k-sparse probing,
 * probe-based absorption) are in probing.ts.
 *
 * Hand-written: each metric is a few sums over sparse codes; the Hungarian matching (Kuhn 1955,
 * the O(n²m) potentials form) is 40 lines and no npm package fits a Float64 cost matrix.
 */
import { minCostAssignment } from '../math/assignment.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import { checkMatrix, columnMeans, type Matrix } from '../data/matrix.js';
import type { HierarchicalData } from '../data/hierarchical.js';
import { decodeSae, encodeCode, truncateCode, type Sae, type SparseCode } from './model.js';
import { absorptionScore } from './absorption-score.js';
import { median } from '../math/order.js';

/** Reconstruction and sparsity of the sub-SAE made of the first `prefix` latents. */
export interface PrefixMetrics {
  /** The prefix size p (latents 0 … p−1). */
  prefix: number;
  /** mean_b ‖x − x̂_p‖². */
  mse: number;
  /** mse / d (per-element mean). */
  mseElement: number;
  /** FVU = E_b‖x − x̂_p‖² / E_b‖x − x̄‖², x̄ the mean of the evaluated rows (EleutherAI's definition). */
  fvu: number;
  /** 1 − FVU. */
  explainedVariance: number;
  /** mean_b #{i < p : f_i ≠ 0}. */
  l0: number;
  /** Share of the prefix's latents that never fire on the evaluated rows (1 − frac_alive). */
  deadFraction: number;
  /** Share of the prefix's latents firing on more than 10% of the rows (SAEBench freq_over_10_percent). */
  denseFraction: number;
  /** Share firing on more than 1% of the rows. */
  over1PercentFraction: number;
}

/**
 * Metrics of every prefix of `sae.cfg.prefixes` (or `options.prefixes`) on rows `x`, from one
 * encoding (inference activation: TopK, BatchTopK with θ, ReLU). Per prefix p
 * (docs/methods/msae.md §5.1): MSE = mean_b ‖x − x̂_p‖², FVU = MSE / mean_b ‖x − x̄‖² (EleutherAI
 * sparsify's definition), L0 = mean_b #{i < p : f_i ≠ 0}, dead and dense fractions as SAEBench.
 * Pass `options.code` (from `sae.encode`) to reuse an encoding.
 *
 * @example const rows = await sae.evaluate(model, test.x); // one PrefixMetrics per prefix: rows[0].fvu, rows[0].l0
 */
export async function evaluateSae(sae: Sae, x: Matrix, options: { prefixes?: number[]; code?: SparseCode } = {}): Promise<PrefixMetrics[]> {
  const where = 'sae.evaluate';
  checkKnownKeys(where, options, ['prefixes', 'code']);
  const xm = checkMatrix(where, 'x', x, 1, sae.cfg.dIn);
  if (xm.cols !== sae.cfg.dIn) throw new NestlabArgumentError(where, 'x.cols', `dIn = ${sae.cfg.dIn}`, xm.cols);
  const prefixes = options.prefixes ?? sae.cfg.prefixes;
  prefixes.forEach((p, i) => checkInt(where, `options.prefixes[${i}]`, p, 1, sae.cfg.dSae));
  const code = options.code ?? (await encodeCode(where, sae, xm));
  if (code.rows !== xm.rows) throw new NestlabArgumentError(where, 'options.code.rows', `x.rows = ${xm.rows}`, code.rows);
  const { rows: n, cols: d } = xm;
  const mean = columnMeans(xm);
  let total = 0;
  for (let b = 0; b < n; b++) for (let i = 0; i < d; i++) total += (xm.data[b * d + i] - mean[i]) ** 2;
  total /= n;
  const fires = new Float64Array(sae.cfg.dSae);
  for (let a = 0; a < code.idx.length; a++) fires[code.idx[a]]++;
  return prefixes.map((p) => {
    const c = truncateCode(code, p);
    const xhat = decodeSae(sae, c, { prefix: p });
    let sq = 0;
    for (let i = 0; i < xhat.data.length; i++) sq += (xhat.data[i] - xm.data[i]) ** 2;
    const mse = sq / n;
    let dead = 0;
    let dense = 0;
    let over1 = 0;
    for (let j = 0; j < p; j++) {
      const f = fires[j] / n;
      if (fires[j] === 0) dead++;
      if (f > 0.1) dense++;
      if (f > 0.01) over1++;
    }
    const fvu = total > 0 ? mse / total : mse === 0 ? 0 : Infinity;
    return {
      prefix: p,
      mse,
      mseElement: mse / d,
      fvu,
      explainedVariance: 1 - fvu,
      l0: c.idx.length / n,
      deadFraction: dead / p,
      denseFraction: dense / p,
      over1PercentFraction: over1 / p,
    };
  });
}

/**
 * cos(W_dec,i, t_j) = W_dec,i·t_j / (‖W_dec,i‖‖t_j‖) for every decoder row i and true feature j:
 * a [dSae, features] Matrix (docs/methods/msae.md §5.2). Zero where a norm is zero.
 *
 * @example const cos = sae.decoderFeatureCosines(model, toy.features); // toy = data.hierarchicalFeatures(); cos [dSae, 20]
 */
export function decoderFeatureCosines(sae: Sae, features: Matrix): Matrix {
  const where = 'sae.decoderFeatureCosines';
  const f = checkMatrix(where, 'features', features, 1, 1);
  const d = sae.cfg.dIn;
  if (f.cols !== d) throw new NestlabArgumentError(where, 'features.cols', `dIn = ${d}`, f.cols);
  const m = sae.cfg.dSae;
  const w = sae.params.wDec;
  const out = new Float32Array(m * f.rows);
  const fn = new Float64Array(f.rows);
  for (let j = 0; j < f.rows; j++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += f.data[j * d + i] ** 2;
    fn[j] = Math.sqrt(s);
  }
  for (let r = 0; r < m; r++) {
    let wn = 0;
    for (let i = 0; i < d; i++) wn += w[r * d + i] ** 2;
    wn = Math.sqrt(wn);
    for (let j = 0; j < f.rows; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += w[r * d + i] * f.data[j * d + i];
      out[r * f.rows + j] = wn > 0 && fn[j] > 0 ? s / (wn * fn[j]) : 0;
    }
  }
  return { data: out, rows: m, cols: f.rows };
}

/**
 * Mean over true features of the max cosine with any decoder row, MMCS = (1/F) Σ_j max_i cos_ij
 * (docs/methods/msae.md §5.2; cos from decoderFeatureCosines). 1 when every feature is learned.
 *
 * @example const mmcs = sae.meanMaxCosine(sae.decoderFeatureCosines(model, toy.features)); // in [-1, 1]
 */
export function meanMaxCosine(cos: Matrix): number {
  let total = 0;
  for (let j = 0; j < cos.cols; j++) {
    let best = -Infinity;
    for (let r = 0; r < cos.rows; r++) best = Math.max(best, cos.data[r * cos.cols + j]);
    total += best;
  }
  return total / cos.cols;
}

/**
 * One distinct latent per true feature maximizing the summed cosine Σ_j cos(latentOf[j], j)
 * (Hungarian algorithm, Kuhn 1955, on −cos; requires features ≤ latents; docs/methods/msae.md
 * §5.2). Returns latentOf[feature].
 *
 * @example const latentOf = sae.matchLatents(cos); // latentOf[j] = the latent matched to feature j
 */
export function matchLatents(cos: Matrix): Int32Array {
  const n = cos.cols; // features (assignment rows)
  const m = cos.rows; // latents (assignment columns)
  if (n > m) throw new NestlabArgumentError('sae.matchLatents', 'cos', 'at least as many latents (rows) as features (columns)', `${m} latents, ${n} features`);
  const cost = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) cost[i * m + j] = -cos.data[j * n + i];
  return minCostAssignment(cost, n, m);
}

/** Summary of matched cosines (docs/methods/msae.md §5.2). */
export interface MatchSummary {
  /** latentOf[feature]. */
  latentOf: Int32Array;
  /** cos(matched latent, feature) for each feature. */
  matchedCos: Float64Array;
  /** Mean of matchedCos. */
  diagMean: number;
  /** Smallest matchedCos (≈ 0 when a feature was not learned). */
  diagMin: number;
  /** Largest |cos| between a matched latent and a feature other than its own. */
  maxOffDiag: number;
  /** Matched latents with cos < 0.85. */
  below085: number;
}

/**
 * Hungarian matching plus its diagonal/off-diagonal summary (docs/methods/msae.md §5.2): mean and
 * min of the matched cosines, the largest |cos| of a matched latent with another feature, and the
 * count of matches below 0.85.
 *
 * @example const s = sae.matchSummary(cos); // s.diagMean, s.diagMin, s.maxOffDiag, s.below085
 */
export function matchSummary(cos: Matrix): MatchSummary {
  const latentOf = matchLatents(cos);
  const n = cos.cols;
  const matchedCos = new Float64Array(n);
  let maxOff = 0;
  for (let f = 0; f < n; f++) {
    const r = latentOf[f];
    matchedCos[f] = cos.data[r * n + f];
    for (let g = 0; g < n; g++) if (g !== f) maxOff = Math.max(maxOff, Math.abs(cos.data[r * n + g]));
  }
  let mean = 0;
  let min = Infinity;
  let below = 0;
  for (const c of matchedCos) {
    mean += c / n;
    min = Math.min(min, c);
    if (c < 0.85) below++;
  }
  return { latentOf, matchedCos, diagMean: mean, diagMin: min, maxOffDiag: maxOff, below085: below };
}

/** Absorption counts for one parent feature. */
export interface ParentAbsorption {
  /** Index of the parent feature. */
  parent: number;
  /** The latent matched to it (Hungarian matching on decoder cosine). */
  latent: number;
  /** cos(W_dec of that latent, the parent's true direction). */
  matchedCos: number;
  /** Whether the parent counts as learned: matchedCos ≥ `learnedCos`. Unlearned parents' events are kept out of the rates. */
  learned: boolean;
  /** Samples where the parent and one of its children are on. */
  events: number;
  /** …in which the parent's latent is silent (activation 0). */
  silent: number;
  /** …in which it is silent and the active child's matched latent fires with decoder cos ≥ `carryCos` to the parent. */
  carried: number;
  /** Mean over the events of SAEBench's absorption fraction (SAEBench's per-row rule, absorption-score.ts; probe = the parent's true direction). */
  absorptionFraction: number;
  /** Events that are full absorptions by SAEBench's rule. */
  fullAbsorptions: number;
}

/** What `sae.absorption` returns: absorption rates over learned parents, per-parent counts, unlearned features and the matching used. */
export interface AbsorptionResult {
  /**
   * Parent-absorption rate (docs/methods/msae.md §5.3): over all (sample, parent) events where a
   * learned parent P is on and one of its children is on, the fraction in which P's matched latent
   * (Hungarian match on decoder cosine) has activation 0.
   */
  rate: number;
  /**
   * Stricter rate over the same events: P's latent silent AND the active child's matched latent
   * fires AND that latent's decoder has cos ≥ `carryCos` (default 0.5) with P's true direction,
   * i.e. the child's latent carries the parent direction.
   */
  carriedRate: number;
  /**
   * SAEBench's absorption fraction (absorption-score.ts) averaged over the same events, with the
   * parent's true unit direction as the probe, its matched latent as the only main latent and
   * a = ⟨x, parent direction⟩: how much of the parent's projection is carried by other latents.
   */
  meanAbsorptionFraction: number;
  /** Share of the same events that are full absorptions by SAEBench's rule. */
  fullAbsorptionRate: number;
  /** The counts of each parent feature (learned or not). */
  perParent: ParentAbsorption[];
  /** (sample, parent) events over the learned parents: the denominator of the rates. */
  events: number;
  /** Events of unlearned parents (matched cos < `learnedCos`), not counted as absorption. */
  eventsUnlearned: number;
  /** …of which the parent's matched latent is silent. */
  silentUnlearned: number;
  /** Features (parents, children or independent) whose matched latent has cos < `learnedCos`: not learned. */
  unlearned: number[];
  /** unlearned.length. */
  unlearnedCount: number;
  /** The decoder-cosine threshold of `carriedRate`. */
  carryCos: number;
  /** The matched-cosine threshold below which a feature counts as unlearned. */
  learnedCos: number;
  /** The latent–feature matching the rates use. */
  match: MatchSummary;
}

/**
 * Absorption of the parents of a hierarchical toy (src/data/hierarchical.ts) by an SAE, on the
 * toy's samples (or its first `options.samples`), docs/methods/msae.md §5.3. Latents are matched to
 * features by the Hungarian matching on decoder–feature cosine; a feature whose matched cosine is
 * below `learnedCos` (default 0.5) is unlearned, and events of unlearned parents are reported
 * apart (`eventsUnlearned`) instead of counting as absorption. Over the events of learned parents:
 * rate = #(parent latent silent) / #(parent and a child on); carriedRate also requires the child's
 * latent to fire with decoder cos ≥ `carryCos` (default 0.5; the old 0.1 passed for any child
 * latent) to the parent; meanAbsorptionFraction / fullAbsorptionRate are SAEBench's projection
 * scores with the true parent direction as the probe (the toy of Bussmann et al. 2025 §4.1).
 *
 * @example const a = await sae.absorption(model, toy); // toy = data.hierarchicalFeatures(); a.rate, a.carriedRate, a.unlearned
 */
export async function absorption(
  sae: Sae,
  data: HierarchicalData,
  options: { samples?: number; carryCos?: number; learnedCos?: number; code?: SparseCode } = {},
): Promise<AbsorptionResult> {
  const where = 'sae.absorption';
  checkKnownKeys(where, options, ['samples', 'carryCos', 'learnedCos', 'code']);
  const n = checkInt(where, 'options.samples', options.samples ?? data.samples.rows, 1, data.samples.rows);
  const carryCos = checkNumber(where, 'options.carryCos', options.carryCos ?? 0.5, -1, 1);
  const learnedCos = checkNumber(where, 'options.learnedCos', options.learnedCos ?? 0.5, -1, 1);
  const cos = decoderFeatureCosines(sae, data.features);
  const match = matchSummary(cos);
  const x: Matrix = { data: data.samples.data.subarray(0, n * data.samples.cols), rows: n, cols: data.samples.cols };
  const code = options.code ?? (await encodeCode(where, sae, x));
  if (code.rows < n) throw new NestlabArgumentError(where, 'options.code.rows', `at least ${n} (the samples)`, code.rows);
  const F = data.nFeatures;
  const d = data.samples.cols;
  const m = sae.cfg.dSae;
  const fired = (b: number, latent: number): boolean => {
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) if (code.idx[a] === latent) return code.val[a] > 0;
    return false;
  };
  const unlearned: number[] = [];
  for (let f = 0; f < F; f++) if (match.matchedCos[f] < learnedCos) unlearned.push(f);
  const perParent: ParentAbsorption[] = data.parentIndices.map((p) => ({
    parent: p,
    latent: match.latentOf[p],
    matchedCos: match.matchedCos[p],
    learned: match.matchedCos[p] >= learnedCos,
    events: 0,
    silent: 0,
    carried: 0,
    absorptionFraction: 0,
    fullAbsorptions: 0,
  }));
  // SAEBench's projection score per parent: probe = the parent's unit direction, main latent = its match
  const scoring = perParent.map((pa) => {
    const dir = new Float64Array(d);
    let norm = 0;
    for (let j = 0; j < d; j++) norm += data.features.data[pa.parent * d + j] ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) dir[j] = norm > 0 ? data.features.data[pa.parent * d + j] / norm : 0;
    const cosP = new Float64Array(m);
    for (let i = 0; i < m; i++) cosP[i] = cos.data[i * F + pa.parent];
    const isMain = new Uint8Array(m);
    isMain[pa.latent] = 1;
    return { dir, cosP, isMain };
  });
  for (let b = 0; b < n; b++) {
    perParent.forEach((pa, q) => {
      if (!data.active[b * F + pa.parent]) return;
      const child = data.children[pa.parent].find((c) => data.active[b * F + c]);
      if (child === undefined) return;
      pa.events++;
      let a = 0;
      for (let j = 0; j < d; j++) a += x.data[b * d + j] * scoring[q].dir[j];
      const score = absorptionScore(code, b, scoring[q].cosP, scoring[q].isMain, a);
      pa.absorptionFraction += score.fraction;
      if (score.full) pa.fullAbsorptions++;
      if (fired(b, pa.latent)) return;
      pa.silent++;
      const cl = match.latentOf[child];
      if (fired(b, cl) && cos.data[cl * F + pa.parent] >= carryCos) pa.carried++;
    });
  }
  let events = 0;
  let silent = 0;
  let carried = 0;
  let fraction = 0;
  let full = 0;
  let eventsUnlearned = 0;
  let silentUnlearned = 0;
  for (const pa of perParent) {
    if (pa.learned) {
      events += pa.events;
      silent += pa.silent;
      carried += pa.carried;
      fraction += pa.absorptionFraction;
      full += pa.fullAbsorptions;
    } else {
      eventsUnlearned += pa.events;
      silentUnlearned += pa.silent;
    }
    pa.absorptionFraction = pa.events > 0 ? pa.absorptionFraction / pa.events : 0;
  }
  const share = (v: number) => (events > 0 ? v / events : 0);
  return {
    rate: share(silent),
    carriedRate: share(carried),
    meanAbsorptionFraction: share(fraction),
    fullAbsorptionRate: share(full),
    perParent,
    events,
    eventsUnlearned,
    silentUnlearned,
    unlearned,
    unlearnedCount: unlearned.length,
    carryCos,
    learnedCos,
    match,
  };
}

/** Options of `sae.featureDensity`. */
export interface FeatureDensityOptions {
  /** Prefix sizes; their consecutive differences are the Matryoshka groups. Default: the SAE's `cfg.prefixes`. */
  prefixes?: number[];
  /** Number of histogram bins over log10 frequency. Default 20. */
  bins?: number;
  /** [lo, hi] of the log10-frequency bins. Default [min(−1, ⌊log10(1/rows)⌋), 0]. */
  range?: [number, number];
  /** A code of x from `sae.encode` to reuse (all latents, no prefix). Default: encode x. */
  code?: SparseCode;
}

/** The log10 firing-frequency histogram of one set of latents [start, end). */
export interface DensityHistogram {
  /** 'prefix': latents [0, end); 'group': one Matryoshka group [start, end). */
  scope: 'prefix' | 'group';
  /** First latent. */
  start: number;
  /** One past the last latent (the prefix p). */
  end: number;
  /** end − start. */
  latents: number;
  /** Latents that never fire on the rows (frequency 0), kept out of the bins. */
  dead: number;
  /** dead / latents. */
  deadFraction: number;
  /** Live latents per bin of log10 frequency (bins of `edges`; the last bin includes its upper edge). */
  counts: number[];
  /** Live latents whose log10 frequency lies outside the range (only with a custom `range`). */
  outside: number;
  /** Median log10 frequency of the live latents (null when all are dead). */
  medianLog10: number | null;
}

/** What `sae.featureDensity` returns: per-latent frequencies and their histograms per prefix and per group. */
export interface FeatureDensity {
  /** Rows the frequencies were measured on. */
  rows: number;
  /** Frequency of every latent: #{rows where f_j > 0} / rows (SAEBench's feature_density). */
  frequency: Float64Array;
  /** The bins' log10-frequency edges, bins + 1 of them. */
  edges: number[];
  /** One histogram per prefix: latents [0, p). */
  byPrefix: DensityHistogram[];
  /** One histogram per Matryoshka group: latents [p_{j−1}, p_j) (p_0 = 0). */
  byGroup: DensityHistogram[];
}

/**
 * Feature density per prefix and per Matryoshka group: each latent's firing frequency
 * freq_j = #{b : f_{b,j} > 0} / rows (SAEBench `evals/core/main.py` feature_density), binned by
 * log10 freq_j into `bins` equal bins over `range`; dead latents (freq 0, whose log is −∞) are
 * counted apart. Groups are [p_{j−1}, p_j) for the sorted prefixes, so `byGroup` at the end
 * answers "is the last group dead" (docs/methods/msae.md §5.6).
 *
 * @example const dens = await sae.featureDensity(model, test.x, { bins: 20 }); // dens.byGroup.at(-1).deadFraction
 */
export async function featureDensity(sae: Sae, x: Matrix, options: FeatureDensityOptions = {}): Promise<FeatureDensity> {
  const where = 'sae.featureDensity';
  checkKnownKeys(where, options, ['prefixes', 'bins', 'range', 'code']);
  const xm = checkMatrix(where, 'x', x, 1, sae.cfg.dIn);
  if (xm.cols !== sae.cfg.dIn) throw new NestlabArgumentError(where, 'x.cols', `dIn = ${sae.cfg.dIn}`, xm.cols);
  const m = sae.cfg.dSae;
  const raw = options.prefixes ?? sae.cfg.prefixes;
  if (!Array.isArray(raw) || raw.length === 0) throw new NestlabArgumentError(where, 'options.prefixes', 'a non-empty array of prefix sizes', raw);
  raw.forEach((p, i) => checkInt(where, `options.prefixes[${i}]`, p, 1, m));
  const prefixes = [...new Set(raw)].sort((a, b) => a - b);
  const bins = checkInt(where, 'options.bins', options.bins ?? 20, 1, 10000);
  const n = xm.rows;
  let lo = densityFloor(n);
  let hi = 0;
  if (options.range !== undefined) {
    const r = options.range;
    if (!Array.isArray(r) || r.length !== 2) throw new NestlabArgumentError(where, 'options.range', 'a pair [lo, hi] of log10 frequencies', r);
    lo = checkNumber(where, 'options.range[0]', r[0]);
    hi = checkNumber(where, 'options.range[1]', r[1]);
    if (!(hi > lo)) throw new NestlabArgumentError(where, 'options.range', 'lo < hi', `[${lo}, ${hi}]`);
  }
  const code = options.code ?? (await encodeCode(where, sae, xm));
  if (code.rows !== n) throw new NestlabArgumentError(where, 'options.code.rows', `x.rows = ${n}`, code.rows);
  const count = new Float64Array(m);
  for (let a = 0; a < code.idx.length; a++) if (code.val[a] > 0) count[code.idx[a]]++;
  const frequency = count.map((c) => c / n);
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const histogram = (scope: 'prefix' | 'group', start: number, end: number) => densityHistogram(frequency, scope, start, end, lo, hi, bins);
  return {
    rows: n,
    frequency,
    edges,
    byPrefix: prefixes.map((p) => histogram('prefix', 0, p)),
    byGroup: prefixes.map((p, i) => histogram('group', i === 0 ? 0 : prefixes[i - 1], p)),
  };
}

/** The default low end of the log10 density range for `rows` rows: log10(1/rows), at most −1. */
export function densityFloor(rows: number): number {
  return Math.min(-1, Math.floor(Math.log10(1 / Math.max(1, rows))));
}

/**
 * The histogram of log10 firing frequency of latents start … end − 1 over [lo, hi] in `bins`
 * equal bins (dead latents, frequency 0, counted apart; live ones outside the range too), with
 * the median log10 frequency of the live ones: what `featureDensity` reports per prefix or group.
 */
export function densityHistogram(frequency: ArrayLike<number>, scope: 'prefix' | 'group', start: number, end: number, lo: number, hi: number, bins: number): DensityHistogram {
  const counts = new Array<number>(bins).fill(0);
  let dead = 0;
  let outside = 0;
  const logs: number[] = [];
  for (let j = start; j < end; j++) {
    if (frequency[j] === 0) {
      dead++;
      continue;
    }
    const l = Math.log10(frequency[j]);
    logs.push(l);
    if (l < lo || l > hi) {
      outside++;
      continue;
    }
    counts[Math.min(bins - 1, Math.floor(((l - lo) / (hi - lo)) * bins))]++;
  }
  const medianLog10 = logs.length === 0 ? null : median(Float64Array.from(logs));
  return { scope, start, end, latents: end - start, dead, deadFraction: dead / (end - start), counts, outside, medianLog10 };
}

/**
 * Latent indices ordered by how often they fire on x, #{b : f_{b,j} > 0} (most first; ties by
 * index): the order `sae.permuteLatents` takes to read a flat SAE by prefix (docs/methods/msae.md §1.7).
 *
 * @example const order = await sae.latentsByFrequency(model, x); // order[0] fires most often
 */
export async function latentsByFrequency(sae: Sae, x: Matrix): Promise<Int32Array> {
  const code = await encodeCode('sae.latentsByFrequency', sae, x);
  const count = new Float64Array(sae.cfg.dSae);
  for (const i of code.idx) count[i]++;
  return Int32Array.from(Array.from({ length: sae.cfg.dSae }, (_, i) => i).sort((a, b) => count[b] - count[a] || a - b));
}
