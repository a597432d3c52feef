/**
 * Vietoris–Rips persistent homology (Z/2 coefficients) of a point cloud or a distance matrix.
 *
 * Hand-written because no JavaScript library computes Rips persistence at ripser's speed, and a
 * native addon would break `npm ci` on machines without a compiler. The algorithm follows ripser
 * 1.2.1 (Bauer 2021, "Ripser: efficient computation of Vietoris–Rips persistence barcodes",
 * J. Appl. Comput. Topol. 5:391–423; github.com/Ripser/ripser) step for step, so that the barcodes
 * are the ones the `ripser` binary prints:
 *  - distances are float32 (ripser's `value_t`), Euclidean distance = sqrt of an f32 sum of squares;
 *  - default threshold = the enclosing radius min_i max_j d(i, j);
 *  - simplices are integers in the combinatorial number system (index = Σ_i C(v_i, i + 1));
 *  - filtration order = (diameter ascending, index descending), as ripser's
 *    `greater_diameter_or_smaller_index` order read backwards;
 *  - H0 by Kruskal / union-find over the sorted edges; higher degrees by cohomology (the
 *    coboundary matrix reduced over the reversed filtration) with the implicit coboundary,
 *    clearing (pivots of degree d are not columns in degree d + 1), apparent pairs (skipped when
 *    assembling columns, and used to shortcut reductions) and emergent pairs;
 *  - zero-length bars are dropped (death > birth), as ripser prints them.
 * Implementation choices of our own (not in ripser): diameters are handled as ranks into the
 * sorted list of distinct edge lengths, so a (diameter, index) pair packs into one exact double
 * and the working columns are binary heaps over a Float64Array; and in degree 1 a column whose
 * reduction grows long (the long bar of a circle: a cocycle of Θ(n²) edges whose coboundary has
 * Θ(n³) entries) switches to a "dense sweep" that keeps the cocycle as an n×n bit matrix and
 * walks the triangles in filtration order reading their parity, instead of pushing every cofacet
 * of every added edge into a heap. It visits the same pivots in the same order, so the pairs
 * are the same; it only changes the data structure (see `sweepColumn`).
 */
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';

/** The intervals of one homology degree: bar i is [births[i], deaths[i]); deaths may be Infinity. */
export interface Barcode {
  births: Float64Array;
  deaths: Float64Array;
}

/** The barcodes of degrees 0..maxDim (`bars[d]`), plus the threshold the complex was cut at. */
export interface PersistenceResult {
  /** `bars[d]` holds the degree-d intervals, sorted by (birth, death). */
  bars: Barcode[];
  /** The largest edge length admitted (the enclosing radius unless a threshold was given). */
  threshold: number;
  /** Number of points / vertices. */
  n: number;
  /** Counts from the reduction, per degree ≥ 1: columns reduced and columns that used the sweep. */
  stats: { columns: number[]; sweeps: number[] };
}

export interface PersistenceOptions {
  /** Highest homology degree (0, 1, 2 or 3). Default 1. */
  maxDim?: number;
  /**
   * Largest diameter admitted. Default: the enclosing radius (ripser's default), above which the
   * Rips complex is a cone, so no bar of degree ≥ 1 is infinite. With a smaller threshold, bars
   * still alive at it are reported with death Infinity.
   */
  threshold?: number;
  /**
   * Degree-1 reduction strategy: 'auto' (default) switches a column to the dense sweep once its
   * heap reduction grows long; 'always' sweeps every column that needs a reduction step, 'never'
   * keeps ripser's heap reduction throughout. The barcodes are the same; only speed and memory
   * differ (kept as an option for tests and benchmarks).
   */
  sweep?: 'auto' | 'always' | 'never';
}

export interface DistanceOptions extends PersistenceOptions {
  /**
   * 'square' (n*n row-major) or 'condensed' (scipy's pdist order: (0,1), (0,2), ..., (1,2), ...).
   * Default: 'square' when the length is a perfect square, else 'condensed'.
   */
  layout?: 'square' | 'condensed';
}

const KNOWN = ['maxDim', 'threshold', 'sweep'] as const;

/**
 * Vietoris–Rips persistence of a point cloud (rows = points) under the Euclidean distance,
 * computed in float32 as ripser does: d(u, v) = sqrt(Σ_k (u_k − v_k)²) with f32 rounding at each step.
 */
export function ripsPersistence(points: Matrix, options: PersistenceOptions = {}): PersistenceResult {
  const where = 'ripsPersistence';
  checkKnownKeys(where, options, KNOWN);
  const m = checkMatrix(where, 'points', points, 2, 1);
  const n = m.rows;
  const d = m.cols;
  const dist = new Float32Array(n * n);
  const x = m.data;
  const fr = Math.fround;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) {
        const diff = fr(x[i * d + k] - x[j * d + k]);
        acc = fr(acc + fr(diff * diff));
      }
      const v = fr(Math.sqrt(acc));
      dist[i * n + j] = v;
      dist[j * n + i] = v;
    }
  }
  return compute(where, n, dist, options);
}

/**
 * Vietoris–Rips persistence of a distance matrix (square n*n or condensed, Float32Array or
 * Float64Array; values are rounded to float32 as ripser reads them). The matrix must be
 * symmetric, non-negative, finite, with a zero diagonal (square layout).
 */
export function ripsPersistenceFromDistances(
  distances: Float32Array | Float64Array,
  options: DistanceOptions = {},
): PersistenceResult {
  const where = 'ripsPersistenceFromDistances';
  checkKnownKeys(where, options, [...KNOWN, 'layout']);
  const dist = squareFloat32(where, distances, options.layout);
  return compute(where, Math.round(Math.sqrt(dist.length)), dist, options);
}

/** Validates a distance matrix argument and returns it as a square float32 matrix. */
export function squareFloat32(
  where: string,
  distances: unknown,
  layout?: 'square' | 'condensed',
): Float32Array {
  if (!(distances instanceof Float32Array || distances instanceof Float64Array)) {
    throw new NestlabArgumentError(where, 'distances', 'a Float32Array or Float64Array', distances);
  }
  const len = distances.length;
  const sq = Math.round(Math.sqrt(len));
  const isSquare = sq * sq === len;
  const tri = Math.round((1 + Math.sqrt(1 + 8 * len)) / 2);
  const isCondensed = (tri * (tri - 1)) / 2 === len;
  let lay = layout;
  if (lay !== undefined && lay !== 'square' && lay !== 'condensed') {
    throw new NestlabArgumentError(where, 'options.layout', '"square" or "condensed"', lay);
  }
  if (lay === undefined) lay = isSquare ? 'square' : 'condensed';
  if (lay === 'square' && !isSquare) {
    throw new NestlabArgumentError(where, 'distances', 'a square n*n matrix (length a perfect square)', `length ${len}`);
  }
  if (lay === 'condensed' && !isCondensed) {
    throw new NestlabArgumentError(where, 'distances', 'a square n*n or condensed n(n-1)/2 matrix', `length ${len}`);
  }
  const n = lay === 'square' ? sq : tri;
  if (n < 2) throw new NestlabArgumentError(where, 'distances', 'a matrix of at least 2 points', `${n} point(s)`);
  for (let i = 0; i < len; i++) {
    const v = distances[i];
    if (!Number.isFinite(v)) throw new NestlabArgumentError(where, 'distances', 'finite numbers only', `${v} at index ${i}`);
    if (v < 0) throw new NestlabArgumentError(where, 'distances', 'non-negative distances', `${v} at index ${i}`);
  }
  const out = new Float32Array(n * n);
  if (lay === 'square') {
    for (let i = 0; i < n; i++) {
      if (distances[i * n + i] !== 0) {
        throw new NestlabArgumentError(where, 'distances', 'a zero diagonal', `${distances[i * n + i]} at (${i}, ${i})`);
      }
      for (let j = 0; j < i; j++) {
        const a = distances[i * n + j];
        const b = distances[j * n + i];
        if (a !== b) {
          throw new NestlabArgumentError(where, 'distances', 'a symmetric matrix', `d(${i},${j}) = ${a} but d(${j},${i}) = ${b}`);
        }
        const v = Math.fround(a) + 0;
        out[i * n + j] = v;
        out[j * n + i] = v;
      }
    }
  } else {
    let p = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const v = Math.fround(distances[p++]) + 0;
        out[i * n + j] = v;
        out[j * n + i] = v;
      }
    }
  }
  return out;
}

/** Enclosing radius min_i max_j d(i, j) of a square distance matrix (ripser's default threshold). */
export function enclosingRadius(n: number, dist: Float32Array | Float64Array): number {
  let r = Infinity;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (dist[i * n + j] > m) m = dist[i * n + j];
    if (m < r) r = m;
  }
  return r;
}

function compute(where: string, n: number, dist: Float32Array, options: PersistenceOptions): PersistenceResult {
  if (n < 2) throw new NestlabArgumentError(where, 'n', 'at least 2 points', n);
  const maxDimAsked = options.maxDim === undefined ? 1 : checkInt(where, 'options.maxDim', options.maxDim, 0, 3);
  let threshold: number;
  if (options.threshold === undefined) threshold = enclosingRadius(n, dist);
  else threshold = Math.fround(checkNumber(where, 'options.threshold', options.threshold, 0));
  const maxDim = Math.min(maxDimAsked, n - 2);
  const sweep = options.sweep === undefined ? 'auto' : checkOneOf(where, 'options.sweep', options.sweep, ['auto', 'always', 'never']);
  const engine = new RipsEngine(where, n, dist, threshold, maxDim);
  if (sweep === 'always') {
    engine.sweepAfter = 0;
    engine.sweepMinHeap = 0;
  } else if (sweep === 'never') engine.sweepAfter = Infinity;
  const bars = engine.run();
  while (bars.length <= maxDimAsked) bars.push({ births: new Float64Array(0), deaths: new Float64Array(0) });
  return { bars, threshold, n, stats: engine.stats };
}

/** Sorts bars by (birth, death) and packs them into typed arrays. */
function packBars(births: number[], deaths: number[]): Barcode {
  const order = births.map((_, i) => i).sort((a, b) => births[a] - births[b] || deaths[a] - deaths[b]);
  return { births: Float64Array.from(order, (i) => births[i]), deaths: Float64Array.from(order, (i) => deaths[i]) };
}

/** Binary min-heap of exact-integer doubles. */
class KeyHeap {
  a = new Float64Array(1024);
  size = 0;
  clear(): void {
    this.size = 0;
  }
  push(k: number): void {
    if (this.size === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    const a = this.a;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = a[p];
      if (pk <= k) break;
      a[i] = pk;
      i = p;
    }
    a[i] = k;
  }
  /** Removes and returns the smallest key (size must be > 0). */
  pop(): number {
    const a = this.a;
    const top = a[0];
    const n = --this.size;
    if (n === 0) return top;
    const k = a[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const c2 = c + 1;
      let ck = a[c];
      if (c2 < n && a[c2] < ck) {
        c = c2;
        ck = a[c2];
      }
      if (ck >= k) break;
      a[i] = ck;
      i = c;
    }
    a[i] = k;
    return top;
  }
  /** Pops the smallest key that survives Z/2 cancellation (equal keys cancel in pairs); -1 if none. */
  popPivot(): number {
    while (this.size > 0) {
      const p = this.pop();
      if (this.size === 0 || this.a[0] !== p) return p;
      this.pop();
    }
    return -1;
  }
  /** Like popPivot but leaves the pivot in the heap. */
  getPivot(): number {
    const p = this.popPivot();
    if (p !== -1) this.push(p);
    return p;
  }
}

/** Growable Float64 list. */
class F64List {
  a: Float64Array;
  length = 0;
  constructor(cap = 1024) {
    this.a = new Float64Array(cap);
  }
  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
}

/** Open-addressing hash map from non-negative integer doubles to int32 (pivot -> column). */
class PivotMap {
  keys: Float64Array;
  vals: Int32Array;
  mask: number;
  count = 0;
  constructor(expected: number) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }
  private slot(k: number): number {
    // mix the low and high 26 bits of the integer
    const lo = k % 67108864;
    const hi = (k - lo) / 67108864;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }
  get(k: number): number {
    const keys = this.keys;
    let s = this.slot(k);
    for (;;) {
      const kk = keys[s];
      if (kk === k) return this.vals[s];
      if (kk === -1) return -1;
      s = (s + 1) & this.mask;
    }
  }
  set(k: number, v: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    let s = this.slot(k);
    while (keys[s] !== -1 && keys[s] !== k) s = (s + 1) & this.mask;
    if (keys[s] === -1) this.count++;
    keys[s] = k;
    this.vals[s] = v;
  }
  private grow(): void {
    const oldK = this.keys;
    const oldV = this.vals;
    this.keys = new Float64Array(oldK.length * 2).fill(-1);
    this.vals = new Int32Array(oldK.length * 2);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < oldK.length; i++) if (oldK[i] !== -1) this.set(oldK[i], oldV[i]);
  }
}

/**
 * The reduction engine. Simplex "keys" pack (diameter rank r, combinatorial index i) of a
 * d-simplex as r * M_d + (M_d − 1 − i) with M_d = C(n, d + 1), so ascending keys are the
 * filtration order (diameter ascending, index descending).
 */
class RipsEngine {
  readonly rank: Int32Array; // n*n diameter ranks of edges
  readonly values: Float64Array; // rank -> float32 edge length
  readonly thrRank: number;
  readonly B: Float64Array[]; // B[k][j] = C(j, k)
  readonly M: number[]; // M[d] = C(n, d + 1)
  readonly stats = { columns: [] as number[], sweeps: [] as number[] };
  private verts: Int32Array;
  private verts2: Int32Array;

  constructor(
    readonly where: string,
    readonly n: number,
    dist: Float32Array,
    threshold: number,
    readonly maxDim: number,
  ) {
    // distinct edge lengths, sorted, via their float32 bit patterns (order-preserving for x >= 0)
    const m = (n * (n - 1)) / 2;
    const bits = new Uint32Array(m);
    const dbits = new Uint32Array(dist.buffer, dist.byteOffset, n * n);
    let p = 0;
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) bits[p++] = dbits[i * n + j];
    bits.sort();
    let r = 0;
    for (let i = 0; i < m; i++) if (i === 0 || bits[i] !== bits[i - 1]) bits[r++] = bits[i];
    const uniq = bits.subarray(0, r);
    const asF = new Float32Array(uniq.buffer, uniq.byteOffset, r);
    this.values = Float64Array.from(asF);
    this.rank = new Int32Array(n * n);
    for (let i = 1; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const b = dbits[i * n + j];
        let lo = 0;
        let hi = r - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (uniq[mid] < b) lo = mid + 1;
          else hi = mid;
        }
        this.rank[i * n + j] = lo;
        this.rank[j * n + i] = lo;
      }
    }
    for (let i = 0; i < n; i++) this.rank[i * n + i] = 0x7fffffff; // never a neighbour of itself
    let t = -1;
    while (t + 1 < r && this.values[t + 1] <= threshold) t++;
    this.thrRank = t;
    // binomials C(j, k) for j = 0..n, k = 0..maxDim + 2
    this.B = [];
    for (let k = 0; k <= maxDim + 2; k++) {
      const row = new Float64Array(n + 1);
      for (let j = 0; j <= n; j++) row[j] = binom(j, k);
      this.B.push(row);
    }
    this.M = [];
    for (let d = 0; d <= maxDim + 1; d++) this.M.push(binom(n, d + 1));
    const top = this.M[Math.min(maxDim + 1, this.M.length - 1)];
    if (r * top >= 2 ** 53) {
      throw new NestlabArgumentError(where, 'n', `small enough that (#distinct distances) * C(n, ${maxDim + 2}) < 2^53 for maxDim ${maxDim}`, n);
    }
    this.verts = new Int32Array(maxDim + 3);
    this.verts2 = new Int32Array(maxDim + 3);
  }

  key(r: number, idx: number, d: number): number {
    const M = this.M[d];
    return r * M + (M - 1 - idx);
  }
  rankOf(key: number, d: number): number {
    const M = this.M[d];
    let r = Math.floor(key / M);
    if (r * M > key) r--;
    else if ((r + 1) * M <= key) r++;
    return r;
  }
  indexOf(key: number, d: number): number {
    const M = this.M[d];
    const r = this.rankOf(key, d);
    return M - 1 - (key - r * M);
  }

  /** Vertices of the d-simplex `idx` into out[0..d], in decreasing order (ripser's get_simplex_vertices). */
  vertices(idx: number, d: number, out: Int32Array): void {
    let nn = this.n - 1;
    for (let k = d + 1; k > 0; k--) {
      const Bk = this.B[k];
      // largest w in [k-1, nn] with C(w, k) <= idx
      let lo = k - 1;
      let hi = nn;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (Bk[mid] <= idx) lo = mid;
        else hi = mid - 1;
      }
      out[d + 1 - k] = lo;
      idx -= Bk[lo];
      nn = lo;
    }
  }

  /** Diameter rank of a simplex given its vertices. */
  diamRank(vs: Int32Array, d: number): number {
    const R = this.rank;
    const n = this.n;
    let m = 0;
    for (let i = 0; i <= d; i++) for (let j = 0; j < i; j++) {
      const v = R[vs[i] * n + vs[j]];
      if (v > m) m = v;
    }
    return m;
  }

  /**
   * The facet with the same diameter and the smallest index (the filtration's latest facet), as
   * ripser's get_zero_pivot_facet: returns its index, or -1.
   */
  zeroPivotFacet(r: number, idx: number, d: number): number {
    const vs = this.verts2;
    this.vertices(idx, d, vs);
    const R = this.rank;
    const n = this.n;
    const B = this.B;
    // remove vertex vs[0] (largest) first, then vs[1], ...: facet indices increase
    for (let rm = 0; rm <= d; rm++) {
      let fr = 0;
      let fidx = 0;
      let pos = d; // position in facet (k = number of vertices - 1 down to 0)
      for (let i = 0; i <= d; i++) {
        if (i === rm) continue;
        fidx += B[pos][vs[i]];
        pos--;
        for (let j = i + 1; j <= d; j++) {
          if (j === rm) continue;
          const v = R[vs[i] * n + vs[j]];
          if (v > fr) fr = v;
        }
      }
      if (d === 1) fr = 0; // facets of an edge are vertices, diameter 0
      if (fr === r) return fidx;
    }
    return -1;
  }

  /**
   * The cofacet with the same diameter and the largest index (the filtration's earliest
   * cofacet), as ripser's get_zero_pivot_cofacet: returns its index, or -1.
   */
  zeroPivotCofacet(r: number, idx: number, d: number): number {
    const vs = this.verts2;
    this.vertices(idx, d, vs);
    const R = this.rank;
    const n = this.n;
    const B = this.B;
    let idxBelow = idx;
    let idxAbove = 0;
    let j = n - 1;
    let k = d + 1;
    while (j >= k) {
      while (B[k][j] <= idxBelow) {
        idxBelow -= B[k][j];
        idxAbove += B[k + 1][j];
        j--;
        k--;
      }
      let cr = r;
      const row = j * n;
      for (let i = 0; i <= d; i++) {
        const v = R[row + vs[i]];
        if (v > cr) cr = v;
      }
      if (cr === r) return idxAbove + B[k + 1][j] + idxBelow;
      j--;
    }
    return -1;
  }

  zeroApparentFacet(r: number, idx: number, d: number): number {
    const f = this.zeroPivotFacet(r, idx, d);
    return f !== -1 && this.zeroPivotCofacet(r, f, d - 1) === idx ? f : -1;
  }
  zeroApparentCofacet(r: number, idx: number, d: number): number {
    const c = this.zeroPivotCofacet(r, idx, d);
    return c !== -1 && this.zeroPivotFacet(r, c, d + 1) === idx ? c : -1;
  }

  /** Pushes every cofacet (within the threshold) of the d-simplex onto `heap` as (d+1)-keys. */
  pushCoboundary(r: number, idx: number, d: number, heap: KeyHeap): void {
    const vs = this.verts;
    this.vertices(idx, d, vs);
    const R = this.rank;
    const n = this.n;
    const B = this.B;
    const M = this.M[d + 1];
    const thr = this.thrRank;
    let idxBelow = idx;
    let idxAbove = 0;
    let j = n - 1;
    let k = d + 1;
    while (j >= k) {
      while (B[k][j] <= idxBelow) {
        idxBelow -= B[k][j];
        idxAbove += B[k + 1][j];
        j--;
        k--;
      }
      let cr = r;
      const row = j * n;
      for (let i = 0; i <= d; i++) {
        const v = R[row + vs[i]];
        if (v > cr) cr = v;
      }
      if (cr <= thr) heap.push(cr * M + (M - 1 - (idxAbove + B[k + 1][j] + idxBelow)));
      j--;
    }
  }

  run(): Barcode[] {
    const bars: Barcode[] = [];
    const cols = this.dim0(bars);
    let columns = cols;
    let simplices: Float64Array | null = null;
    for (let d = 1; d <= this.maxDim; d++) {
      const pivots = new PivotMap(columns.length);
      bars.push(this.computePairs(columns, pivots, d));
      if (d < this.maxDim) {
        const next = this.assemble(d + 1, pivots, simplices);
        columns = next.columns;
        simplices = next.simplices;
      }
    }
    return bars;
  }

  /** H0 by union-find over edges in filtration order; returns the degree-1 columns to reduce. */
  dim0(bars: Barcode[]): Float64Array {
    const n = this.n;
    const R = this.rank;
    const thr = this.thrRank;
    // counting sort of edges by rank; within a rank, index descending
    const counts = new Int32Array(thr + 2);
    let m = 0;
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) {
      const rr = R[i * n + j];
      if (rr <= thr) {
        counts[rr + 1]++;
        m++;
      }
    }
    for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
    const edges = new Float64Array(m); // edge indices C(i,2)+j in filtration order
    for (let i = n - 1; i >= 1; i--) {
      for (let j = i - 1; j >= 0; j--) {
        const rr = R[i * n + j];
        if (rr <= thr) edges[counts[rr]++] = (i * (i - 1)) / 2 + j;
      }
    }
    this.sortedEdges = edges;
    const parent = new Int32Array(n);
    const rnk = new Uint8Array(n);
    for (let i = 0; i < n; i++) parent[i] = i;
    const find = (x: number): number => {
      let y = x;
      while (parent[y] !== y) y = parent[y];
      while (parent[x] !== y) {
        const z = parent[x];
        parent[x] = y;
        x = z;
      }
      return y;
    };
    const births: number[] = [];
    const deaths: number[] = [];
    const columns = new F64List(1024);
    const vs = new Int32Array(2);
    const M1 = this.M[1];
    for (let e = 0; e < m; e++) {
      const idx = edges[e];
      this.vertices(idx, 1, vs);
      const a = vs[0];
      const b = vs[1];
      const rr = R[a * n + b];
      const u = find(a);
      const v = find(b);
      if (u !== v) {
        const len = this.values[rr];
        if (len !== 0) {
          births.push(0);
          deaths.push(len);
        }
        if (rnk[u] > rnk[v]) parent[v] = u;
        else {
          parent[u] = v;
          if (rnk[u] === rnk[v]) rnk[v]++;
        }
      } else if (this.maxDim >= 1 && this.zeroApparentCofacet(rr, idx, 1) === -1) {
        columns.push(rr * M1 + (M1 - 1 - idx));
      }
    }
    for (let i = 0; i < n; i++) if (find(i) === i) {
      births.push(0);
      deaths.push(Infinity);
    }
    bars.push(packBars(births, deaths));
    // ripser reduces columns in reverse filtration order
    const out = columns.a.slice(0, columns.length);
    out.reverse();
    return out;
  }

  sortedEdges: Float64Array = new Float64Array(0);

  /** Cohomology reduction in degree d (ripser's compute_pairs). */
  computePairs(columns: Float64Array, pivots: PivotMap, d: number): Barcode {
    const births: number[] = [];
    const deaths: number[] = [];
    const wc = new KeyHeap(); // working coboundary, keys of (d+1)-simplices
    const wr = new KeyHeap(); // working reduction column, keys of d-simplices
    const vBounds = new Int32Array(columns.length + 1);
    const vEntries = new F64List(1024);
    const Md = this.M[d];
    const Mc = this.M[d + 1];
    const cof: number[] = [];
    let sweeps = 0;
    const sweepOk = d === 1 && this.n <= 65535;
    for (let c = 0; c < columns.length; c++) {
      const ck = columns[c];
      const r = this.rankOf(ck, d);
      const idx = Md - 1 - (ck - r * Md);
      wc.clear();
      wr.clear();
      // init_coboundary_and_get_pivot, with the emergent-pair shortcut
      let pivot = -1;
      {
        cof.length = 0;
        const vs = this.verts;
        this.vertices(idx, d, vs);
        const R = this.rank;
        const n = this.n;
        const B = this.B;
        const thr = this.thrRank;
        let idxBelow = idx;
        let idxAbove = 0;
        let j = n - 1;
        let k = d + 1;
        let check = true;
        let emergent = -1;
        while (j >= k) {
          while (B[k][j] <= idxBelow) {
            idxBelow -= B[k][j];
            idxAbove += B[k + 1][j];
            j--;
            k--;
          }
          let cr = r;
          const row = j * n;
          for (let i = 0; i <= d; i++) {
            const v = R[row + vs[i]];
            if (v > cr) cr = v;
          }
          if (cr <= thr) {
            const cidx = idxAbove + B[k + 1][j] + idxBelow;
            cof.push(cr * Mc + (Mc - 1 - cidx));
            if (check && cr === r) {
              if (pivots.get(cidx) === -1 && this.zeroApparentFacet(cr, cidx, d + 1) === -1) {
                emergent = cr * Mc + (Mc - 1 - cidx);
                break;
              }
              check = false;
            }
          }
          j--;
        }
        if (emergent !== -1) pivot = emergent;
        else {
          for (let i = 0; i < cof.length; i++) wc.push(cof[i]);
          pivot = wc.getPivot();
        }
      }
      let additions = 0;
      for (;;) {
        if (pivot === -1) {
          births.push(this.values[r]);
          deaths.push(Infinity);
          vBounds[c + 1] = vEntries.length;
          break;
        }
        const pr = this.rankOf(pivot, d + 1);
        const pidx = Mc - 1 - (pivot - pr * Mc);
        const other = pivots.get(pidx);
        if (other !== -1) {
          wr.push(columns[other]);
          const orr = this.rankOf(columns[other], d);
          this.pushCoboundary(orr, Md - 1 - (columns[other] - orr * Md), d, wc);
          for (let q = vBounds[other]; q < vBounds[other + 1]; q++) {
            const ek = vEntries.a[q];
            wr.push(ek);
            const er = this.rankOf(ek, d);
            this.pushCoboundary(er, Md - 1 - (ek - er * Md), d, wc);
          }
          additions += 1 + vBounds[other + 1] - vBounds[other];
        } else {
          const e = this.zeroApparentFacet(pr, pidx, d + 1);
          if (e === -1) {
            if (pr > r) {
              births.push(this.values[r]);
              deaths.push(this.values[pr]);
            }
            pivots.set(pidx, c);
            for (;;) {
              const x = wr.popPivot();
              if (x === -1) break;
              vEntries.push(x);
            }
            vBounds[c + 1] = vEntries.length;
            break;
          }
          wr.push(pr * Md + (Md - 1 - e));
          this.pushCoboundary(pr, e, d, wc);
          additions++;
        }
        if (sweepOk && additions > this.sweepAfter && wc.size >= this.sweepMinHeap) {
          sweeps++;
          pivot = this.sweepColumn(c, idx, pivot, wc, wr, pivots, columns, vBounds, vEntries);
          // sweepColumn finished the column (pair recorded through its return value)
          const dr = pivot === -1 ? -1 : this.rankOf(pivot, 2);
          if (pivot === -1) {
            births.push(this.values[r]);
            deaths.push(Infinity);
          } else if (dr > r) {
            births.push(this.values[r]);
            deaths.push(this.values[dr]);
          }
          break;
        }
        pivot = wc.getPivot();
      }
    }
    this.stats.columns[d] = columns.length;
    this.stats.sweeps[d] = sweeps;
    return packBars(births, deaths);
  }

  /** Number of additions after which a degree-1 column switches to the dense sweep. */
  sweepAfter = 64;
  /** ...and once its working heap holds at least this many entries. */
  sweepMinHeap = 0;

  /** Cocycle bit matrix for the sweep: row v holds W = ceil(n / 32) words. */
  private cbits: Int32Array | null = null;
  /** Sweep neighbourhoods: bit k of row v set iff rank(v, k) <= the current sweep rank. */
  private nbits: Int32Array | null = null;
  private rankStart: Int32Array | null = null;
  private touched = new Int32Array(1024);
  private nTouched = 0;

  private toggle(a: number, b: number): void {
    const C = this.cbits as Int32Array;
    const W = (this.n + 31) >> 5;
    C[a * W + (b >> 5)] ^= 1 << (b & 31);
    C[b * W + (a >> 5)] ^= 1 << (a & 31);
    if (this.nTouched === this.touched.length) {
      const t = new Int32Array(this.touched.length * 2);
      t.set(this.touched);
      this.touched = t;
    }
    this.touched[this.nTouched++] = a * this.n + b;
  }

  private toggleEdgeKey(key: number): void {
    const vs = this.verts2;
    this.vertices(this.indexOf(key, 1), 1, vs);
    this.toggle(vs[0], vs[1]);
  }

  /**
   * Finishes the reduction of degree-1 column `c` (edge `idx`) by a dense sweep.
   *
   * The working coboundary is δ(C) for the cocycle C = {column edge} + (added columns), and its
   * pivot is the earliest triangle (filtration order) with an odd number of edges in C. Instead of
   * a heap holding every cofacet of every added edge (Θ(n³) entries for the long bar of a
   * circle), C is kept as an n×n bit matrix and the triangles are walked in filtration order
   * from the current pivot: diameter rank by rank (the triangles of diameter rank ρ are {a, b, k}
   * for the edges (a, b) of rank ρ and the vertices k joined to both a and b by edges of rank
   * ≤ ρ: the AND of two rows of a neighbourhood bit matrix), index descending within a rank (the
   * index grows with k, so the highest set bit comes first). A triangle is in δ(C) iff
   * C[ab] ^ C[ak] ^ C[bk] = 1, 32 vertices per word operation. Each odd triangle is handled
   * exactly as in the heap reduction (add the column whose pivot it is, or the coboundary of its
   * apparent facet, or stop: it is the pivot); an addition only changes triangles at or after the
   * current one (its pivot is that triangle), so the walk never goes back, and the pairs are the
   * heap reduction's. Returns the pivot key (-1: the column is essential).
   */
  sweepColumn(
    c: number,
    idx: number,
    pivot: number,
    wc: KeyHeap,
    wr: KeyHeap,
    pivots: PivotMap,
    columns: Float64Array,
    vBounds: Int32Array,
    vEntries: F64List,
  ): number {
    const n = this.n;
    const W = (n + 31) >> 5;
    const R = this.rank;
    const B = this.B;
    const B2 = B[2];
    const B3 = B[3];
    const edges = this.sortedEdges;
    if (this.cbits === null) this.cbits = new Int32Array(n * W);
    if (this.nbits === null) this.nbits = new Int32Array(n * W);
    if (this.rankStart === null) {
      const rs = new Int32Array(this.thrRank + 2);
      for (let p = 0; p < edges.length; p++) {
        const [a, b] = edgeVertices(edges[p], B2);
        rs[R[a * n + b] + 1]++;
      }
      for (let i = 1; i < rs.length; i++) rs[i] += rs[i - 1];
      this.rankStart = rs;
    }
    const C = this.cbits;
    const N = this.nbits;
    const rankStart = this.rankStart;
    const Md = this.M[1];
    const Mc = this.M[2];
    this.nTouched = 0;
    // C = column edge + surviving entries of the working reduction column
    const [e0a, e0b] = edgeVertices(idx, B2);
    this.toggle(e0a, e0b);
    for (;;) {
      const x = wr.popPivot();
      if (x === -1) break;
      this.toggleEdgeKey(x);
    }
    wc.clear();
    wr.clear();
    let rho = this.rankOf(pivot, 2);
    // N = the graph of the edges of rank < rho
    N.fill(0);
    for (let p = 0, end = rankStart[rho]; p < end; p++) {
      const [a, b] = edgeVertices(edges[p], B2);
      N[a * W + (b >> 5)] |= 1 << (b & 31);
      N[b * W + (a >> 5)] |= 1 << (a & 31);
    }
    let result = -1;
    outer: for (; rho <= this.thrRank; rho++) {
      const g0 = rankStart[rho];
      const g1 = rankStart[rho + 1];
      for (let g = g0; g < g1; g++) {
        const [a, b] = edgeVertices(edges[g], B2);
        N[a * W + (b >> 5)] |= 1 << (b & 31);
        N[b * W + (a >> 5)] |= 1 << (a & 31);
      }
      for (;;) {
        // the earliest odd triangle of diameter rank rho: the largest index
        let best = -1;
        for (let g = g0; g < g1; g++) {
          const eidx = edges[g];
          const [a, b] = edgeVertices(eidx, B2);
          const k = highestOddVertex(C, N, a * W, b * W, W, (C[a * W + (b >> 5)] >>> (b & 31)) & 1);
          if (k < 0) continue;
          let tidx: number;
          if (k > a) tidx = B3[k] + B2[a] + b;
          else if (k > b) tidx = B3[a] + B2[k] + b;
          else tidx = B3[a] + B2[b] + k;
          if (tidx > best) best = tidx;
        }
        if (best === -1) break;
        const other = pivots.get(best);
        if (other !== -1) {
          this.toggleEdgeKey(columns[other]);
          for (let q = vBounds[other]; q < vBounds[other + 1]; q++) this.toggleEdgeKey(vEntries.a[q]);
          continue;
        }
        const e = this.zeroApparentFacet(rho, best, 2);
        if (e !== -1) {
          const [ea, eb] = edgeVertices(e, B2);
          this.toggle(ea, eb);
          continue;
        }
        result = rho * Mc + (Mc - 1 - best);
        pivots.set(best, c);
        break outer;
      }
    }
    // V column = C minus the column's own edge; reset C
    this.toggle(e0a, e0b);
    const touched = this.touched;
    for (let i = 0; i < this.nTouched; i++) {
      const p = touched[i];
      const a = Math.floor(p / n);
      const b = p - a * n;
      const bit = 1 << (b & 31);
      if ((C[a * W + (b >> 5)] & bit) === 0) continue;
      C[a * W + (b >> 5)] ^= bit;
      C[b * W + (a >> 5)] ^= 1 << (a & 31);
      if (result !== -1) {
        const eidx = a > b ? B2[a] + b : B2[b] + a;
        vEntries.push(R[a * n + b] * Md + (Md - 1 - eidx));
      }
    }
    vBounds[c + 1] = vEntries.length;
    return result;
  }

  /**
   * ripser's assemble_columns_to_reduce for degree d: every d-simplex within the threshold that
   * is neither in an apparent pair nor a pivot of degree d − 1 (clearing), in reverse filtration order.
   */
  assemble(d: number, pivots: PivotMap, prev: Float64Array | null): { columns: Float64Array; simplices: Float64Array | null } {
    const n = this.n;
    const B = this.B;
    const R = this.rank;
    const thr = this.thrRank;
    const Md = this.M[d];
    // the (d-1)-simplices within the threshold: edges from H0, else the previous list
    const lower = prev ?? this.sortedEdges;
    const lowerIsIndex = prev === null; // sortedEdges holds plain indices
    const keepNext = d < this.maxDim;
    const next = new F64List(keepNext ? 1 << 16 : 1);
    const columns = new F64List(1 << 12);
    const vs = new Int32Array(d + 1);
    const M1 = this.M[d - 1];
    for (let s = 0; s < lower.length; s++) {
      let sr: number;
      let sidx: number;
      if (lowerIsIndex) {
        sidx = lower[s];
        this.vertices(sidx, d - 1, vs);
        sr = this.diamRank(vs, d - 1);
      } else {
        sr = this.rankOf(lower[s], d - 1);
        sidx = M1 - 1 - (lower[s] - sr * M1);
        this.vertices(sidx, d - 1, vs);
      }
      // cofacets adding a vertex larger than all of the simplex's (has_next(false))
      const top = vs[0];
      for (let j = n - 1; j > top; j--) {
        let cr = sr;
        const row = j * n;
        for (let i = 0; i < d; i++) {
          const v = R[row + vs[i]];
          if (v > cr) cr = v;
        }
        if (cr > thr) continue;
        const cidx = B[d + 1][j] + sidx;
        const key = cr * Md + (Md - 1 - cidx);
        if (keepNext) next.push(key);
        if (pivots.get(cidx) !== -1) continue;
        if (this.zeroApparentCofacet(cr, cidx, d) !== -1) continue;
        if (this.zeroApparentFacet(cr, cidx, d) !== -1) continue;
        columns.push(key);
      }
    }
    const cols = columns.a.slice(0, columns.length);
    cols.sort();
    cols.reverse();
    return { columns: cols, simplices: keepNext ? next.a.slice(0, next.length) : null };
  }
}

/** Endpoints [a, b], a > b, of the edge with combinatorial index C(a, 2) + b. */
function edgeVertices(eidx: number, B2: Float64Array): [number, number] {
  let a = Math.floor((1 + Math.sqrt(1 + 8 * eidx)) / 2);
  if (B2[a] > eidx) a--;
  else if (B2[a + 1] <= eidx) a++;
  return [a, eidx - B2[a]];
}

/**
 * The sweep's inner loop: the largest vertex k joined to both a and b (N rows at wa, wb) whose
 * triangle {a, b, k} has odd parity cab ^ C[ak] ^ C[bk]; -1 if none. Word-parallel: 32 vertices
 * per step, highest word first.
 */
function highestOddVertex(C: Int32Array, N: Int32Array, wa: number, wb: number, W: number, cab: number): number {
  const flip = cab === 0 ? 0 : -1;
  for (let w = W - 1; w >= 0; w--) {
    const m = (C[wa + w] ^ C[wb + w] ^ flip) & N[wa + w] & N[wb + w];
    if (m !== 0) return w * 32 + 31 - Math.clz32(m);
  }
  return -1;
}

function binom(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}
