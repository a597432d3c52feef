/** Shared inputs for the similarity tests: fixture F of docs/methods/similarity.md §2 and seeded helpers. */
import { Rng } from '../../src/backend/rng.js';
import { fromRows, type Matrix } from '../../src/data/matrix.js';

/** Fixture F, X (8 x 3). */
export const FX: Matrix = fromRows([[0, 0, 1], [1, 0, 0], [0, 2, 0], [1, 1, 1], [2, 0, 1], [0, 1, 3], [3, 1, 0], [1, 3, 2]]);

/** Fixture F, Y = tanh(X A) (8 x 2). */
export const FY: Matrix = (() => {
  const A = [[1, 0.5], [-0.5, 1], [0.25, -1]];
  const rows = [];
  for (let i = 0; i < 8; i++) rows.push([0, 1].map((c) => Math.tanh([0, 1, 2].reduce((s, k) => s + FX.data[i * 3 + k] * A[k][c], 0))));
  return fromRows(rows);
})();

/** An n x d matrix of standard normals from a seeded Rng. */
export function gaussian(n: number, d: number, seed: number, scale = 1): Matrix {
  return { data: new Rng(seed).normalArray(n * d, scale), rows: n, cols: d };
}

/** A random d x d orthogonal matrix (Gram–Schmidt on Gaussian columns), row-major Float64. */
export function randomOrthogonal(d: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const q = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < d; i++) q[i * d + j] = rng.normal();
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[i * d + j] * q[i * d + k];
        for (let i = 0; i < d; i++) q[i * d + j] -= dot * q[i * d + k];
      }
    }
    let nrm = 0;
    for (let i = 0; i < d; i++) nrm += q[i * d + j] ** 2;
    for (let i = 0; i < d; i++) q[i * d + j] /= Math.sqrt(nrm);
  }
  return q;
}

/** c * M W + b (W is cols x outCols, row-major), as a new float32 Matrix. */
export function affine(m: Matrix, w: ArrayLike<number>, outCols: number, c = 1, b = 0): Matrix {
  const out = new Float32Array(m.rows * outCols);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < outCols; j++) {
      let s = 0;
      for (let k = 0; k < m.cols; k++) s += m.data[i * m.cols + k] * w[k * outCols + j];
      out[i * outCols + j] = c * s + b;
    }
  }
  return { data: out, rows: m.rows, cols: outCols };
}

/** Column-wise concatenation [A | B]. */
export function hcat(a: Matrix, b: Matrix): Matrix {
  const out = new Float32Array(a.rows * (a.cols + b.cols));
  for (let i = 0; i < a.rows; i++) {
    out.set(a.data.subarray(i * a.cols, (i + 1) * a.cols), i * (a.cols + b.cols));
    out.set(b.data.subarray(i * b.cols, (i + 1) * b.cols), i * (a.cols + b.cols) + a.cols);
  }
  return { data: out, rows: a.rows, cols: a.cols + b.cols };
}
