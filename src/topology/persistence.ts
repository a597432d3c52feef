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
  /** Counts from the reduction, per degree ≥ 1: columns reduced and columns that used the sweep. */
  stats: { columns: number[]; sweeps: number[] };
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
   * Degree-1 reduction strategy: 'auto' (default) switches a column to the dense sweep once its
   * heap reduction grows long; 'always' sweeps every column that needs a reduction step, 'never'
   * keeps ripser's heap reduction throughout. The barcodes are the same; only speed and memory
   * differ (kept as an option for tests and benchmarks).
   */
  sweep?: 'auto' | 'always' | 'never';
}

/** Options of `topology.ripsPersistenceFromDistances`: PersistenceOptions plus the matrix layout. */
export interface DistanceOptions extends PersistenceOptions {
  /**
   * 'square' (n*n row-major) or 'condensed' (scipy's pdist order: (0,1), (0,2), ..., (1,2), ...).
   * Default: 'square' when the length is a perfect square, else 'condensed'.
   */
  layout?: 'square' | 'condensed';
}

const KNOWN = ['maxDim', 'maxEdgeLength', 'sweep'] as const;

/**
 * Vietoris–Rips persistence of a point cloud (rows = points) under the Euclidean distance,
 * computed in float32 as ripser does: d(u, v) = sqrt(Σ_k (u_k − v_k)²) with f32 rounding at each step.
 * Barcodes equal those of ripser 1.2.1 (Bauer 2021) on the same points (docs/methods/topology.md §2-3).
 *
 * @example const { bars } = topology.ripsPersistence(data.noisyCircle({ n: 200 }).points, { maxDim: 1 }); // bars[1]: the H1 bars
 */
export function ripsPersistence(points: Matrix, options: PersistenceOptions = {}): PersistenceResult {
  const where = 'topology.ripsPersistence';
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
 * symmetric, non-negative, finite, with a zero diagonal (square layout). Barcodes equal those of
 * ripser 1.2.1 on the same distance matrix (docs/methods/topology.md §2).
 *
 * @example const res = topology.ripsPersistenceFromDistances(topology.pairwiseDistances(points), { maxDim: 1 });
 */
export function ripsPersistenceFromDistances(
  distances: Float32Array | Float64Array,
  options: DistanceOptions = {},
): PersistenceResult {
  const where = 'topology.ripsPersistenceFromDistances';
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

function compute(where: string, n: number, dist: Float32Array, options: PersistenceOptions): PersistenceResult {
  if (n < 2) throw new NestlabArgumentError(where, 'n', 'at least 2 points', n);
  const maxDimAsked = options.maxDim === undefined ? 1 : checkInt(where, 'options.maxDim', options.maxDim, 0, 3);
  let threshold: number;
  if (options.maxEdgeLength === undefined) threshold = enclosingRadius(n, dist);
  else threshold = Math.fround(checkNumber(where, 'options.maxEdgeLength', options.maxEdgeLength, 0));
  const maxDim = Math.min(maxDimAsked, n - 2);
  const sweep = options.sweep === undefined ? 'auto' : checkOneOf(where, 'options.sweep', options.sweep, ['auto', 'always', 'never']);
  const engine = new RipsEngine(where, n, dist, threshold, maxDim);
  if (sweep === 'always') {
    engine.sweepAfter = 0;
    engine.sweepMinHeap = 0;
  } else if (sweep === 'never') engine.sweepAfter = Infinity;
  const bars = engine.run();
  while (bars.length <= maxDimAsked) bars.push({ births: new Float64Array(0), deaths: new Float64Array(0) });
  return { bars, maxEdgeLength: threshold, n, stats: engine.stats };
}

/**
 * The reduction engine, ripser's `ripser` class: the filtration of one distance matrix and the
 * reductions over it. A d-simplex is identified by its combinatorial index; its "key" packs
 * (diameter rank r, index i) as r * M_d + (M_d − 1 − i) with M_d = C(n, d + 1), so ascending
 * keys are the filtration order (diameter ascending, index descending) and a min-heap of keys
 * pops ripser's pivot.
 */
class RipsEngine {
  /** rank[i * n + j]: the diameter rank of edge {i, j}, an index into `values`. */
  readonly rank: Int32Array;
  /** values[r]: the float32 edge length of rank r, ascending and distinct. */
  readonly values: Float64Array;
  /** The largest rank within the threshold (-1 if none). */
  readonly thrRank: number;
  /** B[k][j] = C(j, k) for k = 0..maxDim + 2 (ripser's binomial_coeff_table). */
  readonly B: Float64Array[];
  /** M[d] = C(n, d + 1): the number of d-simplices, the key radix of degree d. */
  readonly M: number[];
  readonly stats = { columns: [] as number[], sweeps: [] as number[] };
  /** Number of additions after which a degree-1 column switches to the dense sweep. */
  sweepAfter = 64;
  /** ...and once its working coboundary holds at least this many entries. */
  sweepMinHeap = 0;

  /** The edges within the threshold, as indices, in filtration order (set by computeDim0Pairs). */
  private edges = new Float64Array(0);
  /** The column being reduced: its coboundary ((d+1)-keys) and the columns added to it (d-keys). */
  private readonly workingCoboundary = new KeyHeap();
  private readonly workingReductionColumn = new KeyHeap();
  /** initCoboundaryAndGetPivot's cofacets, held back until it knows it needs the heap. */
  private readonly cofacetEntries = new F64List(256);
  /** Walks the coboundary being assembled, initialized or added. */
  private readonly cofacets: CofacetWalk;
  /**
   * getZeroPivotCofacet's own walk: the apparent-pair tests run from inside a walk of `cofacets`
   * (ripser's get_zero_pivot_cofacet likewise keeps its own enumerator).
   */
  private readonly zeroCofacets: CofacetWalk;
  /** getZeroPivotFacet's and toggleEdgeKey's vertex buffer. */
  private readonly verts: Int32Array;

  constructor(
    readonly where: string,
    readonly n: number,
    dist: Float32Array,
    threshold: number,
    readonly maxDim: number,
  ) {
    const { rank, values } = edgeLengthRanks(n, dist);
    this.rank = rank;
    this.values = values;
    let t = -1;
    while (t + 1 < values.length && values[t + 1] <= threshold) t++;
    this.thrRank = t;
    this.B = binomialTable(n, maxDim + 2);
    this.M = [];
    for (let d = 0; d <= maxDim + 1; d++) this.M.push(binom(n, d + 1));
    // keys must stay exact doubles
    const top = this.M[Math.min(maxDim + 1, this.M.length - 1)];
    if (values.length * top >= 2 ** 53) {
      throw new NestlabArgumentError(where, 'n', `small enough that (#distinct distances) * C(n, ${maxDim + 2}) < 2^53 for maxDim ${maxDim}`, n);
    }
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
    // the (d-1)-simplices within the threshold, as keys (null: the edges, `this.edges`)
    let simplices: Float64Array | null = null;
    for (let d = 1; d <= this.maxDim; d++) {
      const pivots = new PivotMap(columns.length); // pivot (d+1)-simplex -> its column
      bars.push(this.computePairs(columns, pivots, d));
      // the degree-(d+1) columns: the (d+1)-simplices less the pivots just found (clearing) and the apparent pairs
      if (d < this.maxDim) ({ columns, simplices } = this.assembleColumnsToReduce(simplices, pivots, d + 1));
    }
    return bars;
  }

  /**
   * ripser's compute_dim_0_pairs: Kruskal over the edges in filtration order. An edge that joins
   * two components ends the bar of one of them; an edge that closes a cycle is a degree-1 column,
   * unless it is in an apparent pair (its pair is then known without a reduction). Returns the
   * degree-1 columns in reduction order: reverse filtration, as cohomology reduces them.
   */
  computeDim0Pairs(bars: Barcode[]): Float64Array {
    const n = this.n;
    const edges = this.edgesInFiltrationOrder();
    this.edges = edges;
    const components = new UnionFind(n);
    const births: number[] = [];
    const deaths: number[] = [];
    const columns = new F64List(1024);
    const vs = new Int32Array(2);
    const M1 = this.M[1];
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
        columns.push(r * M1 + (M1 - 1 - idx));
      }
    }
    for (let v = 0; v < n; v++) {
      if (components.find(v) === v) {
        births.push(0);
        deaths.push(Infinity);
      }
    }
    bars.push(packBars(births, deaths));
    const out = columns.a.slice(0, columns.length);
    out.reverse();
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
  computePairs(columns: Float64Array, pivots: PivotMap, d: number): Barcode {
    const births: number[] = [];
    const deaths: number[] = [];
    const reduction = new ReductionMatrix(columns.length);
    const workingCoboundary = this.workingCoboundary;
    const workingReductionColumn = this.workingReductionColumn;
    const Md = this.M[d];
    const Mc = this.M[d + 1];
    const sweepOk = d === 1 && this.n <= 65535;
    let sweeps = 0;
    for (let c = 0; c < columns.length; c++) {
      const r = this.rankOf(columns[c], d);
      workingCoboundary.clear();
      workingReductionColumn.clear();
      let pivot = this.initCoboundaryAndGetPivot(columns[c], d, pivots);
      let additions = 0;
      for (;;) {
        if (pivot === -1) {
          births.push(this.values[r]);
          deaths.push(Infinity);
          reduction.endColumn(c);
          break;
        }
        const pr = this.rankOf(pivot, d + 1);
        const pidx = Mc - 1 - (pivot - pr * Mc);
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
            for (;;) {
              const x = workingReductionColumn.popPivot();
              if (x === -1) break;
              reduction.entries.push(x);
            }
            reduction.endColumn(c);
            break;
          }
          // the pivot's apparent facet e cancels it, as a column of its own would
          this.addSimplexCoboundary(pr * Md + (Md - 1 - e), d);
          additions++;
        }
        if (sweepOk && additions > this.sweepAfter && workingCoboundary.size >= this.sweepMinHeap) {
          sweeps++;
          const death = this.sweepColumn(c, columns[c], pivot, pivots, columns, reduction);
          const dr = death === -1 ? -1 : this.rankOf(death, 2);
          if (death === -1) {
            births.push(this.values[r]);
            deaths.push(Infinity);
          } else if (dr > r) {
            births.push(this.values[r]);
            deaths.push(this.values[dr]);
          }
          break;
        }
        pivot = workingCoboundary.getPivot();
      }
    }
    this.stats.columns[d] = columns.length;
    this.stats.sweeps[d] = sweeps;
    return packBars(births, deaths);
  }

  /**
   * ripser's init_coboundary_and_get_pivot: puts the column's cofacets (within the threshold) in
   * the working coboundary and returns its pivot key (-1: none). Shortcut (emergent pair): if the
   * first cofacet of the column's own diameter is no column's pivot and has no apparent facet, it
   * is the pivot, and the heap is never filled.
   */
  initCoboundaryAndGetPivot(key: number, d: number, pivots: PivotMap): number {
    const r = this.rankOf(key, d);
    const Md = this.M[d];
    const Mc = this.M[d + 1];
    const thr = this.thrRank;
    const entries = this.cofacetEntries;
    entries.length = 0;
    let checkForEmergentPair = true;
    const cofacet = this.cofacets;
    cofacet.start(r, Md - 1 - (key - r * Md), d);
    while (cofacet.next(thr)) {
      const cr = cofacet.diam;
      const ckey = cr * Mc + (Mc - 1 - cofacet.index);
      entries.push(ckey);
      if (checkForEmergentPair && cr === r) {
        if (pivots.get(cofacet.index) === -1 && this.getZeroApparentFacet(cr, cofacet.index, d + 1) === -1) return ckey;
        checkForEmergentPair = false;
      }
    }
    const heap = this.workingCoboundary;
    for (let i = 0; i < entries.length; i++) heap.push(entries.a[i]);
    return heap.getPivot();
  }

  /**
   * ripser's add_coboundary: adds column c and the columns stored with it in the reduction
   * matrix. Returns the number of simplices added.
   */
  addCoboundary(columns: Float64Array, reduction: ReductionMatrix, c: number, d: number): number {
    this.addSimplexCoboundary(columns[c], d);
    const end = reduction.bounds[c + 1];
    for (let q = reduction.bounds[c]; q < end; q++) this.addSimplexCoboundary(reduction.entries.a[q], d);
    return 1 + end - reduction.bounds[c];
  }

  /**
   * ripser's add_simplex_coboundary: adds the d-simplex `key` to the working reduction column and
   * its cofacets within the threshold to the working coboundary (Z/2: duplicates cancel on pop).
   */
  addSimplexCoboundary(key: number, d: number): void {
    this.workingReductionColumn.push(key);
    const heap = this.workingCoboundary;
    const Md = this.M[d];
    const Mc = this.M[d + 1];
    const thr = this.thrRank;
    const r = this.rankOf(key, d);
    const cofacet = this.cofacets;
    cofacet.start(r, Md - 1 - (key - r * Md), d);
    while (cofacet.next(thr)) heap.push(cofacet.diam * Mc + (Mc - 1 - cofacet.index));
  }

  /**
   * ripser's assemble_columns_to_reduce for degree d: every d-simplex within the threshold that is
   * neither a pivot of degree d − 1 (clearing: its column would reduce to zero) nor in an apparent
   * pair, in reverse filtration order. Each d-simplex is reached once, from its facet without its
   * largest vertex, by appending a larger vertex (the walk's allCofacets = false). Also returns the
   * d-simplices as keys, the next degree's `simplices` (null at maxDim: not needed).
   */
  assembleColumnsToReduce(
    simplices: Float64Array | null,
    pivots: PivotMap,
    d: number,
  ): { columns: Float64Array; simplices: Float64Array | null } {
    const n = this.n;
    const thr = this.thrRank;
    const Md = this.M[d];
    const Mf = this.M[d - 1];
    const facets = simplices ?? this.edges;
    const keepNext = d < this.maxDim;
    const next = new F64List(keepNext ? 1 << 16 : 1);
    const columns = new F64List(1 << 12);
    const vs = new Int32Array(2);
    const cofacet = this.cofacets;
    for (let s = 0; s < facets.length; s++) {
      let fr: number;
      let fidx: number;
      if (simplices === null) {
        // this.edges holds plain indices; an edge's diameter is its length
        fidx = facets[s];
        getSimplexVertices(fidx, 1, n, this.B, vs);
        fr = this.rank[vs[0] * n + vs[1]];
      } else {
        fr = this.rankOf(facets[s], d - 1);
        fidx = Mf - 1 - (facets[s] - fr * Mf);
      }
      cofacet.start(fr, fidx, d - 1, false);
      while (cofacet.next(thr)) {
        const cr = cofacet.diam;
        const cidx = cofacet.index;
        const key = cr * Md + (Md - 1 - cidx);
        if (keepNext) next.push(key);
        if (pivots.get(cidx) !== -1) continue;
        if (this.getZeroApparentCofacet(cr, cidx, d) !== -1) continue;
        if (this.getZeroApparentFacet(cr, cidx, d) !== -1) continue;
        columns.push(key);
      }
    }
    const cols = columns.a.slice(0, columns.length);
    cols.sort();
    cols.reverse();
    return { columns: cols, simplices: keepNext ? next.a.slice(0, next.length) : null };
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

  /** The diameter rank of a degree-d key. */
  rankOf(key: number, d: number): number {
    const M = this.M[d];
    // the division may round up near a multiple of M
    let r = Math.floor(key / M);
    if (r * M > key) r--;
    else if ((r + 1) * M <= key) r++;
    return r;
  }

  /** The combinatorial index of a degree-d key. */
  indexOf(key: number, d: number): number {
    const M = this.M[d];
    return M - 1 - (key - this.rankOf(key, d) * M);
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
    }
    this.touched[this.nTouched++] = a * this.n + b;
  }

  private toggleEdgeKey(key: number): void {
    const vs = this.verts;
    getSimplexVertices(this.indexOf(key, 1), 1, this.n, this.B, vs);
    this.toggle(vs[0], vs[1]);
  }

  /**
   * Finishes the reduction of degree-1 column `c` (edge key `key`) by a dense sweep.
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
   * the pivot key (-1: the column is essential).
   */
  sweepColumn(
    c: number,
    key: number,
    pivot: number,
    pivots: PivotMap,
    columns: Float64Array,
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
    const wc = this.workingCoboundary;
    const wr = this.workingReductionColumn;
    this.nTouched = 0;
    // C = column edge + surviving entries of the working reduction column
    const [e0a, e0b] = edgeVertices(this.indexOf(key, 1), B2);
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
          for (let q = reduction.bounds[other]; q < reduction.bounds[other + 1]; q++) this.toggleEdgeKey(reduction.entries.a[q]);
          continue;
        }
        const e = this.getZeroApparentFacet(rho, best, 2);
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
        reduction.entries.push(R[a * n + b] * Md + (Md - 1 - eidx));
      }
    }
    reduction.endColumn(c);
    return result;
  }
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
 * The edge lengths as ranks: rank[i * n + j] indexes the sorted distinct float32 lengths
 * `values`. Ranks are small integers, so a (diameter, index) pair packs into one exact double.
 * The diagonal gets a rank above all (a vertex is never its own neighbor).
 */
function edgeLengthRanks(n: number, dist: Float32Array): { rank: Int32Array; values: Float64Array } {
  // distinct lengths, sorted, via their float32 bit patterns (order-preserving for x >= 0)
  const m = (n * (n - 1)) / 2;
  const bits = new Uint32Array(m);
  const dbits = new Uint32Array(dist.buffer, dist.byteOffset, n * n);
  let p = 0;
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) bits[p++] = dbits[i * n + j];
  bits.sort();
  let r = 0;
  for (let i = 0; i < m; i++) if (i === 0 || bits[i] !== bits[i - 1]) bits[r++] = bits[i];
  const uniq = bits.subarray(0, r);
  const values = Float64Array.from(new Float32Array(uniq.buffer, uniq.byteOffset, r));
  const rank = new Int32Array(n * n);
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
      rank[i * n + j] = lo;
      rank[j * n + i] = lo;
    }
  }
  for (let i = 0; i < n; i++) rank[i * n + i] = 0x7fffffff;
  return { rank, values };
}

/** B[k][j] = C(j, k) for j = 0..n, k = 0..kMax. */
function binomialTable(n: number, kMax: number): Float64Array[] {
  const B: Float64Array[] = [];
  for (let k = 0; k <= kMax; k++) {
    const row = new Float64Array(n + 1);
    for (let j = 0; j <= n; j++) row[j] = binom(j, k);
    B.push(row);
  }
  return B;
}

function binom(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** Sorts bars by (birth, death) and packs them into typed arrays. */
function packBars(births: number[], deaths: number[]): Barcode {
  const order = births.map((_, i) => i).sort((a, b) => births[a] - births[b] || deaths[a] - deaths[b]);
  return { births: Float64Array.from(order, (i) => births[i]), deaths: Float64Array.from(order, (i) => deaths[i]) };
}

/**
 * Binary min-heap of keys (exact-integer doubles): ripser's working columns, where equal keys
 * are the same simplex and cancel in pairs (Z/2).
 */
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
  /** ripser's pop_pivot: pops the smallest key that survives cancellation; -1 if none. */
  popPivot(): number {
    while (this.size > 0) {
      const p = this.pop();
      if (this.size === 0 || this.a[0] !== p) return p;
      this.pop();
    }
    return -1;
  }
  /** ripser's get_pivot: like popPivot but leaves the pivot in the heap. */
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

/**
 * ripser's compressed_sparse_matrix holding the reduction matrix V: column c (the columns added
 * to column c, reduced mod 2) is entries[bounds[c]..bounds[c + 1]). Columns are filled in order.
 */
class ReductionMatrix {
  readonly bounds: Int32Array;
  readonly entries = new F64List(1024);
  constructor(columns: number) {
    this.bounds = new Int32Array(columns + 1);
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
