/**
 * Clustering of representations and the agreement between two clusterings: k-means (Lloyd's
 * algorithm with greedy k-means++ seeding, as scikit-learn's `KMeans`), normalized spectral
 * clustering (Ng, Jordan & Weiss 2002) on a precomputed affinity, mutual information and the
 * adjusted mutual information (Vinh, Epps & Bailey 2010; scikit-learn's
 * `adjusted_mutual_info_score`), with the log-gamma function that its expected mutual information
 * needs; Gaussian mixtures by EM (scikit-learn's `GaussianMixture`), DBSCAN (scikit-learn's
 * `DBSCAN`, same labels) and the adjusted Rand index (scikit-learn's `adjusted_rand_score`).
 *
 * Why hand-written: the npm k-means packages (ml-kmeans, skmeans) draw their seeding from their
 * own generators or Math.random, not from nestlab's one seeded `Rng`, and accumulate in whatever
 * the input is; none offers spectral clustering on an affinity matrix, and no npm package computes
 * the expected mutual information under the hypergeometric model. Each piece here is a page of a
 * textbook algorithm on Float64 typed arrays, checked against scikit-learn in
 * test/similarity/cluster.test.ts; a dependency would not save code and would cost determinism.
 * The same holds for the mixture, DBSCAN and ARI: the MNIST-Nd benchmark compares them with
 * scikit-learn's, so they follow its conventions (k-means start, reg_covar, BIC, the numbering of
 * DBSCAN's clusters and border points), which a generic package does not promise.
 */
import { checkMemory, resolveMemoryBudget } from '../backend/memory.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, NestlabComputationError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { cholesky, topSymmetricEigen } from '../math/linalg.js';
import { logGamma } from '../math/special.js';

/** Options of {@link kMeans}. */
export interface KMeansOptions {
  /** Seed of the k-means++ seeding (default 0); the same seed gives the same clustering. */
  seed?: number;
  /** Independent k-means++ + Lloyd runs; the one with the lowest inertia is kept. Default 4. */
  restarts?: number;
  /** Lloyd iterations per run at most (each an update and an assignment). Default 300. */
  maxIterations?: number;
}

/** A k-means clustering. */
export interface KMeansResult {
  /** Cluster of each row, in [0, k). */
  labels: Int32Array;
  /** k x d row-major: the cluster centers (the means of their rows at convergence). */
  centers: Float64Array;
  /** Sum over rows of the squared Euclidean distance to their center (scikit-learn's `inertia_`). */
  inertia: number;
}

/** Squared Euclidean distance between row i of `x` and row j of `c` (both d columns, Float64). */
function squaredDistance(x: Float64Array, i: number, c: Float64Array, j: number, d: number): number {
  let s = 0;
  const oi = i * d;
  const oj = j * d;
  for (let t = 0; t < d; t++) {
    const u = x[oi + t] - c[oj + t];
    s += u * u;
  }
  return s;
}

/**
 * Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with scikit-learn's greedy variant of
 * `_kmeans_plusplus`): the first center is a uniform row; each next one is the best, by the
 * resulting potential, of 2 + floor(ln k) rows drawn with probability proportional to the squared
 * distance to the nearest center so far.
 */
function kMeansPlusPlus(x: Float64Array, n: number, d: number, k: number, rng: Rng): Float64Array {
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(n);
  centers.set(x.subarray(first * d, (first + 1) * d), 0);
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = squaredDistance(x, i, centers, 0, d);
    potential += closest[i];
  }
  const cumulative = new Float64Array(n);
  const candidate = new Float64Array(n);
  const best = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) cumulative[i] = acc += closest[i];
    let bestId = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      // searchsorted(cumulative, r, 'left'): the first row whose cumulative weight reaches r.
      const r = rng.uniform() * potential;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] < r) lo = mid + 1;
        else hi = mid;
      }
      let pot = 0;
      for (let i = 0; i < n; i++) {
        const s = Math.min(closest[i], squaredDistance(x, i, x, lo, d));
        candidate[i] = s;
        pot += s;
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestId = lo;
        best.set(candidate);
      }
    }
    centers.set(x.subarray(bestId * d, (bestId + 1) * d), c * d);
    closest.set(best);
    potential = bestPotential;
  }
  return centers;
}

/**
 * Assigns every row to its nearest center; returns whether a label changed and the inertia. Ties
 * keep the row's current cluster (else go to the lower index), so that equal centers (duplicate
 * rows, re-seeded clusters) are a fixed point instead of an oscillation.
 */
function assign(x: Float64Array, n: number, d: number, centers: Float64Array, k: number, labels: Int32Array, dist: Float64Array): { changed: boolean; inertia: number } {
  let changed = false;
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const current = labels[i];
    let bestC = current >= 0 ? current : 0;
    let bestD = squaredDistance(x, i, centers, bestC, d);
    for (let c = 0; c < k; c++) {
      if (c === bestC) continue;
      const s = squaredDistance(x, i, centers, c, d);
      if (s < bestD || (s === bestD && c < bestC && bestC !== current)) {
        bestD = s;
        bestC = c;
      }
    }
    if (labels[i] !== bestC) {
      labels[i] = bestC;
      changed = true;
    }
    dist[i] = bestD;
    inertia += bestD;
  }
  return { changed, inertia };
}

/**
 * Moves every center to the mean of its rows (Float64 sums). An empty cluster is re-seeded with
 * the row farthest from its own center among clusters of two or more rows (scikit-learn's
 * `_relocate_empty_clusters`); that row changes cluster, so the labels stay consistent.
 */
function update(x: Float64Array, n: number, d: number, centers: Float64Array, k: number, labels: Int32Array, dist: Float64Array): void {
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    for (let t = 0; t < d; t++) sums[c * d + t] += x[i * d + t];
  }
  let empty = 0;
  for (let c = 0; c < k; c++) if (counts[c] === 0) empty++;
  if (empty > 0) {
    // Rows by decreasing distance to their center (ties: lower index); n >= k guarantees a donor.
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => dist[b] - dist[a] || a - b);
    let next = 0;
    for (let c = 0; c < k; c++) {
      if (counts[c] !== 0) continue;
      while (counts[labels[order[next]]] < 2) next++;
      const i = order[next++];
      const old = labels[i];
      counts[old]--;
      for (let t = 0; t < d; t++) sums[old * d + t] -= x[i * d + t];
      labels[i] = c;
      counts[c] = 1;
      for (let t = 0; t < d; t++) sums[c * d + t] = x[i * d + t];
      dist[i] = 0;
    }
  }
  for (let c = 0; c < k; c++) for (let t = 0; t < d; t++) centers[c * d + t] = sums[c * d + t] / counts[c];
}

/** k-means on validated Float64 rows (n x d, n >= k): the best of `restarts` seeded runs. */
function kMeansRows(x: Float64Array, n: number, d: number, k: number, seed: number, restarts: number, maxIterations: number): KMeansResult {
  const rng = new Rng(seed);
  let best: KMeansResult | null = null;
  for (let r = 0; r < restarts; r++) {
    const centers = kMeansPlusPlus(x, n, d, k, rng);
    const labels = new Int32Array(n).fill(-1);
    const dist = new Float64Array(n);
    let { inertia } = assign(x, n, d, centers, k, labels, dist);
    for (let it = 0; it < maxIterations; it++) {
      update(x, n, d, centers, k, labels, dist);
      const step = assign(x, n, d, centers, k, labels, dist);
      inertia = step.inertia;
      if (!step.changed) break;
    }
    if (best === null || inertia < best.inertia) best = { labels, centers, inertia };
  }
  return best!;
}

/**
 * k-means clustering of the rows of `x`: Lloyd's algorithm (assign each row to its nearest
 * center, move each center to the mean of its rows, until no label changes or `maxIterations`)
 * from greedy k-means++ seeding (Arthur & Vassilvitskii 2007; scikit-learn's default `init`),
 * the best of `options.restarts` runs by inertia Σ_i ||x_i − c_{label(i)}||². Sums in Float64; an
 * empty cluster is re-seeded with the row farthest from its center; a row tied between centers
 * stays where it is (else goes to the lower index). Deterministic for a seed.
 * Cost: restarts × iterations × n k d. Same inertia as scikit-learn's `KMeans(n_clusters=k)` when
 * both find the same optimum (test/similarity/cluster.test.ts).
 *
 * @throws NestlabArgumentError when x is not a finite Matrix, k is not in [1, n], or an option is out of range.
 *
 * @example const { labels, centers, inertia } = similarity.kMeans(x, 5, { seed: 0, restarts: 4 })
 */
export function kMeans(x: Matrix, k: number, options: KMeansOptions = {}, where = 'similarity.kMeans'): KMeansResult {
  checkKnownKeys(where, options, ['seed', 'restarts', 'maxIterations']);
  const m = checkMatrix(where, 'x', x, 1, 1);
  checkInt(where, 'k', k, 1, m.rows);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53);
  const restarts = checkInt(where, 'options.restarts', options.restarts ?? 4, 1);
  const maxIterations = checkInt(where, 'options.maxIterations', options.maxIterations ?? 300, 1);
  return kMeansRows(Float64Array.from(m.data), m.rows, m.cols, k, seed, restarts, maxIterations);
}

/** Options of {@link spectralClustering}. */
export interface SpectralClusteringOptions {
  /** Seed of the k-means step on the spectral embedding (default 0). */
  seed?: number;
}

/**
 * Normalized spectral clustering (Ng, Jordan & Weiss, "On spectral clustering", NIPS 2002) of n
 * items from a symmetric nonnegative affinity A (n x n row-major; the diagonal is ignored, as if
 * 0): L = D^{-1/2} A D^{-1/2} with D_ii = Σ_j A_ij, the eigenvectors of its k largest eigenvalues
 * as the columns of an n x k matrix, its rows scaled to unit length, then {@link kMeans} (4
 * seeded restarts) on those rows. An item with zero degree (no affinity to any other) has
 * D^{-1/2} taken as 0 rather than 1/0: its spectral row is the zero vector, left unnormalized,
 * and k-means puts it in the cluster whose center is nearest the origin (no NaN). The top k
 * eigenvectors come from `topSymmetricEigen` (Lanczos above 300 items: about a second for 2,048
 * items and k = 10, where the full O(n³) eigensolve takes 100 s). Agrees with scikit-learn's
 * `SpectralClustering(affinity='precomputed', assign_labels='kmeans')` on clear cases (that one
 * embeds with D^{-1/2} times the Laplacian eigenvectors, without NJW's row normalization).
 *
 * @throws NestlabArgumentError when affinity is not n x n, finite, nonnegative and symmetric, or k is not in [1, n].
 *
 * @example const labels = similarity.spectralClustering(affinity, n, 3, { seed: 0 })
 */
export function spectralClustering(affinity: Float64Array, n: number, k: number, options: SpectralClusteringOptions = {}, where = 'similarity.spectralClustering'): Int32Array {
  checkKnownKeys(where, options, ['seed']);
  checkInt(where, 'n', n, 1);
  if (!(affinity instanceof Float64Array) || affinity.length !== n * n) {
    throw new NestlabArgumentError(where, 'affinity', `a Float64Array of n * n = ${n * n} entries (row-major n x n)`, affinity);
  }
  checkInt(where, 'k', k, 1, n);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53);
  let scale = 0;
  for (let i = 0; i < n * n; i++) {
    const v = affinity[i];
    if (!Number.isFinite(v) || v < 0) throw new NestlabArgumentError(where, `affinity[${i}]`, 'a finite nonnegative number', v);
    if (v > scale) scale = v;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(affinity[i * n + j] - affinity[j * n + i]) > 1e-12 * scale) {
        throw new NestlabArgumentError(where, 'affinity', `a symmetric matrix (entry (${i}, ${j}) equal to entry (${j}, ${i}))`, `${affinity[i * n + j]} vs ${affinity[j * n + i]}`);
      }
    }
  }
  // D^{-1/2} A D^{-1/2} with a zero diagonal; a zero-degree item gets D^{-1/2} = 0.
  const invSqrt = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let deg = 0;
    for (let j = 0; j < n; j++) if (j !== i) deg += affinity[i * n + j];
    invSqrt[i] = deg > 0 ? 1 / Math.sqrt(deg) : 0;
  }
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      // Symmetrized so that the eigensolver sees an exactly symmetric matrix.
      if (j !== i) l[i * n + j] = 0.5 * (affinity[i * n + j] + affinity[j * n + i]) * invSqrt[i] * invSqrt[j];
    }
  }
  const { vectors } = topSymmetricEigen(l, n, k);
  const y = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let c = 0; c < k; c++) norm += vectors[i * k + c] ** 2;
    norm = Math.sqrt(norm);
    // A zero row (a zero-degree item) stays at the origin instead of becoming NaN.
    for (let c = 0; c < k; c++) y[i * k + c] = norm > 0 ? vectors[i * k + c] / norm : 0;
  }
  return kMeansRows(y, n, k, k, seed, 4, 300).labels;
}

/** The contingency table of two labelings: class sizes a (rows), cluster sizes b (columns), nonzero cells. */
interface Contingency {
  n: number;
  a: number[];
  b: number[];
  /** Nonzero cells as [row, column, count]. */
  cells: [number, number, number][];
}

function contingency(a: Int32Array, b: Int32Array, where: string): Contingency {
  if (!(a instanceof Int32Array) || a.length === 0) throw new NestlabArgumentError(where, 'a', 'a nonempty Int32Array of labels', a);
  if (!(b instanceof Int32Array) || b.length !== a.length) {
    throw new NestlabArgumentError(where, 'b', `an Int32Array of ${a.length} labels (one per item, like a)`, b);
  }
  const n = a.length;
  // Labels are any integers; rows and columns follow their sorted values, as np.unique does.
  const index = (labels: Int32Array): { ids: Int32Array; count: number } => {
    const values = Array.from(new Set(labels)).sort((u, v) => u - v);
    const map = new Map(values.map((v, i) => [v, i]));
    return { ids: Int32Array.from(labels, (v) => map.get(v)!), count: values.length };
  };
  const ra = index(a);
  const rb = index(b);
  const sa = new Array<number>(ra.count).fill(0);
  const sb = new Array<number>(rb.count).fill(0);
  const table = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    sa[ra.ids[i]]++;
    sb[rb.ids[i]]++;
    const key = ra.ids[i] * rb.count + rb.ids[i];
    table.set(key, (table.get(key) ?? 0) + 1);
  }
  const cells: [number, number, number][] = [];
  for (const [key, count] of table) cells.push([Math.floor(key / rb.count), key % rb.count, count]);
  cells.sort((u, v) => u[0] - v[0] || u[1] - v[1]);
  return { n, a: sa, b: sb, cells };
}

/** MI in nats from a contingency table (scikit-learn's `mutual_info_score`, clipped at 0). */
function contingencyMi(t: Contingency): number {
  if (t.a.length === 1 || t.b.length === 1) return 0;
  const logN = Math.log(t.n);
  let mi = 0;
  for (const [i, j, nij] of t.cells) {
    const term = (nij / t.n) * (Math.log(nij) - logN) + (nij / t.n) * (-Math.log(t.a[i] * t.b[j]) + 2 * logN);
    if (Math.abs(term) >= Number.EPSILON) mi += term;
  }
  return Math.max(0, mi);
}

/** Entropy in nats of a labeling given its cluster sizes (0 for a single cluster). */
function labelEntropy(sizes: number[], n: number): number {
  if (sizes.length === 1) return 0;
  const logN = Math.log(n);
  let h = 0;
  for (const s of sizes) h -= (s / n) * (Math.log(s) - logN);
  return h;
}

/**
 * Expected mutual information of two labelings with the given cluster sizes when one is a
 * uniformly random permutation of the other (the hypergeometric model of Vinh, Epps & Bailey 2010,
 * eq. 24a), summed as scikit-learn's `_expected_mutual_info_fast` does:
 * Σ_ij Σ_{nij = max(1, a_i + b_j − N)}^{min(a_i, b_j)} (nij/N) ln(N nij / (a_i b_j)) ·
 * a_i! b_j! (N − a_i)! (N − b_j)! / (N! nij! (a_i − nij)! (b_j − nij)! (N − a_i − b_j + nij)!).
 */
function expectedMutualInformation(t: Contingency): number {
  const { n, a, b } = t;
  if (a.length === 1 || b.length === 1) return 0;
  const logFactorial = new Float64Array(n + 1);
  for (let m = 0; m <= n; m++) logFactorial[m] = logGamma(m + 1);
  const logN = Math.log(n);
  let emi = 0;
  for (const ai of a) {
    for (const bj of b) {
      const start = Math.max(1, ai + bj - n);
      const end = Math.min(ai, bj);
      const fixed = logFactorial[ai] + logFactorial[bj] + logFactorial[n - ai] + logFactorial[n - bj] - logFactorial[n];
      const logAB = Math.log(ai) + Math.log(bj);
      for (let nij = start; nij <= end; nij++) {
        const term2 = logN + Math.log(nij) - logAB;
        const gln = fixed - logFactorial[nij] - logFactorial[ai - nij] - logFactorial[bj - nij] - logFactorial[n - ai - bj + nij];
        emi += (nij / n) * term2 * Math.exp(gln);
      }
    }
  }
  return emi;
}

/**
 * Mutual information of two labelings of the same items, in nats:
 * MI = Σ_ij (n_ij / N) ln(N n_ij / (a_i b_j)) over the contingency table n_ij with row sums a_i and
 * column sums b_j; 0 when either labeling has a single cluster. Labels are any integers (only
 * which items share a label matters). Same value as scikit-learn's `mutual_info_score`.
 *
 * @throws NestlabArgumentError when a is not a nonempty Int32Array or b not one of the same length.
 *
 * @example const mi = similarity.mutualInformation(labels, classes) // nats; ln 2 for two equal balanced halves
 */
export function mutualInformation(a: Int32Array, b: Int32Array): number {
  return contingencyMi(contingency(a, b, 'similarity.mutualInformation'));
}

/**
 * Adjusted mutual information (Vinh, Epps & Bailey, JMLR 2010) with the arithmetic mean, exactly
 * scikit-learn's `adjusted_mutual_info_score(a, b, average_method='arithmetic')`:
 * AMI = (MI − E[MI]) / (½ (H(a) + H(b)) − E[MI]), with E[MI] the expected mutual information under
 * the hypergeometric (permutation) model and the denominator kept at least machine epsilon in
 * magnitude, sign preserved. Special cases as scikit-learn: both labelings a single cluster -> 1;
 * also, two labelings that are the same partition (equal up to renaming) -> exactly 1 (scikit-learn
 * gets 1 up to rounding there). About 0 for independent labelings, negative when worse than chance.
 * Cost: Σ_ij min(a_i, b_j) terms, at most N · min(#a, #b).
 *
 * @throws NestlabArgumentError when a is not a nonempty Int32Array or b not one of the same length.
 *
 * @example const ami = similarity.adjustedMutualInformation(kMeansLabels, trueClasses) // 1 for the same partition, ~0 by chance
 */
export function adjustedMutualInformation(a: Int32Array, b: Int32Array, where = 'similarity.adjustedMutualInformation'): number {
  const t = contingency(a, b, where);
  if (t.a.length === 1 && t.b.length === 1) return 1;
  // The same partition: every nonzero cell is a whole row and a whole column.
  if (t.a.length === t.b.length && t.cells.length === t.a.length && t.cells.every(([i, j, c]) => c === t.a[i] && c === t.b[j])) return 1;
  const mi = contingencyMi(t);
  const emi = expectedMutualInformation(t);
  const normalizer = 0.5 * (labelEntropy(t.a, t.n) + labelEntropy(t.b, t.n));
  let denominator = normalizer - emi;
  // scikit-learn: EMI can exceed the normalizer by rounding; keep the sign, avoid 0 / 0.
  denominator = denominator < 0 ? Math.min(denominator, -Number.EPSILON) : Math.max(denominator, Number.EPSILON);
  return (mi - emi) / denominator;
}

/** The covariance models of {@link gaussianMixture} (scikit-learn's `covariance_type` names). */
export type CovarianceType = 'full' | 'diag';

/** Options of {@link gaussianMixture}; the defaults are scikit-learn's `GaussianMixture`'s. */
export interface GaussianMixtureOptions {
  /** 'full' (default): one d x d covariance per component; 'diag': one variance per component and column. */
  covarianceType?: CovarianceType;
  /** Added to every covariance's diagonal, so that it stays positive definite (default 1e-6, sklearn's `reg_covar`). */
  regCovar?: number;
  /** EM stops when the mean log-likelihood per row changes by less than this (default 1e-3, sklearn's `tol`). */
  tol?: number;
  /** EM iterations per start at most (default 100, sklearn's `max_iter`). */
  maxIterations?: number;
  /** Independent starts (sklearn's `n_init`, default 1); the one with the highest final log-likelihood bound is kept. */
  restarts?: number;
  /** Seed of the k-means starts (default 0): the first start is {@link kMeans}(x, k, { seed, restarts: 1 })'s labels. */
  seed?: number;
  /** Bytes the call may use, checked against its estimate before it starts (docs/methods/compute.md §3b). */
  memoryBudget?: number;
}

/** A Gaussian mixture fitted by EM. */
export interface GaussianMixtureResult {
  /** Component of each row, in [0, k): its largest responsibility (sklearn's `predict`). */
  labels: Int32Array;
  /** The k mixing weights (they sum to 1). */
  weights: Float64Array;
  /** k x d row-major: the component means. */
  means: Float64Array;
  /** 'full': k x d x d row-major covariances; 'diag': k x d variances (both with `regCovar` added). */
  covariances: Float64Array;
  /** The covariance model that was fitted. */
  covarianceType: CovarianceType;
  /** Mean log-likelihood per row (nats) under the fitted mixture: scikit-learn's `score(X)`. */
  logLikelihood: number;
  /** Bayesian information criterion −2 n logLikelihood + p ln n, p the free parameters (sklearn's `bic`). */
  bic: number;
  /** Whether the kept start stopped by `tol` rather than by `maxIterations`. */
  converged: boolean;
  /** EM iterations of the kept start (sklearn's `n_iter_`). */
  iterations: number;
}

/** Parameters of a mixture and the factors its E-step needs. */
interface MixtureParams {
  weights: Float64Array;
  means: Float64Array;
  covariances: Float64Array;
  /** 'full': upper Cholesky factors R (Σ = RᵀR), k x d x d; 'diag': standard deviations, k x d. */
  factors: Float64Array;
  /** ln det Σ_c^{-1/2} = −Σ_t ln R_c[t, t] per component. */
  halfLogDetPrecision: Float64Array;
}

/**
 * M-step (scikit-learn's `_estimate_gaussian_parameters`): n_c = Σ_i r_ic + 10 eps, μ_c = Σ_i r_ic x_i / n_c,
 * Σ_c = Σ_i r_ic (x_i − μ_c)(x_i − μ_c)ᵀ / n_c + regCovar I (or its diagonal), w_c = n_c / Σ_c' n_c'.
 * `resp` is n x k probabilities. Throws a NestlabComputationError when a covariance is not positive definite.
 */
function mixtureMStep(x: Float64Array, n: number, d: number, k: number, resp: Float64Array, type: CovarianceType, regCovar: number, where: string): MixtureParams {
  const nk = new Float64Array(k).fill(10 * Number.EPSILON);
  const means = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const r = resp[i * k + c];
      if (r === 0) continue;
      nk[c] += r;
      for (let t = 0; t < d; t++) means[c * d + t] += r * x[i * d + t];
    }
  }
  let total = 0;
  for (let c = 0; c < k; c++) total += nk[c];
  const weights = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    weights[c] = nk[c] / total;
    for (let t = 0; t < d; t++) means[c * d + t] /= nk[c];
  }
  const full = type === 'full';
  const covariances = new Float64Array(full ? k * d * d : k * d);
  const factors = new Float64Array(covariances.length);
  const halfLogDetPrecision = new Float64Array(k);
  const diff = new Float64Array(d);
  for (let c = 0; c < k; c++) {
    const mu = means.subarray(c * d, (c + 1) * d);
    if (full) {
      const cov = covariances.subarray(c * d * d, (c + 1) * d * d);
      for (let i = 0; i < n; i++) {
        const r = resp[i * k + c];
        if (r === 0) continue;
        for (let t = 0; t < d; t++) diff[t] = x[i * d + t] - mu[t];
        for (let s = 0; s < d; s++) {
          const rs = r * diff[s];
          for (let t = s; t < d; t++) cov[s * d + t] += rs * diff[t];
        }
      }
      for (let s = 0; s < d; s++) {
        for (let t = s; t < d; t++) cov[t * d + s] = cov[s * d + t] /= nk[c];
        cov[s * d + s] += regCovar;
      }
      let factor: Float64Array;
      try {
        factor = cholesky(cov, d, where);
      } catch {
        throw new NestlabComputationError(where, `the covariance of component ${c} is not positive definite (a component collapsed onto too few rows or a subspace); raise options.regCovar, lower k, or use covarianceType 'diag'`);
      }
      factors.set(factor, c * d * d);
      let h = 0;
      for (let t = 0; t < d; t++) h -= Math.log(factor[t * d + t]);
      halfLogDetPrecision[c] = h;
    } else {
      const cov = covariances.subarray(c * d, (c + 1) * d);
      for (let i = 0; i < n; i++) {
        const r = resp[i * k + c];
        if (r === 0) continue;
        for (let t = 0; t < d; t++) cov[t] += r * (x[i * d + t] - mu[t]) ** 2;
      }
      let h = 0;
      for (let t = 0; t < d; t++) {
        cov[t] = cov[t] / nk[c] + regCovar;
        if (!(cov[t] > 0)) throw new NestlabComputationError(where, `the variance of column ${t} in component ${c} is not positive; raise options.regCovar`);
        factors[c * d + t] = Math.sqrt(cov[t]);
        h -= Math.log(factors[c * d + t]);
      }
      halfLogDetPrecision[c] = h;
    }
  }
  return { weights, means, covariances, factors, halfLogDetPrecision };
}

/**
 * E-step: ln(w_c N(x_i | μ_c, Σ_c)) = ln w_c − ½ (d ln 2π + ||R_c^{-T}(x_i − μ_c)||²) − Σ_t ln R_c[t, t],
 * normalized per row by log-sum-exp into ln r_ic (written to `logResp`, n x k). Returns the mean over
 * rows of the log-sum-exp: the mean log-likelihood (sklearn's `score`).
 */
function mixtureEStep(x: Float64Array, n: number, d: number, k: number, p: MixtureParams, type: CovarianceType, logResp: Float64Array): number {
  const constant = d * Math.log(2 * Math.PI);
  const logW = Float64Array.from(p.weights, Math.log);
  const z = new Float64Array(d);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      let maha = 0;
      if (type === 'full') {
        // Forward substitution Rᵀ z = x − μ (Rᵀ lower triangular: (Rᵀ)[t, s] = R[s, t]).
        const off = c * d * d;
        for (let t = 0; t < d; t++) {
          let s = x[i * d + t] - p.means[c * d + t];
          for (let u = 0; u < t; u++) s -= p.factors[off + u * d + t] * z[u];
          z[t] = s / p.factors[off + t * d + t];
          maha += z[t] * z[t];
        }
      } else {
        for (let t = 0; t < d; t++) maha += ((x[i * d + t] - p.means[c * d + t]) / p.factors[c * d + t]) ** 2;
      }
      const v = logW[c] - 0.5 * (constant + maha) + p.halfLogDetPrecision[c];
      logResp[i * k + c] = v;
      if (v > max) max = v;
    }
    let acc = 0;
    for (let c = 0; c < k; c++) acc += Math.exp(logResp[i * k + c] - max);
    const lse = max + Math.log(acc);
    for (let c = 0; c < k; c++) logResp[i * k + c] -= lse;
    sum += lse;
  }
  return sum / n;
}

/** Peak bytes of {@link gaussianMixture}: the Float64 rows, responsibilities and log-responsibilities, two parameter sets. */
export function gaussianMixtureMemoryEstimate(n: number, d: number, k: number, type: CovarianceType): number {
  const perComponent = type === 'full' ? d * d : d;
  return 8 * (n * d + 2 * n * k + 2 * k * (d + 2 * perComponent + 2)) + 4 * 2 * n;
}

/**
 * Gaussian mixture model fitted by expectation–maximization (Dempster, Laird & Rubin 1977; Bishop,
 * "Pattern Recognition and Machine Learning" §9.2), as scikit-learn's `GaussianMixture` with
 * `init_params='kmeans'`: each start takes the one-hot labels of a seeded {@link kMeans} run as its
 * responsibilities and does an M-step; then EM alternates E (r_ic ∝ w_c N(x_i | μ_c, Σ_c), by
 * log-sum-exp over Cholesky factors of Σ_c) and M (weights, means and covariances of the weighted
 * rows, `regCovar` added to each diagonal) until the mean log-likelihood per row changes by less
 * than `tol`. Of `restarts` starts the one with the highest last bound is kept. Float64 throughout.
 * `bic` = −2 n ℓ + p ln n with p = k d (means) + k − 1 (weights) + k d (d + 1)/2 ('full') or k d ('diag').
 * Cost: restarts × iterations × n k d² ('full') or n k d ('diag'). Same fit quality as scikit-learn
 * 1.2.1 (mean log-likelihood to 1e-3 relative, same partition; test/similarity/cluster.test.ts);
 * docs/methods/similarity.md §17.
 *
 * @throws NestlabArgumentError when x is not a finite Matrix of at least 2 rows, k is not in [1, n], an option is out of range, or the estimated memory exceeds the budget.
 * @throws NestlabComputationError when a covariance stops being positive definite (raise regCovar).
 *
 * @example const { labels, logLikelihood, bic } = similarity.gaussianMixture(x, 10, { covarianceType: 'diag', seed: 0 })
 */
export function gaussianMixture(x: Matrix, k: number, options: GaussianMixtureOptions = {}, where = 'similarity.gaussianMixture'): GaussianMixtureResult {
  checkKnownKeys(where, options, ['covarianceType', 'regCovar', 'tol', 'maxIterations', 'restarts', 'seed', 'memoryBudget']);
  const m = checkMatrix(where, 'x', x, 2, 1);
  const n = m.rows;
  const d = m.cols;
  checkInt(where, 'k', k, 1, n);
  const type = checkOneOf(where, 'options.covarianceType', options.covarianceType ?? 'full', ['full', 'diag'] as const);
  const regCovar = checkNumber(where, 'options.regCovar', options.regCovar ?? 1e-6, 0);
  const tol = checkNumber(where, 'options.tol', options.tol ?? 1e-3, 0);
  const maxIterations = checkInt(where, 'options.maxIterations', options.maxIterations ?? 100, 1);
  const restarts = checkInt(where, 'options.restarts', options.restarts ?? 1, 1);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  checkMemory(where, gaussianMixtureMemoryEstimate(n, d, k, type), budget, 'the number of rows, columns or components', `for n = ${n} rows, d = ${d} columns, k = ${k} components`);

  const xs = Float64Array.from(m.data);
  const logResp = new Float64Array(n * k);
  const resp = new Float64Array(n * k);
  // Start r > 0 draws its k-means seed from this stream (as sklearn's starts share one RandomState).
  const seeds = new Rng(seed);
  let best: { params: MixtureParams; bound: number; converged: boolean; iterations: number } | null = null;
  for (let r = 0; r < restarts; r++) {
    const start = kMeansRows(xs, n, d, k, r === 0 ? seed : seeds.nextUint32(), 1, 300).labels;
    resp.fill(0);
    for (let i = 0; i < n; i++) resp[i * k + start[i]] = 1;
    let params = mixtureMStep(xs, n, d, k, resp, type, regCovar, where);
    let bound = -Infinity;
    let converged = false;
    let iterations = 0;
    for (let it = 1; it <= maxIterations; it++) {
      const previous = bound;
      bound = mixtureEStep(xs, n, d, k, params, type, logResp);
      for (let i = 0; i < n * k; i++) resp[i] = Math.exp(logResp[i]);
      params = mixtureMStep(xs, n, d, k, resp, type, regCovar, where);
      iterations = it;
      if (Math.abs(bound - previous) < tol) {
        converged = true;
        break;
      }
    }
    if (best === null || bound > best.bound) best = { params, bound, converged, iterations };
  }
  const { params, converged, iterations } = best!;
  // A last E-step with the kept parameters: labels and score agree with them (sklearn's predict, score).
  const logLikelihood = mixtureEStep(xs, n, d, k, params, type, logResp);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let arg = 0;
    for (let c = 1; c < k; c++) if (logResp[i * k + c] > logResp[i * k + arg]) arg = c;
    labels[i] = arg;
  }
  const parameters = k * d + k - 1 + (type === 'full' ? (k * d * (d + 1)) / 2 : k * d);
  return {
    labels,
    weights: params.weights,
    means: params.means,
    covariances: params.covariances,
    covarianceType: type,
    logLikelihood,
    bic: -2 * logLikelihood * n + parameters * Math.log(n),
    converged,
    iterations,
  };
}

/** Options of {@link dbscan}. */
export interface DbscanOptions {
  /** Neighborhood radius: rows at Euclidean distance ≤ eps are neighbors (sklearn's `eps`; > 0, required). */
  eps: number;
  /** Neighbors, the row itself included, that make a row a core point (sklearn's `min_samples`, default 5). */
  minPoints?: number;
}

/**
 * Whether ||x_i − x_j||² ≤ eps², stopping as soon as the partial sum exceeds eps²: a sum of
 * nonnegative terms never decreases in floating point, so the answer is that of the full sum.
 */
function within(x: Float64Array, i: number, j: number, d: number, eps2: number): boolean {
  let s = 0;
  const oi = i * d;
  const oj = j * d;
  for (let t = 0; t < d; t++) {
    const u = x[oi + t] - x[oj + t];
    s += u * u;
    if (s > eps2) return false;
  }
  return true;
}

/** Rows j with ||x_i − x_j||² ≤ eps², in increasing order, written to `out`; returns how many. */
function neighborsWithin(x: Float64Array, n: number, d: number, i: number, eps2: number, out: Int32Array): number {
  let count = 0;
  for (let j = 0; j < n; j++) if (within(x, i, j, d, eps2)) out[count++] = j;
  return count;
}

/**
 * DBSCAN (Ester, Kriegel, Sander & Xu, KDD 1996), labeled exactly as scikit-learn's `DBSCAN`
 * (`dbscan_inner`): a row is a core point when at least `minPoints` rows (itself included) lie
 * within Euclidean distance `eps`; clusters are the connected components of core points under that
 * neighborhood, each with the non-core rows within eps of its core points (border points); every
 * other row is noise, −1. Clusters are numbered 0, 1, ... in the order of their lowest-index core
 * point, and a border point near several clusters joins the lowest-numbered one (the first to reach
 * it). Distances in Float64 from the Float32 rows, compared as squared distance ≤ eps².
 * Memory O(n d): neighborhoods are recomputed, not stored. Cost: n² / 2 pairs to count neighbors,
 * then a scan of all rows from each core point, each distance at most d terms (a sum stops once it
 * passes eps²): about 3 s for n = 20,000 rows in 10 clusters, d = 16.
 *
 * @throws NestlabArgumentError when x is not a finite Matrix, eps is not a finite number > 0, or minPoints is not an integer ≥ 1.
 *
 * @example const labels = similarity.dbscan(x, { eps: 0.5, minPoints: 5 }) // -1 for noise
 */
export function dbscan(x: Matrix, options: DbscanOptions, where = 'similarity.dbscan'): Int32Array {
  if (options === undefined || options === null || typeof options !== 'object') throw new NestlabArgumentError(where, 'options', 'an object with options.eps', options);
  checkKnownKeys(where, options, ['eps', 'minPoints']);
  const m = checkMatrix(where, 'x', x, 1, 1);
  const eps = options.eps;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || !(eps > 0)) throw new NestlabArgumentError(where, 'options.eps', 'a finite number > 0', eps);
  const minPoints = checkInt(where, 'options.minPoints', options.minPoints ?? 5, 1);
  const n = m.rows;
  const d = m.cols;
  const xs = Float64Array.from(m.data);
  const eps2 = eps * eps;
  // Neighbor counts, the row itself included, from the n(n − 1)/2 pairs.
  const counts = new Int32Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (within(xs, i, j, d, eps2)) {
        counts[i]++;
        counts[j]++;
      }
    }
  }
  const labels = new Int32Array(n).fill(-1);
  const neighbors = new Int32Array(n);
  const stack = new Int32Array(n);
  let cluster = 0;
  for (let s = 0; s < n; s++) {
    if (labels[s] !== -1 || counts[s] < minPoints) continue;
    // Depth-first from core point s: label every reached row, expand only core points.
    labels[s] = cluster;
    let top = 0;
    stack[top++] = s;
    while (top > 0) {
      const i = stack[--top];
      const count = neighborsWithin(xs, n, d, i, eps2, neighbors);
      for (let t = 0; t < count; t++) {
        const j = neighbors[t];
        if (labels[j] !== -1) continue;
        labels[j] = cluster;
        if (counts[j] >= minPoints) stack[top++] = j;
      }
    }
    cluster++;
  }
  return labels;
}

/**
 * Adjusted Rand index (Hubert & Arabie, J. Classification 1985) of two labelings of the same
 * items, exactly scikit-learn's `adjusted_rand_score`: from the pair confusion counts over ordered
 * pairs of distinct items, tp = Σ_ij n_ij² − N, fp = Σ_j b_j² − Σ_ij n_ij², fn = Σ_i a_i² − Σ_ij n_ij²,
 * tn = N² − tp − fp − fn − N, ARI = 2 (tp·tn − fn·fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)),
 * and 1 when fn = fp = 0 (the same partition, including both a single cluster or both all
 * singletons). Counts in exact BigInt arithmetic, so no overflow for any N. Labels are any integers
 * (−1, DBSCAN's noise, is one more label, as in scikit-learn). 1 for the same partition, about 0
 * for independent labelings, negative when worse than chance.
 *
 * @throws NestlabArgumentError when a is not a nonempty Int32Array or b not one of the same length.
 *
 * @example const ari = similarity.adjustedRandIndex(gmm.labels, trueClasses) // 1 for the same partition, ~0 by chance
 */
export function adjustedRandIndex(a: Int32Array, b: Int32Array, where = 'similarity.adjustedRandIndex'): number {
  const t = contingency(a, b, where);
  const big = BigInt(t.n);
  let cells = 0n;
  for (const [, , c] of t.cells) cells += BigInt(c) * BigInt(c);
  let rows = 0n;
  for (const s of t.a) rows += BigInt(s) * BigInt(s);
  let cols = 0n;
  for (const s of t.b) cols += BigInt(s) * BigInt(s);
  const tp = cells - big;
  const fp = cols - cells;
  const fn = rows - cells;
  const tn = big * big - fp - fn - cells;
  if (fn === 0n && fp === 0n) return 1;
  // As Python's 2.0 * int / int: each integer rounded to the nearest double once.
  return (2 * Number(tp * tn - fn * fp)) / Number((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}
