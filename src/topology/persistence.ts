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
 * sorted list of distinct edge lengths within the threshold (a radix sort), and a simplex is
 * carried as the pair (diameter rank, index) in two typed arrays (Int32 ranks, Float64 indices)
 * compared lexicographically, so no key can overflow whatever n and the number of distinct
 * lengths (only the index itself must stay below 2^53: C(n, maxDim + 2) < 2^53, checked before
 * the run); the working columns are binary heaps that pack the pair into one double where that is
 * exact and keep the two fields otherwise (KeyHeap); the peak memory is estimated before the run
 * and checked against a budget (`memoryBudget`, docs/methods/topology.md §3 items 2 and 8); and in
 * degree 1 a column whose reduction grows long (the long bar of a circle: a cocycle of Θ(n²)
 * edges whose coboundary has Θ(n³) entries) switches to a "dense sweep" that keeps the cocycle as
 * an n×n bit matrix and walks the triangles in filtration order reading their parity, instead of
 * pushing every cofacet of every added edge into a heap. It visits the same pivots in the same
 * order, so the pairs are the same; it only changes the data structure (see `sweepColumn`).
 * Degree 2 has the same sweep one dimension up (the sphere's long class: a cocycle of Θ(n³)
 * triangles, kept as bit rows per edge; `sweep2Column`), and its columns are assembled with bit
 * matrices of the graph at each diameter rank instead of cofacet walks (`assembleTriangles`).
 */
import { NestlabArgumentError, NestlabComputationError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMemory, formatBytes, resolveMemoryBudget, type MemoryBudget } from '../backend/memory.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { UnionFind } from '../math/union-find.js';

/** The intervals of one homology degree: bar i is [births[i], deaths[i]); deaths may be Infinity. */
export interface Barcode {
  /** Birth scale of each bar (finite). */
  births: Float64Array;
  /** Death scale of each bar (>= birth; Infinity for a bar still alive at the threshold). */
  deaths: Float64Array;
}

/** The barcodes of degrees 0..maxDim (`bars[d]`), plus the edge length the complex was cut at. */
export interface PersistenceResult {
  /** `bars[d]` holds the degree-d intervals, sorted by (birth, death). */
  bars: Barcode[];
  /** The largest edge length admitted (the enclosing radius unless `maxEdgeLength` was given). */
  maxEdgeLength: number;
  /** Number of points / vertices. */
  n: number;
  /**
   * Counts from the reduction, per degree ≥ 1: columns reduced, columns that used the sweep (degrees 1 and 2), and
   * how the working heaps held their simplices ('packed' into one double, or 'pairs' of rank and
   * index where packing would not be exact; docs/methods/topology.md §3 item 2); and the memory
   * account in bytes: the estimate made before the run (checked against `memoryBudget`), the
   * number of edges within `maxEdgeLength` it used, and the peak of that estimate plus the
   * working columns as they grew (docs/methods/topology.md §3 item 8).
   */
  stats: {
    columns: number[];
    sweeps: number[];
    keys: ('packed' | 'pairs')[];
    memory: { estimated: number; edges: number; tracked: number };
  };
}

/** Options of `topology.ripsPersistence` (and, with `layout`, of `topology.ripsPersistenceFromDistances`). */
export interface PersistenceOptions {
  /** Highest homology degree (0, 1, 2 or 3). Default 1. */
  maxDim?: number;
  /**
   * Largest edge length (simplex diameter) admitted: ripser's `--threshold`, gudhi's
   * `max_edge_length`. Default: the enclosing radius (ripser's default), above which the Rips
   * complex is a cone, so no bar of degree ≥ 1 is infinite. With a smaller value, bars still
   * alive at it are reported with death Infinity.
   */
  maxEdgeLength?: number;
  /**
   * Degree-1 and degree-2 reduction strategy: 'auto' (default) switches a column to the dense
   * sweep once its heap reduction grows long; 'always' sweeps every column that needs a reduction
   * step, 'never' keeps ripser's heap reduction throughout. The barcodes are the same; only speed
   * and memory differ (kept as an option for tests and benchmarks). Degree 2 sweeps only where its
   * bit matrix (n³/16 bytes) is at most 64 MiB (n ≤ 1,024) and fits in `memoryBudget`.
   */
  sweep?: 'auto' | 'always' | 'never';
  /**
   * Bytes the computation may use (a positive number, or Infinity for no limit). Before the run
   * the peak memory is estimated from n, maxDim and the number of edges within maxEdgeLength
   * (docs/methods/topology.md §3 item 8), and a run whose estimate exceeds the budget is refused
   * with an error that gives the estimate; the working columns are then counted against the
   * same budget as they grow. Default: NESTLAB_MEMORY_BUDGET if set, else half of the memory
   * available at the call (docs/methods/compute.md §3b).
   */
  memoryBudget?: number;
}

/** Options of `topology.ripsPersistenceFromDistances`: PersistenceOptions plus the matrix layout. */
export interface DistanceOptions extends PersistenceOptions {
  /**
   * 'square' (n*n row-major) or 'condensed' (scipy's pdist order: (0,1), (0,2), ..., (1,2), ...).
   * Default: 'square' when the length is a perfect square, else 'condensed'.
   */
  layout?: 'square' | 'condensed';
}

const KNOWN = ['maxDim', 'maxEdgeLength', 'sweep', 'memoryBudget'] as const;

/**
 * The largest bit matrix of the degree-2 sweep, 64 MiB (n ≤ 1,024): it is n³/16 bytes whatever the
 * threshold, so above this size (zeroing and paging it in) it would cost more than the sparse
 * complexes of large n it would serve; those keep the heaps.
 */
const SWEEP2_MAX_BYTES = 2 ** 26;

/** The largest n: the engine keeps n × n typed arrays, and positions i·n + j must fit in 32 bits. */
const MAX_POINTS = 65535;

/**
 * Vietoris–Rips persistence of a point cloud (rows = points) under the Euclidean distance,
 * computed in float32 as ripser does: d(u, v) = sqrt(Σ_k (u_k − v_k)²) with f32 rounding at each step.
 * Barcodes equal those of ripser 1.2.1 (Bauer 2021) on the same points (docs/methods/topology.md §2-3).
 * Any n ≤ 65,535 whose n × n matrices fit in `memoryBudget` runs; maxDim 2 needs n ≤ 21,564 and
 * maxDim 3 n ≤ 4,045, where the simplex indices C(n, maxDim + 2) reach 2^53 (docs/methods/topology.md §3).
 *
 * @example const { bars } = topology.ripsPersistence(data.noisyCircle({ n: 200 }).points, { maxDim: 1 }); // bars[1]: the H1 bars
 */
export function ripsPersistence(points: Matrix, options: PersistenceOptions = {}): PersistenceResult {
  const where = 'topology.ripsPersistence';
  checkKnownKeys(where, options, KNOWN);
  const m = checkMatrix(where, 'points', points, 2, 1);
  const s = checkSettings(where, 'points', m.rows, options);
  return compute(where, s, euclideanFloat32(m));
}

/**
 * Vietoris–Rips persistence of a distance matrix (square n*n or condensed, Float32Array or
 * Float64Array; values are rounded to float32 as ripser reads them). The matrix must be
 * symmetric, non-negative, finite, with a zero diagonal (square layout). Barcodes equal those of
 * ripser 1.2.1 on the same distance matrix (docs/methods/topology.md §2); sizes and memory as
 * for `topology.ripsPersistence`.
 *
 * @example const res = topology.ripsPersistenceFromDistances(topology.pairwiseDistances(points), { maxDim: 1 });
 */
export function ripsPersistenceFromDistances(
  distances: Float32Array | Float64Array,
  options: DistanceOptions = {},
): PersistenceResult {
  const where = 'topology.ripsPersistenceFromDistances';
  checkKnownKeys(where, options, [...KNOWN, 'layout']);
  const { n, layout } = matrixLayout(where, distances, options.layout);
  const s = checkSettings(where, 'distances', n, options);
  return compute(where, s, squareFloat32(where, distances, layout));
}

/**
 * @internal For tests: ripsPersistenceFromDistances with the heaps forced to hold (rank, index)
 * pairs even where packing them into one double would be exact (KeyHeap). Not part of the API.
 */
export function ripsPersistenceUnpacked(distances: Float32Array | Float64Array, options: DistanceOptions = {}): PersistenceResult {
  const where = 'topology.ripsPersistenceFromDistances';
  checkKnownKeys(where, options, [...KNOWN, 'layout']);
  const { n, layout } = matrixLayout(where, distances, options.layout);
  const s = checkSettings(where, 'distances', n, options);
  return compute(where, s, squareFloat32(where, distances, layout), false);
}

/** Euclidean distances of the rows in float32 as ripser computes them (f32 rounding at each step). */
function euclideanFloat32(m: Matrix): Float32Array {
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
  return dist;
}

/** The number of points and the layout of a distance matrix argument (checked, not yet read). */
function matrixLayout(
  where: string,
  distances: unknown,
  layout: unknown,
): { n: number; layout: 'square' | 'condensed' } {
  if (!(distances instanceof Float32Array || distances instanceof Float64Array)) {
    throw new NestlabArgumentError(where, 'distances', 'a Float32Array or Float64Array', distances);
  }
  const len = distances.length;
  const sq = Math.round(Math.sqrt(len));
  const isSquare = sq * sq === len;
  const tri = Math.round((1 + Math.sqrt(1 + 8 * len)) / 2);
  const isCondensed = (tri * (tri - 1)) / 2 === len;
  if (layout !== undefined && layout !== 'square' && layout !== 'condensed') {
    throw new NestlabArgumentError(where, 'options.layout', '"square" or "condensed"', layout);
  }
  const lay = layout ?? (isSquare ? 'square' : 'condensed');
  if (lay === 'square' && !isSquare) {
    throw new NestlabArgumentError(where, 'distances', 'a square n*n matrix (length a perfect square)', `length ${len}`);
  }
  if (lay === 'condensed' && !isCondensed) {
    throw new NestlabArgumentError(where, 'distances', 'a square n*n or condensed n(n-1)/2 matrix', `length ${len}`);
  }
  const n = lay === 'square' ? sq : tri;
  if (n < 2) throw new NestlabArgumentError(where, 'distances', 'a matrix of at least 2 points', `${n} point(s)`);
  return { n, layout: lay };
}

/** Validates a distance matrix argument and returns it as a square float32 matrix. */
export function squareFloat32(
  where: string,
  distances: unknown,
  layout?: 'square' | 'condensed',
): Float32Array {
  const { n, layout: lay } = matrixLayout(where, distances, layout);
  const d = distances as Float32Array | Float64Array;
  const bad = firstBadDistance(d);
  if (bad !== -1) {
    const v = d[bad];
    if (Number.isFinite(v)) throw new NestlabArgumentError(where, 'distances', 'non-negative distances', `${v} at index ${bad}`);
    throw new NestlabArgumentError(where, 'distances', 'finite numbers only', `${v} at index ${bad}`);
  }
  const out = new Float32Array(n * n);
  if (lay === 'square') {
    const p = copySquare(d, n, out);
    if (p !== -1) {
      const i = Math.floor(p / n);
      const j = p - i * n;
      if (i === j) throw new NestlabArgumentError(where, 'distances', 'a zero diagonal', `${d[p]} at (${i}, ${i})`);
      throw new NestlabArgumentError(where, 'distances', 'a symmetric matrix', `d(${i},${j}) = ${d[p]} but d(${j},${i}) = ${d[j * n + i]}`);
    }
  } else copyCondensed(d, n, out);
  return out;
}

/**
 * The first index of a value that is not a finite non-negative number; -1 if none. The checks of
 * squareFloat32 live in small functions of their own so that V8 optimizes their loops (written
 * inline, the n² reads ran in the interpreter and boxed every value: 1.2 s and 155 MB of garbage
 * at n = 2000, measured).
 */
function firstBadDistance(d: Float32Array | Float64Array): number {
  const len = d.length;
  for (let i = 0; i < len; i++) {
    const v = d[i];
    // false for NaN too
    if (!(v >= 0 && v < Infinity)) return i;
  }
  return -1;
}

/**
 * Copies a square matrix into `out` rounded to float32 (lower triangle mirrored); returns the
 * position i * n + j of a nonzero diagonal entry or of a d(i, j) != d(j, i), else -1.
 */
function copySquare(d: Float32Array | Float64Array, n: number, out: Float32Array): number {
  for (let i = 0; i < n; i++) {
    if (d[i * n + i] !== 0) return i * n + i;
    for (let j = 0; j < i; j++) {
      const a = d[i * n + j];
      if (a !== d[j * n + i]) return i * n + j;
      // + 0 turns -0 into 0
      const v = Math.fround(a) + 0;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return -1;
}

/** Copies a condensed matrix (scipy's pdist order) into the square `out`, rounded to float32. */
function copyCondensed(d: Float32Array | Float64Array, n: number, out: Float32Array): void {
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.fround(d[p++]) + 0;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
}

/**
 * Enclosing radius min_i max_j d(i, j) of a square distance matrix (ripser 1.2.1's default
 * threshold: above it the Rips complex is a cone; docs/methods/topology.md §2).
 *
 * @example const r = topology.enclosingRadius(n, topology.pairwiseDistances(points)); // n = points.rows
 */
export function enclosingRadius(n: number, dist: Float32Array | Float64Array): number {
  let r = Infinity;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (dist[i * n + j] > m) m = dist[i * n + j];
    if (m < r) r = m;
  }
  return r;
}

/** The checked options of one call. */
interface Settings {
  n: number;
  maxDimAsked: number;
  /** maxDim capped at n − 2. */
  maxDim: number;
  /** The explicit threshold (float32), or undefined for the enclosing radius. */
  threshold: number | undefined;
  sweep: 'auto' | 'always' | 'never';
  /** The resolved memory budget (bytes, and where it came from for the error message). */
  memory: MemoryBudget;
  /** Its bytes. */
  budget: number;
}

/**
 * Checks the options and the sizes before anything of size n² is allocated: n ≤ 65535, simplex
 * indices below 2^53 (C(n, maxDim + 2) ≤ 2^53 − 1), and the part of the memory estimate that
 * needs only n against the budget.
 */
function checkSettings(where: string, what: 'points' | 'distances', n: number, options: PersistenceOptions): Settings {
  if (n < 2) throw new NestlabArgumentError(where, what, 'at least 2 points', `${n} point(s)`);
  const maxDimAsked = options.maxDim === undefined ? 1 : checkInt(where, 'options.maxDim', options.maxDim, 0, 3);
  const threshold =
    options.maxEdgeLength === undefined ? undefined : Math.fround(checkNumber(where, 'options.maxEdgeLength', options.maxEdgeLength, 0));
  const maxDim = Math.min(maxDimAsked, n - 2);
  const sweep = options.sweep === undefined ? 'auto' : checkOneOf(where, 'options.sweep', options.sweep, ['auto', 'always', 'never']);
  const memory = resolveMemoryBudget(where, options.memoryBudget);
  if (n > MAX_POINTS) {
    throw new NestlabArgumentError(where, what, `at most ${MAX_POINTS} points (the engine keeps n × n matrices)`, `${n} points`);
  }
  const limit = maxPointsForIndex(maxDim);
  if (n > limit) {
    throw new NestlabArgumentError(
      where,
      what,
      `at most ${limit} points for maxDim ${maxDim} (simplex indices up to C(n, ${maxDim + 2}) must stay below 2^53; lower options.maxDim or subsample)`,
      `${n} points`,
    );
  }
  const s: Settings = { n, maxDimAsked, maxDim, threshold, sweep, memory, budget: memory.bytes };
  // before the n × n matrices: the estimate with no edges is a lower bound
  checkBudget(where, s, estimateMemory(n, maxDim, 0, 0), null);
  return s;
}

function compute(where: string, s: Settings, dist: Float32Array, packKeys = true): PersistenceResult {
  const { n, maxDim } = s;
  const threshold = s.threshold ?? enclosingRadius(n, dist);
  const edges = countEdgesWithin(n, dist, threshold);
  const triangles = maxDim >= 3 ? countTrianglesWithin(n, dist, threshold) : 0;
  const estimated = estimateMemory(n, maxDim, edges, triangles);
  checkBudget(where, s, estimated, { edges, threshold });
  const meter = new MemoryMeter(where, estimated, s.budget);
  const engine = new RipsEngine(n, dist, threshold, maxDim, meter);
  engine.packKeys = packKeys;
  if (s.sweep === 'always') {
    engine.sweepAfter = 0;
    engine.sweepMinHeap = 0;
  } else if (s.sweep === 'never') engine.sweepAfter = Infinity;
  const bars = engine.run();
  while (bars.length <= s.maxDimAsked) bars.push({ births: new Float64Array(0), deaths: new Float64Array(0) });
  const stats = { ...engine.stats, memory: { estimated, edges, tracked: meter.peak } };
  return { bars, maxEdgeLength: threshold, n, stats };
}

/**
 * The peak memory in bytes that a run allocates for arrays whose sizes are known before it starts
 * (docs/methods/topology.md §3 item 8): n points, homology up to maxDim, `edges` edges within
 * the threshold, and (maxDim 3 only) `triangles` triangles within it. The larger of two phases:
 *  - ranking the edges: distance and rank matrices (4n² + 4n²), the radix sort of the edges
 *    within the threshold (keys and positions, twice: 16 per edge) and their distinct lengths
 *    (Float64, at most one per edge: 8);
 *  - the reduction: the two matrices, the distinct lengths, the edge list (8 per edge), its
 *    counting-sort buckets (4 per edge); for maxDim ≥ 1 the sweep's two n × ⌈n/32⌉ bit matrices
 *    and rank offsets (4 per edge); for maxDim 3 every triangle kept for the degree-3 columns
 *    (12 bytes: Int32 rank + Float64 index, in a list whose capacity doubles from 2^16).
 * Not included: the working columns (columns to reduce, pivots, the reduction matrix and the
 * heaps), which depend on the data and are counted against the budget as they grow (MemoryMeter).
 *
 * @internal exported for the tests only.
 */
export function estimateMemory(n: number, maxDim: number, edges: number, triangles: number): number {
  const matrices = 8 * n * n;
  const ranking = matrices + 16 * edges + 8 * edges;
  let reduction = matrices + 8 * edges + 8 * edges + 4 * edges;
  if (maxDim >= 1) reduction += 8 * n * Math.ceil(n / 32) + 4 * edges;
  if (maxDim >= 3) reduction += 12 * Math.max(1 << 16, 2 ** Math.ceil(Math.log2(Math.max(1, triangles))));
  return Math.max(ranking, reduction);
}

/** Throws the one-line budget error when `bytes` exceeds the budget; `counts` null: before the distances exist. */
function checkBudget(where: string, s: Settings, bytes: number, counts: { edges: number; threshold: number } | null): void {
  if (bytes <= s.budget) return;
  checkMemory(
    where,
    bytes,
    s.memory,
    'maxEdgeLength, maxDim or the number of points',
    counts === null ? '' : `for n = ${s.n}, maxDim ${s.maxDim}, ${counts.edges} edges within maxEdgeLength ${counts.threshold}`,
    counts === null ? `the n × n matrices alone need ${formatBytes(bytes)} for n = ${s.n}` : undefined,
  );
}

/** The number of edges {i, j} with d(i, j) <= threshold. */
function countEdgesWithin(n: number, dist: Float32Array, threshold: number): number {
  let m = 0;
  for (let i = 1; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < i; j++) if (dist[row + j] <= threshold) m++;
  }
  return m;
}

/** The number of triangles whose three edges are within the threshold (bit-parallel common neighbors). */
function countTrianglesWithin(n: number, dist: Float32Array, threshold: number): number {
  const W = (n + 31) >> 5;
  const N = new Int32Array(n * W);
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (dist[i * n + j] > threshold) continue;
      N[i * W + (j >> 5)] |= 1 << (j & 31);
      N[j * W + (i >> 5)] |= 1 << (i & 31);
    }
  }
  let t = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (dist[i * n + j] > threshold) continue;
      // common neighbors below j: each triangle counted once, at its two largest vertices
      for (let w = 0; w <= j >> 5; w++) {
        let x = N[i * W + w] & N[j * W + w];
        if (w === j >> 5) x &= (1 << (j & 31)) - 1;
        t += popcount(x);
      }
    }
  }
  return t;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * The engine's memory account (docs/methods/topology.md §3 item 8): the estimate made before the
 * run plus the bytes that the growable working structures (columns, pivot maps, reduction
 * matrices, heaps) hold now. Structures report their size when they are made or grow, and are
 * dropped when their degree is done; passing the budget throws.
 */
class MemoryMeter {
  private readonly sizes = new Map<unknown, number>();
  private live = 0;
  /** The largest total seen. */
  peak: number;
  /** The degree being computed (for the error message). */
  degree = 0;
  constructor(
    private readonly where: string,
    private readonly base: number,
    private readonly budget: number,
  ) {
    this.peak = base;
  }
  /** Records that `owner` now holds `bytes`. */
  set(owner: unknown, bytes: number): void {
    this.live += bytes - (this.sizes.get(owner) ?? 0);
    this.sizes.set(owner, bytes);
    const total = this.base + this.live;
    if (total > this.peak) this.peak = total;
    if (total > this.budget) {
      throw new NestlabComputationError(
        this.where,
        `the working columns of the degree-${this.degree} reduction brought the memory in use to ${formatBytes(total)} ` +
          `(${formatBytes(this.base)} estimated before the run), over options.memoryBudget ${formatBytes(this.budget)}; ` +
          'raise options.memoryBudget (bytes, or Infinity) or lower maxEdgeLength or maxDim',
      );
    }
  }
  /** Whether `bytes` more would stay within the budget. */
  fits(bytes: number): boolean {
    return this.base + this.live + bytes <= this.budget;
  }
  /** Forgets `owner` (its memory is released). */
  drop(owner: unknown): void {
    const b = this.sizes.get(owner);
    if (b === undefined) return;
    this.live -= b;
    this.sizes.delete(owner);
  }
}

/**
 * The reduction engine, ripser's `ripser` class: the filtration of one distance matrix and the
 * reductions over it. A d-simplex is carried as the pair (r, idx): its diameter rank r (an index
 * into the sorted distinct edge lengths) and its combinatorial index idx. The filtration order is
 * (r ascending, idx descending), ripser's `greater_diameter_or_smaller_index` read backwards; the
 * two fields live in separate typed arrays (Int32 ranks, Float64 indices) and are compared
 * lexicographically, so nothing packs them into one number that could overflow
 * (docs/methods/topology.md §3 item 2).
 */
class RipsEngine {
  /** rank[i * n + j]: the diameter rank of edge {i, j}, an index into `values` (values.length above the threshold). */
  readonly rank: Int32Array;
  /** values[r]: the float32 edge lengths within the threshold, ascending and distinct. */
  readonly values: Float64Array;
  /** The largest rank within the threshold (-1 if none): values.length − 1. */
  readonly thrRank: number;
  /** B[k][j] = C(j, k) for k = 0..maxDim + 2 (ripser's binomial_coeff_table), exact (checked < 2^53). */
  readonly B: Float64Array[];
  readonly stats = { columns: [] as number[], sweeps: [] as number[], keys: [] as ('packed' | 'pairs')[] };
  /** Lets the heaps pack (rank, index) into one double where exact; false forces pairs (tests). */
  packKeys = true;
  /** Number of additions after which a degree-1 or degree-2 column switches to the dense sweep. */
  sweepAfter = 64;
  /** ...and once its working coboundary holds at least this many entries. */
  sweepMinHeap = 0;
  /** The pivot found by initCoboundaryAndGetPivot / the last getPivot: its rank and index. */
  private pivR = 0;
  private pivX = 0;

  /** The edges within the threshold, as indices, in filtration order (set by computeDim0Pairs). */
  private edges = new Float64Array(0);
  /** The column being reduced: its coboundary ((d+1)-simplices) and the columns added to it (d-simplices). */
  private readonly workingCoboundary: KeyHeap;
  private readonly workingReductionColumn: KeyHeap;
  /** initCoboundaryAndGetPivot's cofacets, held back until it knows it needs the heap. */
  private readonly cofacetEntries: KeyList;
  /** Walks the coboundary being assembled, initialized or added. */
  private readonly cofacets: CofacetWalk;
  /**
   * getZeroPivotCofacet's own walk: the apparent-pair tests run from inside a walk of `cofacets`
   * (ripser's get_zero_pivot_cofacet likewise keeps its own enumerator).
   */
  private readonly zeroCofacets: CofacetWalk;
  /** getZeroPivotFacet's and toggleEdge's vertex buffer. */
  private readonly verts: Int32Array;

  constructor(
    readonly n: number,
    dist: Float32Array,
    threshold: number,
    readonly maxDim: number,
    private readonly meter: MemoryMeter,
  ) {
    const { rank, values } = edgeLengthRanks(n, dist, threshold);
    this.rank = rank;
    this.values = values;
    this.thrRank = values.length - 1;
    this.B = binomialTable(n, maxDim + 2);
    this.workingCoboundary = new KeyHeap(meter);
    this.workingReductionColumn = new KeyHeap(meter);
    this.cofacetEntries = new KeyList(256, meter);
    this.cofacets = new CofacetWalk(n, rank, this.B);
    this.zeroCofacets = new CofacetWalk(n, rank, this.B);
    this.verts = new Int32Array(maxDim + 3);
  }

  /**
   * ripser's compute_barcodes: H0 by union-find over the edges, then, degree by degree, the
   * reduction of the coboundary matrix (cohomology), whose columns are the d-simplices less those
   * whose pair is already known.
   */
  run(): Barcode[] {
    const bars: Barcode[] = [];
    // H0; the degree-1 columns are the edges that close a cycle, less the apparent pairs
    let columns = this.computeDim0Pairs(bars);
    // the (d-1)-simplices within the threshold (null: the edges, `this.edges`)
    let simplices: KeyList | null = null;
    const meter = this.meter;
    for (let d = 1; d <= this.maxDim; d++) {
      meter.degree = d;
      const pivots = new PivotMap(columns.x.length, meter); // pivot (d+1)-simplex -> its column
      bars.push(this.computePairs(columns, pivots, d));
      // the degree-(d+1) columns: the (d+1)-simplices less the pivots just found (clearing) and the apparent pairs
      if (d < this.maxDim) {
        meter.degree = d + 1;
        // degree 2 by bit matrices (assembleTriangles), degree 3 by cofacet walks as ripser does
        const next: { columns: Columns; simplices: KeyList | null } =
          d + 1 === 2 ? this.assembleTriangles(pivots) : this.assembleColumnsToReduce(simplices, pivots, d + 1);
        meter.drop(columns);
        meter.drop(simplices);
        ({ columns, simplices } = next);
      }
      meter.drop(pivots);
    }
    meter.drop(columns);
    return bars;
  }

  /**
   * ripser's compute_dim_0_pairs: Kruskal over the edges in filtration order. An edge that joins
   * two components ends the bar of one of them; an edge that closes a cycle is a degree-1 column,
   * unless it is in an apparent pair (its pair is then known without a reduction). Returns the
   * degree-1 columns in reduction order: reverse filtration, as cohomology reduces them.
   */
  computeDim0Pairs(bars: Barcode[]): Columns {
    const n = this.n;
    const edges = this.edgesInFiltrationOrder();
    this.edges = edges;
    const components = new UnionFind(n);
    const births: number[] = [];
    const deaths: number[] = [];
    const columns = new KeyList(1024, this.meter);
    const vs = new Int32Array(2);
    for (let e = 0; e < edges.length; e++) {
      const idx = edges[e];
      getSimplexVertices(idx, 1, n, this.B, vs);
      const r = this.rank[vs[0] * n + vs[1]];
      if (components.union(vs[0], vs[1])) {
        // every vertex is born at 0; ripser omits the zero-length bars
        const length = this.values[r];
        if (length !== 0) {
          births.push(0);
          deaths.push(length);
        }
      } else if (this.maxDim >= 1 && this.getZeroApparentCofacet(r, idx, 1) === -1) {
        columns.push(r, idx);
      }
    }
    for (let v = 0; v < n; v++) {
      if (components.find(v) === v) {
        births.push(0);
        deaths.push(Infinity);
      }
    }
    bars.push(packBars(births, deaths));
    const out = columns.toColumns();
    this.meter.drop(columns);
    out.r.reverse();
    out.x.reverse();
    this.meter.set(out, out.r.byteLength + out.x.byteLength);
    return out;
  }

  /**
   * The edge indices C(i, 2) + j within the threshold in filtration order (diameter ascending,
   * index descending): a counting sort by rank of the edges listed by index descending.
   */
  edgesInFiltrationOrder(): Float64Array {
    const n = this.n;
    const R = this.rank;
    const thr = this.thrRank;
    const counts = new Int32Array(thr + 2);
    let m = 0;
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) {
      const r = R[i * n + j];
      if (r <= thr) {
        counts[r + 1]++;
        m++;
      }
    }
    for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
    const edges = new Float64Array(m);
    for (let i = n - 1; i >= 1; i--) {
      for (let j = i - 1; j >= 0; j--) {
        const r = R[i * n + j];
        if (r <= thr) edges[counts[r]++] = (i * (i - 1)) / 2 + j;
      }
    }
    return edges;
  }

  /**
   * ripser's compute_pairs: reduces the coboundary columns of degree d in the given order. A
   * column's pivot is the earliest cofacet of its working coboundary; while that pivot is some
   * earlier column's (or has an apparent facet), that column (or the facet's coboundary) is
   * added. A new pivot pairs the column with it (a bar [birth, death) unless of length 0); no
   * pivot leaves the column essential (death Infinity).
   */
  computePairs(columns: Columns, pivots: PivotMap, d: number): Barcode {
    const births: number[] = [];
    const deaths: number[] = [];
    const colR = columns.r;
    const colX = columns.x;
    const reduction = new ReductionMatrix(colX.length, this.meter);
    const workingCoboundary = this.workingCoboundary;
    const workingReductionColumn = this.workingReductionColumn;
    // degree 2 sweeps only while its triangle bit matrix is allowed (sweep2Fits; else ripser's heap reduction)
    const sweepOk = d === 1 || (d === 2 && this.n >= 4 && this.tbitsBytes() <= SWEEP2_MAX_BYTES);
    let sweeps = 0;
    // the heaps pack (rank, index) into one double where that is exact (KeyHeap)
    const cobRadix = this.packRadix(d + 1);
    workingCoboundary.reset(cobRadix);
    workingReductionColumn.reset(this.packRadix(d));
    this.stats.keys[d] = cobRadix > 0 ? 'packed' : 'pairs';
    for (let c = 0; c < colX.length; c++) {
      const r = colR[c];
      workingCoboundary.clear();
      workingReductionColumn.clear();
      let hasPivot = this.initCoboundaryAndGetPivot(r, colX[c], d, pivots);
      let additions = 0;
      for (;;) {
        if (!hasPivot) {
          births.push(this.values[r]);
          deaths.push(Infinity);
          reduction.endColumn(c);
          break;
        }
        const pr = this.pivR;
        const pidx = this.pivX;
        const other = pivots.get(pidx);
        if (other !== -1) {
          additions += this.addCoboundary(columns, reduction, other, d);
        } else {
          const e = this.getZeroApparentFacet(pr, pidx, d + 1);
          if (e === -1) {
            if (pr > r) {
              births.push(this.values[r]);
              deaths.push(this.values[pr]);
            }
            pivots.set(pidx, c);
            // keep the added columns (reduced mod 2): a later column that meets this pivot adds them too
            while (workingReductionColumn.popPivot()) reduction.entries.push(workingReductionColumn.topR, workingReductionColumn.topX);
            reduction.endColumn(c);
            break;
          }
          // the pivot's apparent facet e (of the pivot's diameter) cancels it, as a column of its own would
          this.addSimplexCoboundary(pr, e, d);
          additions++;
        }
        if (sweepOk && additions > this.sweepAfter && workingCoboundary.size >= this.sweepMinHeap && (d === 1 || this.sweep2Fits())) {
          sweeps++;
          const dr =
            d === 1 ? this.sweepColumn(c, colX[c], pr, pivots, columns, reduction) : this.sweep2Column(c, colX[c], pr, pivots, columns, reduction);
          if (dr === -1) {
            births.push(this.values[r]);
            deaths.push(Infinity);
          } else if (dr > r) {
            births.push(this.values[r]);
            deaths.push(this.values[dr]);
          }
          break;
        }
        hasPivot = workingCoboundary.getPivot();
        this.pivR = workingCoboundary.topR;
        this.pivX = workingCoboundary.topX;
      }
    }
    this.stats.columns[d] = colX.length;
    this.stats.sweeps[d] = sweeps;
    reduction.release();
    if (this.tbits !== null) {
      this.meter.drop(this.tbits);
      this.tbits = null;
    }
    this.meter.drop(this.touchedTKey);
    return packBars(births, deaths);
  }

  /**
   * The radix M = C(n, d + 1) with which a heap of d-simplices packs (r, idx) into the exact
   * double r · M + (M − 1 − idx), or 0 (keep pairs) when (thrRank + 1) · M exceeds 2^53, or when
   * `packKeys` is off. Every heap entry lies within the threshold, so r <= thrRank.
   */
  packRadix(d: number): number {
    const M = this.B[d + 1][this.n];
    return this.packKeys && (this.thrRank + 1) * M < 2 ** 53 ? M : 0;
  }

  /**
   * ripser's init_coboundary_and_get_pivot: puts the column's cofacets (within the threshold) in
   * the working coboundary and finds its pivot (pivR, pivX); false when there is none. Shortcut
   * (emergent pair): if the first cofacet of the column's own diameter is no column's pivot and
   * has no apparent facet, it is the pivot, and the heap is never filled.
   */
  initCoboundaryAndGetPivot(r: number, idx: number, d: number, pivots: PivotMap): boolean {
    const thr = this.thrRank;
    const entries = this.cofacetEntries;
    entries.length = 0;
    let checkForEmergentPair = true;
    const cofacet = this.cofacets;
    cofacet.start(r, idx, d);
    while (cofacet.next(thr)) {
      const cr = cofacet.diam;
      const ci = cofacet.index;
      entries.push(cr, ci);
      if (checkForEmergentPair && cr === r) {
        if (pivots.get(ci) === -1 && this.getZeroApparentFacet(cr, ci, d + 1) === -1) {
          this.pivR = cr;
          this.pivX = ci;
          return true;
        }
        checkForEmergentPair = false;
      }
    }
    const heap = this.workingCoboundary;
    const er = entries.r;
    const ex = entries.x;
    for (let i = 0; i < entries.length; i++) heap.push(er[i], ex[i]);
    const found = heap.getPivot();
    this.pivR = heap.topR;
    this.pivX = heap.topX;
    return found;
  }

  /**
   * ripser's add_coboundary: adds column c and the columns stored with it in the reduction
   * matrix. Returns the number of simplices added.
   */
  addCoboundary(columns: Columns, reduction: ReductionMatrix, c: number, d: number): number {
    this.addSimplexCoboundary(columns.r[c], columns.x[c], d);
    const end = reduction.bounds[c + 1];
    const er = reduction.entries.r;
    const ex = reduction.entries.x;
    for (let q = reduction.bounds[c]; q < end; q++) this.addSimplexCoboundary(er[q], ex[q], d);
    return 1 + end - reduction.bounds[c];
  }

  /**
   * ripser's add_simplex_coboundary: adds the d-simplex (r, idx) to the working reduction column
   * and its cofacets within the threshold to the working coboundary (Z/2: duplicates cancel on pop).
   */
  addSimplexCoboundary(r: number, idx: number, d: number): void {
    this.workingReductionColumn.push(r, idx);
    const heap = this.workingCoboundary;
    const thr = this.thrRank;
    const cofacet = this.cofacets;
    cofacet.start(r, idx, d);
    while (cofacet.next(thr)) heap.push(cofacet.diam, cofacet.index);
  }

  /**
   * ripser's assemble_columns_to_reduce for degree d: every d-simplex within the threshold that is
   * neither a pivot of degree d − 1 (clearing: its column would reduce to zero) nor in an apparent
   * pair, in reverse filtration order. Each d-simplex is reached once, from its facet without its
   * largest vertex, by appending a larger vertex (the walk's allCofacets = false). Also returns the
   * d-simplices, the next degree's `simplices` (null at maxDim: not needed).
   */
  assembleColumnsToReduce(
    simplices: KeyList | null,
    pivots: PivotMap,
    d: number,
  ): { columns: Columns; simplices: KeyList | null } {
    const n = this.n;
    const thr = this.thrRank;
    const keepNext = d < this.maxDim;
    const next = keepNext ? new KeyList(1 << 16, this.meter) : null;
    const columns = new KeyList(1 << 12, this.meter);
    const vs = new Int32Array(2);
    const cofacet = this.cofacets;
    const count = simplices === null ? this.edges.length : simplices.length;
    for (let s = 0; s < count; s++) {
      let fr: number;
      let fidx: number;
      if (simplices === null) {
        // this.edges holds plain indices; an edge's diameter is its length
        fidx = this.edges[s];
        getSimplexVertices(fidx, 1, n, this.B, vs);
        fr = this.rank[vs[0] * n + vs[1]];
      } else {
        fr = simplices.r[s];
        fidx = simplices.x[s];
      }
      cofacet.start(fr, fidx, d - 1, false);
      while (cofacet.next(thr)) {
        const cr = cofacet.diam;
        const cidx = cofacet.index;
        if (next !== null) next.push(cr, cidx);
        if (pivots.get(cidx) !== -1) continue;
        if (this.getZeroApparentCofacet(cr, cidx, d) !== -1) continue;
        if (this.getZeroApparentFacet(cr, cidx, d) !== -1) continue;
        columns.push(cr, cidx);
      }
    }
    const sorted = sortReverseFiltration(columns, thr);
    this.meter.drop(columns);
    this.meter.set(sorted, sorted.r.byteLength + sorted.x.byteLength);
    return { columns: sorted, simplices: next };
  }

  /**
   * assembleColumnsToReduce for degree 2, by diameter rank: the same columns (the triangles within
   * the threshold that are neither a degree-1 pivot nor in an apparent pair), found with bit
   * matrices instead of cofacet walks. The edges are taken in filtration order, keeping N = the
   * graph of the edges of rank ≤ ρ (the sweep's neighborhoods); the triangles of diameter rank ρ
   * are {a, b, k} for an edge (a, b) of rank ρ and k in N[a] & N[b] (listed once, from their
   * rank-ρ edge of largest index). Then, at rank ρ, a simplex's earliest cofacet of its own
   * diameter (ripser's get_zero_pivot_cofacet) is its highest common neighbor in N: one scan of
   * ⌈n/32⌉ words instead of a walk over up to n vertices; and the earliest cofacet of an edge is
   * the same for all its triangles, found once per edge. This was 75-85% of an H2 run of 400
   * points at the enclosing radius (10.6 million triangles). The next degree's simplices are the
   * triangles in this order (assembleColumnsToReduce does not depend on it).
   */
  assembleTriangles(pivots: PivotMap): { columns: Columns; simplices: KeyList | null } {
    const n = this.n;
    const W = (n + 31) >> 5;
    const R = this.rank;
    const B2 = this.B[2];
    const B3 = this.B[3];
    const edges = this.edges;
    const next = this.maxDim > 2 ? new KeyList(1 << 16, this.meter) : null;
    const columns = new KeyList(1 << 12, this.meter);
    const rankStart = this.sweepRankStart();
    const N = this.sweepNeighborhoods(0);
    for (let rho = 0; rho <= this.thrRank; rho++) {
      const g0 = rankStart[rho];
      const g1 = rankStart[rho + 1];
      for (let g = g0; g < g1; g++) {
        const [a, b] = edgeVertices(edges[g], B2);
        N[a * W + (b >> 5)] |= 1 << (b & 31);
        N[b * W + (a >> 5)] |= 1 << (a & 31);
      }
      for (let g = g0; g < g1; g++) {
        const e = edges[g];
        const [a, b] = edgeVertices(e, B2);
        const na = a * W;
        const nb = b * W;
        // the edge's earliest cofacet of diameter rank rho: its highest common neighbor
        const topE = highestCommonNeighbor(N, na, nb, nb, W);
        for (let w = W - 1; w >= 0; w--) {
          let m = N[na + w] & N[nb + w];
          while (m !== 0) {
            const hb = 31 - Math.clz32(m);
            m ^= 1 << hb;
            const k = w * 32 + hb;
            const eak = k > a ? B2[k] + a : B2[a] + k;
            const ebk = k > b ? B2[k] + b : B2[b] + k;
            // a triangle with several edges of rank rho is listed from the one of largest index
            if ((R[a * n + k] === rho && eak > e) || (R[b * n + k] === rho && ebk > e)) continue;
            let x: number;
            let y: number;
            let z: number;
            if (k > a) {
              x = k;
              y = a;
              z = b;
            } else if (k > b) {
              x = a;
              y = k;
              z = b;
            } else {
              x = a;
              y = b;
              z = k;
            }
            const tidx = B3[x] + B2[y] + z;
            if (next !== null) next.push(rho, tidx);
            // apparent facet: the latest facet of diameter rho (drop x, then y, then z) whose
            // earliest cofacet of diameter rho is this triangle
            let third: number;
            let fe: number;
            if (R[y * n + z] === rho) {
              third = x;
              fe = B2[y] + z;
            } else if (R[x * n + z] === rho) {
              third = y;
              fe = B2[x] + z;
            } else {
              third = z;
              fe = B2[x] + y;
            }
            if (fe === e) {
              if (topE === k) continue;
            } else {
              const [fa, fb] = edgeVertices(fe, B2);
              if (highestCommonNeighbor(N, fa * W, fb * W, fb * W, W) === third) continue;
            }
            if (this.triangleHasApparentCofacet(x, y, z, rho, N, W)) continue;
            if (pivots.get(tidx) !== -1) continue;
            columns.push(rho, tidx);
          }
        }
      }
    }
    const sorted = sortReverseFiltration(columns, this.thrRank);
    this.meter.drop(columns);
    this.meter.set(sorted, sorted.r.byteLength + sorted.x.byteLength);
    return { columns: sorted, simplices: next };
  }

  /**
   * Whether the triangle x > y > z of diameter rank rho is the facet of an apparent pair, given N
   * = the graph of the edges of rank ≤ rho: its earliest cofacet of diameter rho is {x, y, z, j}
   * for j the highest common neighbor, and the triangle must be that tetrahedron's latest facet of
   * diameter rho (ripser's get_zero_pivot_facet drops the largest vertex first, so no facet that
   * drops a vertex above j may have diameter rho).
   */
  private triangleHasApparentCofacet(x: number, y: number, z: number, rho: number, N: Int32Array, W: number): boolean {
    const j = highestCommonNeighbor(N, x * W, y * W, z * W, W);
    if (j < 0) return false;
    const R = this.rank;
    const n = this.n;
    const rj = j * n;
    // the facets {y, z, j}, {x, z, j}, {x, y, j}, for the dropped vertex above j
    if (x > j && (R[y * n + z] === rho || R[rj + y] === rho || R[rj + z] === rho)) return false;
    if (y > j && (R[x * n + z] === rho || R[rj + x] === rho || R[rj + z] === rho)) return false;
    if (z > j && (R[x * n + y] === rho || R[rj + x] === rho || R[rj + y] === rho)) return false;
    return true;
  }

  /**
   * ripser's get_zero_pivot_facet: the facet of the same diameter with the smallest index (the
   * filtration's latest such facet); its index, or -1.
   */
  getZeroPivotFacet(r: number, idx: number, d: number): number {
    const vs = this.verts;
    getSimplexVertices(idx, d, this.n, this.B, vs);
    const R = this.rank;
    const n = this.n;
    const B = this.B;
    // removing vs[0] (the largest vertex) first, then vs[1], ...: the facet indices increase
    for (let rm = 0; rm <= d; rm++) {
      let fr = 0;
      let fidx = 0;
      let pos = d; // the facet's vertices are numbered d − 1 down to 0; B[pos] is one past
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
      if (d === 1) fr = 0; // the facets of an edge are vertices, of diameter 0
      if (fr === r) return fidx;
    }
    return -1;
  }

  /**
   * ripser's get_zero_pivot_cofacet: the cofacet of the same diameter with the largest index (the
   * filtration's earliest cofacet); its index, or -1.
   */
  getZeroPivotCofacet(r: number, idx: number, d: number): number {
    const cofacet = this.zeroCofacets;
    cofacet.start(r, idx, d);
    // no cofacet is smaller than the simplex: the first within r has diameter exactly r
    return cofacet.next(r) ? cofacet.index : -1;
  }

  /**
   * ripser's get_zero_apparent_facet: the facet f with which the d-simplex forms an apparent pair
   * (f's earliest cofacet is the simplex and the simplex's latest facet is f, both of the same
   * diameter: the pair the reduction would find, known without it); f's index, or -1.
   */
  getZeroApparentFacet(r: number, idx: number, d: number): number {
    const f = this.getZeroPivotFacet(r, idx, d);
    return f !== -1 && this.getZeroPivotCofacet(r, f, d - 1) === idx ? f : -1;
  }

  /** ripser's get_zero_apparent_cofacet: the cofacet in an apparent pair with the d-simplex; its index, or -1. */
  getZeroApparentCofacet(r: number, idx: number, d: number): number {
    const c = this.getZeroPivotCofacet(r, idx, d);
    return c !== -1 && this.getZeroPivotFacet(r, c, d + 1) === idx ? c : -1;
  }

  // ---- The dense sweep (degree 1, our own; see the file comment and sweepColumn) ----

  /** Cocycle bit matrix for the sweep: row v holds W = ceil(n / 32) words. */
  private cbits: Int32Array | null = null;
  /** Sweep neighborhoods: bit k of row v set iff rank(v, k) <= the current sweep rank. */
  private nbits: Int32Array | null = null;
  /** rankStart[ρ]: the first position of rank ρ in `edges`. */
  private rankStart: Int32Array | null = null;
  /** The cocycle's toggled edges (a * n + b), to read C back and reset it. */
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
      this.meter.set(this, t.byteLength);
    }
    this.touched[this.nTouched++] = a * this.n + b;
  }

  /** Toggles the edge of combinatorial index `idx` in the cocycle. */
  private toggleEdge(idx: number): void {
    const vs = this.verts;
    getSimplexVertices(idx, 1, this.n, this.B, vs);
    this.toggle(vs[0], vs[1]);
  }

  /**
   * Finishes the reduction of degree-1 column `c` (the edge of index `idx`) by a dense sweep,
   * starting from the current pivot's diameter rank `pivotRank`.
   *
   * The working coboundary is δ(C) for the cocycle C = {column edge} + (added columns), and its
   * pivot is the earliest triangle (filtration order) with an odd number of edges in C. Instead of
   * a heap holding every cofacet of every added edge (Θ(n³) entries for the long bar of a
   * circle), C is kept as an n×n bit matrix and the triangles are walked in filtration order
   * from the current pivot: diameter rank by rank (the triangles of diameter rank ρ are {a, b, k}
   * for the edges (a, b) of rank ρ and the vertices k joined to both a and b by edges of rank
   * ≤ ρ: the AND of two rows of a neighborhood bit matrix), index descending within a rank (the
   * index grows with k, so the highest set bit comes first). A triangle is in δ(C) iff
   * C[ab] ^ C[ak] ^ C[bk] = 1, 32 vertices per word operation. Each odd triangle is handled
   * exactly as in the heap reduction (add the column whose pivot it is, or the coboundary of its
   * apparent facet, or stop: it is the pivot); an addition only changes triangles at or after the
   * current one (its pivot is that triangle), so the walk never goes back, and the pairs are the
   * heap reduction's. Records the pivot and the reduction column as computePairs would; returns
   * the pivot's diameter rank (-1: the column is essential).
   */
  sweepColumn(
    c: number,
    idx: number,
    pivotRank: number,
    pivots: PivotMap,
    columns: Columns,
    reduction: ReductionMatrix,
  ): number {
    const n = this.n;
    const W = (n + 31) >> 5;
    const R = this.rank;
    const B = this.B;
    const B2 = B[2];
    const B3 = B[3];
    const edges = this.edges;
    if (this.cbits === null) this.cbits = new Int32Array(n * W);
    const C = this.cbits;
    const rankStart = this.sweepRankStart();
    const N = this.sweepNeighborhoods(pivotRank);
    const wc = this.workingCoboundary;
    const wr = this.workingReductionColumn;
    this.nTouched = 0;
    // C = column edge + surviving entries of the working reduction column
    const [e0a, e0b] = edgeVertices(idx, B2);
    this.toggle(e0a, e0b);
    while (wr.popPivot()) this.toggleEdge(wr.topX);
    wc.clear();
    wr.clear();
    let rho = pivotRank;
    let result = -1;
    const entX = reduction.entries;
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
          this.toggleEdge(columns.x[other]);
          for (let q = reduction.bounds[other]; q < reduction.bounds[other + 1]; q++) this.toggleEdge(entX.x[q]);
          continue;
        }
        const e = this.getZeroApparentFacet(rho, best, 2);
        if (e !== -1) {
          const [ea, eb] = edgeVertices(e, B2);
          this.toggle(ea, eb);
          continue;
        }
        result = rho;
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
      if (result !== -1) entX.push(R[a * n + b], a > b ? B2[a] + b : B2[b] + a);
    }
    reduction.endColumn(c);
    return result;
  }

  /** rankStart[ρ]: the first position of rank ρ in `edges` (made once, for the sweeps). */
  private sweepRankStart(): Int32Array {
    if (this.rankStart === null) {
      const n = this.n;
      const R = this.rank;
      const B2 = this.B[2];
      const edges = this.edges;
      const rs = new Int32Array(this.thrRank + 2);
      for (let p = 0; p < edges.length; p++) {
        const [a, b] = edgeVertices(edges[p], B2);
        rs[R[a * n + b] + 1]++;
      }
      for (let i = 1; i < rs.length; i++) rs[i] += rs[i - 1];
      this.rankStart = rs;
    }
    return this.rankStart;
  }

  /** The sweep's neighborhood bit matrix set to the graph of the edges of rank < rho. */
  private sweepNeighborhoods(rho: number): Int32Array {
    const n = this.n;
    const W = (n + 31) >> 5;
    if (this.nbits === null) this.nbits = new Int32Array(n * W);
    const N = this.nbits;
    const B2 = this.B[2];
    const edges = this.edges;
    N.fill(0);
    for (let p = 0, end = (this.rankStart as Int32Array)[rho]; p < end; p++) {
      const [a, b] = edgeVertices(edges[p], B2);
      N[a * W + (b >> 5)] |= 1 << (b & 31);
      N[b * W + (a >> 5)] |= 1 << (a & 31);
    }
    return N;
  }

  // ---- The dense sweep in degree 2 (our own, the degree-1 sweep one dimension up) ----

  /**
   * The 2-cocycle bit matrix: row e = C(x, 2) + y (the edge index of x > y) holds W words, bit z
   * set iff the triangle {x, y, z} is in the cocycle. Each triangle sits in its three edges' rows.
   */
  private tbits: Int32Array | null = null;
  /** The triangles toggled in the current degree-2 sweep (indices), to read C back and reset it. */
  private touchedT = new Float64Array(1024);
  private nTouchedT = 0;
  /** The meter's key for touchedT (which is replaced as it grows). */
  private readonly touchedTKey = {};

  /** The bytes of the degree-2 sweep's triangle bit matrix, C(n, 2) rows of ⌈n/32⌉ words. */
  private tbitsBytes(): number {
    return this.B[2][this.n] * ((this.n + 31) >> 5) * 4;
  }

  /**
   * Whether the degree-2 sweep may run now: its bit matrix (n³/16 bytes: 4.2 MB at n = 400, 64 MB
   * at n = 1,000; computePairs also caps it at SWEEP2_MAX_BYTES) is already made or fits in the memory
   * budget next to the working columns; otherwise the column keeps its heap.
   */
  private sweep2Fits(): boolean {
    return this.tbits !== null || this.meter.fits(this.tbitsBytes());
  }

  /** Toggles the triangle x > y > z in the 2-cocycle (its bit in the rows of its three edges). */
  private toggleTriangle(x: number, y: number, z: number): void {
    const T = this.tbits as Int32Array;
    const W = (this.n + 31) >> 5;
    const B2 = this.B[2];
    T[(B2[x] + y) * W + (z >> 5)] ^= 1 << (z & 31);
    T[(B2[x] + z) * W + (y >> 5)] ^= 1 << (y & 31);
    T[(B2[y] + z) * W + (x >> 5)] ^= 1 << (x & 31);
    if (this.nTouchedT === this.touchedT.length) {
      const t = new Float64Array(this.touchedT.length * 2);
      t.set(this.touchedT);
      this.touchedT = t;
      this.meter.set(this.touchedTKey, t.byteLength);
    }
    this.touchedT[this.nTouchedT++] = this.B[3][x] + B2[y] + z;
  }

  /** Toggles the triangle of combinatorial index `idx` in the 2-cocycle. */
  private toggleTriangleIndex(idx: number): void {
    const vs = this.verts;
    getSimplexVertices(idx, 2, this.n, this.B, vs);
    this.toggleTriangle(vs[0], vs[1], vs[2]);
  }

  /**
   * Finishes the reduction of degree-2 column `c` (the triangle of index `idx`) by a dense sweep
   * from the current pivot's diameter rank: sweepColumn one dimension up. The long class of a
   * sphere has a cocycle of Θ(n³) triangles whose coboundary, pushed into a heap cofacet by
   * cofacet, held 37 million tetrahedra at n = 400 (28 s of a 30 s run); here the cocycle C is a
   * bit matrix (the rows of its triangles' edges) and the tetrahedra are walked in filtration
   * order: rank by rank, the tetrahedra of diameter rank ρ are {a, b, k, l} for an edge (a, b) of
   * rank ρ and k, l joined to a, b and to each other by edges of rank ≤ ρ; the tetrahedron is in
   * δ(C) iff C[abk] ^ C[abl] ^ C[akl] ^ C[bkl] = 1, read 32 vertices l at a time from the rows
   * ab, ak, bk. For one edge the tetrahedra are in index order when k runs down and then l runs
   * down (the largest k with an odd partner gives the largest sorted vertex tuple), so the first
   * odd one found is the edge's earliest; ties of rank across edges compare indices. Each odd
   * tetrahedron is handled as the heap reduction handles its pivot, so the pairs are the same.
   * Returns the pivot's diameter rank (-1: essential).
   */
  sweep2Column(
    c: number,
    idx: number,
    pivotRank: number,
    pivots: PivotMap,
    columns: Columns,
    reduction: ReductionMatrix,
  ): number {
    const n = this.n;
    const W = (n + 31) >> 5;
    const R = this.rank;
    const B = this.B;
    const B2 = B[2];
    const B3 = B[3];
    const B4 = B[4];
    const edges = this.edges;
    if (this.tbits === null) {
      this.tbits = new Int32Array(this.tbitsBytes() / 4);
      this.meter.set(this.tbits, this.tbits.byteLength);
    }
    const T = this.tbits;
    const rankStart = this.sweepRankStart();
    const N = this.sweepNeighborhoods(pivotRank);
    const wc = this.workingCoboundary;
    const wr = this.workingReductionColumn;
    this.nTouchedT = 0;
    // C = column triangle + surviving entries of the working reduction column
    this.toggleTriangleIndex(idx);
    while (wr.popPivot()) this.toggleTriangleIndex(wr.topX);
    wc.clear();
    wr.clear();
    const entries = reduction.entries;
    let result = -1;
    outer: for (let rho = pivotRank; rho <= this.thrRank; rho++) {
      const g0 = rankStart[rho];
      const g1 = rankStart[rho + 1];
      for (let g = g0; g < g1; g++) {
        const [a, b] = edgeVertices(edges[g], B2);
        N[a * W + (b >> 5)] |= 1 << (b & 31);
        N[b * W + (a >> 5)] |= 1 << (a & 31);
      }
      // with one edge of this rank, a search after an addition resumes at the k where it stopped:
      // the addition's coboundary has its pivot there, so the tetrahedra with a larger k (earlier
      // in the filtration) keep their even parity
      let kResume = n;
      for (;;) {
        let best = -1;
        for (let g = g0; g < g1; g++) {
          const eidx = edges[g];
          const [a, b] = edgeVertices(eidx, B2);
          const t = highestOddTetrahedron(T, N, a, b, W, B2, g1 - g0 === 1 ? kResume : n);
          if (t < 0) continue;
          const k = t >> 16;
          const l = t & 0xffff;
          kResume = k + 1;
          const tidx = tetrahedronIndex(a, b, k, l, B2, B3, B4);
          if (tidx > best) best = tidx;
        }
        if (best === -1) break;
        const other = pivots.get(best);
        if (other !== -1) {
          this.toggleTriangleIndex(columns.x[other]);
          for (let q = reduction.bounds[other]; q < reduction.bounds[other + 1]; q++) this.toggleTriangleIndex(entries.x[q]);
          continue;
        }
        const e = this.getZeroApparentFacet(rho, best, 3);
        if (e !== -1) {
          this.toggleTriangleIndex(e);
          continue;
        }
        result = rho;
        pivots.set(best, c);
        break outer;
      }
    }
    // V column = C minus the column's own triangle; reset C
    this.toggleTriangleIndex(idx);
    const touched = this.touchedT;
    const vs = this.verts;
    for (let i = 0; i < this.nTouchedT; i++) {
      const t = touched[i];
      getSimplexVertices(t, 2, n, B, vs);
      const x = vs[0];
      const y = vs[1];
      const z = vs[2];
      const p = (B2[x] + y) * W + (z >> 5);
      const bit = 1 << (z & 31);
      if ((T[p] & bit) === 0) continue;
      T[p] ^= bit;
      T[(B2[x] + z) * W + (y >> 5)] ^= 1 << (y & 31);
      T[(B2[y] + z) * W + (x >> 5)] ^= 1 << (x & 31);
      if (result !== -1) {
        let r = R[x * n + y];
        const r2 = R[x * n + z];
        const r3 = R[y * n + z];
        if (r2 > r) r = r2;
        if (r3 > r) r = r3;
        entries.push(r, t);
      }
    }
    reduction.endColumn(c);
    return result;
  }
}

/**
 * The degree-2 sweep's inner loop for the edge a > b: the odd tetrahedron {a, b, k, l} (k > l,
 * both joined to a and b by the current neighborhoods N, and l to k) with the largest k below
 * kBelow, and for it the largest l, packed as k · 2^16 + l; -1 if none. Row e of T (W words) holds
 * the cocycle's triangles on edge e (sweep2Column); l runs 32 at a time.
 */
function highestOddTetrahedron(T: Int32Array, N: Int32Array, a: number, b: number, W: number, B2: Float64Array, kBelow: number): number {
  const na = a * W;
  const nb = b * W;
  const ab = (B2[a] + b) * W;
  for (let wk = Math.min(W - 1, kBelow >> 5); wk >= 0; wk--) {
    let mk = N[na + wk] & N[nb + wk];
    if (wk === kBelow >> 5) mk &= (1 << (kBelow & 31)) - 1;
    while (mk !== 0) {
      const hb = 31 - Math.clz32(mk);
      mk ^= 1 << hb;
      const k = wk * 32 + hb;
      // rows ak and bk (edge index of the larger vertex first)
      const ak = (k < a ? B2[a] + k : B2[k] + a) * W;
      const bk = (k < b ? B2[b] + k : B2[k] + b) * W;
      const nk = k * W;
      const flip = (T[ab + (k >> 5)] >>> (k & 31)) & 1 ? -1 : 0;
      for (let w = wk; w >= 0; w--) {
        let m = (T[ab + w] ^ T[ak + w] ^ T[bk + w] ^ flip) & N[na + w] & N[nb + w] & N[nk + w];
        if (w === wk) m &= (1 << hb) - 1;
        if (m !== 0) return k * 65536 + w * 32 + 31 - Math.clz32(m);
      }
    }
  }
  return -1;
}

/** The highest vertex in all three neighborhood rows (bit matrix N, rows at word offsets p, q, r); -1 if none. */
function highestCommonNeighbor(N: Int32Array, p: number, q: number, r: number, W: number): number {
  for (let w = W - 1; w >= 0; w--) {
    const m = N[p + w] & N[q + w] & N[r + w];
    if (m !== 0) return w * 32 + 31 - Math.clz32(m);
  }
  return -1;
}

/** The combinatorial index of the tetrahedron {a, b, k, l} (a > b, k > l; any interleaving). */
function tetrahedronIndex(a: number, b: number, k: number, l: number, B2: Float64Array, B3: Float64Array, B4: Float64Array): number {
  // merging the decreasing pairs: the largest is max(a, k), the smallest min(b, l), and the other two in between
  const p = a < k ? a : k;
  const q = b > l ? b : l;
  return B4[a > k ? a : k] + B3[p > q ? p : q] + B2[p > q ? q : p] + (b < l ? b : l);
}

/**
 * The cofacets of one d-simplex, one at a time, as ripser's simplex_coboundary_enumerator: the
 * added vertex j runs from n − 1 down, so the cofacet indices decrease. Reusable and
 * allocation-free, because it runs for every column, every addition and every apparent-pair test:
 *
 *   walk.start(r, idx, d);
 *   while (walk.next(maxDiam)) use(walk.diam, walk.index);
 *
 * next() takes the largest diameter rank wanted because every caller skips the cofacets above one
 * (the threshold; or, in get_zero_pivot_cofacet, the simplex's own diameter): skipping them inside
 * the walk's loop keeps its state in locals, which measured ~3% faster on H2 than testing them in
 * the caller, as ripser does.
 *
 * @internal exported for the tests only; not part of nestlab's API.
 */
export class CofacetWalk {
  /** The current cofacet's diameter rank (valid after next(…) returned true). */
  diam = 0;
  /** The current cofacet's combinatorial index. */
  index = 0;
  /** The simplex's vertices, decreasing. */
  private readonly vertices: Int32Array;
  private dim = 0;
  private simplexDiam = 0;
  /**
   * The simplex's index split at j: idxBelow sums the terms C(v, i + 1) of its vertices below j
   * (unchanged in the cofacet), idxAbove those above j, each moved up one position (C(v, i + 2))
   * because j sits below them in the cofacet.
   */
  private idxBelow = 0;
  private idxAbove = 0;
  private j = 0;
  /** The number of the simplex's vertices below j (the position j takes in the cofacet). */
  private k = 0;
  /** The walk ends below jMin: 0, or the simplex's largest vertex + 1 when only appending. */
  private jMin = 0;

  /**
   * `rank`: the n*n edge diameter ranks; `B[k][j] = C(j, k)` for k = 0..maxDim + 2, which allows
   * simplices of dimension up to maxDim.
   */
  constructor(
    private readonly n: number,
    private readonly rank: Int32Array,
    private readonly B: Float64Array[],
  ) {
    this.vertices = new Int32Array(Math.max(1, B.length - 2));
  }

  /**
   * Aims the walk at the d-simplex `idx` of diameter rank r. allCofacets = false (ripser's
   * has_next(false)) stops at the simplex's largest vertex: only cofacets that append a larger vertex.
   */
  start(r: number, idx: number, d: number, allCofacets = true): void {
    getSimplexVertices(idx, d, this.n, this.B, this.vertices);
    this.simplexDiam = r;
    this.dim = d;
    this.idxBelow = idx;
    this.idxAbove = 0;
    this.j = this.n - 1;
    this.k = d + 1;
    this.jMin = allCofacets ? 0 : this.vertices[0] + 1;
  }

  /** Moves to the next cofacet of diameter rank <= maxDiam, setting diam and index; false when there is none. */
  next(maxDiam: number): boolean {
    const B = this.B;
    const R = this.rank;
    const vs = this.vertices;
    const n = this.n;
    const dim = this.dim;
    const jMin = this.jMin;
    let j = this.j;
    let k = this.k;
    let idxBelow = this.idxBelow;
    let idxAbove = this.idxAbove;
    for (; j >= k && j >= jMin; j--) {
      // j a vertex of the simplex (C(j, k) is its term): step past it
      while (B[k][j] <= idxBelow) {
        idxBelow -= B[k][j];
        idxAbove += B[k + 1][j];
        j--;
        k--;
      }
      let diam = this.simplexDiam;
      const row = j * n;
      for (let i = 0; i <= dim; i++) {
        const v = R[row + vs[i]];
        if (v > diam) diam = v;
      }
      if (diam <= maxDiam) {
        this.diam = diam;
        this.index = idxAbove + B[k + 1][j] + idxBelow;
        this.j = j - 1;
        this.k = k;
        this.idxBelow = idxBelow;
        this.idxAbove = idxAbove;
        return true;
      }
    }
    this.j = j;
    this.k = k;
    return false;
  }
}

/**
 * The vertices of the d-simplex `idx` into out[0..d], decreasing (ripser's get_simplex_vertices):
 * vertex by vertex, the largest v with C(v, k) <= what is left of the index.
 */
function getSimplexVertices(idx: number, d: number, n: number, B: Float64Array[], out: Int32Array): void {
  let nn = n - 1;
  for (let k = d + 1; k > 0; k--) {
    const Bk = B[k];
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

/** Endpoints [a, b], a > b, of the edge with combinatorial index C(a, 2) + b (closed form; the sweep's hot path). */
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

/**
 * The edge lengths as ranks: rank[i * n + j] indexes `values`, the sorted distinct float32
 * lengths within the threshold; every edge above it gets rank values.length (it is never part of
 * a simplex, so its order does not matter), and the diagonal a rank above all (a vertex is never
 * its own neighbor). Ranks are below n(n − 1)/2 < 2^31, compared as the first field of a
 * simplex's (rank, index) pair. Only the edges within the threshold are sorted, by a radix sort
 * of their float32 bit patterns (which order as the lengths do for lengths ≥ 0) carrying their
 * positions, so no binary search per edge is needed.
 */
function edgeLengthRanks(n: number, dist: Float32Array, threshold: number): { rank: Int32Array; values: Float64Array } {
  const dbits = new Uint32Array(dist.buffer, dist.byteOffset, n * n);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = threshold;
  const tb = u32[0];
  let m = 0;
  for (let i = 1; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < i; j++) if (dbits[row + j] <= tb) m++;
  }
  let keys = new Uint32Array(m);
  let pos = new Uint32Array(m);
  for (let i = 1, p = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < i; j++) {
      const b = dbits[row + j];
      if (b <= tb) {
        keys[p] = b;
        pos[p++] = row + j;
      }
    }
  }
  // LSD radix sort, 3 passes of 11 bits (a pass whose digit is the same for all edges is skipped)
  let keys2 = new Uint32Array(m);
  let pos2 = new Uint32Array(m);
  const count = new Int32Array(2048);
  for (let shift = 0; shift < 33; shift += 11) {
    count.fill(0);
    for (let i = 0; i < m; i++) count[(keys[i] >>> shift) & 2047]++;
    if (m === 0 || count[(keys[0] >>> shift) & 2047] === m) continue;
    for (let b = 0, acc = 0; b < 2048; b++) {
      const c = count[b];
      count[b] = acc;
      acc += c;
    }
    for (let i = 0; i < m; i++) {
      const k = keys[i];
      const q = count[(k >>> shift) & 2047]++;
      keys2[q] = k;
      pos2[q] = pos[i];
    }
    [keys, keys2] = [keys2, keys];
    [pos, pos2] = [pos2, pos];
  }
  let distinct = 0;
  for (let i = 0; i < m; i++) if (i === 0 || keys[i] !== keys[i - 1]) distinct++;
  const values = new Float64Array(distinct);
  const rank = new Int32Array(n * n).fill(distinct);
  for (let i = 0; i < n; i++) rank[i * n + i] = 0x7fffffff;
  for (let i = 0, r = -1; i < m; i++) {
    if (i === 0 || keys[i] !== keys[i - 1]) {
      u32[0] = keys[i];
      values[++r] = f32[0];
    }
    const p = pos[i];
    const a = Math.floor(p / n);
    rank[p] = r;
    rank[(p - a * n) * n + a] = r;
  }
  return { rank, values };
}

/**
 * B[k][j] = C(j, k) for j = 0..n, k = 0..kMax, by Pascal's rule C(j, k) = C(j − 1, k − 1) + C(j − 1, k):
 * sums of integers, exact while the entries stay below 2^53 (checked by `checkIndexRange`), where
 * a product formula would round its intermediate products.
 */
function binomialTable(n: number, kMax: number): Float64Array[] {
  const B: Float64Array[] = [];
  for (let k = 0; k <= kMax; k++) {
    const row = new Float64Array(n + 1);
    if (k === 0) row.fill(1);
    else for (let j = 1; j <= n; j++) row[j] = B[k - 1][j - 1] + row[j - 1];
    B.push(row);
  }
  return B;
}

/** C(n, k) exactly, as a bigint. */
function binomBig(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/**
 * The largest n whose d-simplex and (d+1)-simplex indices stay exact doubles for maxDim d:
 * C(n, maxDim + 2) <= 2^53 − 1 (docs/methods/topology.md §3 item 2).
 */
export function maxPointsForIndex(maxDim: number): number {
  const k = maxDim + 2;
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  let lo = k;
  let hi = 1 << 30;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (binomBig(mid, k) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Sorts bars by (birth, death) and packs them into typed arrays. */
function packBars(births: number[], deaths: number[]): Barcode {
  const order = births.map((_, i) => i).sort((a, b) => births[a] - births[b] || deaths[a] - deaths[b]);
  return { births: Float64Array.from(order, (i) => births[i]), deaths: Float64Array.from(order, (i) => deaths[i]) };
}

/** Simplices as (diameter rank, index) pairs in two parallel arrays: the columns of one degree. */
interface Columns {
  r: Int32Array;
  x: Float64Array;
}

/**
 * Binary min-heap of simplices (r, x) in filtration order (r ascending, then index x descending):
 * ripser's working columns, where equal entries are the same simplex and cancel in pairs (Z/2).
 *
 * Two storage modes with one interface (docs/methods/topology.md §3 item 2). Packed (radix M > 0,
 * used when (#ranks within the threshold) · M <= 2^53): an entry is the one exact double
 * r · M + (M − 1 − x), whose ascending order is the filtration order, so a comparison is one
 * double compare. Pairs (radix 0, used otherwise): r and x in two parallel arrays compared
 * lexicographically, which cannot overflow at any n. The packed mode keeps the old engine's speed
 * where it is exact; pairs cost up to ~8% on heap-heavy H2 reductions (sphere, n = 250: 2.60 vs
 * 2.40 s of CPU, measured), so they are used only where they are needed.
 */
class KeyHeap {
  constructor(private readonly meter: MemoryMeter) {
    meter.set(this, this.bytes());
  }
  private radix = 0;
  /** Packed entries. */
  private k = new Float64Array(1024);
  /** Pair entries: ranks and indices. */
  private r = new Int32Array(1024);
  private x = new Float64Array(1024);
  size = 0;
  /** The simplex found by the last popPivot / getPivot. */
  topR = 0;
  topX = 0;

  private bytes(): number {
    return this.k.byteLength + this.r.byteLength + this.x.byteLength;
  }
  /** Empties the heap and sets its mode: radix M > 0 packs entries (the caller checks exactness), 0 keeps pairs. */
  reset(radix: number): void {
    this.radix = radix;
    this.size = 0;
  }
  clear(): void {
    this.size = 0;
  }
  push(r: number, x: number): void {
    const M = this.radix;
    if (M > 0) this.pushKey(r * M + (M - 1 - x));
    else this.pushPair(r, x);
  }
  /** ripser's pop_pivot: pops the first simplex that survives cancellation into (topR, topX); false if none. */
  popPivot(): boolean {
    const M = this.radix;
    if (M === 0) return this.popPivotPair();
    const key = this.popPivotKey();
    if (key === -1) return false;
    this.decode(key, M);
    return true;
  }
  /** ripser's get_pivot: like popPivot but leaves the pivot in the heap. */
  getPivot(): boolean {
    const M = this.radix;
    if (M === 0) {
      if (!this.popPivotPair()) return false;
      this.pushPair(this.topR, this.topX);
      return true;
    }
    const key = this.popPivotKey();
    if (key === -1) return false;
    this.pushKey(key);
    this.decode(key, M);
    return true;
  }

  private decode(key: number, M: number): void {
    // the division may round up near a multiple of M
    let r = Math.floor(key / M);
    if (r * M > key) r--;
    else if ((r + 1) * M <= key) r++;
    this.topR = r;
    this.topX = M - 1 - (key - r * M);
  }

  private pushKey(key: number): void {
    if (this.size === this.k.length) {
      const b = new Float64Array(this.k.length * 2);
      b.set(this.k);
      this.k = b;
      this.meter.set(this, this.bytes());
    }
    const a = this.k;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = a[p];
      if (pk <= key) break;
      a[i] = pk;
      i = p;
    }
    a[i] = key;
  }
  /** Removes and returns the smallest packed key (size must be > 0). */
  private popKey(): number {
    const a = this.k;
    const top = a[0];
    const n = --this.size;
    if (n === 0) return top;
    const key = a[n];
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
      if (ck >= key) break;
      a[i] = ck;
      i = c;
    }
    a[i] = key;
    return top;
  }
  private popPivotKey(): number {
    while (this.size > 0) {
      const p = this.popKey();
      if (this.size === 0 || this.k[0] !== p) return p;
      this.popKey();
    }
    return -1;
  }

  private pushPair(r: number, x: number): void {
    if (this.size === this.x.length) {
      const nr = new Int32Array(this.x.length * 2);
      nr.set(this.r);
      this.r = nr;
      const nx = new Float64Array(this.x.length * 2);
      nx.set(this.x);
      this.x = nx;
      this.meter.set(this, this.bytes());
    }
    const R = this.r;
    const X = this.x;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pr = R[p];
      const px = X[p];
      if (pr < r || (pr === r && px >= x)) break;
      R[i] = pr;
      X[i] = px;
      i = p;
    }
    R[i] = r;
    X[i] = x;
  }
  /** Removes the first pair into (topR, topX) (size must be > 0). */
  private popPair(): void {
    const R = this.r;
    const X = this.x;
    this.topR = R[0];
    this.topX = X[0];
    const n = --this.size;
    if (n === 0) return;
    const r = R[n];
    const x = X[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let cr = R[c];
      let cx = X[c];
      const c2 = c + 1;
      if (c2 < n) {
        const r2 = R[c2];
        if (r2 < cr || (r2 === cr && X[c2] > cx)) {
          c = c2;
          cr = r2;
          cx = X[c2];
        }
      }
      if (cr > r || (cr === r && cx <= x)) break;
      R[i] = cr;
      X[i] = cx;
      i = c;
    }
    R[i] = r;
    X[i] = x;
  }
  private popPivotPair(): boolean {
    while (this.size > 0) {
      this.popPair();
      // equal indices are the same simplex (hence the same diameter)
      if (this.size === 0 || this.x[0] !== this.topX) return true;
      this.popPair();
    }
    return false;
  }
}

/** Growable list of simplices (r, x). */
class KeyList {
  r: Int32Array;
  x: Float64Array;
  length = 0;
  constructor(
    cap: number,
    private readonly meter: MemoryMeter,
  ) {
    this.r = new Int32Array(cap);
    this.x = new Float64Array(cap);
    meter.set(this, 12 * cap);
  }
  push(r: number, x: number): void {
    if (this.length === this.x.length) {
      const nr = new Int32Array(this.x.length * 2);
      nr.set(this.r);
      this.r = nr;
      const nx = new Float64Array(this.x.length * 2);
      nx.set(this.x);
      this.x = nx;
      this.meter.set(this, 12 * nx.length);
    }
    this.r[this.length] = r;
    this.x[this.length++] = x;
  }
  /** The entries as exact-length arrays (copies). */
  toColumns(): Columns {
    return { r: this.r.slice(0, this.length), x: this.x.slice(0, this.length) };
  }
}

/**
 * The list's simplices in reverse filtration order (r descending, index ascending), ranks in
 * [0, maxRank]: a counting sort by rank, then each run of equal ranks sorted by index.
 */
function sortReverseFiltration(list: KeyList, maxRank: number): Columns {
  const m = list.length;
  const r = list.r;
  const x = list.x;
  const starts = new Int32Array(maxRank + 2);
  for (let i = 0; i < m; i++) starts[maxRank - r[i] + 1]++;
  for (let i = 1; i < starts.length; i++) starts[i] += starts[i - 1];
  const outR = new Int32Array(m);
  const outX = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const p = starts[maxRank - r[i]]++;
    outR[p] = r[i];
    outX[p] = x[i];
  }
  for (let a = 0; a < m; ) {
    let b = a + 1;
    while (b < m && outR[b] === outR[a]) b++;
    if (b - a === 2) {
      if (outX[a] > outX[a + 1]) {
        const t = outX[a];
        outX[a] = outX[a + 1];
        outX[a + 1] = t;
      }
    } else if (b - a > 2) outX.subarray(a, b).sort();
    a = b;
  }
  return { r: outR, x: outX };
}

/**
 * ripser's compressed_sparse_matrix holding the reduction matrix V: column c (the columns added
 * to column c, reduced mod 2) is entries[bounds[c]..bounds[c + 1]). Columns are filled in order.
 */
class ReductionMatrix {
  readonly bounds: Int32Array;
  readonly entries: KeyList;
  constructor(
    columns: number,
    private readonly meter: MemoryMeter,
  ) {
    this.bounds = new Int32Array(columns + 1);
    meter.set(this, this.bounds.byteLength);
    this.entries = new KeyList(1024, meter);
  }
  /** Releases its memory from the account (the degree is done). */
  release(): void {
    this.meter.drop(this);
    this.meter.drop(this.entries);
  }
  /** Closes column c with the entries pushed since the previous column. */
  endColumn(c: number): void {
    this.bounds[c + 1] = this.entries.length;
  }
}

/**
 * Open-addressing hash map from non-negative integer doubles to int32: ripser's
 * pivot_column_index (pivot index -> column).
 */
class PivotMap {
  keys: Float64Array;
  vals: Int32Array;
  mask: number;
  count = 0;
  constructor(
    expected: number,
    private readonly meter: MemoryMeter,
  ) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    meter.set(this, 12 * cap);
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
    this.meter.set(this, 12 * oldK.length * 3);
    this.keys = new Float64Array(oldK.length * 2).fill(-1);
    this.vals = new Int32Array(oldK.length * 2);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < oldK.length; i++) if (oldK[i] !== -1) this.set(oldK[i], oldV[i]);
    this.meter.set(this, 12 * this.keys.length);
  }
}
