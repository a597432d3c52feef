/**
 * Clustering of representations and the agreement between two clusterings: k-means (Lloyd's
 * algorithm with greedy k-means++ seeding, as scikit-learn's `KMeans`), normalized spectral
 * clustering (Ng, Jordan & Weiss 2002) on a precomputed affinity, mutual information and the
 * adjusted mutual information (Vinh, Epps & Bailey 2010; scikit-learn's
 * `adjusted_mutual_info_score`), with the log-gamma function that its expected mutual information
 * needs.
 *
 * Why hand-written: the npm k-means packages (ml-kmeans, skmeans) draw their seeding from their
 * own generators or Math.random, not from nestlab's one seeded `Rng`, and accumulate in whatever
 * the input is; none offers spectral clustering on an affinity matrix, and no npm package computes
 * the expected mutual information under the hypergeometric model. Each piece here is a page of a
 * textbook algorithm on Float64 typed arrays, checked against scikit-learn in
 * test/similarity/cluster.test.ts; a dependency would not save code and would cost determinism.
 */
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { topSymmetricEigen } from '../math/linalg.js';
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
