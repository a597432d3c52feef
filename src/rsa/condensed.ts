/**
 * The RDM value type and its condensed layout: the upper triangle of an n x n dissimilarity
 * matrix in row-major order, (0,1), (0,2), ..., (0,n-1), (1,2), ..., exactly as scipy's
 * `pdist`/`squareform` and rsatoolbox's `get_vectors()` store it (docs/methods/rsa.md §2).
 * Length m = n(n-1)/2. An `Rdm` carries, beside the values, what they measure and optional
 * descriptors of the stimuli (rsatoolbox's `dissimilarity_measure` and `pattern_descriptors`),
 * so comparisons, transforms and plots can say what they show.
 *
 * Hand-written: these are index helpers of a few lines each; no npm package uses this layout.
 */
import { NestlabArgumentError } from '../errors.js';

/** Per-stimulus descriptors: name -> one value per stimulus (e.g. { label: [3, 1, 4, ...] }). */
export type PatternDescriptors = Record<string, readonly (string | number)[]>;

/** A representational dissimilarity matrix over n stimuli, condensed, with its metadata. */
export interface Rdm {
  /** The n(n-1)/2 dissimilarities, pair (i, j), i < j, at `pairIndex(n, i, j)`. */
  values: Float64Array;
  /** Number of stimuli. */
  n: number;
  /** What the values measure: the RDM method ('euclidean', 'correlation', ...) or the transform that made them. */
  measure: string;
  /** Descriptors of the stimuli, each of length n (optional). */
  patternDescriptors?: PatternDescriptors;
}

/** An Rdm, or its bare condensed values (measure unknown). */
export type RdmLike = Rdm | ArrayLike<number>;

/** True for an Rdm object (not a bare vector). */
export function isRdm(x: unknown): x is Rdm {
  return x !== null && typeof x === 'object' && 'values' in x && 'measure' in x && 'n' in x;
}

/** The condensed values of an Rdm or a bare vector. */
export function valuesOf(x: RdmLike): ArrayLike<number> {
  return isRdm(x) ? x.values : x;
}

/** The measure of an Rdm ('dissimilarity' for a bare vector). */
export function measureOf(x: RdmLike): string {
  return isRdm(x) ? x.measure : 'dissimilarity';
}

/** The pattern descriptors of an Rdm (undefined for a bare vector). */
export function descriptorsOf(x: RdmLike): PatternDescriptors | undefined {
  return isRdm(x) ? x.patternDescriptors : undefined;
}

/** An Rdm from condensed `values` (n from their length): what every function returning an RDM builds. */
export function makeRdm(values: Float64Array, measure: string, patternDescriptors?: PatternDescriptors): Rdm {
  const n = rdmSize(values.length, 'rsa.rdm', 'values', 1);
  return patternDescriptors === undefined ? { values, n, measure } : { values, n, measure, patternDescriptors };
}

/**
 * An Rdm from your own dissimilarities: a condensed vector (length n(n-1)/2) or a square
 * symmetric n x n matrix (row-major, length n²; its diagonal is ignored). `measure` says what
 * they are (default 'dissimilarity'); `patternDescriptors` label the stimuli.
 *
 * @example rsa.rdm([1, 2, 3], { measure: 'model' }) // 3 stimuli
 */
export function rdm(values: ArrayLike<number>, options: { measure?: string; patternDescriptors?: PatternDescriptors } = {}): Rdm {
  const where = 'rsa.rdm';
  if (values == null || typeof values.length !== 'number' || typeof values === 'string') throw new NestlabArgumentError(where, 'values', 'a condensed or square matrix of numbers', values);
  const measure = options.measure ?? 'dissimilarity';
  if (typeof measure !== 'string') throw new NestlabArgumentError(where, 'options.measure', 'a string', measure);
  const sq = Math.round(Math.sqrt(values.length));
  const tri = Math.round((1 + Math.sqrt(1 + 8 * values.length)) / 2);
  // A length that is both (e.g. 0 or 1) is read as condensed.
  const condensed = condensedLength(tri) === values.length ? Float64Array.from(values) : sq * sq === values.length ? toCondensed(values, sq) : null;
  if (condensed === null) throw new NestlabArgumentError(where, 'values', 'n(n-1)/2 (condensed) or n*n (square) entries', `${values.length} entries`);
  const out = makeRdm(condensed, measure);
  if (options.patternDescriptors !== undefined) out.patternDescriptors = checkDescriptors(where, options.patternDescriptors, out.n);
  return out;
}

/** Validates pattern descriptors: an object of arrays of length n. */
export function checkDescriptors(where: string, d: unknown, n: number): PatternDescriptors {
  if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new NestlabArgumentError(where, 'patternDescriptors', 'an object {name: values per stimulus}', d);
  for (const [k, v] of Object.entries(d)) {
    if (!Array.isArray(v) || v.length !== n) throw new NestlabArgumentError(where, `patternDescriptors.${k}`, `an array of ${n} values (one per stimulus)`, v);
  }
  return d as PatternDescriptors;
}

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

/**
 * Square form (n x n, row-major, zero diagonal, symmetric) of an RDM or a condensed vector:
 * S[i][j] = S[j][i] = v[pairIndex(n, i, j)], as scipy's `squareform` (docs/methods/rsa.md §2).
 *
 * @example const s = rsa.squareform(r); // s[i * r.n + j] = dissimilarity of stimuli i and j
 */
export function squareform(rdm: RdmLike): Float64Array {
  const v = valuesOf(rdm);
  const n = rdmSize(v.length, 'rsa.squareform', 'rdm', 1);
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
    throw new NestlabArgumentError('rsa.rdm', 'values', `n*n = ${n * n} entries`, `${square.length} entries`);
  }
  const out = new Float64Array(condensedLength(n));
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, k++) {
      const a = square[i * n + j];
      if (checkSymmetric) {
        const b = square[j * n + i];
        if (!(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))) && !(Number.isNaN(a) && Number.isNaN(b)) && a !== b) {
          throw new NestlabArgumentError('rsa.rdm', 'values', 'a symmetric matrix', `entry (${i},${j}) = ${a} but (${j},${i}) = ${b}`);
        }
      }
      out[k] = a;
    }
  }
  return out;
}

/**
 * The RDM of the stimuli `indices` (with repeats allowed, as rsatoolbox's `subsample_pattern`):
 * entry (a, b) is d(indices[a], indices[b]); pairs of two copies of one stimulus are NaN. The
 * pattern descriptors follow the stimuli. The bootstrap over stimuli resamples with it.
 *
 * @example const b = rsa.subsampleRdm(r, [0, 0, 3, 5]); // b.n === 4; pair (0, 1) is NaN (two copies of stimulus 0)
 */
export function subsampleRdm(rdm: RdmLike, indices: ArrayLike<number>): Rdm {
  const out = subsampleValues(valuesOf(rdm), indices);
  const d = descriptorsOf(rdm);
  const picked = d === undefined ? undefined : Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Array.from(indices, (i) => v[i])]));
  return makeRdm(out, measureOf(rdm), picked);
}

/** subsampleRdm on bare condensed values (the bootstrap's inner loop). */
export function subsampleValues(v: ArrayLike<number>, indices: ArrayLike<number>): Float64Array {
  const n = rdmSize(v.length, 'rsa.subsampleRdm', 'rdm', 2);
  const k = indices.length;
  for (let a = 0; a < k; a++) {
    const i = indices[a];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new NestlabArgumentError('rsa.subsampleRdm', `indices[${a}]`, `a stimulus index in [0, ${n})`, i);
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
