/**
 * Generalized shape metrics (Williams, Kunz, Kornblith & Linderman, NeurIPS 2021), as netrep's
 * `LinearMetric(alpha, center_columns, zero_pad, score_method)` (ahwillia/netrep,
 * netrep/metrics/linear.py and utils.whiten).
 *
 * Each representation is centered and partially whitened, phi_alpha(X) = X Z with
 * Z = V diag(alpha + (1 - alpha) lambda^{-1/2}) V^T ((lambda, V) = eig(X^T X), lambda clipped at
 * 1e-7, Z rescaled to preserve tr(X^T X)); then the best rotation aligns them (orthogonal
 * Procrustes). With Xw = phi(X), Yw = phi(Y) and ||.||_* the nuclear norm:
 *
 *   angular   = arccos( ||Xw^T Yw||_* / (||Xw||_F ||Yw||_F) )        (in [0, pi/2])
 *   euclidean = sqrt( ||Xw||_F^2 + ||Yw||_F^2 - 2 ||Xw^T Yw||_* )
 *
 * alpha = 1 is plain Procrustes (rotations only), alpha = 0 allows any invertible linear map
 * (CCA-like). Both are metrics (triangle inequality). The n-sized work is three tfjs matMuls
 * (X^T X, Y^T Y, X^T Y); whitening and the nuclear norm are Float64 eigenproblems of size
 * max(p, q) in ./linalg.ts (tfjs has no SVD). The narrower input is zero-padded.
 *
 * Caveat (Pospisil et al., ICLR 2024): with few samples per unit the plug-in nuclear norm
 * overestimates similarity; prefer n >> p, or fit and score on different halves.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { matMulT } from '../backend/wasm-matmul.js';
import { NestlabArgumentError, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { checkPair, readAndDispose } from './common.js';
import { matmul, smallSvd, symmetricEigen, trace, transpose } from '../math/linalg.js';

/** Options of {@link shapeDistance}. */
export interface ShapeDistanceOptions {
  /** Partial whitening in [0, 1]: 1 = rotations only (Procrustes), 0 = any invertible linear map. Default 1. */
  alpha?: number;
  /** Remove column means first (netrep `center_columns`). Default true. */
  center?: boolean;
  /** Zero-pad the narrower representation; otherwise p != q is an error. Default true. */
  zeroPad?: boolean;
  /** 'angular' (default, radians) or 'euclidean'. */
  score?: 'angular' | 'euclidean';
}

function checkBool(where: string, argument: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new NestlabArgumentError(where, argument, 'true or false', v);
  return v;
}

/** Pads a p x p Gram to d x d with zeros. */
function padSquare(g: Float64Array, p: number, d: number): Float64Array {
  if (p === d) return g;
  const out = new Float64Array(d * d);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) out[i * d + j] = g[i * p + j];
  return out;
}

/** Pads a p x q block into d x d. */
function padRect(g: Float64Array, p: number, q: number, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) out[i * d + j] = g[i * q + j];
  return out;
}

/** netrep.utils.whiten's Z (d x d) from the Gram G = X^T X. */
export function partialWhitening(g: Float64Array, d: number, alpha: number): Float64Array {
  const eig = symmetricEigen(g, d);
  const lam = eig.values.map((l) => Math.max(l, 1e-7));
  const diag = lam.map((l) => alpha + (1 - alpha) / Math.sqrt(l));
  let newVar = 0;
  let sumLam = 0;
  for (const l of lam) {
    newVar += alpha * alpha * l + 2 * alpha * (1 - alpha) * Math.sqrt(l) + (1 - alpha) ** 2;
    sumLam += l;
  }
  const s = Math.sqrt(sumLam / newVar);
  const z = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += eig.vectors[i * d + k] * diag[k] * s * eig.vectors[j * d + k];
      z[i * d + j] = acc;
    }
  }
  return z;
}

/**
 * Shape distance between X (n x p) and Y (n x q) after optimal alignment (Williams et al. 2021;
 * netrep `LinearMetric(...).fit(X, Y).score(X, Y)`): 0 for X = c Y Q + b (Q orthogonal) at
 * alpha = 1 with the angular score, and for X = Y W + b (W invertible) at alpha = 0.
 *
 * @throws NestlabArgumentError on row mismatch, n < 2, non-finite input, p != q without zeroPad,
 *   alpha outside [0, 1], or an all-zero representation.
 *
 * @example const d = await similarity.shapeDistance(x, y, { alpha: 1, score: 'angular' }); // radians; 0 when y is a rotated, scaled, shifted x
 */
export async function shapeDistance(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, options: ShapeDistanceOptions = {}): Promise<number> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'similarity.shapeDistance';
  checkKnownKeys(where, options, ['alpha', 'center', 'zeroPad', 'score']);
  const alpha = checkNumber(where, 'options.alpha', options.alpha ?? 1, 0, 1);
  const center = checkBool(where, 'options.center', options.center ?? true);
  const zeroPad = checkBool(where, 'options.zeroPad', options.zeroPad ?? true);
  const score = checkOneOf(where, 'options.score', options.score ?? 'angular', ['angular', 'euclidean'] as const);
  const [x, y] = checkPair(where, X, Y, 2);
  const p = x.cols;
  const q = y.cols;
  if (p !== q && !zeroPad) throw new NestlabArgumentError(where, 'Y.cols', `equal to X.cols = ${p} (or set zeroPad: true)`, q);
  const ts = tf.tidy(() => {
    let xt = tf.tensor2d(x.data, [x.rows, p]);
    let yt = tf.tensor2d(y.data, [y.rows, q]);
    if (center) {
      xt = tf.sub(xt, tf.mean(xt, 0, true));
      yt = tf.sub(yt, tf.mean(yt, 0, true));
    }
    return [matMulT(xt, xt, true), matMulT(yt, yt, true), matMulT(xt, yt, true)];
  });
  const [gxx0, gyy0, gxy0] = await Promise.all(ts.map((t) => readAndDispose(t)));
  const d = Math.max(p, q);
  const gxx = padSquare(gxx0, p, d);
  const gyy = padSquare(gyy0, q, d);
  let gxy = padRect(gxy0, p, q, d);
  let nxx = trace(gxx, d);
  let nyy = trace(gyy, d);
  if (!(nxx > 0)) throw new NestlabArgumentError(where, 'X', 'a representation that is not all zero (after centering)', 'zero');
  if (!(nyy > 0)) throw new NestlabArgumentError(where, 'Y', 'a representation that is not all zero (after centering)', 'zero');
  if (alpha <= 1 - 1e-7) {
    const zx = partialWhitening(gxx, d, alpha);
    const zy = partialWhitening(gyy, d, alpha);
    const zxT = transpose(zx, d, d);
    gxy = matmul(matmul(zxT, gxy, d, d, d), zy, d, d, d);
    nxx = trace(matmul(matmul(zxT, gxx, d, d, d), zx, d, d, d), d);
    nyy = trace(matmul(matmul(transpose(zy, d, d), gyy, d, d, d), zy, d, d, d), d);
  }
  const svd = smallSvd(gxy, d, d);
  let nuc = 0;
  for (const s of svd.s) nuc += s;
  if (score === 'angular') return Math.acos(Math.min(1, Math.max(-1, nuc / Math.sqrt(nxx * nyy))));
  return Math.sqrt(Math.max(0, nxx + nyy - 2 * nuc));
}
