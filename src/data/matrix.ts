/**
 * The plain matrix that crosses module boundaries: row-major float32, rows = samples/stimuli,
 * columns = units/channels; small helpers so that notebooks never build matrices by hand.
 */
import { tf } from '../backend/tf.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkFinite, checkInt, checkKnownKeys } from '../errors.js';

/** Row-major float32 matrix: element (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  /** The rows * cols entries, row after row. */
  data: Float32Array;
  /** Number of rows (samples, stimuli). */
  rows: number;
  /** Number of columns (units, channels). */
  cols: number;
}

/** Either form accepted at a module boundary. */
export type MatrixLike = Matrix | tf.Tensor2D;

/**
 * Builds a Matrix, checking that `data` has rows*cols entries.
 *
 * @example const m = data.matrix([1, 2, 3, 4, 5, 6], 2, 3); // 2 x 3; element (1, 0) is m.data[1 * 3 + 0] = 4
 */
export function matrix(data: Float32Array | number[], rows: number, cols: number): Matrix {
  checkInt('data.matrix', 'rows', rows, 0);
  checkInt('data.matrix', 'cols', cols, 0);
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  if (arr.length !== rows * cols) {
    throw new NestlabArgumentError('data.matrix', 'data', `${rows}*${cols} = ${rows * cols} entries`, `${arr.length} entries`);
  }
  return { data: arr, rows, cols };
}

/**
 * Builds a Matrix from an array of equal-length rows.
 *
 * @example const m = data.fromRows([[0, 1], [2, 3], [4, 5]]); // 3 x 2
 */
export function fromRows(rows: ArrayLike<number>[]): Matrix {
  const n = rows.length;
  const d = n === 0 ? 0 : rows[0].length;
  const out = new Float32Array(n * d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new NestlabArgumentError('data.fromRows', `rows[${i}]`, `length ${d} like rows[0]`, `length ${r.length}`);
    out.set(r as ArrayLike<number>, i * d);
  });
  return { data: out, rows: n, cols: d };
}

/**
 * Row i as a subarray view (no copy).
 *
 * @example const r = data.row(m, 0); // a Float32Array view of row 0; writing to it writes to m
 */
export function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/**
 * The first `k` columns of every row (a prefix of nested codes/embeddings).
 *
 * @example const z64 = data.prefixColumns(z, 64); // the first 64 dimensions of a Matryoshka embedding
 */
export function prefixColumns(m: Matrix, k: number): Matrix {
  checkInt('data.prefixColumns', 'k', k, 1, m.cols);
  const out = new Float32Array(m.rows * k);
  for (let i = 0; i < m.rows; i++) out.set(m.data.subarray(i * m.cols, i * m.cols + k), i * k);
  return { data: out, rows: m.rows, cols: k };
}

/**
 * The first `n` rows, as a copy.
 *
 * @example const small = data.headRows(train.x, 500); // the first 500 images
 */
export function headRows(m: Matrix, n: number): Matrix {
  checkInt('data.headRows', 'n', n, 0, m.rows);
  return { data: m.data.slice(0, n * m.cols), rows: n, cols: m.cols };
}

/**
 * The product a·b of two matrices ([r, k] x [k, c] -> [r, c]), accumulated in Float64 per entry.
 * (a·b)_ij = sum_q a_iq b_qj; a plain loop for small matrices (use tfjs for large ones).
 *
 * @example const z = data.matmul(x, data.randomProjection(x.cols, 32, { seed: 0 })); // x projected to 32 dimensions
 */
export function matmul(a: Matrix, b: Matrix): Matrix {
  const where = 'data.matmul';
  checkMatrix(where, 'a', a, 0, 0);
  checkMatrix(where, 'b', b, 0, 0);
  if (a.cols !== b.rows) throw new NestlabArgumentError(where, 'b.rows', `a.cols = ${a.cols}`, b.rows);
  const out = new Float32Array(a.rows * b.cols);
  const acc = new Float64Array(b.cols);
  for (let i = 0; i < a.rows; i++) {
    acc.fill(0);
    for (let q = 0; q < a.cols; q++) {
      const v = a.data[i * a.cols + q];
      if (v === 0) continue;
      for (let j = 0; j < b.cols; j++) acc[j] += v * b.data[q * b.cols + j];
    }
    out.set(acc, i * b.cols);
  }
  return { data: out, rows: a.rows, cols: b.cols };
}

/**
 * A random linear map from `from` to `to` dimensions as a [from, to] Matrix, seeded: Gaussian
 * entries scaled by 1/√to (Johnson–Lindenstrauss), or, with `orthonormal: true` (needs from ≤ to),
 * orthonormal rows (Gram–Schmidt on Gaussian rows), so `matmul(x, p)` embeds x isometrically.
 *
 * @example const p = data.randomProjection(784, 64, { seed: 0 }); // 784 x 64, entries N(0, 1/64)
 */
export function randomProjection(from: number, to: number, options: { seed?: number; orthonormal?: boolean } = {}): Matrix {
  const where = 'data.randomProjection';
  checkKnownKeys(where, options, ['seed', 'orthonormal']);
  checkInt(where, 'from', from, 1);
  checkInt(where, 'to', to, 1);
  const orthonormal = options.orthonormal ?? false;
  if (orthonormal && from > to) throw new NestlabArgumentError(where, 'from', `at most to = ${to} for orthonormal rows`, from);
  const rng = new Rng(checkInt(where, 'options.seed', options.seed ?? 0));
  const w = new Float64Array(from * to);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  if (!orthonormal) return { data: Float32Array.from(w, (v) => v / Math.sqrt(to)), rows: from, cols: to };
  for (let i = 0; i < from; i++) {
    const r = i * to;
    for (let p = 0; p < i; p++) {
      let dot = 0;
      for (let j = 0; j < to; j++) dot += w[r + j] * w[p * to + j];
      for (let j = 0; j < to; j++) w[r + j] -= dot * w[p * to + j];
    }
    let norm = 0;
    for (let j = 0; j < to; j++) norm += w[r + j] * w[r + j];
    norm = Math.sqrt(norm);
    for (let j = 0; j < to; j++) w[r + j] /= norm;
  }
  return { data: Float32Array.from(w), rows: from, cols: to };
}

/**
 * The rows listed in `indices`, in that order.
 *
 * @example const sub = data.selectRows(m, [3, 0, 7]); // rows 3, 0 and 7, in that order
 */
export function selectRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float32Array(indices.length * m.cols);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    if (!(i >= 0 && i < m.rows)) throw new NestlabArgumentError('data.selectRows', `indices[${r}]`, `a row index in [0, ${m.rows})`, i);
    out.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), r * m.cols);
  }
  return { data: out, rows: indices.length, cols: m.cols };
}

/**
 * Validates a matrix argument of an exported function: 2-D, at least `minRows` rows and
 * `minCols` columns, all finite. Returns it as a Matrix (tensors are read synchronously, so pass
 * Matrix objects on the webgpu backend).
 */
export function checkMatrix(where: string, argument: string, m: unknown, minRows = 1, minCols = 1): Matrix {
  let out: Matrix;
  if (m instanceof tf.Tensor) {
    if (m.rank !== 2) throw new NestlabArgumentError(where, argument, 'a 2-D tensor [rows, cols]', `a rank-${m.rank} tensor`);
    out = { data: Float32Array.from(m.dataSync() as ArrayLike<number>), rows: m.shape[0], cols: m.shape[1] };
  } else if (m !== null && typeof m === 'object' && 'data' in m && 'rows' in m && 'cols' in m) {
    const c = m as Matrix;
    if (!(c.data instanceof Float32Array) || c.data.length !== c.rows * c.cols) {
      throw new NestlabArgumentError(where, argument, 'a Matrix whose Float32Array data has rows*cols entries', m);
    }
    out = c;
  } else {
    throw new NestlabArgumentError(where, argument, 'a Matrix {data: Float32Array, rows, cols} or a tf.Tensor2D', m);
  }
  if (out.rows < minRows) throw new NestlabArgumentError(where, `${argument}.rows`, `at least ${minRows}`, out.rows);
  if (out.cols < minCols) throw new NestlabArgumentError(where, `${argument}.cols`, `at least ${minCols}`, out.cols);
  checkFinite(where, argument, out.data);
  return out;
}

/**
 * Validates the input of a model's function: a matrix as {@link checkMatrix} says, named `x`, with
 * the model's `inputDim` columns.
 */
export function checkModelInput(where: string, x: unknown, inputDim: number): Matrix {
  const m = checkMatrix(where, 'x', x);
  if (m.cols !== inputDim) throw new NestlabArgumentError(where, 'x.cols', `${inputDim} (the model's inputDim)`, m.cols);
  return m;
}

/**
 * Column means in Float64: mean_i m[i, j] for every column j (sum, then one division).
 *
 * @example const mu = data.columnMeans(m); // Float64Array of length m.cols
 */
export function columnMeans(m: Matrix): Float64Array {
  const mu = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) mu[j] += m.data[i * m.cols + j];
  for (let j = 0; j < m.cols; j++) mu[j] /= m.rows;
  return mu;
}

/** Scales every row of a row-major [rows, cols] array to unit L2 norm, in place (rows of norm 0 stay as they are). */
export function normalizeRowsInPlace(w: Float32Array, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[o + j] * w[o + j];
    if (s <= 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < cols; j++) w[o + j] *= inv;
  }
}

/**
 * A copy of `m` with every row scaled to unit L2 norm (zero rows stay zero).
 *
 * @example const unit = data.normalizeRows(m); // x_i / ||x_i||_2 for every row
 */
export function normalizeRows(m: Matrix): Matrix {
  const data = m.data.slice();
  normalizeRowsInPlace(data, m.rows, m.cols);
  return { data, rows: m.rows, cols: m.cols };
}

/**
 * A Matrix as a tf.Tensor2D (the caller disposes it).
 *
 * @example const t = data.toTensor(m); // tf.Tensor2D [m.rows, m.cols]; t.dispose() when done
 */
export function toTensor(m: Matrix): tf.Tensor2D {
  return tf.tensor2d(m.data, [m.rows, m.cols], 'float32');
}

/**
 * Reads a 2-D tensor back as a Matrix (async: works on every backend, webgpu included).
 *
 * @example const m = await data.fromTensor(t); // { data, rows, cols } with the values of t
 */
export async function fromTensor(t: tf.Tensor): Promise<Matrix> {
  if (t.rank !== 2) throw new NestlabArgumentError('data.fromTensor', 't', 'a 2-D tensor', `a rank-${t.rank} tensor`);
  const data = await t.data();
  return { data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), rows: t.shape[0] as number, cols: t.shape[1] as number };
}
