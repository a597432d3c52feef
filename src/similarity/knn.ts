/**
 * Exact k-nearest neighbors (the one kNN search every module uses: neighbor graphs, UMAP,
 * TwoNN, retrieval), and mutual-kNN alignment (Huh, Cheung, Wang & Isola, "The Platonic
 * Representation Hypothesis", ICML 2024; minyoungg/platonic-rep, metrics.py `mutual_knn`).
 *
 * The candidate search is blocked matrix products (a b x n block of inner products at a time, on
 * the system BLAS when it loaded, else tfjs); the top k + margin candidates of each row are then
 * re-ranked with distances recomputed in Float64 from the float32 inputs, and rows whose float32
 * scores cannot rule out a missed neighbor are rescanned, so that the result matches
 * scikit-learn's exact search despite float32 cancellation in ||x||^2 + ||y||^2 - 2 x.y. Ties are
 * broken by the lower index (torch's argsort in platonic-rep is unstable; the order here is
 * deterministic).
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { checkPair } from './common.js';
import { NO_TRANS, TRANS, loadBlas, type Cblas } from '../backend/blas.js';
import { checkMemory, resolveMemoryBudget } from '../backend/memory.js';
import { eventLoopYielder } from '../backend/yield.js';
import { quantileSorted } from '../math/order.js';

/** Options of {@link nearestNeighbors}. */
export interface KnnOptions {
  /** 'euclidean' (default) or 'cosine' (1 - cosine similarity of the rows; zero rows have similarity 0 to all). */
  metric?: 'euclidean' | 'cosine';
  /**
   * Bytes the call may use (a positive number, or Infinity for no check), checked against
   * `knnMemoryEstimate` before the search. Default: NESTLAB_MEMORY_BUDGET if set, else half of
   * the memory available at the call (docs/methods/compute.md §3b).
   */
  memoryBudget?: number;
}

/** k nearest neighbors of every row (self excluded). */
export interface KnnResult {
  /** n x k row-major: indices[i * k + j] is the j-th nearest neighbor of row i. */
  indices: Int32Array;
  /** n x k distances (Euclidean, or 1 - cosine), ascending per row. */
  distances: Float64Array;
  /** Rows searched (queries). */
  n: number;
  /** Neighbors per row. */
  k: number;
}

/** The float32 rounding unit 2^-24, for the error bounds of the float32 scores. */
const F32_UNIT = 2 ** -24;

/** Squared Euclidean distance between row i of `a` and row j of `b` in Float64 (the exact reference every search re-checks against). */
export function squaredDistance(a: Matrix, i: number, b: Matrix, j: number): number {
  const d = a.cols;
  let s = 0;
  for (let c = 0; c < d; c++) {
    const t = a.data[i * d + c] - b.data[j * d + c];
    s += t * t;
  }
  return s;
}

/** Distance between row i of `a` and row j of `b` in Float64 (norms: the rows' L2 norms, for cosine). */
function rowDistance(a: Matrix, i: number, b: Matrix, j: number, metric: 'euclidean' | 'cosine', na: Float64Array | null, nb: Float64Array | null): number {
  if (metric === 'euclidean') return Math.sqrt(squaredDistance(a, i, b, j));
  const d = a.cols;
  let dot = 0;
  for (let c = 0; c < d; c++) dot += a.data[i * d + c] * b.data[j * d + c];
  const ni = na![i];
  const nj = nb![j];
  return 1 - (ni > 0 && nj > 0 ? dot / (ni * nj) : 0);
}

function rowNorms(m: Matrix): Float64Array {
  const norms = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let c = 0; c < m.cols; c++) s += m.data[i * m.cols + c] ** 2;
    norms[i] = Math.sqrt(s);
  }
  return norms;
}

/**
 * Exact k nearest neighbors of each row of X among the other rows (scikit-learn's
 * `NearestNeighbors(n_neighbors=k).fit(X).kneighbors()` without the query point). Cost: n^2 d in
 * float32 blocks (BLAS or tfjs), plus n (k + margin) d in Float64.
 *
 * @throws NestlabArgumentError when k is not in [1, n - 1] or X is not finite.
 *
 * @example const { indices, distances } = await similarity.nearestNeighbors(x, 10); // row i's j-th neighbor is indices[i * 10 + j]
 */
export async function nearestNeighbors(X: Matrix | tf.Tensor2D, k: number, options: KnnOptions = {}): Promise<KnnResult> {
  const where = 'similarity.nearestNeighbors';
  checkKnownKeys(where, options, ['metric', 'memoryBudget']);
  const metric = checkOneOf(where, 'options.metric', options.metric ?? 'euclidean', ['euclidean', 'cosine'] as const);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  const x = checkMatrix(where, 'X', X, 2);
  checkInt(where, 'k', k, 1, x.rows - 1);
  checkMemory(where, knnMemoryEstimate(x.rows, x.rows, x.cols, k, true), budget, 'the number of rows or k', `for n = ${x.rows}, d = ${x.cols}, k = ${k}`);
  return knnSearch(x, null, k, metric);
}

/**
 * Float32 scores of query rows against every database row, a block of queries at a time: the
 * screening step of the exact searches (knnSearch, plot.trustworthiness), which re-check in Float64.
 * Euclidean: both sides centered on the database mean (translation-invariant; less cancellation),
 * g = q~_i . x~_j and ||q_i - x_j||^2 ~ qNorm2[i] - (scale g - bias[j]) with scale 2, bias[j] =
 * ||x~_j||^2; cosine: unit rows, the score is g (scale 1, bias 0). Each score is within delta[i]
 * of the exact one: the forward error of a float32 dot product (gamma_p |q||x|, Higham, "Accuracy
 * and Stability of Numerical Algorithms", 2002, §3.1) plus the rounding of the centered inputs,
 * taken with a factor of about 4 to spare; so a search can prove that no row outside its
 * candidates belongs in them. The product is one sgemm per block into one reused buffer on the
 * system BLAS when it loaded (tfjs' own matMul pays for tensors and a copy per block), else tfjs.
 */
export class ScoreBlocks {
  /** Query rows per block (a block of scores holds at most ~4M floats). */
  readonly block: number;
  /** Score = scale * g - bias[j]. */
  readonly scale: number;
  /** Per database row: ||x~_j||^2 (Euclidean) or 0 (cosine). */
  readonly bias: Float64Array;
  /** Per query row: ||q~_i||^2 (Euclidean) or 1 (cosine); the distance^2 / 1 - cosine is about qNorm2[i] - score. */
  readonly qNorm2: Float64Array;
  /** Per query row: a bound on |score - exact score|. */
  readonly delta: Float64Array;
  private readonly n: number;
  private readonly d: number;
  private readonly xs: Float32Array;
  private readonly qs: Float32Array;
  private readonly blas: Cblas | null;
  private buffer: Float32Array | null = null;
  private dbTensor: tf.Tensor2D | null = null;

  /** database n x d, queries (null: the database itself), both finite; blas: the BLAS to use (null: tfjs). */
  constructor(database: Matrix, queries: Matrix | null, metric: 'euclidean' | 'cosine', blas: Cblas | null = loadBlas()) {
    const n = database.rows;
    const d = database.cols;
    const q = queries ?? database;
    this.n = n;
    this.d = d;
    this.block = scoreBlockRows(n, q.rows);
    this.blas = blas;
    const mean = new Float64Array(d);
    if (metric === 'euclidean') {
      for (let j = 0; j < n; j++) for (let c = 0; c < d; c++) mean[c] += database.data[j * d + c];
      for (let c = 0; c < d; c++) mean[c] = Math.fround(mean[c] / n);
    }
    const transform = (m: Matrix, norm2: Float64Array): Float32Array => {
      const out = new Float32Array(m.rows * d);
      for (let i = 0; i < m.rows; i++) {
        const o = i * d;
        let s = 0;
        for (let c = 0; c < d; c++) s += (m.data[o + c] - mean[c]) ** 2;
        const scale = metric === 'euclidean' ? 1 : s > 0 ? 1 / Math.sqrt(s) : 0;
        let t = 0;
        for (let c = 0; c < d; c++) {
          const v = Math.fround((m.data[o + c] - mean[c]) * scale);
          out[o + c] = v;
          t += v * v;
        }
        norm2[i] = t;
      }
      return out;
    };
    const dbNorm2 = new Float64Array(n);
    this.xs = transform(database, dbNorm2);
    const qNorm2 = queries === null ? dbNorm2 : new Float64Array(q.rows);
    this.qs = queries === null ? this.xs : transform(queries, qNorm2);
    this.scale = metric === 'euclidean' ? 2 : 1;
    this.bias = metric === 'euclidean' ? dbNorm2 : new Float64Array(n);
    this.qNorm2 = metric === 'euclidean' ? qNorm2 : new Float64Array(q.rows).fill(1);
    let maxNorm2 = 0;
    for (let j = 0; j < n; j++) maxNorm2 = Math.max(maxNorm2, dbNorm2[j]);
    const maxNorm = Math.sqrt(maxNorm2);
    this.delta = new Float64Array(q.rows);
    for (let i = 0; i < q.rows; i++) this.delta[i] = (2 * d + 16) * F32_UNIT * (Math.sqrt(qNorm2[i]) + maxNorm) ** 2;
  }

  /** g for query rows [start, stop): (stop - start) x n, row-major; valid until the next call. */
  async scores(start: number, stop: number): Promise<Float32Array> {
    const { n, d } = this;
    const rows = stop - start;
    if (this.blas !== null) {
      this.buffer ??= new Float32Array(this.block * n);
      const out = this.buffer.subarray(0, rows * n);
      this.blas.sgemm(NO_TRANS, TRANS, rows, n, d, 1, this.qs.subarray(start * d, stop * d), d, this.xs, d, 0, out, n);
      return out;
    }
    this.dbTensor ??= tf.tensor2d(this.xs, [n, d]);
    const g = tf.tidy(() => tf.matMul(tf.tensor2d(this.qs.subarray(start * d, stop * d), [rows, d]), this.dbTensor!, false, true));
    try {
      return (await g.data()) as Float32Array;
    } finally {
      g.dispose();
    }
  }

  /** Frees the tfjs tensor, if any. */
  dispose(): void {
    this.dbTensor?.dispose();
    this.dbTensor = null;
  }
}

/** Query rows per block of ScoreBlocks for n database rows and nq queries (a block of scores holds at most ~4M floats). */
function scoreBlockRows(n: number, nq: number): number {
  return Math.max(1, Math.min(nq, Math.floor(4_000_000 / n)));
}

/**
 * The peak bytes of `knnSearch` with n database rows of d columns, nq query rows and k neighbors
 * (`self`: the queries are the database; docs/methods/compute.md §3b): the float32 centered or
 * normalized copies (4nd, and 4·nq·d for separate queries), Float64 norms, biases and error
 * bounds (16n + 16nq), one block of scores (4bn, b = min(nq, 4·10⁶ / n) rows; on tfjs twice, in
 * the wasm heap and read back, plus the database tensor 4nd), the result (12·nq·k: Int32 indices,
 * Float64 distances), the re-ranking pool (20n) and, for cosine, the rows' norms (8n + 8nq).
 *
 * @internal exported for UMAP's estimate and the tests.
 */
export function knnMemoryEstimate(n: number, nq: number, d: number, k: number, self: boolean, blas = loadBlas() !== null): number {
  const b = scoreBlockRows(n, nq);
  const copies = 4 * n * d + (self ? 0 : 4 * nq * d);
  const vectors = 16 * n + 16 * nq + 8 * n + 8 * nq;
  const scores = blas ? 4 * b * n : 8 * b * n + 4 * n * d + 4 * b * d;
  return copies + vectors + scores + 12 * nq * k + 20 * n;
}

/**
 * The one exact kNN search of nestlab (on validated matrices): the k nearest rows of `database`
 * for every row of `queries`, or, with `queries` null, for every database row among the others.
 * Candidates: the k + margin best float32 scores of ScoreBlocks; they are re-ranked with distances
 * recomputed in Float64 from the float32 inputs, so the result matches an exact search despite
 * float32 cancellation in ||x||^2 + ||y||^2 - 2 x.y. When the worst candidate's score is not
 * provably below the k-th exact distance (within the scores' error bound: near-ties, duplicates),
 * the row is rescanned for every row within that bound. Ties go to the lower index.
 */
export async function knnSearch(database: Matrix, queries: Matrix | null, k: number, metric: 'euclidean' | 'cosine'): Promise<KnnResult> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const self = queries === null;
  const q = queries ?? database;
  const n = database.rows;
  const nq = q.rows;
  const euclidean = metric === 'euclidean';
  const others = self ? n - 1 : n;
  const dbNorms = euclidean ? null : rowNorms(database);
  const qNorms = euclidean ? null : self ? dbNorms : rowNorms(q);
  const margin = Math.min(others - k, Math.max(4, k));
  const m = k + margin; // candidates kept per row from the float32 scores
  const indices = new Int32Array(nq * k);
  const distances = new Float64Array(nq * k);
  const candIdx = new Int32Array(m);
  const candScore = new Float64Array(m);
  // The re-ranked pool: the candidates, or every row within the error bound on a rescan.
  const poolIdx = new Int32Array(others);
  const poolDist = new Float64Array(others);
  const poolKey = new Float64Array(others); // squared distance (Euclidean) or distance: the threshold's unit
  const blocks = new ScoreBlocks(database, queries, metric);
  const { scale, bias, qNorm2, delta } = blocks;
  const rank = (i: number, size: number): void => {
    for (let c = 0; c < size; c++) {
      const j = poolIdx[c];
      const key = euclidean ? squaredDistance(q, i, database, j) : rowDistance(q, i, database, j, metric, qNorms, dbNorms);
      poolKey[c] = key;
      poolDist[c] = euclidean ? Math.sqrt(key) : key;
    }
    sortPool(poolIdx, poolDist, poolKey, size);
  };
  try {
    for (let start = 0; start < nq; start += blocks.block) {
      const stop = Math.min(nq, start + blocks.block);
      const g = await blocks.scores(start, stop);
      for (let i = start; i < stop; i++) {
        const off = (i - start) * n;
        // Keep the m largest scores (insertion into a small sorted buffer).
        let filled = 0;
        let worst = -Infinity; // the m-th best score once m are kept
        for (let j = 0; j < n; j++) {
          const sc = scale * g[off + j] - bias[j];
          if (sc <= worst || (self && j === i)) continue;
          let pos = filled < m ? filled++ : m - 1;
          while (pos > 0 && candScore[pos - 1] < sc) {
            candScore[pos] = candScore[pos - 1];
            candIdx[pos] = candIdx[pos - 1];
            pos--;
          }
          candScore[pos] = sc;
          candIdx[pos] = j;
          if (filled === m) worst = candScore[m - 1];
        }
        poolIdx.set(candIdx.subarray(0, filled));
        rank(i, filled);
        if (filled < others) {
          // Every row with exact key <= the k-th one has score >= theta; the slack covers sqrt's rounding.
          const kth = poolKey[k - 1];
          const theta = qNorm2[i] - kth - Math.abs(kth) * 1e-15 - delta[i];
          if (!(candScore[m - 1] < theta)) {
            let size = 0;
            for (let j = 0; j < n; j++) if (!(self && j === i) && scale * g[off + j] - bias[j] >= theta) poolIdx[size++] = j;
            rank(i, size);
          }
        }
        for (let c = 0; c < k; c++) {
          indices[i * k + c] = poolIdx[c];
          distances[i * k + c] = poolDist[c];
        }
      }
    }
  } finally {
    blocks.dispose();
  }
  return { indices, distances, n: nq, k };
}

/** Sorts the first `size` pool entries by (distance, index), keeping the three arrays aligned. */
function sortPool(idx: Int32Array, dist: Float64Array, key: Float64Array, size: number): void {
  if (size <= 64) {
    for (let a = 1; a < size; a++) {
      const j = idx[a];
      const dj = dist[a];
      const kj = key[a];
      let b = a;
      while (b > 0 && (dist[b - 1] > dj || (dist[b - 1] === dj && idx[b - 1] > j))) {
        idx[b] = idx[b - 1];
        dist[b] = dist[b - 1];
        key[b] = key[b - 1];
        b--;
      }
      idx[b] = j;
      dist[b] = dj;
      key[b] = kj;
    }
    return;
  }
  const order = Array.from({ length: size }, (_, c) => c);
  order.sort((a, b) => dist[a] - dist[b] || idx[a] - idx[b]);
  const i2 = order.map((c) => idx[c]);
  const d2 = order.map((c) => dist[c]);
  const k2 = order.map((c) => key[c]);
  for (let c = 0; c < size; c++) {
    idx[c] = i2[c];
    dist[c] = d2[c];
    key[c] = k2[c];
  }
}

/** Options of {@link mutualKnn}. */
export interface MutualKnnOptions {
  /** Neighborhood size; needs n >= k + 1. Default 10 (platonic-rep). */
  k?: number;
}

/**
 * Mutual k-nearest-neighbor alignment (Huh et al. 2024, platonic-rep `mutual_knn`):
 * (1/n) sum_i |kNN_X(i) ∩ kNN_Y(i)| / k, where kNN(i) are the k rows with the largest inner
 * product to row i after L2-normalizing the rows (cosine similarity), self excluded. 1 for
 * identical inputs; about k / (n - 1) for independent ones. platonic-rep also clips features at
 * the 0.95 quantile of |x| before this (`remove_outliers`); do that beforehand if you want it.
 *
 * @throws NestlabArgumentError on row mismatch, non-finite input, or k outside [1, n - 1].
 *
 * @example const m = await similarity.mutualKnn(x, y, { k: 10 }); // 1 when every neighborhood is shared
 */
export async function mutualKnn(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, options: MutualKnnOptions = {}): Promise<number> {
  const where = 'similarity.mutualKnn';
  checkKnownKeys(where, options, ['k']);
  const k = checkInt(where, 'options.k', options.k ?? 10, 1);
  const [x, y] = checkPair(where, X, Y, 2);
  if (k > x.rows - 1) {
    throw new NestlabArgumentError(where, 'options.k', `at most n - 1 = ${x.rows - 1} (too few samples for k neighbors)`, k);
  }
  const a = await knnSearch(x, null, k, 'cosine');
  const b = await knnSearch(y, null, k, 'cosine');
  return sharedNeighbors(a.indices, b.indices, x.rows, k);
}

/** (1/n) Σ_i |A(i) ∩ B(i)| / k for two n × k neighbor lists (row-major indices). */
function sharedNeighbors(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number): number {
  const mark = new Int32Array(n).fill(-1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) mark[a[i * k + c]] = i;
    let shared = 0;
    for (let c = 0; c < k; c++) if (mark[b[i * k + c]] === i) shared++;
    total += shared / k;
  }
  return total / n;
}

/** Options of {@link mutualKnnAlignment}. */
export interface MutualKnnAlignmentOptions {
  /** Neighborhood size of the mutual kNN. Default 10 (platonic-rep's `topk`). */
  k?: number;
  /** Quantile of |x| at which a model's features are clipped first (1: no clipping). Default 0.95 (platonic-rep's `q`). */
  quantile?: number;
}

/** What {@link mutualKnnAlignment} returns: the best layer pair and every pair's score. */
export interface MutualKnnAlignment {
  /** The largest mutual-kNN alignment over all layer pairs. */
  score: number;
  /** The layers of A and of B that reach it (first such pair in row-major order). */
  layerA: number;
  layerB: number;
  /** mutual kNN of layer i of A and layer j of B at i · layersB.length + j. */
  scores: Float64Array;
  /** The clipping values applied to A's and B's features (Infinity when quantile = 1). */
  clipA: number;
  clipB: number;
  k: number;
  quantile: number;
}

/**
 * The value at which platonic-rep's `remove_outliers` clips a model's features: for each
 * stimulus, the `quantile` of |x| over all its features (every layer's, as the reference's
 * N × L × D tensor; numpy's linear quantile), averaged over the stimuli.
 *
 * @example const c = outlierClipValue([layer1, layer2], 0.95); // then clamp every feature to [−c, c]
 */
export function outlierClipValue(layers: Matrix[], quantile: number): number {
  if (quantile === 1) return Infinity;
  const n = layers[0].rows;
  const width = layers.reduce((s, m) => s + m.cols, 0);
  const row = new Float64Array(width);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (const m of layers) for (let j = 0; j < m.cols; j++) row[o++] = Math.abs(m.data[i * m.cols + j]);
    total += quantileSorted(row.sort(), quantile);
  }
  return total / n;
}

/**
 * Platonic alignment of two models (Huh, Cheung, Wang & Isola, "The Platonic Representation
 * Hypothesis", ICML 2024; platonic-rep `measure_alignment.compute_score`): each model's features
 * on the same n stimuli, one Matrix per layer, are clipped at `outlierClipValue` (its
 * `remove_outliers`), and the score is the largest {@link mutualKnn} (rows L2-normalized, k
 * neighbors) over every pair (layer of A, layer of B). Returns every pair's score with the best.
 *
 * @throws NestlabArgumentError when a list is empty, the layers' rows differ, k is out of range or
 *   quantile is outside (0, 1].
 *
 * @example const { score, layerA, layerB } = await similarity.mutualKnnAlignment([a1, a2], [b1, b2, b3], { k: 10 });
 */
export async function mutualKnnAlignment(layersA: Matrix[], layersB: Matrix[], options: MutualKnnAlignmentOptions = {}): Promise<MutualKnnAlignment> {
  const where = 'similarity.mutualKnnAlignment';
  checkKnownKeys(where, options, ['k', 'quantile']);
  const k = checkInt(where, 'options.k', options.k ?? 10, 1);
  const quantile = options.quantile ?? 0.95;
  if (!(typeof quantile === 'number' && quantile > 0 && quantile <= 1)) throw new NestlabArgumentError(where, 'options.quantile', 'a number in (0, 1]', quantile);
  const lists = [layersA, layersB].map((list, s) => {
    const name = s === 0 ? 'layersA' : 'layersB';
    if (!Array.isArray(list) || list.length === 0) throw new NestlabArgumentError(where, name, 'a non-empty array of matrices (one per layer)', list);
    return list.map((m, i) => checkMatrix(where, `${name}[${i}]`, m, 2));
  });
  const n = lists[0][0].rows;
  lists.forEach((list, s) => list.forEach((m, i) => {
    if (m.rows !== n) throw new NestlabArgumentError(where, `${s === 0 ? 'layersA' : 'layersB'}[${i}].rows`, `${n} (the same stimuli in every layer)`, m.rows);
  }));
  if (k > n - 1) throw new NestlabArgumentError(where, 'options.k', `at most n - 1 = ${n - 1}`, k);
  const clips = lists.map((list) => outlierClipValue(list, quantile));
  const clipped = lists.map((list, s) => list.map((m) => ({ ...m, data: m.data.map((v) => Math.max(-clips[s], Math.min(clips[s], v))) })));
  // Each layer's neighbors once; every pair then only intersects them.
  const yieldNow = eventLoopYielder(); // a figure compares dozens of models' layers in one loop
  const neighbors: KnnResult[][] = [];
  for (const list of clipped) {
    const perLayer: KnnResult[] = [];
    for (const m of list) {
      perLayer.push(await knnSearch(m, null, k, 'cosine'));
      await yieldNow();
    }
    neighbors.push(perLayer);
  }
  const scores = new Float64Array(layersA.length * layersB.length);
  let best = 0;
  for (let i = 0; i < layersA.length; i++) {
    for (let j = 0; j < layersB.length; j++) {
      const at = i * layersB.length + j;
      scores[at] = sharedNeighbors(neighbors[0][i].indices, neighbors[1][j].indices, n, k);
      if (scores[at] > scores[best]) best = at;
    }
  }
  return { score: scores[best], layerA: Math.floor(best / layersB.length), layerB: best % layersB.length, scores, clipA: clips[0], clipB: clips[1], k, quantile };
}
