/**
 * Dimensionality of a representation: TwoNN intrinsic dimension (Facco, d'Errico, Rodriguez &
 * Laio, Sci. Rep. 2017; as scikit-dimension's `skdim.id.TwoNN`), the participation ratio of the
 * covariance spectrum, and the spectrum itself.
 *
 * The neighbor search is ./knn.ts (tfjs blocks + Float64 re-ranking); the participation ratio
 * needs no eigendecomposition: sum(lambda) = tr(C) and sum(lambda^2) = ||C||_F^2 for a symmetric
 * C, both read off the tfjs product X_c^T X_c (or X_c X_c^T when n < p).
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { matMulT } from '../backend/wasm-matmul.js';
import { NestlabArgumentError, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { centeredTensor, readAndDispose } from './common.js';
import { knnSearch } from './knn.js';
import { symmetricEigen } from '../math/linalg.js';

/** Options of {@link twoNn}. */
export interface TwoNnOptions {
  /** Fraction of the largest ratios mu discarded before the fit (skdim `discard_fraction`). Default 0.1. */
  discardFraction?: number;
  /** 'fit' (default): least-squares line through the origin of -log(1 - F(mu)) on log(mu); 'mle': (N - 1) / sum log(mu). */
  estimator?: 'fit' | 'mle';
}

/** TwoNN estimate and what it was computed from. */
export interface TwoNnResult {
  /** Estimated intrinsic dimension. */
  dimension: number;
  /** Points used (rows whose nearest neighbor is at a positive distance). */
  used: number;
  /** Rows dropped because they duplicate another row (r1 = 0, mu undefined). */
  duplicates: number;
}

/**
 * TwoNN intrinsic dimension (Facco et al. 2017): with r1, r2 the distances from each point to its
 * first and second nearest neighbor, mu = r2 / r1 follows F(mu) = 1 - mu^{-d} under local
 * uniformity. 'fit' regresses -log(1 - i/N) on log(mu_(i)) through the origin over the sorted
 * ratios, after discarding the largest `discardFraction` of them, with F_emp(i) = i/N,
 * i = 0, 1, ... (skdim's TwoNN); 'mle' is (N - 1) / sum log mu. Known biases: boundaries of the
 * support lower the estimate a little (a uniform square gives about 1.9), and it underestimates
 * at high dimension (a 10-D Gaussian gives about 9.6 for n = 2000).
 *
 * @throws NestlabArgumentError when X has fewer than 3 rows (or fewer than 3 distinct rows), or
 *   is not finite.
 *
 * @example const { dimension } = await similarity.twoNn(x); // about 2 for points sampled on a surface
 */
export async function twoNn(X: Matrix | tf.Tensor2D, options: TwoNnOptions = {}): Promise<TwoNnResult> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.twoNn';
  checkKnownKeys(where, options, ['discardFraction', 'estimator']);
  const discard = checkNumber(where, 'options.discardFraction', options.discardFraction ?? 0.1, 0, 0.9);
  const estimator = checkOneOf(where, 'options.estimator', options.estimator ?? 'fit', ['fit', 'mle'] as const);
  const x = checkMatrix(where, 'X', X, 3);
  const nn = await knnSearch(x, null, 2, 'euclidean');
  const mus: number[] = [];
  let duplicates = 0;
  for (let i = 0; i < x.rows; i++) {
    const r1 = nn.distances[2 * i];
    const r2 = nn.distances[2 * i + 1];
    if (!(r1 > 0)) duplicates++;
    else mus.push(r2 / r1);
  }
  const N = mus.length;
  if (N < 3) throw new NestlabArgumentError(where, 'X', 'at least 3 rows with a positive distance to their nearest neighbor', `${N} such rows`);
  if (estimator === 'mle') {
    let s = 0;
    for (const mu of mus) s += Math.log(mu);
    return { dimension: (N - 1) / s, used: N, duplicates };
  }
  mus.sort((a, b) => a - b);
  const keep = Math.floor(N * (1 - discard));
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < keep; i++) {
    const xl = Math.log(mus[i]);
    const yl = -Math.log(1 - i / N);
    sxy += xl * yl;
    sxx += xl * xl;
  }
  if (!(sxx > 0)) throw new NestlabArgumentError(where, 'X', 'points whose two nearest neighbors are not all equidistant', 'mu = 1 everywhere');
  return { dimension: sxy / sxx, used: N, duplicates };
}

/** The centered second-moment matrix of X on tfjs, in whichever orientation is smaller, read back. */
async function smallGram(x: Matrix): Promise<{ g: Float64Array; d: number }> {
  const useFeature = x.cols <= x.rows;
  const t = tf.tidy(() => {
    const xc = centeredTensor(x);
    return useFeature ? matMulT(xc, xc, true) : matMulT(xc, xc, false, true);
  });
  const d = useFeature ? x.cols : x.rows;
  return { g: await readAndDispose(t), d };
}

/**
 * Participation ratio PR = (sum_i lambda_i)^2 / sum_i lambda_i^2 of the covariance eigenvalues
 * (Gao et al. 2017; Recanatesi et al.), computed as tr(C)^2 / ||C||_F^2 without an
 * eigendecomposition. Ranges over [1, min(n - 1, p)]; k equal eigenvalues give k; invariant to
 * rotation, translation and scale. Finite-sample bias for isotropic data: about p / (1 + p / n).
 *
 * @throws NestlabArgumentError when X has fewer than 2 rows, is not finite, or is constant.
 *
 * @example const pr = await similarity.participationRatio(x); // k when k directions carry equal variance
 */
export async function participationRatio(X: Matrix | tf.Tensor2D): Promise<number> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.participationRatio';
  const x = checkMatrix(where, 'X', X, 2);
  const { g, d } = await smallGram(x);
  let tr = 0;
  let fro = 0;
  for (let i = 0; i < d; i++) tr += g[i * d + i];
  for (let i = 0; i < g.length; i++) fro += g[i] * g[i];
  if (!(fro > 0)) throw new NestlabArgumentError(where, 'X', 'a representation with non-zero variance', 'constant columns');
  return (tr * tr) / fro;
}

/**
 * Eigenvalues of the covariance of X (n - 1 normalization), descending, length min(n, p)
 * (Float64 eigensolver of ./linalg.ts on the smaller centered Gram).
 * Sum lambda_i = total variance; the same eigenvalues as scikit-learn `PCA().explained_variance_`
 * (docs/methods/similarity.md §10).
 *
 * @example const lambda = await similarity.covarianceSpectrum(x); // lambda[0] is the variance along the first principal axis
 */
export async function covarianceSpectrum(X: Matrix | tf.Tensor2D): Promise<Float64Array> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const x = checkMatrix('similarity.covarianceSpectrum', 'X', X, 2);
  const { g, d } = await smallGram(x);
  const eig = symmetricEigen(g, d);
  return eig.values.map((l) => Math.max(0, l) / (x.rows - 1));
}
