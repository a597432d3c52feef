/**
 * The plain matrix that crosses module boundaries: row-major float32, rows = samples/stimuli,
 * columns = units/channels (DESIGN.md, "Conventions").
 */
import { tf } from '../backend/tf.js';
import { NestlabArgumentError, checkFinite, checkInt } from '../errors.js';

/** Row-major float32 matrix: element (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Either form accepted at a module boundary. */
export type MatrixLike = Matrix | tf.Tensor2D;

/** Builds a Matrix, checking that `data` has rows*cols entries. */
export function matrix(data: Float32Array | number[], rows: number, cols: number): Matrix {
  checkInt('matrix', 'rows', rows, 0);
  checkInt('matrix', 'cols', cols, 0);
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  if (arr.length !== rows * cols) {
    throw new NestlabArgumentError('matrix', 'data', `${rows}*${cols} = ${rows * cols} entries`, `${arr.length} entries`);
  }
  return { data: arr, rows, cols };
}

/** Builds a Matrix from an array of equal-length rows. */
export function fromRows(rows: ArrayLike<number>[]): Matrix {
  const n = rows.length;
  const d = n === 0 ? 0 : rows[0].length;
  const out = new Float32Array(n * d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new NestlabArgumentError('fromRows', `rows[${i}]`, `length ${d} like rows[0]`, `length ${r.length}`);
    out.set(r as ArrayLike<number>, i * d);
  });
  return { data: out, rows: n, cols: d };
}

/** Row i as a subarray view (no copy). */
export function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** The first `k` columns of every row (a prefix of nested codes/embeddings). */
export function prefixColumns(m: Matrix, k: number): Matrix {
  checkInt('prefixColumns', 'k', k, 1, m.cols);
  const out = new Float32Array(m.rows * k);
  for (let i = 0; i < m.rows; i++) out.set(m.data.subarray(i * m.cols, i * m.cols + k), i * k);
  return { data: out, rows: m.rows, cols: k };
}

/** The rows listed in `indices`, in that order. */
export function selectRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float32Array(indices.length * m.cols);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    if (!(i >= 0 && i < m.rows)) throw new NestlabArgumentError('selectRows', `indices[${r}]`, `a row index in [0, ${m.rows})`, i);
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

/** A Matrix as a tf.Tensor2D (the caller disposes it). */
export function toTensor(m: Matrix): tf.Tensor2D {
  return tf.tensor2d(m.data, [m.rows, m.cols], 'float32');
}

/** Reads a 2-D tensor back as a Matrix (async: works on every backend, webgpu included). */
export async function fromTensor(t: tf.Tensor): Promise<Matrix> {
  if (t.rank !== 2) throw new NestlabArgumentError('fromTensor', 't', 'a 2-D tensor', `a rank-${t.rank} tensor`);
  const data = await t.data();
  return { data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), rows: t.shape[0] as number, cols: t.shape[1] as number };
}
