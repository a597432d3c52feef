/**
 * Representational dissimilarity matrices (RDMs) from a [stimuli x channels] matrix, with
 * rsatoolbox's definitions and scaling (rsatoolbox/rdm/calc.py; docs/methods/rsa.md §4).
 *
 * Every method reduces to one Gram matrix Z Z^T of a transformed pattern matrix Z, computed on the
 * tfjs backend (GPU when present); the Euclidean, correlation and cosine RDMs of one matrix share a
 * single Gram product (`computeRdms`), which `matMulT` hands to the BLAS as ssyrk (half the
 * work) when it is loaded, and to XNNPACK with an explicit transpose otherwise. The read-back is `await data()` (webgpu safe); the O(n^2) assembly of
 * the condensed vector is a plain float64 loop (hand-written: no tfjs op extracts a triangle
 * cheaply).
 *
 * Numerics: the Gram matrix is float32, so dissimilarities carry a relative error of about 1e-6;
 * patterns are centered over stimuli (and over channels) before the Gram product, with exact
 * identities restoring the terms (SharedGram), to avoid cancellation in |a|^2 + |b|^2 - 2ab.
 * Euclidean/correlation/cosine values are rounded to float32 (their real precision), which also
 * lets the rank-based comparators sort them with 32-bit keys.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { matMulT } from '../backend/wasm-matmul.js';
import { checkMatrix, type Matrix, type MatrixLike } from '../data/matrix.js';
import { NestlabArgumentError, checkKnownKeys, checkNumber, checkOneOf, checkFinite } from '../errors.js';
import { checkMemory, resolveMemoryBudget } from '../backend/memory.js';
import { cholesky, transpose } from '../math/linalg.js';
import { checkDescriptors, condensedLength, makeRdm, type PatternDescriptors, type Rdm } from './condensed.js';

/** RDM methods, named as rsatoolbox's `calc_rdm` names them, plus scipy's plain Euclidean. */
export const RDM_METHODS = ['euclidean', 'plain_euclidean', 'correlation', 'cosine', 'mahalanobis', 'poisson'] as const;
/** One of RDM_METHODS: how `rsa.computeRdm` measures dissimilarity (formulas in RdmOptions.method). */
export type RdmMethod = (typeof RDM_METHODS)[number];

/** A P x P matrix: row-major numbers (length P*P) or a Matrix. */
export type SquareMatrixLike = ArrayLike<number> | Matrix;

/** Options of `rsa.computeRdm` (and of `rsa.computeRdms`, without `method`). */
export interface RdmOptions {
  /**
   * - 'euclidean' (default): squared Euclidean distance divided by the number of channels P,
   *   ||x_i - x_j||^2 / P, rsatoolbox's 'euclidean' (measure 'squared euclidean').
   * - 'plain_euclidean': ||x_i - x_j|| (scipy `pdist(x, 'euclidean')`).
   * - 'correlation': 1 - Pearson r of the two patterns across channels (not divided by P).
   * - 'cosine': 1 - cosine of the two patterns (scipy `pdist(x, 'cosine')`).
   * - 'mahalanobis': (x_i - x_j)^T Lambda (x_i - x_j) / P with Lambda the noise precision.
   * - 'poisson': sum_k (x~_ik - x~_jk)(log x~_ik - log x~_jk) / P with x~ = (x + lambda w)/(1 + w)
   *   (symmetrized KL of Poisson rates, rsatoolbox's code formula; counts must be >= 0).
   */
  method?: RdmMethod;
  /** Noise precision Lambda (P x P, symmetric positive definite) for 'mahalanobis'. */
  precision?: SquareMatrixLike;
  /** Noise covariance Sigma (P x P); Lambda = Sigma^-1. Give this or `precision`, not both. */
  noiseCovariance?: SquareMatrixLike;
  /** Subtract each pattern's mean over channels first (euclidean-type methods only), as rsatoolbox's remove_mean. */
  removeMean?: boolean;
  /** Poisson prior rate lambda (default 1, as rsatoolbox's prior_lambda). */
  priorLambda?: number;
  /** Poisson prior weight w (default 0.1, as rsatoolbox's prior_weight). */
  priorWeight?: number;
  /** Descriptors of the stimuli (rows of x) to keep with the RDM, e.g. { label: [...] }. */
  patternDescriptors?: PatternDescriptors;
  /**
   * Bytes the call may use (a positive number, or Infinity for no check). The peak is estimated
   * from n, P and the methods before anything is allocated (`rdmMemoryEstimate`), and a call
   * above the budget is refused with the estimate in the error. Default: NESTLAB_MEMORY_BUDGET
   * if set, else half of the memory available at the call (docs/methods/compute.md §3b).
   */
  memoryBudget?: number;
}

const RDM_KEYS = ['method', 'precision', 'noiseCovariance', 'removeMean', 'priorLambda', 'priorWeight', 'patternDescriptors', 'memoryBudget'];

/**
 * The peak bytes of `computeRdms(x, methods)` for n stimuli and P channels
 * (docs/methods/compute.md §3b). Tensors are counted until the call returns, because the wasm
 * heap they live in keeps its high-water mark:
 *  - tensors: the pattern phase, 4nP per [n, P] float32 tensor alive in it (3 for the Gram
 *    methods: input, centered, doubly centered; one more with removeMean; 4 for 'poisson'; 4 and
 *    the 4P² whitening matrix for 'mahalanobis'), plus the 4n² Gram matrix;
 *  - host: each Gram matrix read back (4n² per product: one for the Gram methods together, one
 *    per 'mahalanobis' or 'poisson'; earlier ones may still await the garbage collector), each
 *    condensed Float64 RDM (8·n(n−1)/2), for 'mahalanobis' the Float64 P × P matrices of the
 *    Cholesky route (4 · 8P²), and 64n for per-stimulus vectors.
 *
 * @internal exported for the tests.
 */
export function rdmMemoryEstimate(n: number, p: number, methods: readonly string[], removeMean = false): number {
  const gramFamily = methods.some((m) => GRAM_METHODS.includes(m as RdmMethod));
  const maha = methods.includes('mahalanobis');
  const poisson = methods.includes('poisson');
  const products = (gramFamily ? 1 : 0) + methods.filter((m) => m === 'mahalanobis' || m === 'poisson').length;
  const rm = removeMean ? 1 : 0;
  const patternTensors = Math.max(gramFamily ? 3 + rm : 0, maha ? 4 + rm : 0, poisson ? 4 : 0);
  const tensors = 4 * n * p * patternTensors + (maha ? 4 * p * p : 0) + 4 * n * n;
  const host = 4 * n * n * products + 4 * n * (n - 1) * methods.length + (maha ? 32 * p * p : 0) + 64 * n;
  return tensors + host;
}

/**
 * Z Z^T for Z [n, P] on the tfjs backend, read back as a row-major n x n Float32Array. `z` is not
 * disposed. (A blocked variant that multiplies only the k(k+1)/2 upper blocks in one batched
 * matMul was tried and dropped: on wasm it ran 2-3x slower than the single product.)
 */
async function gram(z: tf.Tensor2D): Promise<Float32Array> {
  const g = matMulT(z, z, false, true);
  try {
    return (await g.data()) as Float32Array;
  } finally {
    g.dispose();
  }
}

/** Reads a P x P matrix argument into a Float64Array. */
function squareArg(where: string, argument: string, m: SquareMatrixLike, p: number): Float64Array {
  let data: ArrayLike<number>;
  if (m !== null && typeof m === 'object' && 'rows' in m && 'cols' in m && 'data' in m) {
    const mm = m as Matrix;
    if (mm.rows !== p || mm.cols !== p) throw new NestlabArgumentError(where, argument, `a ${p} x ${p} matrix`, `${mm.rows} x ${mm.cols}`);
    data = mm.data;
  } else {
    data = m as ArrayLike<number>;
  }
  if (data == null || typeof data.length !== 'number' || data.length !== p * p) {
    throw new NestlabArgumentError(where, argument, `a ${p} x ${p} matrix (${p * p} numbers, row-major)`, data);
  }
  checkFinite(where, argument, data);
  const out = Float64Array.from(data);
  for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) {
    const a = out[i * p + j];
    const b = out[j * p + i];
    if (Math.abs(a - b) > 1e-6 * Math.max(1, Math.abs(a), Math.abs(b))) {
      throw new NestlabArgumentError(where, argument, 'a symmetric matrix', `entry (${i},${j}) = ${a} but (${j},${i}) = ${b}`);
    }
  }
  return out;
}

/** Inverse of a lower-triangular matrix. */
function invertLower(l: Float64Array, p: number): Float64Array {
  const inv = new Float64Array(p * p);
  for (let c = 0; c < p; c++) {
    for (let i = c; i < p; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * p + k] * inv[k * p + c];
      inv[i * p + c] = s / l[i * p + i];
    }
  }
  return inv;
}

/**
 * A whitening matrix W (P x P) with W W^T = Lambda, so ||(x_i - x_j) W||^2 is the Mahalanobis
 * distance: W = chol(Lambda) for a precision, W = chol(Sigma)^-T for a covariance.
 */
function whitening(where: string, options: { precision?: SquareMatrixLike; noiseCovariance?: SquareMatrixLike }, p: number): Float64Array | null {
  if (options.precision !== undefined && options.noiseCovariance !== undefined) {
    throw new NestlabArgumentError(where, 'options', 'either precision or noiseCovariance, not both', 'both');
  }
  if (options.precision !== undefined) {
    return transpose(cholesky(squareArg(where, 'options.precision', options.precision, p), p, where, 'options.precision'), p, p);
  }
  if (options.noiseCovariance !== undefined) {
    const l = transpose(cholesky(squareArg(where, 'options.noiseCovariance', options.noiseCovariance, p), p, where, 'options.noiseCovariance'), p, p);
    const li = invertLower(l, p); // Sigma^-1 = L^-T L^-1, so W = L^-T
    const w = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) w[i * p + j] = li[j * p + i];
    return w;
  }
  return null;
}

/** The methods that share one Gram product of the doubly-centered patterns. */
const GRAM_METHODS: readonly RdmMethod[] = ['euclidean', 'plain_euclidean', 'correlation', 'cosine'];

/**
 * Everything the Gram-family RDMs need, from ONE product. With c the mean pattern over stimuli,
 * y_i = x_i - c, mu_i = mean_k y_ik and q_i = y_i - mu_i 1 (doubly centered), G = Q Q^T, and
 * a_i = q_i . c (a matrix-vector product); since q_i . 1 = 0, exactly:
 *   ||x_i - x_j||^2 = G_ii + G_jj - 2 G_ij + P (mu_i - mu_j)^2
 *   (x_i - xbar_i 1).(x_j - xbar_j 1) = G_ij + a_i + a_j + |c - cbar 1|^2
 *   x_i . x_j = G_ij + a_i + a_j + P mu_i mu_j + (mu_i + mu_j) sum(c) + |c|^2
 * Centering first keeps the float32 Gram small (no cancellation of large common offsets).
 */
interface SharedGram {
  n: number;
  p: number;
  g: Float32Array;
  mu: Float64Array;
  a: Float64Array;
  /** |c - cbar 1|^2, sum(c), |c|^2 (float64, from the JS column means). */
  ccNorm2: number;
  cSum: number;
  cNorm2: number;
}

async function sharedGram(m: Matrix, whiten: Float64Array | null, removeMean: boolean): Promise<SharedGram> {
  const { rows: n, cols: p } = m;
  const c = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const base = i * p;
    for (let k = 0; k < p; k++) c[k] += m.data[base + k];
  }
  // c rounded to float32: the identities below must use exactly the c subtracted on the backend
  for (let k = 0; k < p; k++) c[k] = Math.fround(c[k] / n);
  let cSum = 0;
  let cNorm2 = 0;
  for (let k = 0; k < p; k++) {
    cSum += c[k];
    cNorm2 += c[k] * c[k];
  }
  const cbar = cSum / p;
  let ccNorm2 = 0;
  for (let k = 0; k < p; k++) ccNorm2 += (c[k] - cbar) ** 2;
  const [q, muT, aT] = tf.tidy(() => {
    let y: tf.Tensor2D = tf.sub(tf.tensor2d(m.data, [n, p], 'float32'), tf.tensor2d(Float32Array.from(c), [1, p]));
    if (removeMean) y = tf.sub(y, tf.mean(y, 1, true));
    if (whiten !== null) y = tf.matMul(y, tf.tensor2d(Float32Array.from(whiten), [p, p]));
    const mu = tf.mean(y, 1, true);
    const qq = tf.sub(y, mu) as tf.Tensor2D;
    // a_i = q_i . c = q_i . (c - cbar 1) in exact arithmetic (q_i . 1 = 0); the centered form
    // avoids multiplying the float32 rounding of q_i . 1 by a large cbar.
    const a = tf.matMul(qq, tf.tensor2d(Float32Array.from(c, (v) => v - cbar), [p, 1]));
    return [qq, mu, a];
  });
  try {
    const [muD, aD] = await Promise.all([muT.data(), aT.data()]);
    const g = await gram(q);
    return { n, p, g, mu: Float64Array.from(muD), a: Float64Array.from(aD), ccNorm2, cSum, cNorm2 };
  } finally {
    q.dispose();
    muT.dispose();
    aT.dispose();
  }
}

/** One Gram-family RDM from the shared Gram; values rounded to float32 (the Gram's precision). */
function rdmFromShared(where: string, s: SharedGram, method: RdmMethod, scale: number, keepRowMeans: boolean): Float64Array {
  const { n, p, g, mu, a } = s;
  const out = new Float64Array(condensedLength(n));
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) diag[i] = g[i * n + i];
  let k = 0;
  if (method === 'euclidean' || method === 'plain_euclidean') {
    const plain = method === 'plain_euclidean';
    const pm = keepRowMeans ? p : 0;
    for (let i = 0; i < n; i++) {
      const base = i * n;
      const di = diag[i];
      const mi = mu[i];
      for (let j = i + 1; j < n; j++, k++) {
        const dm = mi - mu[j];
        const d = di + diag[j] - 2 * g[base + j] + pm * dm * dm;
        const c = d > 0 ? d : 0;
        out[k] = Math.fround(plain ? Math.sqrt(c) : c * scale);
      }
    }
    return out;
  }
  // correlation / cosine: inner products of the centered (or raw) patterns, then 1 - cosine.
  // inner(i, j) = G_ij + e_i + e_j + f_i f_j (+ const), with (e, f, const) per method (SharedGram).
  const corr = method === 'correlation';
  const e = new Float64Array(n);
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    e[i] = corr ? a[i] : a[i] + mu[i] * s.cSum;
    f[i] = corr ? 0 : Math.sqrt(p) * mu[i];
  }
  const constant = corr ? s.ccNorm2 : s.cNorm2;
  const inv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const sq = diag[i] + 2 * e[i] + f[i] * f[i] + constant;
    if (!(sq > 0)) {
      throw new NestlabArgumentError(where, 'x', `rows with nonzero ${corr ? 'variance' : 'norm'} (${method} distance is undefined otherwise)`, `a (numerically) constant row ${i}`);
    }
    inv[i] = 1 / Math.sqrt(sq);
  }
  for (let i = 0; i < n; i++) {
    const base = i * n;
    const ei = e[i] + constant;
    const fi = f[i];
    const ii = inv[i];
    for (let j = i + 1; j < n; j++, k++) out[k] = Math.fround(1 - (g[base + j] + ei + e[j] + fi * f[j]) * ii * inv[j]);
  }
  return out;
}

function checkConstantRows(where: string, m: Matrix, method: RdmMethod): void {
  const { rows: n, cols: p, data } = m;
  for (let i = 0; i < n; i++) {
    const base = i * p;
    let constant = true;
    let zero = true;
    for (let k = 0; k < p; k++) {
      const v = data[base + k];
      if (v !== data[base]) constant = false;
      if (v !== 0) zero = false;
    }
    if (method === 'correlation' ? constant : zero) {
      throw new NestlabArgumentError(where, 'x', `rows with nonzero ${method === 'correlation' ? 'variance' : 'norm'} (${method} distance is undefined otherwise)`, `a constant row ${i}`);
    }
  }
}

/**
 * Several RDMs of the same patterns at once. 'euclidean', 'plain_euclidean', 'correlation' and
 * 'cosine' share ONE Gram product of the doubly-centered patterns (exact identities, see
 * SharedGram), so asking for Euclidean and correlation RDMs together costs one matMul, not two.
 * Returns the RDMs in the order of `methods`. Each method's formula and scaling is rsatoolbox's
 * `calc_rdm` (see RdmOptions.method; docs/methods/rsa.md §4).
 *
 * @example const [euc, corr] = await rsa.computeRdms(x, ['euclidean', 'correlation']); // one Gram product for both
 */
export async function computeRdms(x: MatrixLike, methods: readonly RdmMethod[], options: Omit<RdmOptions, 'method'> = {}): Promise<Rdm[]> {
  return computeWith('rsa.computeRdms', x, methods, options);
}

async function computeWith(where: string, x: MatrixLike, methods: readonly RdmMethod[], options: Omit<RdmOptions, 'method'>): Promise<Rdm[]> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  checkKnownKeys(where, options, RDM_KEYS.filter((k) => k !== 'method'));
  if (!Array.isArray(methods) || methods.length === 0) throw new NestlabArgumentError(where, 'methods', 'a non-empty array of RDM methods', methods);
  methods.forEach((mt, i) => checkOneOf(where, methods.length === 1 ? 'options.method' : `methods[${i}]`, mt, RDM_METHODS));
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  const m = checkMatrix(where, 'x', x, 3, 1);
  const { rows: n, cols: p } = m;
  checkMemory(where, rdmMemoryEstimate(n, p, methods, options.removeMean === true), budget, 'the number of stimuli or channels', `for n = ${n} stimuli, P = ${p} channels`);
  if (!methods.includes('mahalanobis') && (options.precision !== undefined || options.noiseCovariance !== undefined)) {
    throw new NestlabArgumentError(where, 'options.precision', "used only with method 'mahalanobis'", methods.join(', '));
  }
  if (options.removeMean && methods.some((mt) => !['euclidean', 'plain_euclidean', 'mahalanobis'].includes(mt))) {
    throw new NestlabArgumentError(where, 'options.removeMean', 'used only with euclidean-type methods', methods.join(', '));
  }
  const descriptors = options.patternDescriptors === undefined ? undefined : checkDescriptors(where, options.patternDescriptors, n);
  const out: Float64Array[] = new Array(methods.length);
  const gramIdx = methods.map((mt, i) => (GRAM_METHODS.includes(mt) ? i : -1)).filter((i) => i >= 0);
  if (gramIdx.length > 0) {
    for (const i of gramIdx) if (methods[i] === 'correlation' || methods[i] === 'cosine') checkConstantRows(where, m, methods[i]);
    const shared = await sharedGram(m, null, options.removeMean === true);
    for (const i of gramIdx) out[i] = rdmFromShared(where, shared, methods[i], 1 / p, options.removeMean !== true);
  }
  for (let i = 0; i < methods.length; i++) {
    if (methods[i] === 'poisson') out[i] = await poissonRdm(where, m, options);
    if (methods[i] === 'mahalanobis') {
      const w = whitening(where, options, p);
      const shared = await sharedGram(m, w, options.removeMean === true);
      out[i] = rdmFromShared(where, shared, 'euclidean', 1 / p, true);
    }
  }
  return out.map((v, i) => makeRdm(v, methods[i], descriptors));
}

/**
 * The RDM of the rows of `x` ([stimuli x channels], at least 3 stimuli, finite) as a condensed
 * upper triangle (scipy's pdist order). Methods and scaling follow rsatoolbox's `calc_rdm`:
 * 'euclidean' = ||x_i - x_j||^2 / P; 'mahalanobis' = (x_i - x_j)^T Lambda (x_i - x_j) / P;
 * 'correlation' = 1 - r_ij; 'cosine' = 1 - cos_ij; 'plain_euclidean' = ||x_i - x_j||;
 * 'poisson' as in RdmOptions. Computed as one Gram product on tfjs; values carry float32
 * precision (and are rounded to float32).
 *
 * Formulas: docs/methods/rsa.md §4.
 *
 * Example: x = [[0,0],[1,0],[0,2],[1,2]] gives [0.5, 2, 2.5, 2.5, 2, 0.5] ('euclidean').
 *
 * @example const r = await rsa.computeRdm(x, { method: 'correlation' }); // r.values, r.n, r.measure
 */
export async function computeRdm(x: MatrixLike, options: RdmOptions = {}): Promise<Rdm> {
  checkKnownKeys('rsa.computeRdm', options, RDM_KEYS);
  const { method, ...rest } = options;
  return (await computeWith('rsa.computeRdm', x, [method ?? 'euclidean'], rest))[0];
}

/** Poisson-KL RDM (see RdmOptions.method); one full product A (log A)^T on tfjs. */
async function poissonRdm(where: string, m: Matrix, options: Omit<RdmOptions, 'method'>): Promise<Float64Array> {
  const lambda = checkNumber(where, 'options.priorLambda', options.priorLambda ?? 1, 0);
  const weight = checkNumber(where, 'options.priorWeight', options.priorWeight ?? 0.1, 0);
  const { rows: n, cols: p } = m;
  for (let i = 0; i < m.data.length; i++) {
    if (m.data[i] < 0) throw new NestlabArgumentError(where, 'x', "non-negative counts for method 'poisson'", `${m.data[i]} at index ${i}`);
  }
  if (lambda * weight === 0) {
    for (let i = 0; i < m.data.length; i++) {
      if (m.data[i] === 0) throw new NestlabArgumentError(where, 'options.priorWeight', 'positive (with priorLambda > 0) when x has zero counts', weight);
    }
  }
  const c = tf.tidy(() => {
    const a = tf.div(tf.add(tf.tensor2d(m.data, [n, p], 'float32'), lambda * weight), 1 + weight) as tf.Tensor2D;
    return matMulT(a, tf.log(a), false, true);
  });
  let g: Float32Array;
  try {
    g = (await c.data()) as Float32Array;
  } finally {
    c.dispose();
  }
  const out = new Float64Array(condensedLength(n));
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, k++) {
      out[k] = (g[i * n + i] + g[j * n + j] - g[i * n + j] - g[j * n + i]) / p;
    }
  }
  return out;
}

/** Options of `rsa.crossnobisRdm`: the noise model and the conditions' descriptors. */
export interface CrossnobisOptions {
  /** Noise precision Lambda (P x P); default identity. */
  precision?: SquareMatrixLike;
  /** Noise covariance Sigma (P x P); Lambda = Sigma^-1. */
  noiseCovariance?: SquareMatrixLike;
  /** Descriptors of the conditions (rows of each fold). */
  patternDescriptors?: PatternDescriptors;
  /** Bytes the call may use, checked against `crossnobisMemoryEstimate` before it starts (as RdmOptions.memoryBudget). */
  memoryBudget?: number;
}

/**
 * The peak bytes of `crossnobisRdm` for M folds of n conditions × P channels
 * (docs/methods/compute.md §3b): tensors 4nP per fold, their sum and two temporaries, the 4P²
 * whitening matrix and the 4n² Gram matrix; host: the read-back of S Sᵀ (4n²), its Float64 copy
 * (8n²), one fold's Gram read back (4n²), the condensed RDM (8·n(n−1)/2) and 8P² per Float64
 * P × P matrix of the noise model (4 of them).
 *
 * @internal exported for the tests.
 */
export function crossnobisMemoryEstimate(n: number, p: number, folds: number, whiten: boolean): number {
  const tensors = 4 * n * p * (folds + 3) + (whiten ? 4 * p * p : 0) + 4 * n * n;
  const host = 16 * n * n + 4 * n * (n - 1) + (whiten ? 32 * p * p : 0);
  return tensors + host;
}

/**
 * Crossvalidated Mahalanobis ("crossnobis") RDM from M >= 2 folds (runs), each a
 * [stimuli x channels] matrix of the same shape (row i = condition i in every fold):
 * d_ij = 1/(M(M-1)) sum_m sum_{n != m} (b_im - b_jm)^T Lambda (b_in - b_jn) / P
 * (rsatoolbox's 'crossnobis': train = mean of the other folds, test = fold m, averaged over m).
 * Unbiased, so it can be negative. Computed as S S^T - sum_m Z_m Z_m^T with Z_m the whitened
 * folds and S their sum (docs/methods/rsa.md §4).
 *
 * @example const r = await rsa.crossnobisRdm(rsa.foldsFromLabels(x, conditions, runs)); // unbiased, may be < 0
 */
export async function crossnobisRdm(folds: MatrixLike[], options: CrossnobisOptions = {}): Promise<Rdm> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'rsa.crossnobisRdm';
  checkKnownKeys(where, options, ['precision', 'noiseCovariance', 'patternDescriptors', 'memoryBudget']);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  if (!Array.isArray(folds) || folds.length < 2) {
    throw new NestlabArgumentError(where, 'folds', 'an array of at least 2 fold matrices', folds);
  }
  const ms = folds.map((f, i) => checkMatrix(where, `folds[${i}]`, f, 3, 1));
  const { rows: n, cols: p } = ms[0];
  ms.forEach((f, i) => {
    if (f.rows !== n || f.cols !== p) throw new NestlabArgumentError(where, `folds[${i}]`, `a ${n} x ${p} matrix like folds[0]`, `${f.rows} x ${f.cols}`);
  });
  const M = ms.length;
  const whiten = options.precision !== undefined || options.noiseCovariance !== undefined;
  checkMemory(where, crossnobisMemoryEstimate(n, p, M, whiten), budget, 'the number of conditions or channels', `for ${M} folds of n = ${n} conditions, P = ${p} channels`);
  const w = whitening(where, options, p);
  // Z_m centered over stimuli (a common shift cancels in every difference b_i - b_j).
  const zs = ms.map((f) =>
    tf.tidy(() => {
      let t: tf.Tensor2D = tf.tensor2d(f.data, [n, p], 'float32');
      t = tf.sub(t, tf.mean(t, 0, true));
      if (w !== null) t = tf.matMul(t, tf.tensor2d(Float32Array.from(w), [p, p]));
      return t;
    }),
  );
  const s = tf.tidy(() => tf.addN(zs) as tf.Tensor2D);
  try {
    const total = await gram(s);
    const c = Float64Array.from(total);
    for (const z of zs) {
      const gm = await gram(z);
      for (let i = 0; i < c.length; i++) c[i] -= gm[i];
    }
    const out = new Float64Array(condensedLength(n));
    const scale = 1 / (M * (M - 1) * p);
    let k = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, k++) out[k] = (c[i * n + i] + c[j * n + j] - 2 * c[i * n + j]) * scale;
    }
    return makeRdm(out, 'crossnobis', options.patternDescriptors === undefined ? undefined : checkDescriptors(where, options.patternDescriptors, n));
  } finally {
    s.dispose();
    zs.forEach((z) => z.dispose());
  }
}

/**
 * Splits measurements into crossnobis folds: row r of `x` is one measurement of condition
 * `conditions[r]` in run `runs[r]`; each fold is the per-run mean pattern of every condition,
 * conditions in ascending order of their label (rsatoolbox sorts conditions). Every condition
 * must occur in every run. Fold m, row c = mean of the rows r with runs[r] = run m and
 * conditions[r] = c, as rsatoolbox's `calc_rdm_crossnobis` averages each cv fold by condition
 * (docs/methods/rsa.md §4).
 *
 * @example const folds = rsa.foldsFromLabels(x, conditions, runs); // one Matrix per run, rows = sorted conditions
 */
export function foldsFromLabels(x: MatrixLike, conditions: ArrayLike<number>, runs: ArrayLike<number>): Matrix[] {
  const where = 'rsa.foldsFromLabels';
  const m = checkMatrix(where, 'x', x, 1, 1);
  if (conditions.length !== m.rows) throw new NestlabArgumentError(where, 'conditions', `${m.rows} labels (one per row of x)`, conditions.length);
  if (runs.length !== m.rows) throw new NestlabArgumentError(where, 'runs', `${m.rows} labels (one per row of x)`, runs.length);
  const conds = [...new Set(Array.from(conditions))].sort((a, b) => a - b);
  const runList = [...new Set(Array.from(runs))].sort((a, b) => a - b);
  const ci = new Map(conds.map((c, i) => [c, i]));
  const p = m.cols;
  return runList.map((run) => {
    const sum = new Float64Array(conds.length * p);
    const cnt = new Int32Array(conds.length);
    for (let r = 0; r < m.rows; r++) {
      if (runs[r] !== run) continue;
      const c = ci.get(conditions[r])!;
      cnt[c]++;
      for (let j = 0; j < p; j++) sum[c * p + j] += m.data[r * p + j];
    }
    cnt.forEach((k, c) => {
      if (k === 0) throw new NestlabArgumentError(where, 'runs', 'every condition measured in every run', `condition ${conds[c]} missing from run ${run}`);
    });
    const data = new Float32Array(conds.length * p);
    for (let c = 0; c < conds.length; c++) for (let j = 0; j < p; j++) data[c * p + j] = sum[c * p + j] / cnt[c];
    return { data, rows: conds.length, cols: p };
  });
}
