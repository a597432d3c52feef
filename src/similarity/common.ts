/**
 * Shared plumbing for src/similarity: argument checks for a pair of representations, and the
 * tfjs products every measure is built from (column-centered cross-products X^T Y).
 *
 * Products with a transposed operand go through `matMulT`, which picks the fast form per backend
 * and turns X^T X into a Gram-matrix (ssyrk) call on the BLAS.
 */
import { tf } from '../backend/tf.js';
import { matMulT } from '../backend/wasm-matmul.js';
import { withValues } from '../backend/read.js';
import { NestlabArgumentError } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';

/** Validates a pair of representations of the same stimuli (rows) and returns them as Matrices. */
export function checkPair(where: string, X: unknown, Y: unknown, minRows: number): [Matrix, Matrix] {
  const x = checkMatrix(where, 'X', X, 1);
  const y = checkMatrix(where, 'Y', Y, 1);
  if (x.rows !== y.rows) {
    throw new NestlabArgumentError(where, 'Y.rows', `equal to X.rows = ${x.rows} (rows are the same stimuli in both)`, y.rows);
  }
  if (x.rows < minRows) throw new NestlabArgumentError(where, 'X.rows', `at least ${minRows} (samples)`, x.rows);
  return [x, y];
}

/**
 * A Matrix on tfjs with its column means removed (inside tidy, or dispose it). The means are a
 * product 1^T X / n: one pass on every backend, where tf.mean over axis 0 transposes first on wasm.
 */
export function centeredTensor(m: Matrix): tf.Tensor2D {
  return tf.tidy(() => {
    const t = tf.tensor2d(m.data, [m.rows, m.cols], 'float32');
    const means = tf.div(tf.matMul(tf.ones([1, m.rows]), t), m.rows);
    return tf.sub(t, means) as tf.Tensor2D;
  });
}

/** Sum of a tensor's squared entries, accumulated in Float64 on the host (read in place on wasm); disposes it. */
export async function readSumSquares(t: tf.Tensor): Promise<number> {
  try {
    return await withValues(t, sumSquares);
  } finally {
    t.dispose();
  }
}

/** Reads a tensor as Float64 values (async, so it works on every backend) and disposes it. */
export async function readAndDispose(t: tf.Tensor): Promise<Float64Array> {
  try {
    return Float64Array.from((await t.data()) as ArrayLike<number>);
  } finally {
    t.dispose();
  }
}

/** Centered cross-products of X and Y, read back in Float64 (row-major). */
export interface CenteredProducts {
  /** X_c^T X_c, p x p. */
  xx: Float64Array;
  /** Y_c^T Y_c, q x q. */
  yy: Float64Array;
  /** X_c^T Y_c, p x q. */
  xy: Float64Array;
  p: number;
  q: number;
  n: number;
}

/** X_c^T X_c, Y_c^T Y_c and X_c^T Y_c on tfjs (three matMuls), read back in Float64. */
export async function centeredProducts(x: Matrix, y: Matrix): Promise<CenteredProducts> {
  const [txx, tyy, txy] = tf.tidy(() => {
    const xc = centeredTensor(x);
    const yc = centeredTensor(y);
    return [matMulT(xc, xc, true), matMulT(yc, yc, true), matMulT(xc, yc, true)];
  });
  const [xx, yy, xy] = await Promise.all([readAndDispose(txx), readAndDispose(tyy), readAndDispose(txy)]);
  return { xx, yy, xy, p: x.cols, q: y.cols, n: x.rows };
}

/** Sum of squares of a Float64 array (the squared Frobenius norm). */
export function sumSquares(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}
