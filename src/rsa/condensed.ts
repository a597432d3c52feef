/**
 * Condensed RDM vectors: the upper triangle of an n x n dissimilarity matrix in row-major order,
 * (0,1), (0,2), ..., (0,n-1), (1,2), ..., exactly as scipy's `pdist`/`squareform` and
 * rsatoolbox's `get_vectors()` store it (research/trsa.md section 2). Length m = n(n-1)/2.
 *
 * Hand-written: these are index helpers of a few lines each; no npm package uses this layout.
 */
import { NestlabArgumentError } from '../errors.js';

/** A condensed RDM: m = n(n-1)/2 dissimilarities, pair (i, j), i < j, at `pairIndex(n, i, j)`. */
export type Condensed = Float64Array;

/** Number of pairs m = n(n-1)/2 of n stimuli. */
export function condensedLength(n: number): number {
  return (n * (n - 1)) / 2;
}

/**
 * Position of pair (i, j), i < j, in a condensed vector of n stimuli:
 * k = i*n - i*(i+1)/2 + (j - i - 1) (scipy's squareform order).
 */
export function pairIndex(n: number, i: number, j: number): number {
  if (i > j) {
    const t = i;
    i = j;
    j = t;
  }
  return i * n - (i * (i + 1)) / 2 + (j - i - 1);
}

/**
 * Number of stimuli n of a condensed vector of length m (n = (1 + sqrt(1 + 8m)) / 2); throws
 * unless m is a triangular number of at least `minStimuli` stimuli.
 */
export function rdmSize(m: number, where = 'rdmSize', argument = 'rdm', minStimuli = 2): number {
  const n = Math.round((1 + Math.sqrt(1 + 8 * m)) / 2);
  if (!Number.isInteger(m) || condensedLength(n) !== m) {
    throw new NestlabArgumentError(where, argument, 'a condensed RDM of length n(n-1)/2', `length ${m}`);
  }
  if (n < minStimuli) {
    throw new NestlabArgumentError(where, argument, `an RDM of at least ${minStimuli} stimuli`, `${n} stimuli (length ${m})`);
  }
  return n;
}

/** Square form (n x n, row-major, zero diagonal, symmetric) of a condensed vector. */
export function squareform(v: ArrayLike<number>): Float64Array {
  const n = rdmSize(v.length, 'squareform', 'v', 1);
  const out = new Float64Array(n * n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, k++) {
      out[i * n + j] = v[k];
      out[j * n + i] = v[k];
    }
  }
  return out;
}

/**
 * Condensed upper triangle of a square n x n matrix given row-major. The matrix must be symmetric
 * (to 1e-9 relative) unless `checkSymmetric` is false; the diagonal is ignored.
 */
export function toCondensed(square: ArrayLike<number>, n: number, checkSymmetric = true): Float64Array {
  if (!Number.isInteger(n) || n < 1 || square.length !== n * n) {
    throw new NestlabArgumentError('toCondensed', 'square', `n*n = ${n * n} entries`, `${square.length} entries`);
  }
  const out = new Float64Array(condensedLength(n));
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, k++) {
      const a = square[i * n + j];
      if (checkSymmetric) {
        const b = square[j * n + i];
        if (!(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))) && !(Number.isNaN(a) && Number.isNaN(b)) && a !== b) {
          throw new NestlabArgumentError('toCondensed', 'square', 'a symmetric matrix', `entry (${i},${j}) = ${a} but (${j},${i}) = ${b}`);
        }
      }
      out[k] = a;
    }
  }
  return out;
}

/**
 * The RDM of the stimuli `indices` (with repeats allowed, as rsatoolbox's `subsample_pattern`):
 * entry (a, b) is d(indices[a], indices[b]); pairs of two copies of one stimulus are NaN.
 */
export function subsampleRdm(v: ArrayLike<number>, indices: ArrayLike<number>): Float64Array {
  const n = rdmSize(v.length, 'subsampleRdm', 'v', 2);
  const k = indices.length;
  for (let a = 0; a < k; a++) {
    const i = indices[a];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new NestlabArgumentError('subsampleRdm', `indices[${a}]`, `a stimulus index in [0, ${n})`, i);
    }
  }
  const out = new Float64Array(condensedLength(k));
  let p = 0;
  for (let a = 0; a < k; a++) {
    const i = indices[a];
    for (let b = a + 1; b < k; b++, p++) {
      const j = indices[b];
      out[p] = i === j ? NaN : v[pairIndex(n, i, j)];
    }
  }
  return out;
}
