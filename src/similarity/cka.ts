/**
 * Centered kernel alignment (Kornblith, Norouzi, Lee & Hinton, ICML 2019), following the
 * authors' reference code (google-research/representation_similarity, Demo.ipynb):
 *
 *   HSIC(K, L) = tr(K H L H) / (n-1)^2,   CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)),
 *
 * with H = I - 11^T/n. For the linear kernel on column-centered X (n x p) and Y (n x q) this is
 * CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) (the "feature-space" form, p*q*n work instead of
 * n^2). The debiased variant replaces HSIC by the unbiased U-statistic estimator (Song et al.
 * 2012; Székely–Rizzo centering as coded by Kornblith), which can be negative and needs n >= 4.
 *
 * Everything over the samples is a tfjs matrix product; sums are finished in Float64 in JS.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { matMulT } from '../backend/wasm-matmul.js';
import { NestlabArgumentError, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMemory, resolveMemoryBudget } from '../backend/memory.js';
import type { Matrix } from '../data/matrix.js';
import { median } from '../math/order.js';
import { centeredTensor, checkPair, readAndDispose, readSumSquares } from './common.js';

/** Options of {@link linearCka}. */
export interface LinearCkaOptions {
  /** Unbiased HSIC estimator (Song et al. 2012) instead of the plug-in one; needs n >= 4. Default false. */
  debiased?: boolean;
  /**
   * 'feature' computes ||Y^T X||^2 / (||X^T X|| ||Y^T Y||) (cost n(p^2 + q^2 + pq)); 'gram' works
   * on the n x n Gram matrices (cost n^2 (p + q)); 'auto' (default) picks the cheaper one.
   * Both give the same value up to rounding.
   */
  form?: 'auto' | 'feature' | 'gram';
  /**
   * Bytes the call may use (a positive number, or Infinity for no check), checked against
   * `linearCkaMemoryEstimate` before anything is allocated. Default: NESTLAB_MEMORY_BUDGET if set,
   * else half of the memory available at the call (docs/methods/compute.md §3b).
   */
  memoryBudget?: number;
}

/** Options of {@link rbfCka}. */
export interface RbfCkaOptions {
  /**
   * Bandwidth as a fraction of the median distance (Kornblith's `threshold`): sigma^2 =
   * bandwidthFraction^2 * median(D^2), the median taken over the full n x n matrix of squared distances,
   * zero diagonal included, as in the reference code. Default 0.5 (the demo's value). Not allowed
   * together with `sigma`.
   */
  bandwidthFraction?: number;
  /** Absolute bandwidth sigma (platonic-rep's `cka(kernel_metric='rbf')` uses sigma = 1). */
  sigma?: number;
  /** Unbiased HSIC (n >= 4). Default false. */
  debiased?: boolean;
  /** Bytes the call may use, checked against `rbfCkaMemoryEstimate` before it starts (as LinearCkaOptions.memoryBudget). */
  memoryBudget?: number;
}

/**
 * The peak bytes of `linearCka` on n × p and n × q inputs (docs/methods/compute.md §3b); float32
 * tensors, counted until the call returns (the wasm heap keeps its high-water mark):
 *  - both forms: the centered inputs and the raw copy of the one being centered, 4n(2p + q)
 *    (4n(2p + 2q) debiased: a squared copy for the row norms);
 *  - 'feature': the products Yᵀ X, Xᵀ X, Yᵀ Y, 4(pq + p² + q²);
 *  - 'gram': the two n × n Gram matrices and, alive at once while they are centered and
 *    multiplied, 3 more (plain) or 7 more (debiased: the mask, its complement and the centering's
 *    steps, then the other's), plus for debiased the host copy of one identity matrix: 4n² each.
 *
 * @internal exported for the tests.
 */
export function linearCkaMemoryEstimate(n: number, p: number, q: number, form: 'feature' | 'gram', debiased: boolean): number {
  const inputs = 4 * n * (2 * p + q + (debiased ? q : 0));
  if (form === 'feature') return inputs + 4 * (p * q + p * p + q * q);
  return inputs + 4 * n * n * (debiased ? 2 + 7 + 1 : 2 + 3);
}

/**
 * The peak bytes of `rbfCka` on n stimuli (p and q channels; docs/methods/compute.md §3b):
 * float32 n × n tensors, counted until the call returns: the first kernel matrix, then the
 * eight alive at once while the second's squared distances are made (Gram, sum of norms, its
 * double, difference, relu, identity, mask, masked result): 9 · 4n²; on the host, the copy of
 * the identity matrix tfjs builds (4n²) and, with the default relative bandwidth, the squared
 * distances read back and copied for the median (8n²); the centered inputs 4n(p + q).
 *
 * @internal exported for the tests.
 */
export function rbfCkaMemoryEstimate(n: number, p: number, q: number, relative: boolean): number {
  return 4 * n * n * (9 + 1 + (relative ? 2 : 0)) + 4 * n * (p + q);
}

function checkBool(where: string, argument: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new NestlabArgumentError(where, argument, 'true or false', v);
  return v;
}

/** Kornblith's `_debiased_dot_product_similarity_helper`. */
function debiasedDot(xty: number, rx: Float64Array, ry: Float64Array, sx: number, sy: number, n: number): number {
  let dot = 0;
  for (let i = 0; i < n; i++) dot += rx[i] * ry[i];
  return xty - (n / (n - 2)) * dot + (sx * sy) / ((n - 1) * (n - 2));
}

function finish(where: string, num: number, nx: number, ny: number): number {
  if (!(nx > 0) || !Number.isFinite(nx)) {
    throw new NestlabArgumentError(where, 'X', 'a representation with non-zero (centered) variance; CKA is 0/0 otherwise', 'constant columns');
  }
  if (!(ny > 0) || !Number.isFinite(ny)) {
    throw new NestlabArgumentError(where, 'Y', 'a representation with non-zero (centered) variance; CKA is 0/0 otherwise', 'constant columns');
  }
  return num / (nx * ny);
}

/**
 * Linear CKA between representations X (n x p) and Y (n x q) of the same n stimuli:
 * ||Y_c^T X_c||_F^2 / (||X_c^T X_c||_F ||Y_c^T Y_c||_F) after column centering (Kornblith et al.
 * 2019, Eq. for linear CKA; `feature_space_linear_cka`). With `debiased: true`, the unbiased HSIC
 * estimator (`feature_space_linear_cka(..., debiased=True)`). Invariant to orthogonal maps,
 * isotropic scaling and translations of either argument; 1 for identical inputs.
 *
 * @throws NestlabArgumentError when rows differ, n < 2 (n < 4 debiased), values are not finite,
 *   or a representation is constant.
 *
 * @example const cka = await similarity.linearCka(x, y); // 1 for identical representations
 */
export async function linearCka(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, options: LinearCkaOptions = {}): Promise<number> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.linearCka';
  checkKnownKeys(where, options, ['debiased', 'form', 'memoryBudget']);
  const debiased = checkBool(where, 'options.debiased', options.debiased ?? false);
  let form = checkOneOf(where, 'options.form', options.form ?? 'auto', ['auto', 'feature', 'gram'] as const);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  const [x, y] = checkPair(where, X, Y, debiased ? 4 : 2);
  const n = x.rows;
  const p = x.cols;
  const q = y.cols;
  if (form === 'auto') form = n * (p * p + q * q + p * q) <= n * n * (p + q) ? 'feature' : 'gram';
  checkMemory(where, linearCkaMemoryEstimate(n, p, q, form, debiased), budget, form === 'gram' ? 'the number of stimuli' : 'the number of stimuli or features', `for n = ${n}, p = ${p}, q = ${q} (${form} form)`);
  if (form === 'gram') {
    const [kx, ky] = tf.tidy(() => {
      const xc = centeredTensor(x);
      const yc = centeredTensor(y);
      return [matMulT(xc, xc, false, true), matMulT(yc, yc, false, true)];
    });
    try {
      const r = await gramCka(kx, ky, debiased, false);
      return finish(where, r.num, r.nx, r.ny);
    } finally {
      tf.dispose([kx, ky]);
    }
  }
  const ts = tf.tidy(() => {
    const xc = centeredTensor(x);
    const yc = centeredTensor(y);
    const out = [matMulT(xc, yc, true), matMulT(xc, xc, true), matMulT(yc, yc, true)];
    if (debiased) out.push(tf.sum(tf.square(xc), 1), tf.sum(tf.square(yc), 1));
    return out;
  });
  // Only ||.||_F^2 of the three products is needed: summed straight from the float32 read-back.
  const [num0, nx2, ny2] = await Promise.all(ts.slice(0, 3).map((t) => readSumSquares(t)));
  const [rx, ry] = await Promise.all(ts.slice(3).map((t) => readAndDispose(t)));
  let num = num0;
  let nx = Math.sqrt(nx2);
  let ny = Math.sqrt(ny2);
  if (debiased) {
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      sx += rx[i];
      sy += ry[i];
    }
    num = debiasedDot(num, rx, ry, sx, sy, n);
    nx = Math.sqrt(debiasedDot(nx * nx, rx, rx, sx, sx, n));
    ny = Math.sqrt(debiasedDot(ny * ny, ry, ry, sy, sy, n));
  }
  return finish(where, num, nx, ny);
}

/**
 * Centers a Gram matrix on tfjs as Kornblith's `center_gram`: biased = H K H; unbiased = the
 * U-statistic centering (zero diagonal, column means / (n-2), corrected by their sum / (2(n-1)),
 * subtracted from rows and columns, diagonal zeroed again).
 */
function centerGram(k: tf.Tensor2D, unbiased: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const n = k.shape[0];
    if (unbiased) {
      const offDiag = tf.sub(1, tf.eye(n));
      const k0 = tf.mul(k, offDiag);
      let means = tf.div(tf.sum(k0, 0), n - 2);
      means = tf.sub(means, tf.div(tf.sum(means), 2 * (n - 1)));
      const c = tf.sub(tf.sub(k0, tf.reshape(means, [n, 1])), tf.reshape(means, [1, n]));
      return tf.mul(c, offDiag) as tf.Tensor2D;
    }
    const colMeans = tf.mean(k, 0, true);
    const rowMeans = tf.mean(k, 1, true);
    return tf.add(tf.sub(tf.sub(k, colMeans), rowMeans), tf.mean(k)) as tf.Tensor2D;
  });
}

/** <Kc, Lc>, ||Kc||, ||Lc|| with row sums on tfjs and the final sums in Float64. */
async function gramCka(k: tf.Tensor2D, l: tf.Tensor2D, debiased: boolean, center: boolean): Promise<{ num: number; nx: number; ny: number }> {
  const [a, b, c] = tf.tidy(() => {
    // Linear Grams of centered data are already H K H; the unbiased estimator re-centers anyway.
    const kc = center || debiased ? centerGram(k, debiased) : k;
    const lc = center || debiased ? centerGram(l, debiased) : l;
    return [tf.sum(tf.mul(kc, lc), 1), tf.sum(tf.square(kc), 1), tf.sum(tf.square(lc), 1)];
  });
  const [ra, rb, rc] = await Promise.all([readAndDispose(a), readAndDispose(b), readAndDispose(c)]);
  const sum = (v: Float64Array) => v.reduce((s, t) => s + t, 0);
  return { num: sum(ra), nx: Math.sqrt(sum(rb)), ny: Math.sqrt(sum(rc)) };
}

/** Squared Euclidean distances between the rows of m, as an n x n tensor with an exact zero diagonal. */
function squaredDistances(m: Matrix): tf.Tensor2D {
  return tf.tidy(() => {
    const xc = centeredTensor(m);
    const n = m.rows;
    const r = tf.sum(tf.square(xc), 1);
    const g = matMulT(xc, xc, false, true);
    const d2 = tf.relu(tf.sub(tf.add(tf.reshape(r, [n, 1]), tf.reshape(r, [1, n])), tf.mul(2, g)));
    return tf.mul(d2, tf.sub(1, tf.eye(n))) as tf.Tensor2D;
  });
}

/**
 * CKA with Gaussian (RBF) kernels k(x, x') = exp(-||x - x'||^2 / (2 sigma^2)) (Kornblith et al.
 * 2019, `gram_rbf` + `cka`). By default sigma is relative: sigma^2 = bandwidthFraction^2 * median of the
 * squared distances over the full n x n matrix including its zero diagonal (as in the reference
 * code, where it is called `threshold`; 0.5 by default), which makes the measure invariant to isotropic scaling.
 * Pass `sigma` for an absolute bandwidth instead. Cost: two n x n Gram matrices on tfjs.
 *
 * @throws NestlabArgumentError as {@link linearCka}, and when both bandwidthFraction and sigma are given.
 *
 * @example const cka = await similarity.rbfCka(x, y, { bandwidthFraction: 0.5 }); // sigma^2 = 0.25 * median squared distance
 */
export async function rbfCka(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, options: RbfCkaOptions = {}): Promise<number> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.rbfCka';
  checkKnownKeys(where, options, ['bandwidthFraction', 'sigma', 'debiased', 'memoryBudget']);
  const debiased = checkBool(where, 'options.debiased', options.debiased ?? false);
  if (options.bandwidthFraction !== undefined && options.sigma !== undefined) {
    throw new NestlabArgumentError(where, 'options', 'either bandwidthFraction (relative bandwidth) or sigma (absolute), not both', 'both');
  }
  const sigma = options.sigma === undefined ? undefined : checkNumber(where, 'options.sigma', options.sigma, Number.MIN_VALUE);
  const bandwidthFraction = checkNumber(where, 'options.bandwidthFraction', options.bandwidthFraction ?? 0.5, Number.MIN_VALUE);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  const [x, y] = checkPair(where, X, Y, debiased ? 4 : 2);
  checkMemory(where, rbfCkaMemoryEstimate(x.rows, x.cols, y.cols, sigma === undefined), budget, 'the number of stimuli', `for n = ${x.rows} stimuli`);
  const grams: tf.Tensor2D[] = [];
  try {
    for (const [m, name] of [[x, 'X'], [y, 'Y']] as const) {
      const d2 = squaredDistances(m);
      let s2: number;
      try {
        if (sigma !== undefined) {
          s2 = sigma * sigma;
        } else {
          // Copy: a backend may hand back its own buffer, and the selection reorders in place.
          const med = median(new Float32Array((await d2.data()) as Float32Array));
          if (!(med > 0)) {
            throw new NestlabArgumentError(where, name, 'rows that are mostly distinct (the median squared distance is 0, so the relative bandwidth is 0)', 'median 0');
          }
          s2 = bandwidthFraction * bandwidthFraction * med;
        }
        grams.push(tf.tidy(() => tf.exp(tf.div(tf.neg(d2), 2 * s2)) as tf.Tensor2D));
      } finally {
        d2.dispose();
      }
    }
    const r = await gramCka(grams[0], grams[1], debiased, true);
    return finish(where, r.num, r.nx, r.ny);
  } finally {
    tf.dispose(grams);
  }
}
