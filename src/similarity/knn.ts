/**
 * Exact k-nearest neighbors (the one kNN search every module uses: neighbor graphs, UMAP,
 * TwoNN, retrieval), and mutual-kNN alignment (Huh, Cheung, Wang & Isola, "The Platonic
 * Representation Hypothesis", ICML 2024; minyoungg/platonic-rep, metrics.py `mutual_knn`).
 *
 * The candidate search is blocked matrix products on tfjs (a b x n block of inner products at a
 * time); the top k + margin candidates of each row are then re-ranked with distances recomputed in
 * Float64 from the float32 inputs, so that the result matches scikit-learn's exact search
 * despite float32 cancellation in ||x||^2 + ||y||^2 - 2 x.y. Ties are broken by the lower index
 * (torch's argsort in platonic-rep is unstable; the order here is deterministic).
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { checkPair } from './common.js';

/** Options of {@link nearestNeighbors}. */
export interface KnnOptions {
  /** 'euclidean' (default) or 'cosine' (1 - cosine similarity of the rows; zero rows have similarity 0 to all). */
  metric?: 'euclidean' | 'cosine';
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

/** Distance between row i of `a` and row j of `b` in Float64 (norms: the rows' L2 norms, for cosine). */
function rowDistance(a: Matrix, i: number, b: Matrix, j: number, metric: 'euclidean' | 'cosine', na: Float64Array | null, nb: Float64Array | null): number {
  const d = a.cols;
  if (metric === 'euclidean') {
    let s = 0;
    for (let c = 0; c < d; c++) {
      const t = a.data[i * d + c] - b.data[j * d + c];
      s += t * t;
    }
    return Math.sqrt(s);
  }
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
 * `NearestNeighbors(n_neighbors=k).fit(X).kneighbors()` without the query point). Cost: n^2 d on
 * tfjs in blocks, plus n (k + margin) d in Float64.
 *
 * @throws NestlabArgumentError when k is not in [1, n - 1] or X is not finite.
 *
 * @example const { indices, distances } = await similarity.nearestNeighbors(x, 10); // row i's j-th neighbor is indices[i * 10 + j]
 */
export async function nearestNeighbors(X: Matrix | tf.Tensor2D, k: number, options: KnnOptions = {}): Promise<KnnResult> {
  const where = 'similarity.nearestNeighbors';
  checkKnownKeys(where, options, ['metric']);
  const metric = checkOneOf(where, 'options.metric', options.metric ?? 'euclidean', ['euclidean', 'cosine'] as const);
  const x = checkMatrix(where, 'X', X, 2);
  checkInt(where, 'k', k, 1, x.rows - 1);
  return knnSearch(x, null, k, metric);
}

/**
 * The one exact kNN search of nestlab (on validated matrices): the k nearest rows of `database`
 * for every row of `queries`, or, with `queries` null, for every database row among the others.
 * Candidates come from blocked matrix products on tfjs (a block of queries x database at a time);
 * the top k + margin candidates of each query are re-ranked with distances recomputed in Float64
 * from the float32 inputs, so the result matches an exact search despite float32 cancellation in
 * ||x||^2 + ||y||^2 - 2 x.y. Ties go to the lower index.
 */
export async function knnSearch(database: Matrix, queries: Matrix | null, k: number, metric: 'euclidean' | 'cosine'): Promise<KnnResult> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const self = queries === null;
  const q = queries ?? database;
  const n = database.rows;
  const nq = q.rows;
  const d = database.cols;
  const others = self ? n - 1 : n;
  const dbNorms = metric === 'cosine' ? rowNorms(database) : null;
  const qNorms = metric === 'cosine' ? (self ? dbNorms : rowNorms(q)) : null;
  const margin = Math.min(others - k, Math.max(4, k));
  const m = k + margin; // candidates kept per row from the float32 scores
  const block = Math.max(1, Math.min(nq, Math.floor(4_000_000 / n)));
  const indices = new Int32Array(nq * k);
  const distances = new Float64Array(nq * k);
  // Euclidean: both sides centered on the database mean (translation-invariant; less cancellation);
  // cosine: rows scaled to unit norm. Score = 2 q.x - ||x||^2 (Euclidean) or q.x (cosine): larger = closer.
  const mean = metric === 'euclidean' ? tf.tidy(() => tf.mean(tf.tensor2d(database.data, [n, d]), 0, true)) : null;
  const all = tf.tidy(() => {
    const t = tf.tensor2d(database.data, [n, d]);
    return (mean === null ? tf.div(t, tf.maximum(tf.norm(t, 'euclidean', 1, true), 1e-12)) : tf.sub(t, mean)) as tf.Tensor2D;
  });
  const allT = tf.transpose(all);
  const bias = tf.tidy(() => (metric === 'euclidean' ? tf.neg(tf.sum(tf.square(all), 1)) : tf.zeros([n])));
  const candIdx = new Int32Array(m);
  const candScore = new Float64Array(m);
  try {
    for (let start = 0; start < nq; start += block) {
      const stop = Math.min(nq, start + block);
      const scoresT = tf.tidy(() => {
        let rows: tf.Tensor2D;
        if (self) rows = tf.slice(all, [start, 0], [stop - start, d]);
        else {
          rows = tf.tensor2d(q.data.subarray(start * d, stop * d), [stop - start, d]);
          rows = metric === 'cosine' ? tf.div(rows, tf.maximum(tf.norm(rows, 'euclidean', 1, true), 1e-12)) : tf.sub(rows, mean!);
        }
        const g = tf.matMul(rows, allT);
        return metric === 'euclidean' ? tf.add(tf.mul(g, 2), bias) : g;
      });
      const scores = (await scoresT.data()) as Float32Array;
      scoresT.dispose();
      for (let i = start; i < stop; i++) {
        const off = (i - start) * n;
        // Keep the m largest scores (insertion into a small sorted buffer).
        let filled = 0;
        for (let j = 0; j < n; j++) {
          if (self && j === i) continue;
          const sc = scores[off + j];
          if (filled === m && !(sc > candScore[m - 1])) continue;
          let pos = filled < m ? filled++ : m - 1;
          while (pos > 0 && candScore[pos - 1] < sc) {
            candScore[pos] = candScore[pos - 1];
            candIdx[pos] = candIdx[pos - 1];
            pos--;
          }
          candScore[pos] = sc;
          candIdx[pos] = j;
        }
        // Exact re-ranking in Float64; ties -> lower index.
        const cands: { j: number; dist: number }[] = [];
        for (let c = 0; c < filled; c++) cands.push({ j: candIdx[c], dist: rowDistance(q, i, database, candIdx[c], metric, qNorms, dbNorms) });
        cands.sort((a, b) => a.dist - b.dist || a.j - b.j);
        for (let c = 0; c < k; c++) {
          indices[i * k + c] = cands[c].j;
          distances[i * k + c] = cands[c].dist;
        }
      }
    }
  } finally {
    tf.dispose([all, allT, bias, ...(mean ? [mean] : [])]);
  }
  return { indices, distances, n: nq, k };
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
  const n = x.rows;
  const mark = new Int32Array(n).fill(-1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) mark[a.indices[i * k + c]] = i;
    let shared = 0;
    for (let c = 0; c < k; c++) if (mark[b.indices[i * k + c]] === i) shared++;
    total += shared / k;
  }
  return total / n;
}
