/**
 * Seeded 2-D UMAP embeddings (McInnes, Healy & Melville 2018, arXiv:1802.03426) as umap-js
 * (PAIR-code/umap-js 1.4, a port of lmcinnes/umap, umap-learn) computes them, and the
 * trustworthiness score (Venna & Kaski 2001; as sklearn.manifold.trustworthiness) that says how
 * faithful an embedding's neighborhoods are.
 *
 * What is ours: every random draw goes through the seeded Rng, so the same seed gives the same
 * embedding; by default the k-nearest-neighbor graph is the exact one from src/similarity (BLAS
 * or tfjs matrix products) rather than umap-js's approximate NN-descent; and everything after the
 * graph (fuzzy simplicial set, epochs-per-sample schedule, random initialization, SGD layout) runs
 * on typed arrays in ./umap-layout.ts, which follows umap-js step by step. umap-js keeps its
 * sparse matrices in string-keyed Maps and its layout in arrays of arrays, and builds a search
 * graph only its transform() uses: on the 5000 x 50 benchmark (bench/umap.bench.ts) its
 * initializeFit took 3.6 s where the typed-array graph and init take 0.1 s, and the whole
 * embedding went from 14.1 s to 6.7 s (9.9 s with umap-js's exact pow), measured in one run.
 *
 * Method note (there is no docs/methods file for plotting):
 * 1. Graph: row i's k neighbors (itself first) give rho_i (nearest nonzero distance) and sigma_i
 *    (bisection until sum_j exp(-(d_ij - rho_i) / sigma_i) = log2 k); memberships
 *    w_ij = exp(-(d_ij - rho_i) / sigma_i), symmetrized by the fuzzy union W + Wᵀ - W∘Wᵀ.
 * 2. Layout: umap-js's epochs (500 for n <= 2,500, 400 to 5,000, 300 to 7,500, else 200; umap-learn
 *    differs), edges below max(w) / epochs dropped, edge e sampled every max(w) / w_e epochs with
 *    5 negative samples each; random start in [-10, 10)^d (no spectral initialization, unlike
 *    umap-learn); gradients clipped to ±4; a, b from umap-js's findABParams (minDist, spread).
 * 3. Exactness: `umapEmbedExact` is bit-identical to umap-js for the same seed and kNN graph
 *    (checked by test/plot/umap-layout.test.ts). `umapEmbed` differs in one place: the curve's
 *    d^b is exp(b ln d) instead of Math.pow (V8's fdlibm pow cost a third of the layout); that
 *    changes the low bits of each step, so the chaotic SGD ends at another layout of the same
 *    quality (trustworthiness 0.958 both ways on the 5000 x 50 benchmark).
 */
import { UMAP } from 'umap-js';
import type { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { ScoreBlocks, knnMemoryEstimate, knnSearch, squaredDistance } from '../similarity/knn.js';
import { checkMemory, resolveMemoryBudget } from '../backend/memory.js';
import { UmapLayout, defaultEpochs, fuzzySimplicialSet, layoutEdges, type KnnGraph } from './umap-layout.js';

/** Options of {@link umapEmbed}. */
export interface UmapOptions {
  /** Neighborhood size (self included, as in umap-learn), in [2, n - 1]. Default 15. */
  nNeighbors?: number;
  /** Minimum distance between embedded points, in [0, spread]. Default 0.1. */
  minDist?: number;
  /** Scale of the embedded points (umap `spread`), > 0. Default 1. */
  spread?: number;
  /** Optimization epochs, >= 1. Default: umap-js's choice (500 for n <= 2,500, 400 to 5,000, 300 to 7,500, else 200). */
  nEpochs?: number;
  /** Output dimensions. Default 2. */
  nComponents?: number;
  /** Seed of every random step. Default 0. */
  seed?: number;
  /** 'exact' (default): exact kNN graph (similarity's search); 'nndescent': umap-js's approximate search (seeded). */
  knn?: 'exact' | 'nndescent';
  /** Progress per epoch (silent by default). */
  progress?: Progress;
  /**
   * Bytes the call may use (a positive number, or Infinity for no check), checked against
   * `umapMemoryEstimate` before the kNN graph is built. Default: NESTLAB_MEMORY_BUDGET if set,
   * else half of the memory available at the call (docs/methods/compute.md §3b).
   */
  memoryBudget?: number;
}

/**
 * The peak bytes of `plot.umap` for n rows of d columns, k = nNeighbors and c = nComponents
 * (docs/methods/compute.md §3b). The kNN graph (12nk: Int32 indices, Float64 distances) lives
 * throughout; on it, the largest of four phases, with E = n(k − 1) memberships (self excluded),
 * U the entries of their fuzzy union (E ≤ U ≤ 2E) and S ≤ U the edges the layout samples:
 *  - the search: exact, `knnMemoryEstimate(n, n, d, k − 1)`; 'nndescent', umap-js's arrays of
 *    arrays, roughly 8nd + 32n for the rows and 64nk for its heaps and results (not measured);
 *  - the fuzzy set: A and Aᵀ (12E each), the merged union (12U touched of its 24E capacity) and
 *    its trimmed copy (12U), 48n of per-point arrays;
 *  - the edges: the union (12U), head, tail, weights, epochs per sample (24S);
 *  - the layout: the edges (16S), the three Float64 epoch counters (24S), the embedding (8nc).
 * Before the graph exists U = S = 2E (upper bounds); `plot.umap` checks again with the counted
 * U and S before the layout allocates.
 *
 * @internal exported for the tests.
 */
export function umapMemoryEstimate(
  n: number,
  d: number,
  k: number,
  nComponents: number,
  knn: 'exact' | 'nndescent',
  counts: { union: number; sampled: number } | null = null,
): number {
  const e = n * (k - 1);
  const u = counts?.union ?? 2 * e;
  const m = counts?.sampled ?? u;
  const search = knn === 'exact' ? knnMemoryEstimate(n, n, d, k - 1, true) : 8 * n * d + 32 * n + 64 * n * k;
  const fuzzy = 24 * e + 24 * u + 48 * n;
  const edges = 12 * u + 24 * m;
  const layout = 40 * m + 8 * n * nComponents;
  return 12 * n * k + Math.max(search, fuzzy, edges, layout);
}

/**
 * UMAP embedding of the rows of X (n x p) into `nComponents` (default 2) dimensions, seeded: the
 * same seed and options give the same embedding. Returns an n x nComponents Matrix.
 *
 * Public name: `plot.umap`. The method is McInnes, Healy & Melville 2018 as umap-js's `UMAP`
 * runs it (random initialization), on typed arrays, on the exact kNN graph of
 * `similarity.nearestNeighbors` by default; the module header says where it departs from
 * umap-js (d^b as exp(b ln d)).
 *
 * @throws NestlabArgumentError for non-finite X, fewer than 3 rows, or options out of range
 *   (nNeighbors must be < n).
 *
 * @example const xy = await plot.umap(x, { nNeighbors: 15, minDist: 0.1, seed: 0 }); // n x 2 Matrix, the same for the same seed
 */
export async function umapEmbed(X: Matrix | tf.Tensor2D, options: UmapOptions = {}): Promise<Matrix> {
  return (await runUmap(X, options, false)).embedding;
}

/**
 * @internal For the memory tests: {@link umapEmbed} and the memory estimate it checked before the
 * layout (with the counted union and sampled edges; `umapMemoryEstimate`).
 */
export async function umapEmbedWithMemory(X: Matrix | tf.Tensor2D, options: UmapOptions = {}): Promise<{ embedding: Matrix; estimated: number }> {
  return runUmap(X, options, false);
}

/**
 * {@link umapEmbed} with umap-js's own Math.pow in the layout, so that the embedding is
 * bit-identical to umap-js's for the same seed (umapEmbed computes d^b as exp(b ln d), which is
 * faster but leads the SGD elsewhere). Not public: the tests check it against umap-js.
 *
 * @example const xy = await umapEmbedExact(x, { seed: 0 }); // umap-js's embedding, on typed arrays
 */
export async function umapEmbedExact(X: Matrix | tf.Tensor2D, options: UmapOptions = {}): Promise<Matrix> {
  return (await runUmap(X, options, true)).embedding;
}

async function runUmap(X: Matrix | tf.Tensor2D, options: UmapOptions, exactPow: boolean): Promise<{ embedding: Matrix; estimated: number }> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const where = 'plot.umap';
  checkKnownKeys(where, options, ['nNeighbors', 'minDist', 'spread', 'nEpochs', 'nComponents', 'seed', 'knn', 'progress', 'memoryBudget']);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
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
  checkMemory(where, umapMemoryEstimate(n, x.cols, nNeighbors, nComponents, knn), budget, 'the number of rows or nNeighbors', `for n = ${n}, d = ${x.cols}, nNeighbors = ${nNeighbors}`);
  const rng = new Rng(seed);
  const random = rng.asFunction();
  // umap's graph counts the point itself as its first neighbor (distance 0).
  const k = nNeighbors;
  const graph: KnnGraph = { indices: new Int32Array(n * k), distances: new Float64Array(n * k), n, k };
  if (knn === 'exact') {
    const nn = await knnSearch(x, null, k - 1, 'euclidean');
    for (let i = 0; i < n; i++) {
      graph.indices[i * k] = i;
      graph.indices.set(nn.indices.subarray(i * (k - 1), (i + 1) * (k - 1)), i * k + 1);
      graph.distances.set(nn.distances.subarray(i * (k - 1), (i + 1) * (k - 1)), i * k + 1);
    }
  } else {
    // umap-js's NN-descent (random projection trees, then descent), drawing from the same stream.
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) rows.push(Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));
    const umap = new UMAP({ nNeighbors, random }) as unknown as UmapJsKnn;
    const { knnIndices, knnDistances } = umap.nearestNeighbors(rows);
    for (let i = 0; i < n; i++) {
      graph.indices.set(knnIndices[i], i * k);
      graph.distances.set(knnDistances[i], i * k);
    }
  }
  const epochs = nEpochs ?? defaultEpochs(n);
  const fuzzy = fuzzySimplicialSet(graph);
  const counts = { union: fuzzy.values.length, sampled: sampledEdges(fuzzy.values, epochs) };
  const estimated = umapMemoryEstimate(n, x.cols, nNeighbors, nComponents, knn, counts);
  checkMemory(where, estimated, budget, 'the number of rows or nNeighbors', `for n = ${n}, d = ${x.cols}, nNeighbors = ${nNeighbors}, ${counts.sampled} edges to lay out`);
  const layout = new UmapLayout(layoutEdges(fuzzy, epochs), n, { nComponents, nEpochs: epochs, minDist, spread, random, exactPow });
  progress.start(epochs, 'umap');
  const every = Math.max(1, Math.floor(epochs / 20));
  for (let e = 0; e < epochs; e++) {
    layout.step();
    if ((e + 1) % every === 0 || e + 1 === epochs) progress.update(e + 1, `epoch ${e + 1}/${epochs}`);
  }
  progress.stop(`umap: ${n} points, ${epochs} epochs`);
  return { embedding: { data: Float32Array.from(layout.embedding), rows: n, cols: nComponents }, estimated };
}

/** The number of fuzzy-set entries `layoutEdges` keeps for `epochs` (those of at least max / epochs), for the memory check. */
function sampledEdges(values: Float64Array, epochs: number): number {
  let max = 0;
  for (let e = 0; e < values.length; e++) if (max < values[e]) max = values[e];
  const cut = max / epochs;
  let m = 0;
  for (let e = 0; e < values.length; e++) if (!(values[e] < cut) && values[e]) m++;
  return m;
}

/** umap-js's NN-descent, a private method of its UMAP class (umap-js 1.4). */
interface UmapJsKnn {
  nearestNeighbors(rows: number[][]): { knnIndices: number[][]; knnDistances: number[][] };
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
 * exact kNN; the ranks in X are screened with float32 distances from blocked matrix products (the
 * system BLAS when it loaded) and settled on Float64 distances wherever the float32 error bound
 * leaves a comparison open, so they equal ranks counted on Float64 distances (O(n^2 p) flops).
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
  // Ranks in X: float32 scores (ScoreBlocks) settle every comparison with d(i, j) that their
  // error bound allows; the rest are decided on Float64 distances, as sklearn's exact ranks.
  const blocks = new ScoreBlocks(x, null, 'euclidean');
  const { bias, qNorm2, delta } = blocks;
  const dj = new Float64Array(k);
  const before = new Int32Array(k);
  let t = 0;
  try {
    for (let start = 0; start < n; start += blocks.block) {
      const stop = Math.min(n, start + blocks.block);
      const g = await blocks.scores(start, stop);
      for (let i = start; i < stop; i++) {
        const off = (i - start) * n;
        let hi = -Infinity; // rows whose approximate distance^2 exceeds every dj + delta count for none
        for (let c = 0; c < k; c++) {
          dj[c] = squaredDistance(x, i, x, nn.indices[i * k + c]);
          hi = Math.max(hi, dj[c] + delta[i]);
        }
        const q2 = qNorm2[i];
        const di = delta[i];
        // rank(i, j) - 1 = number of rows l (not i, j) before j: closer, or as close with a lower index.
        before.fill(0);
        for (let l = 0; l < n; l++) {
          const approx = q2 - 2 * g[off + l] + bias[l];
          if (approx > hi || l === i) continue;
          let exact = -1;
          for (let c = 0; c < k; c++) {
            const j = nn.indices[i * k + c];
            if (l === j) continue;
            if (approx < dj[c] - di) before[c]++;
            else if (approx <= dj[c] + di) {
              if (exact < 0) exact = squaredDistance(x, i, x, l);
              if (exact < dj[c] || (exact === dj[c] && l < j)) before[c]++;
            }
          }
        }
        for (let c = 0; c < k; c++) if (before[c] + 1 > k) t += before[c] + 1 - k;
      }
    }
  } finally {
    blocks.dispose();
  }
  return 1 - (t * 2) / (n * k * (2 * n - 3 * k - 1));
}
