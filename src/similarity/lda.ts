/**
 * Supervised linear projections and entropies of representations: Fisher's linear discriminant
 * analysis as scikit-learn's `LinearDiscriminantAnalysis(solver='eigen')` computes it (with its
 * optional shrinkage), the Kozachenko–Leonenko kNN estimator of differential entropy (Kozachenko &
 * Leonenko 1987; Kraskov, Stögbauer & Grassberger 2004, eq. 20) and the entropy of the Gaussian
 * with the sample covariance.
 *
 * Why hand-written: each is a few lines around pieces nestlab already has (the Float64 Cholesky
 * and symmetric eigensolver of ../math/linalg.ts, the one exact kNN search of ./knn.ts, the
 * log-gamma of ../math/special.ts). The npm LDA packages (ml-lda and the like) are unmaintained or
 * classifier-only and do not follow scikit-learn's scatter normalization, shrinkage or scaling;
 * no npm package estimates kNN entropy. A dependency would bring a second linear-algebra stack
 * and a second neighbor search for what is here a page, checked against scikit-learn and scipy in
 * test/similarity/lda.test.ts.
 */
import { NestlabArgumentError, NestlabComputationError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { cholesky, solveUpperTransposed, symmetricEigen, transpose } from '../math/linalg.js';
import { knnSearch } from './knn.js';
import { logGamma } from '../math/special.js';

/** Options of {@link ldaProjection}. */
export interface LdaOptions {
  /** Discriminant directions to keep, in [1, min(classes − 1, d)]. Default min(classes − 1, d). */
  components?: number;
  /**
   * Shrinkage s in [0, 1] of the covariances toward a multiple of the identity: C <- (1 − s) C +
   * s (tr C / d) I (scikit-learn's `shrinkage` as a number). Default 0. Required (> 0) when
   * d > n − classes, where the within-class scatter is singular.
   */
  shrinkage?: number;
}

/** A fitted LDA projection: apply it with {@link projectRows}. */
export interface LdaProjection {
  /** The column means of the fitted rows (length d), removed before projecting. */
  mean: Float64Array;
  /** components x d row-major: the discriminant directions v, scaled so that vᵀ S_w v = 1. */
  directions: Float64Array;
  /** The generalized eigenvalues vᵀ S_b v / vᵀ S_w v of the kept directions, descending. */
  ratios: Float64Array;
  /** Number of directions kept. */
  components: number;
}

/**
 * Fisher's linear discriminant analysis as scikit-learn's
 * `LinearDiscriminantAnalysis(solver='eigen', shrinkage=s)` fits it (Duda, Hart & Stork 2001,
 * §3.8.3): S_w = Σ_c p_c C_c, the class covariances C_c (divided by n_c) weighted by the class
 * priors p_c = n_c / n; S_t the covariance of all rows (divided by n); both shrunk as
 * C <- (1 − s) C + s (tr C / d) I, and S_b = S_t − S_w. Note that, as in scikit-learn, shrinking
 * S_t as well makes S_b = (1 − s) S_b⁰ + s (tr S_b⁰ / d) I for the plain between-class scatter
 * S_b⁰ = Σ_c p_c (μ_c − μ)(μ_c − μ)ᵀ. The directions solve S_b v = λ S_w v (S_w = RᵀR by
 * Cholesky, then the symmetric eigenproblem of R⁻ᵀ S_b R⁻¹, v = R⁻¹ u), so vᵀ S_w v = 1 as
 * scikit-learn's `scalings_`; the `components` of largest λ are kept, each signed so that its
 * largest-magnitude entry is positive. {@link projectRows} then gives scikit-learn's
 * `transform(X)` up to the sign of each column and a constant per column (scikit-learn projects
 * X, here X − mean). Labels are any integers; each distinct value is a class.
 *
 * @throws NestlabArgumentError on a bad x, labels (not n labels, fewer than two classes) or option,
 *   or shrinkage 0 with d > n − classes; NestlabComputationError when S_w is singular all the same.
 *
 * @example const lda = similarity.ldaProjection(x, labels, { shrinkage: 0.1 }); const z = similarity.projectRows(x, lda)
 */
export function ldaProjection(x: Matrix, labels: Int32Array, options: LdaOptions = {}, where = 'similarity.ldaProjection'): LdaProjection {
  checkKnownKeys(where, options, ['components', 'shrinkage']);
  const m = checkMatrix(where, 'x', x, 2, 1);
  const n = m.rows;
  const d = m.cols;
  if (!(labels instanceof Int32Array) || labels.length !== n) {
    throw new NestlabArgumentError(where, 'labels', `an Int32Array of ${n} class labels (one per row of x)`, labels);
  }
  const values = Array.from(new Set(labels)).sort((u, v) => u - v);
  const classes = values.length;
  if (classes < 2) throw new NestlabArgumentError(where, 'labels', 'labels of at least two classes', `${classes} class`);
  const classOf = new Map(values.map((v, i) => [v, i]));
  const shrinkage = checkNumber(where, 'options.shrinkage', options.shrinkage ?? 0, 0, 1);
  const maxComponents = Math.min(classes - 1, d);
  const components = checkInt(where, 'options.components', options.components ?? maxComponents, 1, maxComponents);
  if (shrinkage === 0 && d > n - classes) {
    throw new NestlabArgumentError(where, 'options.shrinkage', `greater than 0 when x has more columns (d = ${d}) than n − classes = ${n - classes} (the within-class scatter is then singular)`, shrinkage);
  }

  // Means in Float64: overall and per class.
  const mean = new Float64Array(d);
  const classMeans = new Float64Array(classes * d);
  const counts = new Float64Array(classes);
  const cls = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = classOf.get(labels[i])!;
    cls[i] = c;
    counts[c]++;
    for (let j = 0; j < d; j++) {
      const v = m.data[i * d + j];
      mean[j] += v;
      classMeans[c * d + j] += v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let c = 0; c < classes; c++) for (let j = 0; j < d; j++) classMeans[c * d + j] /= counts[c];

  // S_w = (1/n) Σ_i (x_i − μ_c(i))(x_i − μ_c(i))ᵀ; S_b⁰ = Σ_c (n_c / n)(μ_c − μ)(μ_c − μ)ᵀ (= S_t − S_w).
  const sw = new Float64Array(d * d);
  const dev = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const c = cls[i];
    for (let j = 0; j < d; j++) dev[j] = m.data[i * d + j] - classMeans[c * d + j];
    for (let a = 0; a < d; a++) {
      const da = dev[a];
      if (da === 0) continue;
      for (let b = a; b < d; b++) sw[a * d + b] += da * dev[b];
    }
  }
  const sb = new Float64Array(d * d);
  for (let c = 0; c < classes; c++) {
    for (let j = 0; j < d; j++) dev[j] = classMeans[c * d + j] - mean[j];
    const w = counts[c] / n;
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) sb[a * d + b] += w * dev[a] * dev[b];
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      sw[a * d + b] /= n;
      sw[b * d + a] = sw[a * d + b];
      sb[b * d + a] = sb[a * d + b];
    }
  }
  // Shrinkage of S_w and of S_t (hence of S_b), as scikit-learn's shrunk_covariance.
  if (shrinkage > 0) {
    let trW = 0;
    let trB = 0;
    for (let a = 0; a < d; a++) {
      trW += sw[a * d + a];
      trB += sb[a * d + a];
    }
    for (let t = 0; t < d * d; t++) {
      sw[t] *= 1 - shrinkage;
      sb[t] *= 1 - shrinkage;
    }
    for (let a = 0; a < d; a++) {
      sw[a * d + a] += (shrinkage * trW) / d;
      sb[a * d + a] += (shrinkage * trB) / d;
    }
  }

  let r: Float64Array;
  try {
    r = cholesky(sw, d, where);
  } catch (e) {
    if (!(e instanceof NestlabComputationError)) throw e;
    throw new NestlabComputationError(where, `the within-class scatter S_w is singular (collinear or constant columns of x); pass options.shrinkage > 0 (${e.message})`);
  }
  // M = R⁻ᵀ S_b R⁻¹ = R⁻ᵀ (R⁻ᵀ S_b)ᵀ, symmetrized against rounding.
  const y = solveUpperTransposed(r, d, sb, d);
  const mw = solveUpperTransposed(r, d, transpose(y, d, d), d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < a; b++) {
      const s = 0.5 * (mw[a * d + b] + mw[b * d + a]);
      mw[a * d + b] = s;
      mw[b * d + a] = s;
    }
  }
  const eig = symmetricEigen(mw, d);
  const directions = new Float64Array(components * d);
  const ratios = new Float64Array(components);
  const v = new Float64Array(d);
  for (let c = 0; c < components; c++) {
    ratios[c] = eig.values[c];
    // v = R⁻¹ u by back substitution.
    for (let i = d - 1; i >= 0; i--) {
      let s = eig.vectors[i * d + c];
      for (let k = i + 1; k < d; k++) s -= r[i * d + k] * v[k];
      v[i] = s / r[i * d + i];
    }
    let big = 0;
    for (let i = 1; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    const sign = v[big] < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) directions[c * d + i] = sign * v[i];
  }
  return { mean, directions, ratios, components };
}

/**
 * Projects rows on fitted LDA directions: (x − mean) · directionsᵀ, an n x components Matrix
 * (accumulated in Float64). With the rows the projection was fitted on, each column has mean 0
 * and within-class variance 1 (the scaling of {@link ldaProjection}).
 *
 * @throws NestlabArgumentError when x is not a finite Matrix with projection.mean.length columns.
 *
 * @example const z = similarity.projectRows(xTest, similarity.ldaProjection(xTrain, yTrain))
 */
export function projectRows(x: Matrix, projection: LdaProjection): Matrix {
  const where = 'similarity.projectRows';
  const m = checkMatrix(where, 'x', x, 0, 1);
  const d = projection.mean.length;
  const k = projection.components;
  if (m.cols !== d) throw new NestlabArgumentError(where, 'x.cols', `equal to the fitted dimension ${d}`, m.cols);
  if (projection.directions.length !== k * d) {
    throw new NestlabArgumentError(where, 'projection.directions', `${k} x ${d} = ${k * d} entries`, `${projection.directions.length} entries`);
  }
  const out = new Float32Array(m.rows * k);
  const centered = new Float64Array(d);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < d; j++) centered[j] = m.data[i * d + j] - projection.mean[j];
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += centered[j] * projection.directions[c * d + j];
      out[i * k + c] = s;
    }
  }
  return { data: out, rows: m.rows, cols: k };
}

/** ψ(x), the digamma function, for x > 0: recurrence up to x ≥ 10, then its asymptotic series (error < 1e-13). */
function digamma(x: number): number {
  let shift = 0;
  let z = x;
  while (z < 10) {
    shift += 1 / z;
    z += 1;
  }
  const inv2 = 1 / (z * z);
  const series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))));
  return Math.log(z) - 0.5 / z - series - shift;
}

/** Options of {@link knnEntropy}. */
export interface KnnEntropyOptions {
  /** The neighbor whose distance is used, in [1, n − 1]. Default 3 (Kraskov et al. 2004). */
  k?: number;
}

/**
 * Differential entropy of the distribution the rows of x were drawn from, in nats, by the
 * Kozachenko–Leonenko k-nearest-neighbor estimator (Kraskov, Stögbauer & Grassberger 2004, eq. 20):
 * H = ψ(n) − ψ(k) + ln V_d + (d / n) Σ_i ln ε_i, with ε_i the Euclidean distance from row i to its
 * k-th nearest other row and V_d = π^{d/2} / Γ(d/2 + 1) the volume of the unit ball. Kraskov et al.
 * write ε_i for twice the distance and c_d for the volume of the ball of diameter 1 (V_d / 2^d);
 * the two conventions give the same H. Neighbors from the exact search of ./knn.ts. Consistent
 * (not unbiased): at fixed n it is biased upward near the edges of a bounded support.
 *
 * @throws NestlabArgumentError when x is not finite with at least 2 rows, k is not in [1, n − 1],
 *   or some row has more than k − 1 exact duplicates (ε_i = 0, so ln ε_i = −∞).
 *
 * @example const h = await similarity.knnEntropy(x, { k: 3 })
 */
export async function knnEntropy(x: Matrix, options: KnnEntropyOptions = {}): Promise<number> {
  const where = 'similarity.knnEntropy';
  checkKnownKeys(where, options, ['k']);
  const m = checkMatrix(where, 'x', x, 2, 1);
  const n = m.rows;
  const d = m.cols;
  const k = checkInt(where, 'options.k', options.k ?? 3, 1, n - 1);
  const { distances } = await knnSearch(m, null, k, 'euclidean');
  let sumLog = 0;
  for (let i = 0; i < n; i++) {
    const eps = distances[i * k + k - 1];
    if (!(eps > 0)) {
      throw new NestlabArgumentError(where, 'x', `rows with at most k − 1 = ${k - 1} exact duplicates each (the k-th neighbor distance must be positive)`, `row ${i} at distance 0 from its ${k}-th nearest neighbor`);
    }
    sumLog += Math.log(eps);
  }
  const logUnitBall = (d / 2) * Math.log(Math.PI) - logGamma(d / 2 + 1);
  return digamma(n) - digamma(k) + logUnitBall + (d / n) * sumLog;
}

/**
 * Entropy in nats of the Gaussian with the rows' sample covariance Σ (divided by n − 1):
 * H = ½ ln det(2πe Σ) = ½ (d ln(2πe) + Σ_j ln λ_j), with λ_j the eigenvalues of Σ (Float64
 * symmetric eigensolver). The same as scipy's `multivariate_normal(cov=np.cov(X.T)).entropy()`;
 * an upper bound on the entropy of any distribution with that covariance.
 *
 * @throws NestlabArgumentError when x is not finite, has at most d rows, or its covariance is
 *   singular (smallest eigenvalue ≤ 1e-12 × the largest).
 *
 * @example const h = similarity.gaussianEntropy(x) // nats; compare with await similarity.knnEntropy(x)
 */
export function gaussianEntropy(x: Matrix): number {
  const where = 'similarity.gaussianEntropy';
  const m = checkMatrix(where, 'x', x, 2, 1);
  const n = m.rows;
  const d = m.cols;
  if (n <= d) throw new NestlabArgumentError(where, 'x.rows', `more than x.cols = ${d} (else the covariance is singular)`, n);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += m.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const dev = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) dev[j] = m.data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a * d + b] += dev[a] * dev[b];
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= n - 1;
      cov[b * d + a] = cov[a * d + b];
    }
  }
  const { values } = symmetricEigen(cov, d);
  const largest = values[0];
  const smallest = values[d - 1];
  if (!(largest > 0) || !(smallest > 1e-12 * largest)) {
    throw new NestlabArgumentError(where, 'x', 'rows whose sample covariance is nonsingular', `covariance eigenvalues from ${largest} down to ${smallest}`);
  }
  let logDet = 0;
  for (let j = 0; j < d; j++) logDet += Math.log(values[j]);
  return 0.5 * (d * Math.log(2 * Math.PI * Math.E) + logDet);
}
