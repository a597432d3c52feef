/**
 * Seeded 2-D UMAP embeddings (McInnes, Healy & Melville 2018) through umap-js, and the
 * trustworthiness score (Venna & Kaski 2001; as sklearn.manifold.trustworthiness) that says how
 * faithful an embedding's neighborhoods are.
 *
 * umap-js does the fuzzy simplicial set and the layout optimization; what is ours: every random
 * draw goes through the seeded Rng (umap-js's `random` option), so the same seed gives the same
 * embedding, and by default the k-nearest-neighbor graph is the exact one from
 * src/similarity (tfjs matrix products) rather than umap-js's approximate NN-descent. umap-js
 * initializes the layout at random (no spectral initialization, unlike umap-learn).
 */
import { UMAP } from 'umap-js';
import type { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { knnSearch } from '../similarity/knn.js';

/** Options of {@link umapEmbed}. */
export interface UmapOptions {
  /** Neighborhood size (self included, as in umap-learn), in [2, n - 1]. Default 15. */
  nNeighbors?: number;
  /** Minimum distance between embedded points, in [0, spread]. Default 0.1. */
  minDist?: number;
  /** Scale of the embedded points (umap `spread`), > 0. Default 1. */
  spread?: number;
  /** Optimization epochs, >= 1. Default: umap-js's choice (500 for n <= 10,000, else 200). */
  nEpochs?: number;
  /** Output dimensions. Default 2. */
  nComponents?: number;
  /** Seed of every random step. Default 0. */
  seed?: number;
  /** 'exact' (default): exact kNN graph on tfjs; 'nndescent': umap-js's approximate search (seeded). */
  knn?: 'exact' | 'nndescent';
  /** Progress per epoch (silent by default). */
  progress?: Progress;
}

/**
 * UMAP embedding of the rows of X (n x p) into `nComponents` (default 2) dimensions with umap-js,
 * seeded: the same seed and options give the same embedding. Returns an n x nComponents Matrix.
 *
 * Public name: `plot.umap`. The method is McInnes, Healy & Melville 2018 (umap-js `UMAP`, random
 * initialization), on the exact kNN graph of `similarity.nearestNeighbors` by default.
 *
 * @throws NestlabArgumentError for non-finite X, fewer than 3 rows, or options out of range
 *   (nNeighbors must be < n).
 *
 * @example const xy = await plot.umap(x, { nNeighbors: 15, minDist: 0.1, seed: 0 }); // n x 2 Matrix, the same for the same seed
 */
export async function umapEmbed(X: Matrix | tf.Tensor2D, options: UmapOptions = {}): Promise<Matrix> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'plot.umap';
  checkKnownKeys(where, options, ['nNeighbors', 'minDist', 'spread', 'nEpochs', 'nComponents', 'seed', 'knn', 'progress']);
  const x = checkMatrix(where, 'X', X, 3);
  const n = x.rows;
  const nNeighbors = checkInt(where, 'options.nNeighbors', options.nNeighbors ?? Math.min(15, n - 1), 2, n - 1);
  const spread = checkNumber(where, 'options.spread', options.spread ?? 1, Number.MIN_VALUE);
  const minDist = checkNumber(where, 'options.minDist', options.minDist ?? 0.1, 0, spread);
  const nEpochs = options.nEpochs === undefined ? undefined : checkInt(where, 'options.nEpochs', options.nEpochs, 1, 100_000);
  const nComponents = checkInt(where, 'options.nComponents', options.nComponents ?? 2, 1, 100);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53);
  const knn = checkOneOf(where, 'options.knn', options.knn ?? 'exact', ['exact', 'nndescent'] as const);
  const progress = options.progress ?? silentProgress;
  const rng = new Rng(seed);
  const umap = new UMAP({ nNeighbors, minDist, spread, nComponents, random: rng.asFunction(), ...(nEpochs === undefined ? {} : { nEpochs }) });
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));
  if (knn === 'exact') {
    // umap's graph counts the point itself as its first neighbor (distance 0).
    const nn = await knnSearch(x, null, nNeighbors - 1, 'euclidean');
    const k = nNeighbors - 1;
    const indices: number[][] = [];
    const distances: number[][] = [];
    for (let i = 0; i < n; i++) {
      indices.push([i, ...Array.from(nn.indices.subarray(i * k, (i + 1) * k))]);
      distances.push([0, ...Array.from(nn.distances.subarray(i * k, (i + 1) * k))]);
    }
    umap.setPrecomputedKNN(indices, distances);
  }
  const epochs = umap.initializeFit(rows);
  progress.start(epochs, 'umap');
  const every = Math.max(1, Math.floor(epochs / 20));
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if ((e + 1) % every === 0 || e + 1 === epochs) progress.update(e + 1, `epoch ${e + 1}/${epochs}`);
  }
  progress.stop(`umap: ${n} points, ${epochs} epochs`);
  const emb = umap.getEmbedding();
  const out = new Float32Array(n * nComponents);
  for (let i = 0; i < n; i++) for (let j = 0; j < nComponents; j++) out[i * nComponents + j] = emb[i][j];
  return { data: out, rows: n, cols: nComponents };
}

/** Options of {@link trustworthiness}. */
export interface TrustworthinessOptions {
  /** Neighborhood size k, with k < n / 2. Default 5 (as sklearn). */
  k?: number;
}

/**
 * Trustworthiness of an embedding (Venna & Kaski 2001; sklearn.manifold.trustworthiness with
 * the Euclidean metric):
 *
 *   T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in U_k(i)} (r(i, j) - k),
 *
 * where U_k(i) are the embedding's k nearest neighbors of i that are not among its k nearest in
 * X, and r(i, j) is the rank of j by distance to i in X (1 = nearest; ties by lower index). 1
 * means every embedded neighborhood is a true one. The embedding's neighbors come from the
 * exact tfjs kNN; the ranks in X are counted from Float64 distances in JS (O(n^2 p), exact).
 *
 * @throws NestlabArgumentError on row mismatch, non-finite input, or k not in [1, n/2).
 *
 * @example const t = await plot.trustworthiness(x, await plot.umap(x, { seed: 0 }), { k: 5 }); // in [0, 1]; 1 = every embedded neighbor is a true one
 */
export async function trustworthiness(X: Matrix | tf.Tensor2D, embedding: Matrix | tf.Tensor2D, options: TrustworthinessOptions = {}): Promise<number> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'plot.trustworthiness';
  checkKnownKeys(where, options, ['k']);
  const x = checkMatrix(where, 'X', X, 3);
  const e = checkMatrix(where, 'embedding', embedding, 3);
  if (e.rows !== x.rows) throw new NestlabArgumentError(where, 'embedding.rows', `equal to X.rows = ${x.rows}`, e.rows);
  const n = x.rows;
  const k = checkInt(where, 'options.k', options.k ?? 5, 1, Math.ceil(n / 2) - 1);
  const nn = await knnSearch(e, null, k, 'euclidean');
  const p = x.cols;
  const d2 = new Float64Array(n);
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < n; l++) {
      let s = 0;
      for (let c = 0; c < p; c++) {
        const v = x.data[i * p + c] - x.data[l * p + c];
        s += v * v;
      }
      d2[l] = s;
    }
    for (let c = 0; c < k; c++) {
      const j = nn.indices[i * k + c];
      const dj = d2[j];
      let rank = 1; // 1 + number of points (other than i) before j
      for (let l = 0; l < n; l++) {
        if (l === i || l === j) continue;
        if (d2[l] < dj || (d2[l] === dj && l < j)) rank++;
      }
      if (rank > k) t += rank - k;
    }
  }
  return 1 - (t * 2) / (n * k * (2 * n - 3 * k - 1));
}
