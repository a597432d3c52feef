/**
 * Order statistics: selection (quickselect, median), sorting and ranks (argsort, rankdata) and
 * quantiles, shared by rsa (ranked RDMs), similarity (medians), sae (BatchTopK thresholds).
 *
 * Hand-written for speed and exactness: an RDM of 2000 stimuli has two million entries and
 * Spearman/RGTM need them ranked. A stable LSD radix argsort on the IEEE-754 bit patterns (two
 * 16-bit passes when every value is float32-exact, four otherwise) ranks them in tens of
 * milliseconds, several times faster than `Array.prototype.sort` with a comparator, and gives
 * scipy's `rankdata(method='average')` ties exactly. Quantiles are numpy's default ("linear",
 * Hyndman-Fan type 7), as tRSA's GT transform requires (docs/methods/rsa.md §3).
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const u32f = new Uint32Array(f32.buffer);

/** True if every value is a float32 value (so 32-bit keys order them exactly). */
function allFloat32(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (Math.fround(v[i]) !== v[i]) return false;
  return true;
}

/**
 * One stable LSD pass on 16-bit digit `shift` of `keyIn`, carrying the keys (and a second key
 * array `hiIn` when given) and the indices along so that every read is sequential.
 */
function radixPass(
  keyIn: Uint32Array, keyOut: Uint32Array, idxIn: Uint32Array, idxOut: Uint32Array,
  hiIn: Uint32Array | null, hiOut: Uint32Array | null, shift: number, count: Uint32Array,
): void {
  count.fill(0);
  const n = keyIn.length;
  for (let i = 0; i < n; i++) count[(keyIn[i] >>> shift) & 0xffff]++;
  let sum = 0;
  for (let b = 0; b < 65536; b++) {
    const c = count[b];
    count[b] = sum;
    sum += c;
  }
  if (hiIn === null || hiOut === null) {
    for (let i = 0; i < n; i++) {
      const k = keyIn[i];
      const pos = count[(k >>> shift) & 0xffff]++;
      keyOut[pos] = k;
      idxOut[pos] = idxIn[i];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const k = keyIn[i];
      const pos = count[(k >>> shift) & 0xffff]++;
      keyOut[pos] = k;
      hiOut[pos] = hiIn[i];
      idxOut[pos] = idxIn[i];
    }
  }
}

/** Sorted order plus the sorted order-preserving keys (hi is null on the 32-bit path). */
interface SortedKeys {
  idx: Uint32Array;
  lo: Uint32Array;
  hi: Uint32Array | null;
}

/**
 * Scratch buffers reused between calls (sorting is synchronous, so never shared concurrently):
 * ranking a 2M-entry RDM otherwise allocates ~50 MB of temporaries per call, and the garbage
 * collections that follow cost as much as the sort.
 */
const scratch: Uint32Array[] = [];
function scratchBuffer(slot: number, n: number): Uint32Array {
  if (scratch[slot] === undefined || scratch[slot].length < n) scratch[slot] = new Uint32Array(Math.max(n, 1024));
  return scratch[slot].subarray(0, n);
}

/** Radix sort; `freshIdx` gives the returned indices their own buffer (else a scratch view, valid until the next call). */
function radixSort(v: ArrayLike<number>, freshIdx: boolean): SortedKeys {
  const n = v.length;
  const idx = freshIdx ? new Uint32Array(n) : scratchBuffer(0, n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const idx2 = scratchBuffer(1, n);
  const count = scratchBuffer(2, 65536);
  if (allFloat32(v)) {
    // order-preserving map of float32 bits: flip all bits of negatives, the sign bit of positives
    // (-0 is mapped to +0 first so that equal values have equal keys)
    const keys = scratchBuffer(3, n);
    const keys2 = scratchBuffer(4, n);
    for (let i = 0; i < n; i++) {
      f32[0] = v[i] === 0 ? 0 : v[i];
      const b = u32f[0];
      keys[i] = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    }
    radixPass(keys, keys2, idx, idx2, null, null, 0, count);
    radixPass(keys2, keys, idx2, idx, null, null, 16, count);
    return { idx, lo: keys, hi: null };
  }
  const lo = scratchBuffer(3, n);
  const lo2 = scratchBuffer(4, n);
  const hi = scratchBuffer(5, n);
  const hi2 = scratchBuffer(6, n);
  for (let i = 0; i < n; i++) {
    f64[0] = v[i] === 0 ? 0 : v[i];
    const l = u32[0];
    const h = u32[1];
    if (h & 0x80000000) {
      lo[i] = ~l >>> 0;
      hi[i] = ~h >>> 0;
    } else {
      lo[i] = l;
      hi[i] = (h | 0x80000000) >>> 0;
    }
  }
  radixPass(lo, lo2, idx, idx2, hi, hi2, 0, count);
  radixPass(lo2, lo, idx2, idx, hi2, hi, 16, count);
  radixPass(hi, hi2, idx, idx2, lo, lo2, 0, count);
  radixPass(hi2, hi, idx2, idx, lo2, lo, 16, count);
  return { idx, lo, hi };
}

/**
 * Indices that sort `v` ascending, stable (equal values keep their input order). NaN must not
 * occur (callers drop NaN entries first).
 */
export function argsort(v: ArrayLike<number>): Uint32Array {
  const n = v.length;
  if (n < 256) {
    const a = Array.from({ length: n }, (_, i) => i);
    a.sort((x, y) => v[x] - v[y] || x - y);
    return Uint32Array.from(a);
  }
  return radixSort(v, true).idx;
}

/**
 * Ranks 1..n with ties given their average rank (scipy.stats.rankdata, method='average').
 * Example: [10, 20, 20, 5] -> [2, 3.5, 3.5, 1].
 */
export function rankdata(v: ArrayLike<number>): Float64Array {
  return rankWithOffset(v, 0).ranks;
}

/**
 * Average ranks minus `offset`, and whether any tie occurred. With offset (n+1)/2 these are the
 * centered ranks (average ranks always sum to n(n+1)/2), whose squared norm is (n^3 - n)/12 when
 * there are no ties: Spearman needs no further pass over the data.
 */
export function rankWithOffset(v: ArrayLike<number>, offset: number): { ranks: Float64Array; ties: boolean } {
  const n = v.length;
  const ranks = new Float64Array(n);
  let ties = false;
  if (n < 256) {
    const order = argsort(v);
    let i = 0;
    while (i < n) {
      let j = i + 1;
      while (j < n && v[order[j]] === v[order[i]]) j++;
      if (j > i + 1) ties = true;
      const r = (i + j + 1) / 2 - offset;
      for (let k = i; k < j; k++) ranks[order[k]] = r;
      i = j;
    }
    return { ranks, ties };
  }
  const { idx, lo, hi } = radixSort(v, false);
  const base = 1 - offset;
  let i = 0;
  while (i < n) {
    // equal keys <=> equal values (ties found on the sorted keys: sequential reads)
    let j = i + 1;
    const l = lo[i];
    if (hi === null) while (j < n && lo[j] === l) j++;
    else {
      const h = hi[i];
      while (j < n && lo[j] === l && hi[j] === h) j++;
    }
    if (j === i + 1) ranks[idx[i]] = i + base;
    else {
      ties = true;
      const r = (i + j + 1) / 2 - offset; // mean of 1-based positions i+1..j
      for (let k = i; k < j; k++) ranks[idx[k]] = r;
    }
    i = j;
  }
  return { ranks, ties };
}

/** Ascending sorted copy (native typed-array sort; NaN must not occur). */
export function sortedCopy(v: ArrayLike<number>): Float64Array {
  return Float64Array.from(v).sort();
}

/**
 * Quantile of an ascending sorted array, numpy's default (type 7): h = (m-1)p, f = floor(h),
 * Q = s[f] + (h - f)(s[f+1] - s[f]).
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const m = sorted.length;
  if (m === 0) return NaN;
  const h = (m - 1) * p;
  const f = Math.floor(h);
  if (f >= m - 1) return sorted[m - 1];
  if (f < 0) return sorted[0];
  const g = h - f;
  return g === 0 ? sorted[f] : sorted[f] + g * (sorted[f + 1] - sorted[f]);
}

/** Mean of a vector. */
export function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
}

/** Sample standard deviation √(Σ(v − v̄)²/(n − 1)) (numpy's std with ddof=1); NaN for fewer than 2 values. */
export function sampleStandardDeviation(v: ArrayLike<number>): number {
  const n = v.length;
  if (n < 2) return NaN;
  const m = mean(v);
  let s = 0;
  for (let i = 0; i < n; i++) s += (v[i] - m) ** 2;
  return Math.sqrt(s / (n - 1));
}

/** k-th smallest value (0-based) of `a`, reordering `a` in place (Hoare's quickselect, as numpy's partition). */
export function quickselect(a: Float32Array | Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** k-th largest value of `a` (1-based k <= a.length), by quickselect on a copy (`a` is untouched). */
export function kthLargest(a: Float32Array | Float64Array, k: number): number {
  return quickselect(a.slice(), a.length - k);
}

/** numpy.median of the values (mean of the two middle values for an even count); reorders `a`. */
export function median(a: Float32Array | Float64Array): number {
  const m = a.length;
  if (m === 0) return NaN;
  if (m % 2 === 1) return quickselect(a, (m - 1) / 2);
  const upper = quickselect(a, m / 2);
  // After selecting m/2, everything left of it is <= it: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < m / 2; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

/** Pearson's r of two equal-length vectors (NaN when either is constant). */
export function pearsonCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Spearman's ρ: Pearson's r of the average-tie ranks (scipy.stats.spearmanr). */
export function spearmanCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearsonCorrelation(rankdata(a), rankdata(b));
}
