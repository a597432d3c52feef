/**
 * Comparators between RDMs, with rsatoolbox's names and definitions (rsatoolbox/rdm/compare.py;
 * docs/methods/rsa.md §5): 'cosine', 'corr', 'spearman', 'rho-a', 'tau-a', 'tau-b',
 * 'cosine_cov', 'corr_cov'.
 *
 * Hand-written, in float64 JS loops: comparisons are O(m) or O(m log m) passes over condensed
 * vectors (no matrix product to hand to tfjs). Ranks use a radix argsort (math/order.ts); Kendall's tau
 * uses Knight's O(m log m) algorithm (sort by (x, y), count discordant pairs by merge sort), so
 * two-million-entry RDMs compare in well under a second.
 *
 * NaN entries (pairs of two copies of one stimulus after bootstrap resampling) are dropped, as
 * rsatoolbox drops them; both RDMs must have NaN at the same positions.
 */
import { NestlabArgumentError, checkKnownKeys, checkOneOf } from '../errors.js';
import { isRdm, rdmSize, squareform, type RdmLike } from './condensed.js';
import { argsort, rankWithOffset } from '../math/order.js';

/** Comparator names, as rsatoolbox's `compare(method=...)`. */
export const COMPARE_METHODS = ['cosine', 'corr', 'spearman', 'rho-a', 'tau-a', 'tau-b', 'cosine_cov', 'corr_cov'] as const;
/** One of COMPARE_METHODS: the comparator of `rsa.compareRdms` and of the inference functions. */
export type CompareMethod = (typeof COMPARE_METHODS)[number];

/** Options of the comparators. */
export interface CompareOptions {
  /** The comparator (rsatoolbox's names). Default 'cosine'. */
  method?: CompareMethod;
}

function checkVector(where: string, argument: string, x: unknown): ArrayLike<number> {
  const v = isRdm(x) ? x.values : x;
  if (v == null || typeof (v as ArrayLike<number>).length !== 'number' || typeof v === 'string') {
    throw new NestlabArgumentError(where, argument, 'a condensed RDM (Float64Array or number[])', v);
  }
  const a = v as ArrayLike<number>;
  rdmSize(a.length, where, argument, 3);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (!Number.isFinite(x) && !Number.isNaN(x)) {
      throw new NestlabArgumentError(where, argument, 'finite dissimilarities (NaN marks a missing pair)', `${x} at index ${i}`);
    }
  }
  return a;
}

/** Mask of non-NaN entries, or null when there is none. */
function nanMask(v: ArrayLike<number>): Uint8Array | null {
  let mask: Uint8Array | null = null;
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i])) {
      if (mask === null) mask = new Uint8Array(v.length).fill(1);
      mask[i] = 0;
    }
  }
  return mask;
}

function sameMask(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function applyMask(v: ArrayLike<number>, mask: Uint8Array | null, noCopy = false): Float64Array {
  if (mask === null) return noCopy && v instanceof Float64Array ? v : Float64Array.from(v);
  let k = 0;
  for (let i = 0; i < mask.length; i++) k += mask[i];
  const out = new Float64Array(k);
  let j = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[j++] = v[i];
  return out;
}

function center(v: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const m = s / v.length;
  for (let i = 0; i < v.length; i++) v[i] -= m;
  return v;
}

/** Scales v to unit norm in place; a zero vector stays zero (its cosine with anything is 0, as rsatoolbox). */
function unit(v: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s > 0) {
    const r = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] *= r;
  }
  return v;
}

/**
 * The whitened ("cov-weighted") embedding of a full RDM vector under i.i.d. pattern noise: the
 * double-centered matrix K = H(-D/2)H (H = I - 11^T/n), flattened over all n^2 entries, so that the
 * Frobenius cosine <Kx, Ky> / (|Kx||Ky|) equals x^T V^-1 y / sqrt(x^T V^-1 x y^T V^-1 y) with
 * V = (C C^T)o(C C^T), C the pairwise-contrast matrix (rsatoolbox's `_cov_weighting`, the linear-CKA
 * form; docs/methods/rsa.md §5).
 */
export function doubleCentered(v: ArrayLike<number>): Float64Array {
  const n = rdmSize(v.length, 'doubleCentered', 'v', 2);
  const k = squareform(v);
  for (let i = 0; i < k.length; i++) k[i] *= -0.5;
  const rowMean = new Float64Array(n);
  let grand = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += k[i * n + j];
    rowMean[i] = s / n;
    grand += s;
  }
  grand /= n * n;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) k[i * n + j] += grand - rowMean[i] - rowMean[j];
  return k;
}

/**
 * A comparison-ready form of one RDM vector (NaN entries already dropped): for the cosine-type
 * methods a unit vector whose inner product with another prepared vector is the similarity.
 */
function prepare(v: Float64Array, method: CompareMethod, fullLength: number): Float64Array {
  switch (method) {
    case 'cosine':
      return unit(v);
    case 'corr':
      return unit(center(v));
    case 'spearman': {
      // centered ranks; without ties their squared norm is (m^3 - m)/12 exactly
      const m = v.length;
      const { ranks, ties } = rankWithOffset(v, (m + 1) / 2);
      if (ties) return unit(ranks);
      const s = 1 / Math.sqrt((m * m * m - m) / 12);
      for (let i = 0; i < m; i++) ranks[i] *= s;
      return ranks;
    }
    case 'rho-a': {
      // 12 (r_x - rbar)^T (r_y - rbar) / (m^3 - m): scale each side by sqrt(12 / (m^3 - m))
      const m = v.length;
      const r = rankWithOffset(v, (m + 1) / 2).ranks;
      const s = Math.sqrt(12 / (m * m * m - m));
      for (let i = 0; i < m; i++) r[i] *= s;
      return r;
    }
    case 'cosine_cov':
    case 'corr_cov':
      if (v.length !== fullLength) {
        throw new NestlabArgumentError('rsa.compareRdms', 'method', "'cosine'/'corr'/rank methods when RDMs contain NaN pairs (cov-weighted comparison with missing pairs is not implemented)", method);
      }
      return unit(doubleCentered(method === 'corr_cov' ? center(v) : v));
    default:
      return v;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Counts of Kendall's tau: concordant minus discordant pairs, all pairs, ties in x, in y, in both. */
export function kendallCounts(x: ArrayLike<number>, y: ArrayLike<number>): { conMinusDis: number; total: number; xTies: number; yTies: number; jointTies: number } {
  const m = x.length;
  // lexicographic order by (x, y): stable sort by y, then stable sort by x
  const byY = argsort(y);
  const xs = new Float64Array(m);
  for (let i = 0; i < m; i++) xs[i] = x[byY[i]];
  const byX = argsort(xs);
  const order = new Uint32Array(m);
  for (let i = 0; i < m; i++) order[i] = byY[byX[i]];
  let xTies = 0;
  let jointTies = 0;
  {
    let i = 0;
    while (i < m) {
      let j = i + 1;
      const xv = x[order[i]];
      while (j < m && x[order[j]] === xv) j++;
      const c = j - i;
      xTies += (c * (c - 1)) / 2;
      // joint ties inside this x group: runs of equal y (sorted by y within the group)
      let a = i;
      while (a < j) {
        let b = a + 1;
        const yv = y[order[a]];
        while (b < j && y[order[b]] === yv) b++;
        const d = b - a;
        jointTies += (d * (d - 1)) / 2;
        a = b;
      }
      i = j;
    }
  }
  // discordant pairs = strict inversions of y in this order (bottom-up merge sort)
  let ys = new Float64Array(m);
  for (let i = 0; i < m; i++) ys[i] = y[order[i]];
  let buf = new Float64Array(m);
  let dis = 0;
  for (let width = 1; width < m; width *= 2) {
    for (let lo = 0; lo < m; lo += 2 * width) {
      const mid = Math.min(lo + width, m);
      const hi = Math.min(lo + 2 * width, m);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (ys[i] <= ys[j]) buf[k++] = ys[i++];
        else {
          dis += mid - i;
          buf[k++] = ys[j++];
        }
      }
      while (i < mid) buf[k++] = ys[i++];
      while (j < hi) buf[k++] = ys[j++];
    }
    const t = ys;
    ys = buf;
    buf = t;
  }
  let yTies = 0;
  {
    let i = 0;
    while (i < m) {
      let j = i + 1;
      while (j < m && ys[j] === ys[i]) j++;
      const c = j - i;
      yTies += (c * (c - 1)) / 2;
      i = j;
    }
  }
  const total = (m * (m - 1)) / 2;
  return { conMinusDis: total - xTies - yTies + jointTies - 2 * dis, total, xTies, yTies, jointTies };
}

function kendall(x: Float64Array, y: Float64Array, variant: 'tau-a' | 'tau-b'): number {
  const c = kendallCounts(x, y);
  if (variant === 'tau-a') return Math.min(1, Math.max(-1, c.conMinusDis / c.total));
  const den = Math.sqrt((c.total - c.xTies) * (c.total - c.yTies));
  return den > 0 ? Math.min(1, Math.max(-1, c.conMinusDis / den)) : NaN;
}

/**
 * Similarity of two condensed RDMs (same length, at least 3 stimuli) by `method` (default
 * 'cosine'), rsatoolbox's definitions on vectors x, y of length m:
 * - 'cosine': x^T y / (|x||y|) (0 if either is all zero);
 * - 'corr': Pearson r (cosine of the centered vectors);
 * - 'spearman': Pearson r of average-tie ranks;
 * - 'rho-a': 12 (r_x - rbar)^T (r_y - rbar) / (m^3 - m) (Spearman without tie correction);
 * - 'tau-a': (concordant - discordant) / (m(m-1)/2), pairs tied in either count 0;
 * - 'tau-b': Kendall's tau-b (scipy.stats.kendalltau's default);
 * - 'cosine_cov' / 'corr_cov': cosine / Pearson after whitening with the RDM covariance under
 *   i.i.d. noise (Frobenius cosine of double-centered matrices, see `doubleCentered`).
 * NaN pairs are dropped; they must sit at the same positions in both RDMs. Source: rsatoolbox
 * `compare` (rdm/compare.py); docs/methods/rsa.md §5.
 *
 * @example const s = rsa.compareRdms(rdmA, rdmB, { method: 'spearman' }); // in [-1, 1]
 */
export function compareRdms(x: RdmLike, y: RdmLike, options: CompareOptions = {}): number {
  return compareBatch('rsa.compareRdms', [x], y, options, ['x', 'y'])[0];
}

/**
 * Similarities of every RDM in `batch` to the reference `ref` (one prepared reference, so a
 * batch costs one reference transform). Returns a Float64Array of batch.length values:
 * out[i] = compareRdms(batch[i], ref, options) (rsatoolbox `compare`, docs/methods/rsa.md §5).
 *
 * @example const s = rsa.compareRdmBatch(subjectRdms, modelRdm, { method: 'corr' }); // s[i] = compareRdms(subjectRdms[i], modelRdm)
 */
export function compareRdmBatch(batch: RdmLike[], ref: RdmLike, options: CompareOptions = {}): Float64Array {
  return compareBatch('rsa.compareRdmBatch', batch, ref, options);
}

/** The comparators' one implementation; `names` are the arguments' names for errors when not (batch[i], ref). */
function compareBatch(where: string, batch: RdmLike[], ref: RdmLike, options: CompareOptions, names?: [string, string]): Float64Array {
  const nameOf = (i: number): string => (names ? names[0] : `batch[${i}]`);
  const refName = names ? names[1] : 'ref';
  checkKnownKeys(where, options, ['method']);
  const method = checkOneOf(where, 'options.method', options.method ?? 'cosine', COMPARE_METHODS);
  if (!Array.isArray(batch) || batch.length === 0) throw new NestlabArgumentError(where, 'batch', 'a non-empty array of condensed RDMs', batch);
  const r = checkVector(where, refName, ref);
  const rMask = nanMask(r);
  // rank methods never modify their input, so NaN-free inputs need no copy
  const noCopy = method === 'spearman' || method === 'rho-a' || method === 'tau-a' || method === 'tau-b';
  const rv = applyMask(r, rMask, noCopy);
  const rp = prepare(rv, method, r.length);
  const out = new Float64Array(batch.length);
  batch.forEach((b, i) => {
    const v = checkVector(where, nameOf(i), b);
    if (v.length !== r.length) {
      throw new NestlabArgumentError(where, nameOf(i), `an RDM of the same size as ${refName} (length ${r.length}, ${rdmSize(r.length)} stimuli)`, `length ${v.length} (${rdmSize(v.length, where, nameOf(i), 1)} stimuli)`);
    }
    const mask = nanMask(v);
    if (!sameMask(mask, rMask)) throw new NestlabArgumentError(where, nameOf(i), `NaN entries at the same positions as in ${refName}`, 'different NaN positions');
    const bv = applyMask(v, mask, noCopy);
    if (method === 'tau-a' || method === 'tau-b') out[i] = kendall(bv, rv, method);
    else out[i] = dot(prepare(bv, method, v.length), rp);
  });
  return out;
}

/**
 * All similarities between two lists of RDMs as a row-major Float64Array [a.length x b.length]
 * (rsatoolbox's `compare(rdm1, rdm2)` matrix): out[i * b.length + j] = compareRdms(a[i], b[j], options).
 *
 * @example const m = rsa.compareRdmMatrix(layerRdms, layerRdms, { method: 'cosine' }); // m[i * layerRdms.length + j]
 */
export function compareRdmMatrix(a: RdmLike[], b: RdmLike[], options: CompareOptions = {}): Float64Array {
  const where = 'rsa.compareRdmMatrix';
  if (!Array.isArray(b) || b.length === 0) throw new NestlabArgumentError(where, 'b', 'a non-empty array of RDMs', b);
  const out = new Float64Array(a.length * b.length);
  b.forEach((ref, j) => {
    const col = compareBatch(where, a, ref, options);
    for (let i = 0; i < a.length; i++) out[i * b.length + j] = col[i];
  });
  return out;
}
