/**
 * Canonical correlation analysis and the measures built on it: SVCCA (Raghu, Gilmer, Yosinski &
 * Sohl-Dickstein, NeurIPS 2017) and PWCCA (Morcos, Raghu & Bengio, NeurIPS 2018), after
 * google/svcca (cca_core.py, pwcca.py).
 *
 * Canonical correlations rho_i are the singular values of Sxx^{-1/2} Sxy Syy^{-1/2}. Here the
 * three centered cross-products X_c^T X_c, Y_c^T Y_c, X_c^T Y_c are tfjs matMuls; the whitening
 * (eigendecomposition of the p x p and q x q Grams) and the final SVD are small Float64 problems
 * solved by ./linalg.ts, because tfjs has no eigensolver or SVD. Directions whose eigenvalue is
 * below `rankTol` times the largest are dropped (a pseudo-inverse), so rank-deficient inputs
 * give as many correlations as the smaller rank.
 *
 * Caveat (Kornblith et al. 2019; google/svcca README): CCA is invariant to any invertible linear
 * map, so when rank(X) + rank(Y) > n - 1 some correlations are 1 whatever the data
 * (`saturated: true` in the result). Keep p, q well below n, or use SVCCA's truncation.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { columnMeans, type Matrix } from '../data/matrix.js';
import { centeredProducts, checkPair, type CenteredProducts } from './common.js';
import { cholesky, matmul, smallSvd, solveUpperTransposed, symmetricEigen, transpose } from '../math/linalg.js';

/** Canonical correlations and their summary. */
export interface CcaResult {
  /** Canonical correlations, descending, each in [0, 1]; length min(keptX, keptY). */
  rho: Float64Array;
  /** Mean of rho (the SVCCA similarity; google/svcca's "mean" trims trailing rho beyond 98 % of their sum: see `trimmedMean`). */
  mean: number;
  /** Directions of X (of Y) that entered the CCA: its numerical rank, or the SVD truncation for SVCCA. */
  keptX: number;
  /** Directions of Y that entered the CCA (as keptX). */
  keptY: number;
  /** keptX + keptY > n - 1: some correlations are 1 by construction (too few samples). */
  saturated: boolean;
}

/** Options of {@link cca}. */
export interface CcaOptions {
  /** Eigenvalues of X_c^T X_c below rankTol * the largest are treated as 0 (pseudo-inverse). Default 1e-6 (the Grams are float32 products). */
  rankTol?: number;
  /** Ridge added to the covariance scaled to max |entry| = 1, as google/svcca's `epsilon`. Default 0. */
  epsilon?: number;
}

/** Options of {@link svcca}. */
export interface SvccaOptions extends CcaOptions {
  /** Keep the fewest top singular directions of each layer whose variance reaches this fraction. Default 0.99 (Raghu et al.). */
  varianceKept?: number;
  /** Keep exactly this many top directions of each layer instead (google's tutorial uses 20); not with varianceKept. */
  dims?: number;
}

/** Options of {@link pwcca}. */
export interface PwccaOptions extends CcaOptions {
  /**
   * 'paper' (default): h_i = the canonical variates of the layer with fewer units (unit-norm
   * vectors over the samples), alpha_i = sum_j |<h_i, x_j>| over its centered units (Morcos et
   * al. 2018, Eq. 3). 'google': google/svcca pwcca.py's computation (QR of
   * u^T (X - mean) + mean without the whitening, weights against the uncentered units), with its
   * crashing else-branch replaced by the symmetric rule. The two differ slightly (fixture F:
   * 0.96268 vs 0.95842).
   */
  variant?: 'paper' | 'google';
}

/** PWCCA result. */
export interface PwccaResult extends CcaResult {
  /** Projection-weighted mean of rho. */
  similarity: number;
  /** 1 - similarity (Morcos et al.'s distance). */
  distance: number;
  /** Normalized weights alpha_i (sum 1), aligned with rho. */
  weights: Float64Array;
  /** Which layer's canonical variates were weighted (the one with fewer units; X on ties). */
  side: 'X' | 'Y';
}

/** A whitening basis: P = V_k diag(1/sqrt(lambda_k + ridge)) (p x k), with V_k the kept eigenvectors. */
interface Whitening {
  p: number;
  k: number;
  /** p x k row-major. */
  P: Float64Array;
  /** p x k row-major: the kept eigenvectors. */
  V: Float64Array;
}

type Truncation = { kind: 'rank'; rankTol: number } | { kind: 'variance'; fraction: number; rankTol: number } | { kind: 'dims'; dims: number; rankTol: number };

function whiten(g: Float64Array, p: number, trunc: Truncation, epsilon: number): Whitening {
  const eig = symmetricEigen(g, p);
  const lmax = Math.max(eig.values[0], 0);
  let rank = 0;
  while (rank < p && eig.values[rank] > trunc.rankTol * lmax && eig.values[rank] > 0) rank++;
  let k = rank;
  if (trunc.kind === 'variance') {
    let total = 0;
    for (let i = 0; i < rank; i++) total += eig.values[i];
    let acc = 0;
    k = 0;
    while (k < rank) {
      acc += eig.values[k];
      k++;
      if (acc >= trunc.fraction * total * (1 - 1e-12)) break;
    }
  } else if (trunc.kind === 'dims') {
    k = Math.min(trunc.dims, rank);
  }
  let scale = 0;
  for (let i = 0; i < g.length; i++) scale = Math.max(scale, Math.abs(g[i]));
  const P = new Float64Array(p * k);
  const V = new Float64Array(p * k);
  for (let j = 0; j < k; j++) {
    const w = 1 / Math.sqrt(eig.values[j] + epsilon * scale);
    for (let i = 0; i < p; i++) {
      V[i * k + j] = eig.vectors[i * p + j];
      P[i * k + j] = eig.vectors[i * p + j] * w;
    }
  }
  return { p, k, P, V };
}

interface CcaCore {
  rho: Float64Array;
  wx: Whitening;
  wy: Whitening;
  /** kx x r and ky x r singular vectors of T = Px^T Gxy Py. */
  u: Float64Array;
  v: Float64Array;
  r: number;
}

function ccaCore(prod: CenteredProducts, tx: Truncation, ty: Truncation, epsilon: number, where: string): CcaCore {
  const wx = whiten(prod.xx, prod.p, tx, epsilon);
  const wy = whiten(prod.yy, prod.q, ty, epsilon);
  if (wx.k === 0) throw new NestlabArgumentError(where, 'X', 'a representation with non-zero variance', 'constant columns');
  if (wy.k === 0) throw new NestlabArgumentError(where, 'Y', 'a representation with non-zero variance', 'constant columns');
  // T = Px^T Gxy Py  (kx x ky)
  const gxyPy = matmul(prod.xy, wy.P, prod.p, prod.q, wy.k);
  const t = matmul(transpose(wx.P, prod.p, wx.k), gxyPy, wx.k, prod.p, wy.k);
  const svd = smallSvd(t, wx.k, wy.k);
  const r = Math.min(wx.k, wy.k);
  const rho = new Float64Array(r);
  for (let i = 0; i < r; i++) rho[i] = Math.min(1, Math.max(0, svd.s[i]));
  return { rho, wx, wy, u: svd.u, v: svd.v, r };
}

function summary(core: CcaCore, n: number): CcaResult {
  let s = 0;
  for (const x of core.rho) s += x;
  return { rho: core.rho, mean: s / core.r, keptX: core.wx.k, keptY: core.wy.k, saturated: core.wx.k + core.wy.k > n - 1 };
}

function readCcaOptions(where: string, options: CcaOptions): { rankTol: number; epsilon: number } {
  return {
    rankTol: checkNumber(where, 'options.rankTol', options.rankTol ?? 1e-6, 0, 1),
    epsilon: checkNumber(where, 'options.epsilon', options.epsilon ?? 0, 0),
  };
}

/**
 * Canonical correlations between X (n x p) and Y (n x q): the singular values of
 * Sxx^{-1/2} Sxy Syy^{-1/2} on column-centered data (Hotelling 1936; google/svcca
 * `get_cca_similarity`). Invariant to invertible linear maps and translations of either input.
 *
 * @throws NestlabArgumentError on row mismatch, n < 2, non-finite or constant input.
 *
 * @example const { rho, saturated } = await similarity.cca(x, y); // rho descending in [0, 1]
 */
export async function cca(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, options: CcaOptions = {}): Promise<CcaResult> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.cca';
  checkKnownKeys(where, options, ['rankTol', 'epsilon']);
  const { rankTol, epsilon } = readCcaOptions(where, options);
  const [x, y] = checkPair(where, X, Y, 2);
  const prod = await centeredProducts(x, y);
  const tr: Truncation = { kind: 'rank', rankTol };
  return summary(ccaCore(prod, tr, tr, epsilon, where), x.rows);
}

/**
 * SVCCA (Raghu et al. 2017): keep each layer's top singular directions (by default the fewest
 * that explain 99 % of its variance, or exactly `dims`), then CCA between the two reduced
 * representations; similarity = mean canonical correlation (`mean` of the result). Invariant to
 * invertible linear maps within the kept subspaces and to orthogonal maps and scaling before the
 * SVD. The SVD is the eigendecomposition of X_c^T X_c (Float64, ./linalg.ts).
 *
 * @example const { mean } = await similarity.svcca(x, y, { varianceKept: 0.99 }); // mean canonical correlation of the kept directions
 */
export async function svcca(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, options: SvccaOptions = {}): Promise<CcaResult> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.svcca';
  checkKnownKeys(where, options, ['rankTol', 'epsilon', 'varianceKept', 'dims']);
  const { rankTol, epsilon } = readCcaOptions(where, options);
  if (options.varianceKept !== undefined && options.dims !== undefined) {
    throw new NestlabArgumentError(where, 'options', 'either varianceKept or dims, not both', 'both');
  }
  let tr: Truncation;
  if (options.dims !== undefined) {
    tr = { kind: 'dims', dims: checkInt(where, 'options.dims', options.dims, 1), rankTol };
  } else {
    const fraction = checkNumber(where, 'options.varianceKept', options.varianceKept ?? 0.99, Number.MIN_VALUE, 1);
    tr = { kind: 'variance', fraction, rankTol };
  }
  const [x, y] = checkPair(where, X, Y, 2);
  const prod = await centeredProducts(x, y);
  return summary(ccaCore(prod, tr, tr, epsilon, where), x.rows);
}

/**
 * Projection-weighted CCA (Morcos et al. 2018): sum_i alpha_i rho_i with alpha_i proportional to
 * sum_j |<h_i, x_j>|, h_i the canonical variates of the layer with fewer units and x_j its units
 * (see `variant`). distance = 1 - similarity. Uses all directions above `rankTol` (no SVD
 * truncation), like google/svcca's compute_pwcca.
 *
 * @example const r = await similarity.pwcca(x, y); // r.similarity, and r.distance = 1 - r.similarity
 */
export async function pwcca(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, options: PwccaOptions = {}): Promise<PwccaResult> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.pwcca';
  checkKnownKeys(where, options, ['rankTol', 'epsilon', 'variant']);
  const { rankTol, epsilon } = readCcaOptions(where, options);
  const variant = checkOneOf(where, 'options.variant', options.variant ?? 'paper', ['paper', 'google'] as const);
  const [x, y] = checkPair(where, X, Y, 2);
  const prod = await centeredProducts(x, y);
  const tr: Truncation = { kind: 'rank', rankTol };
  const core = ccaCore(prod, tr, tr, epsilon, where);
  const side: 'X' | 'Y' = x.cols <= y.cols ? 'X' : 'Y';
  const w = side === 'X' ? core.wx : core.wy;
  const g = side === 'X' ? prod.xx : prod.yy;
  const units = side === 'X' ? x : y;
  const vecs = side === 'X' ? core.u : core.v; // k x r
  const k = w.k;
  const p = w.p;
  const r = core.r;
  // Coefficients over units of each direction: p x r.
  let coef: Float64Array;
  if (variant === 'paper') coef = matmul(w.P, vecs, p, k, r); // Px U: canonical weights
  else coef = matmul(w.V, vecs, p, k, r); // google's u (in whitened neuron coordinates) = V_k u
  const coefT = transpose(coef, p, r); // r x p
  const cg = matmul(coefT, g, r, p, p); // coef^T G  (r x p)
  let proj: Float64Array; // r x p: <h_i, x_j>
  if (variant === 'paper') {
    // h_i = X_c coef_i has ||h_i||^2 = coef_i^T G coef_i (= 1 up to rounding); normalize anyway.
    proj = cg;
    const norms = matmul(cg, coef, r, p, r);
    for (let i = 0; i < r; i++) {
      const s = Math.sqrt(Math.max(norms[i * r + i], 1e-300));
      for (let j = 0; j < p; j++) proj[i * p + j] /= s;
    }
  } else {
    // D = X_c coef + 1 m^T (google adds neuron i's mean to direction i); P = D R^{-1} (QR);
    // weights use P^T X with X uncentered: D^T D = coef^T G coef + n m m^T, D^T X = coef^T G + n m m^T.
    const n = units.rows;
    const mu = columnMeans(units);
    const m = new Float64Array(r);
    for (let i = 0; i < r; i++) m[i] = mu[i] ?? 0;
    const dtd = matmul(cg, coef, r, p, r);
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) dtd[i * r + j] += n * m[i] * m[j];
    const dtx = Float64Array.from(cg);
    for (let i = 0; i < r; i++) for (let j = 0; j < p; j++) dtx[i * p + j] += n * m[i] * mu[j];
    let R: Float64Array;
    try {
      R = cholesky(dtd, r, where);
    } catch {
      throw new NestlabArgumentError(where, side, 'units whose canonical directions are linearly independent (google variant)', 'a rank-deficient layer');
    }
    proj = solveUpperTransposed(R, r, dtx, p);
  }
  const weights = new Float64Array(r);
  let total = 0;
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < p; j++) s += Math.abs(proj[i * p + j]);
    weights[i] = s;
    total += s;
  }
  let similarity = 0;
  for (let i = 0; i < r; i++) {
    weights[i] /= total;
    similarity += weights[i] * core.rho[i];
  }
  return { ...summary(core, x.rows), similarity, distance: 1 - similarity, weights, side };
}

/**
 * google/svcca's "mean": the mean of rho[:i] for the first i with sum(rho[:i]) >= threshold *
 * sum(rho) (threshold 0.98 there), or of all rho when no such i < length exists.
 */
export function trimmedMean(rho: ArrayLike<number>, threshold = 0.98): number {
  checkNumber('similarity.pwcca', 'threshold', threshold, 0, 1);
  let total = 0;
  for (let i = 0; i < rho.length; i++) total += rho[i];
  let acc = 0;
  let cut = rho.length;
  for (let i = 0; i < rho.length; i++) {
    if (acc / total >= threshold) {
      cut = i;
      break;
    }
    acc += rho[i];
  }
  if (cut === 0) cut = rho.length;
  let s = 0;
  for (let i = 0; i < cut; i++) s += rho[i];
  return s / cut;
}
