/**
 * SAE metrics (docs/methods/msae.md §5): per-prefix reconstruction and sparsity, and, on data with
 * ground truth (src/data/hierarchical.ts), decoder–feature cosines, matching and absorption.
 *
 * Hand-written: each metric is a few sums over sparse codes; the Hungarian matching (Kuhn 1955,
 * the O(n²m) potentials form) is 40 lines and no npm package fits a Float64 cost matrix.
 */
import { minCostAssignment } from '../math/assignment.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import { checkMatrix, columnMeans, type Matrix } from '../data/matrix.js';
import type { HierarchicalData } from '../data/hierarchical.js';
import { decodeSae, encodeSae, truncateCode, type Sae, type SparseCode } from './model.js';

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
  const code = options.code ?? (await encodeSae(sae, xm));
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
  /** The latent matched to it. */
  latent: number;
  /** Samples where the parent and one of its children are on. */
  events: number;
  /** …in which the parent's latent is silent. */
  silent: number;
  /** …in which it is silent and the child's matched latent fires carrying the parent direction. */
  carried: number;
}

/** What `sae.absorption` returns: absorption rates, per-parent counts and the matching used. */
export interface AbsorptionResult {
  /**
   * Parent-absorption rate (docs/methods/msae.md §5.3): over all (sample, parent) pairs
   * where parent P is on and one of its children is on, the fraction in which P's matched latent
   * (Hungarian match on decoder cosine) has activation 0.
   */
  rate: number;
  /**
   * Stricter rate: silent parent latent AND the active child's matched latent
   * fires AND that latent's decoder has cos ≥ `carryCos` with the parent's true direction, i.e.
   * the child latent carries the parent direction.
   */
  carriedRate: number;
  /** The counts of each parent feature. */
  perParent: ParentAbsorption[];
  /** Total (sample, parent) events over all parents. */
  events: number;
  /** The latent–feature matching the rates use. */
  match: MatchSummary;
}

/**
 * Absorption of the parents of a hierarchical toy (src/data/hierarchical.ts) by an SAE, on the
 * toy's samples (or its first `options.samples`). Matching uses decoder–feature cosines.
 * rate = #(parent latent silent) / #(parent and a child on); carriedRate also requires the child's
 * latent to fire with decoder cos ≥ `carryCos` (default 0.1) to the parent (docs/methods/msae.md
 * §5.3; the toy of Bussmann et al. 2025 §4.1).
 *
 * @example const a = await sae.absorption(model, toy); // toy = data.hierarchicalFeatures(); a.rate, a.carriedRate
 */
export async function absorption(sae: Sae, data: HierarchicalData, options: { samples?: number; carryCos?: number; code?: SparseCode } = {}): Promise<AbsorptionResult> {
  const where = 'sae.absorption';
  checkKnownKeys(where, options, ['samples', 'carryCos', 'code']);
  const n = checkInt(where, 'options.samples', options.samples ?? data.samples.rows, 1, data.samples.rows);
  const carryCos = checkNumber(where, 'options.carryCos', options.carryCos ?? 0.1, -1, 1);
  const cos = decoderFeatureCosines(sae, data.features);
  const match = matchSummary(cos);
  const x: Matrix = { data: data.samples.data.subarray(0, n * data.samples.cols), rows: n, cols: data.samples.cols };
  const code = options.code ?? (await encodeSae(sae, x));
  const F = data.nFeatures;
  const fired = (b: number, latent: number): boolean => {
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) if (code.idx[a] === latent) return code.val[a] > 0;
    return false;
  };
  const perParent: ParentAbsorption[] = data.parentIndices.map((p) => ({ parent: p, latent: match.latentOf[p], events: 0, silent: 0, carried: 0 }));
  for (let b = 0; b < n; b++) {
    for (const pa of perParent) {
      if (!data.active[b * F + pa.parent]) continue;
      const child = data.children[pa.parent].find((c) => data.active[b * F + c]);
      if (child === undefined) continue;
      pa.events++;
      if (fired(b, pa.latent)) continue;
      pa.silent++;
      const cl = match.latentOf[child];
      if (fired(b, cl) && cos.data[cl * F + pa.parent] >= carryCos) pa.carried++;
    }
  }
  const events = perParent.reduce((a, p) => a + p.events, 0);
  const silent = perParent.reduce((a, p) => a + p.silent, 0);
  const carried = perParent.reduce((a, p) => a + p.carried, 0);
  return { rate: events > 0 ? silent / events : 0, carriedRate: events > 0 ? carried / events : 0, perParent, events, match };
}

/**
 * Latent indices ordered by how often they fire on x, #{b : f_{b,j} > 0} (most first; ties by
 * index): the order `sae.permuteLatents` takes to read a flat SAE by prefix (docs/methods/msae.md §1.7).
 *
 * @example const order = await sae.latentsByFrequency(model, x); // order[0] fires most often
 */
export async function latentsByFrequency(sae: Sae, x: Matrix): Promise<Int32Array> {
  const code = await encodeSae(sae, x);
  const count = new Float64Array(sae.cfg.dSae);
  for (const i of code.idx) count[i]++;
  return Int32Array.from(Array.from({ length: sae.cfg.dSae }, (_, i) => i).sort((a, b) => count[b] - count[a] || a - b));
}
