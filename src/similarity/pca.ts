/**
 * Principal component analysis through the Float64 eigendecomposition of the p x p centered
 * second-moment matrix (./linalg.ts; tfjs has no SVD or eigensolver), with the n-sized products
 * (X_c^T X_c and the projection X_c V) on tfjs. Matches scikit-learn's `PCA(n_components=k)`
 * (components, explained variance with n - 1 normalization, scores) up to the sign of each
 * component; signs here are fixed so that the largest-magnitude loading of each component is
 * positive.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { matMulT } from '../backend/wasm-matmul.js';
import { checkInt, checkKnownKeys } from '../errors.js';
import { checkMatrix, columnMeans, type Matrix } from '../data/matrix.js';
import { centeredTensor, readAndDispose } from './common.js';
import { symmetricEigen } from '../math/linalg.js';

/** Options of {@link pca}. */
export interface PcaOptions {
  /** Number of components k in [1, p]. Default min(n, p). */
  components?: number;
}

/** A fitted PCA. */
export interface PcaResult {
  /** k x p: the principal axes as rows (sklearn `components_`). */
  components: Matrix;
  /** Variance along each axis (n - 1 normalization; sklearn `explained_variance_`). */
  explainedVariance: Float64Array;
  /** Fraction of the total variance along each axis (sklearn `explained_variance_ratio_`). */
  explainedVarianceRatio: Float64Array;
  /** Column means that were removed (length p). */
  mean: Float64Array;
  /** n x k: the centered data projected on the axes (sklearn `fit_transform`). */
  scores: Matrix;
}

/**
 * PCA of X (rows = samples): eigenvectors of X_c^T X_c / (n - 1), descending. Cost: n p^2 on
 * tfjs plus an O(p^3) Float64 eigensolve, so it suits p up to a few thousand.
 * Same components, explained variance and scores as scikit-learn `PCA(n_components=k)`, up to
 * the sign of each component (docs/methods/similarity.md §11).
 *
 * @example const { scores, explainedVarianceRatio } = await similarity.pca(x, { components: 2 }); // scores: n x 2
 */
export async function pca(X: Matrix | tf.Tensor2D, options: PcaOptions = {}): Promise<PcaResult> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.pca';
  checkKnownKeys(where, options, ['components']);
  const x = checkMatrix(where, 'X', X, 2);
  const p = x.cols;
  const k = checkInt(where, 'options.components', options.components ?? Math.min(x.rows, p), 1, p);
  const g = await readAndDispose(tf.tidy(() => {
    const xc = centeredTensor(x);
    return matMulT(xc, xc, true);
  }));
  const eig = symmetricEigen(g, p);
  let total = 0;
  for (const l of eig.values) total += Math.max(0, l);
  const comps = new Float32Array(k * p);
  const ev = new Float64Array(k);
  const evr = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let big = 0;
    for (let i = 0; i < p; i++) if (Math.abs(eig.vectors[i * p + c]) > Math.abs(big)) big = eig.vectors[i * p + c];
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < p; i++) comps[c * p + i] = sign * eig.vectors[i * p + c];
    ev[c] = Math.max(0, eig.values[c]) / (x.rows - 1);
    evr[c] = total > 0 ? Math.max(0, eig.values[c]) / total : 0;
  }
  const scoresT = tf.tidy(() => matMulT(centeredTensor(x), tf.tensor2d(comps, [k, p]), false, true));
  const data = Float32Array.from(await readAndDispose(scoresT));
  return {
    components: { data: comps, rows: k, cols: p },
    explainedVariance: ev,
    explainedVarianceRatio: evr,
    mean: columnMeans(x),
    scores: { data, rows: x.rows, cols: k },
  };
}
