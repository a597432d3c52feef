/**
 * The geometry of an SAE's concepts at three scales (Li, Michaud, Baek, Engels, Sun & Tegmark,
 * "The Geometry of Concepts: Sparse Autoencoder Feature Structure", Entropy 2025 / arXiv
 * 2410.19750; docs/methods/concept-geometry.md):
 * - atomic: do the differences of word pairs that share a relation (singular → plural, base →
 *   past tense) point the same way, i.e. form parallelograms, and more so once the directions
 *   that vary within a relation (distractors such as word length) are projected out by LDA;
 * - brain: do latents that fire in the same contexts also sit close together in decoder space
 *   (co-occurrence clusters vs spatial clusters, against a null that shuffles the geometry);
 * - galaxy: the eigenvalue spectrum of the decoder point cloud (a power law, its slope) and how
 *   much more clustered the cloud is than a Gaussian cloud on the sphere (clustering entropy).
 * The measures take plain matrices; choosing the words, windows and latents is the caller's.
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';
import { checkMatrix, normalizeRows, selectRows, type Matrix } from '../data/matrix.js';
import { mean } from '../math/order.js';
import { covarianceSpectrum } from '../similarity/dimension.js';
import { adjustedMutualInformation, kMeans, spectralClustering } from '../similarity/cluster.js';
import { knnEntropy, ldaProjection, projectRows } from '../similarity/lda.js';
import { symmetricEigen } from '../math/linalg.js';

/** Mean of the cosine similarities of every pair of rows in `rows` of x (NaN for fewer than two rows). */
function meanPairwiseCosine(x: Matrix, rows: number[]): number {
  const d = x.cols;
  const unit = rows.map((r) => {
    const v = Float64Array.from(x.data.subarray(r * d, (r + 1) * d));
    const n = Math.hypot(...v);
    return n > 0 ? v.map((a) => a / n) : v;
  });
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < unit.length; i++) {
    for (let j = i + 1; j < unit.length; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += unit[i][c] * unit[j][c];
      sum += dot;
      pairs++;
    }
  }
  return pairs > 0 ? sum / pairs : NaN;
}

/** The rows of each relation 0 .. R − 1. */
function rowsByRelation(where: string, relation: Int32Array, n: number): number[][] {
  if (!(relation instanceof Int32Array) || relation.length !== n) throw new NestlabArgumentError(where, 'relation', `an Int32Array of ${n} relation indices (one per difference)`, relation);
  const groups: number[][] = [];
  relation.forEach((r, i) => {
    if (!(r >= 0)) throw new NestlabArgumentError(where, `relation[${i}]`, 'a non-negative relation index', r);
    (groups[r] ??= []).push(i);
  });
  return groups.map((g) => g ?? []);
}

/**
 * Parallelogram quality of word-pair differences per relation: the mean cosine similarity of
 * every two difference vectors b − a of the same relation (1: all pairs of the relation are the
 * sides of parallelograms; ~0 for unrelated directions in many dimensions). `differences` holds
 * one row per word pair; `relation[i]` is the relation of row i.
 *
 * @example const q = sae.parallelogramQuality(diffs, relation); // q[0]: how parallel the relation-0 differences are
 */
export function parallelogramQuality(differences: Matrix, relation: Int32Array): Float64Array {
  const where = 'sae.parallelogramQuality';
  const x = checkMatrix(where, 'differences', differences, 1, 1);
  return Float64Array.from(rowsByRelation(where, relation, x.rows), (rows) => meanPairwiseCosine(x, rows));
}

/** Options of {@link ldaParallelograms}. */
export interface LdaParallelogramOptions {
  /** LDA shrinkage of the within-relation covariance toward a multiple of the identity, in [0, 1] (default 0.2). */
  shrinkage?: number;
  /** Draws of the shuffled-label null (default 20). */
  nullDraws?: number;
  seed?: number;
}

/** Parallelogram quality before and after projecting out distractor directions, with the null. */
export interface LdaParallelograms {
  /** Mean over relations of the parallelogram quality in the full space. */
  before: number;
  /** The same on held-out pairs, in the LDA subspace fitted on the other pairs. */
  after: number;
  /** The mean and sd of `after` when the LDA is fitted with the relation labels shuffled. */
  nullMean: number;
  nullSd: number;
  /** Per relation: before, after. */
  perRelation: { before: number; after: number }[];
  /** Dimensions of the LDA subspace (relations − 1). */
  components: number;
}

/**
 * Li et al.'s atomic-scale test: the parallelogram quality of word-pair differences
 * ({@link parallelogramQuality}) in the full space, and after projecting the differences onto
 * the LDA subspace of the relations (signal = between-relation scatter, noise = within-relation
 * scatter, so that distractor directions drop out). Cross-fitted, so that the LDA cannot simply
 * memorize the pairs it is scored on: the pairs of each relation are split in two halves
 * (seeded), the LDA fitted on one half projects the other half's differences (uncentered, δ·Vᵀ),
 * whose parallelogram quality is scored, and the two scores are averaged. The
 * null fits the same LDA on relation labels shuffled among the fitting half's pairs.
 *
 * @example const r = sae.ldaParallelograms(diffs, relation, { seed: 0 }); // r.after > r.nullMean: LDA finds real relation directions
 */
export function ldaParallelograms(differences: Matrix, relation: Int32Array, options: LdaParallelogramOptions = {}): LdaParallelograms {
  const where = 'sae.ldaParallelograms';
  checkKnownKeys(where, options, ['shrinkage', 'nullDraws', 'seed']);
  const x = checkMatrix(where, 'differences', differences, 4, 1);
  const groups = rowsByRelation(where, relation, x.rows);
  if (groups.length < 2 || groups.some((g) => g.length < 4)) {
    throw new NestlabArgumentError(where, 'relation', 'at least two relations with at least 4 pairs each', groups.map((g) => g.length).join(', '));
  }
  const shrinkage = options.shrinkage ?? 0.2;
  if (!(shrinkage >= 0 && shrinkage <= 1)) throw new NestlabArgumentError(where, 'options.shrinkage', 'a number in [0, 1]', shrinkage);
  const nullDraws = checkInt(where, 'options.nullDraws', options.nullDraws ?? 20, 1);
  const rng = new Rng(options.seed ?? 0);
  // Two halves per relation, relation by relation, so both halves hold every relation.
  const halves: [number[], number[]] = [[], []];
  for (const g of groups) rng.permutation(g.length).forEach((p, i) => halves[i % 2].push(g[p]));
  const components = groups.length - 1;
  const score = (fit: number[], test: number[], labels: Int32Array): Float64Array => {
    const lda = ldaProjection(selectRows(x, fit), Int32Array.from(fit, (r) => labels[r]), { components, shrinkage }, where);
    // δ·Vᵀ, not (δ − mean)·Vᵀ: parallelism is about the differences themselves, and centering on
    // the fitting pairs' mean would subtract the direction of the commonest relation.
    const projected = projectRows(selectRows(x, test), { ...lda, mean: new Float64Array(x.cols) });
    const testRelation = Int32Array.from(test, (r) => relation[r]);
    return Float64Array.from(rowsByRelation(where, testRelation, test.length), (rows) => meanPairwiseCosine(projected, rows));
  };
  const crossFitted = (labels: Int32Array): Float64Array => {
    const a = score(halves[0], halves[1], labels);
    const b = score(halves[1], halves[0], labels);
    return a.map((v, i) => (v + b[i]) / 2);
  };
  const before = parallelogramQuality(x, relation);
  const after = crossFitted(relation);
  const nulls: number[] = [];
  for (let draw = 0; draw < nullDraws; draw++) {
    const shuffled = Int32Array.from(relation);
    for (const half of halves) {
      const order = rng.permutation(half.length);
      half.forEach((r, i) => (shuffled[r] = relation[half[order[i]]]));
    }
    nulls.push(mean(crossFitted(shuffled)));
  }
  const nullMean = mean(nulls);
  return {
    before: mean(before),
    after: mean(after),
    nullMean,
    nullSd: Math.sqrt(nulls.reduce((s, v) => s + (v - nullMean) ** 2, 0) / Math.max(1, nulls.length - 1)),
    perRelation: Array.from(before, (b, i) => ({ before: b, after: after[i] })),
    components,
  };
}

/**
 * The phi coefficient of every two latents' firing over documents (Li et al. §4.1's
 * co-occurrence affinity): with n documents, n_i documents where latent i fires and n_ij where
 * both fire, φ_ij = (n·n_ij − n_i·n_j) / √(n_i (n − n_i) n_j (n − n_j)). `presence` is
 * [documents, latents] with 1 where the latent fires in the document; latents that fire in no
 * document or in all of them get φ = 0. The counts are one matrix product on the backend.
 *
 * @example const phi = await sae.cooccurrencePhi(presence); // presence[w * m + i] = 1 when latent i fires in window w
 */
export async function cooccurrencePhi(presence: Matrix): Promise<Float64Array> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  const p = checkMatrix('sae.cooccurrencePhi', 'presence', presence, 1, 1);
  const [n, m] = [p.rows, p.cols];
  const counts = tf.tidy(() => {
    const t = tf.tensor2d(p.data, [n, m]);
    return tf.matMul(t, t, true, false);
  });
  const nij = (await counts.data()) as Float32Array; // exact: integer counts below 2^24
  counts.dispose();
  const phi = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const ni = nij[i * m + i];
    for (let j = 0; j < m; j++) {
      const nj = nij[j * m + j];
      const denominator = Math.sqrt(ni * (n - ni) * nj * (n - nj));
      phi[i * m + j] = denominator > 0 ? (n * nij[i * m + j] - ni * nj) / denominator : 0;
    }
  }
  return phi;
}

/** Options of {@link lobeAgreement}. */
export interface LobeAgreementOptions {
  /** Clusters of each partition (default 10). */
  clusters?: number;
  /** Shuffles of the geometry for the null (default 200). */
  nullDraws?: number;
  /**
   * A stratum per latent (e.g. its firing-frequency decile): the null shuffles directions only
   * within a stratum, so that what frequency alone explains is not counted as agreement. Default: one stratum.
   */
  strata?: Int32Array;
  seed?: number;
}

/** How much co-occurrence clusters and spatial clusters of latents agree, against a null. */
export interface LobeAgreement {
  /** Adjusted mutual information of the two partitions. */
  ami: number;
  /** The AMI when the latents' decoder directions are shuffled among them: mean, sd. */
  nullMean: number;
  nullSd: number;
  /** (1 + shuffles with AMI ≥ the observed) / (1 + shuffles). */
  p: number;
  /** The co-occurrence and the spatial cluster of every latent. */
  cooccurrenceClusters: Int32Array;
  spatialClusters: Int32Array;
}

/**
 * Li et al.'s brain-scale test: spectral clustering of the latents by co-occurrence (the
 * positive part of the phi coefficients, {@link cooccurrencePhi}), k-means of their unit decoder
 * directions (cosine geometry), and the adjusted mutual information of the two partitions.
 * The null keeps both partitions' shapes and shuffles which latent sits where (random geometry),
 * within `strata` when given (e.g. firing-frequency bins: frequent latents may share both a
 * direction and co-occurrence for that reason alone).
 * `directions` holds the latents' decoder rows, `phi` their [m, m] coefficients.
 *
 * @example const lobes = sae.lobeAgreement(wDec, phi, { clusters: 10 }); // lobes.ami well above lobes.nullMean: co-occurring latents sit together
 */
export function lobeAgreement(directions: Matrix, phi: Float64Array, options: LobeAgreementOptions = {}): LobeAgreement {
  const where = 'sae.lobeAgreement';
  checkKnownKeys(where, options, ['clusters', 'nullDraws', 'strata', 'seed']);
  const x = checkMatrix(where, 'directions', directions, 2, 1);
  const m = x.rows;
  if (!(phi instanceof Float64Array) || phi.length !== m * m) throw new NestlabArgumentError(where, 'phi', `a Float64Array of ${m} x ${m} coefficients`, phi);
  const clusters = checkInt(where, 'options.clusters', options.clusters ?? 10, 2, m - 1);
  const nullDraws = checkInt(where, 'options.nullDraws', options.nullDraws ?? 200, 1);
  const seed = options.seed ?? 0;
  const strata = options.strata ?? new Int32Array(m);
  if (!(strata instanceof Int32Array) || strata.length !== m) throw new NestlabArgumentError(where, 'options.strata', `an Int32Array of ${m} strata (one per latent)`, strata);
  const members = new Map<number, number[]>();
  strata.forEach((g, i) => members.set(g, [...(members.get(g) ?? []), i]));
  const affinity = phi.map((v, i) => (i % (m + 1) === 0 ? 0 : Math.max(0, v)));
  const cooccurrenceClusters = spectralClustering(affinity, m, clusters, { seed });
  const spatialClusters = kMeans(normalizeRows(x), clusters, { seed }).labels;
  const ami = adjustedMutualInformation(cooccurrenceClusters, spatialClusters);
  const rng = new Rng(seed + 1);
  const nulls: number[] = [];
  let atLeast = 0;
  for (let draw = 0; draw < nullDraws; draw++) {
    const shuffled = new Int32Array(m);
    for (const group of members.values()) rng.permutation(group.length).forEach((p, i) => (shuffled[group[i]] = spatialClusters[group[p]]));
    const v = adjustedMutualInformation(cooccurrenceClusters, shuffled);
    nulls.push(v);
    if (v >= ami) atLeast++;
  }
  const nullMean = mean(nulls);
  const nullSd = Math.sqrt(nulls.reduce((s, v) => s + (v - nullMean) ** 2, 0) / Math.max(1, nulls.length - 1));
  return { ami, nullMean, nullSd, p: (1 + atLeast) / (1 + nullDraws), cooccurrenceClusters, spatialClusters };
}

/** The eigenvalue spectrum of a point cloud and the slope of its power law. */
export interface EigenvaluePowerLaw {
  /** Covariance eigenvalues, descending. */
  eigenvalues: Float64Array;
  /** Least-squares slope of log λ_i against log i over ranks `fitted` (negative: a decaying power law λ_i ∝ i^slope). */
  slope: number;
  /** The ranks (1-based, inclusive) the slope is fitted on. */
  fitted: [number, number];
}

/**
 * Li et al.'s galaxy-scale spectrum: the eigenvalues λ_1 ≥ λ_2 ≥ ... of the covariance of the
 * unit decoder directions, and the slope of log λ_i vs log i fitted on ranks 1 .. ⌊r/2⌋ (r =
 * min(points − 1, dimensions); the smallest eigenvalues, set by the finite sample, are left out).
 * An isotropic cloud has a flat spectrum (slope near 0) when points ≫ dimensions; with few points
 * per dimension the sample spectrum falls too (Marchenko–Pastur), so compare with as many isotropic
 * directions. Steeper means more anisotropic.
 *
 * @example const { slope } = await sae.eigenvaluePowerLaw(wDec); // e.g. -0.5: lambda_i falls like i^-0.5
 */
export async function eigenvaluePowerLaw(points: Matrix): Promise<EigenvaluePowerLaw> {
  const x = checkMatrix('sae.eigenvaluePowerLaw', 'points', points, 5, 2);
  const eigenvalues = await covarianceSpectrum(normalizeRows(x));
  const r = Math.min(x.rows - 1, x.cols);
  const last = Math.max(2, Math.floor(r / 2));
  let [sx, sy, sxx, sxy, n] = [0, 0, 0, 0, 0];
  for (let i = 1; i <= last; i++) {
    if (!(eigenvalues[i - 1] > 0)) break;
    const [lx, ly] = [Math.log(i), Math.log(eigenvalues[i - 1])];
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
    n++;
  }
  const slope = n >= 2 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : NaN;
  return { eigenvalues, slope, fitted: [1, n] };
}

/** The clustering entropy of a point cloud. */
export interface ClusteringEntropy {
  /** The k-NN (Kozachenko–Leonenko) entropy of the unit directions, nats. */
  entropy: number;
  /** The same estimator on structureless clouds of the same mean and covariance on the sphere: mean and sd over draws. */
  nullEntropy: number;
  nullSd: number;
  /** nullEntropy − entropy (nats): how much lower the cloud's entropy is than a structureless cloud's of the same shape. */
  value: number;
}

/**
 * Li et al.'s galaxy-scale clustering entropy, as a difference that cancels the estimator's bias:
 * the k-NN entropy of Gaussian clouds of as many points with exactly the directions' sample mean
 * and covariance (each draw whitened so that its own sample moments equal the directions'; then
 * put on the sphere like them) minus the k-NN entropy of the directions; `nullDraws` draws
 * (default 5). Positive: the directions clump more than their second moments explain.
 *
 * @example const { value } = await sae.clusteringEntropy(wDec, { seed: 0 }); // > 0: clustered
 */
export async function clusteringEntropy(points: Matrix, options: { k?: number; seed?: number; nullDraws?: number } = {}): Promise<ClusteringEntropy> {
  const where = 'sae.clusteringEntropy';
  checkKnownKeys(where, options, ['k', 'seed', 'nullDraws']);
  const x = normalizeRows(checkMatrix(where, 'points', points, 5, 2));
  const k = checkInt(where, 'options.k', options.k ?? 3, 1, x.rows - 1);
  const nullDraws = checkInt(where, 'options.nullDraws', options.nullDraws ?? 5, 1);
  const [n, d] = [x.rows, x.cols];
  const center = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) center[j] += x.data[i * d + j] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const da = x.data[i * d + a] - center[a];
      for (let b = 0; b <= a; b++) cov[a * d + b] += (da * (x.data[i * d + b] - center[b])) / (n - 1);
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[b * d + a] = cov[a * d + b];
  // The covariance's nonzero eigenpairs (rank r ≤ n − 1): draws live in their span.
  const eig = symmetricEigen(cov, d);
  const r = Array.from(eig.values).filter((v) => v > 1e-12 * eig.values[0]).length;
  const rng = new Rng(options.seed ?? 0);
  const entropy = await knnEntropy(x, { k });
  const nulls: number[] = [];
  for (let draw = 0; draw < nullDraws; draw++) {
    // z: n x r standard normal, centered, then whitened so that its sample covariance is exactly I.
    const z = new Float64Array(n * r);
    for (let i = 0; i < z.length; i++) z[i] = rng.normal();
    for (let c = 0; c < r; c++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += z[i * r + c] / n;
      for (let i = 0; i < n; i++) z[i * r + c] -= m;
    }
    const zc = new Float64Array(r * r);
    for (let i = 0; i < n; i++) for (let a = 0; a < r; a++) for (let b = 0; b <= a; b++) zc[a * r + b] += (z[i * r + a] * z[i * r + b]) / (n - 1);
    for (let a = 0; a < r; a++) for (let b = 0; b < a; b++) zc[b * r + a] = zc[a * r + b];
    const ze = symmetricEigen(zc, r);
    const invSqrt = new Float64Array(r * r); // C^{-1/2} = U diag(1/√μ) Uᵀ
    for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) {
      let t = 0;
      for (let c = 0; c < r; c++) t += (ze.vectors[a * r + c] * ze.vectors[b * r + c]) / Math.sqrt(ze.values[c]);
      invSqrt[a * r + b] = t;
    }
    const sample = new Float32Array(n * d);
    const w = new Float64Array(r);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < r; c++) {
        let t = 0;
        for (let b = 0; b < r; b++) t += z[i * r + b] * invSqrt[b * r + c];
        w[c] = t * Math.sqrt(eig.values[c]);
      }
      for (let a = 0; a < d; a++) {
        let t = center[a];
        for (let c = 0; c < r; c++) t += eig.vectors[a * d + c] * w[c];
        sample[i * d + a] = t;
      }
    }
    nulls.push(await knnEntropy(normalizeRows({ data: sample, rows: n, cols: d }), { k }));
  }
  const nullEntropy = mean(nulls);
  const nullSd = Math.sqrt(nulls.reduce((t, v) => t + (v - nullEntropy) ** 2, 0) / Math.max(1, nulls.length - 1));
  return { entropy, nullEntropy, nullSd, value: nullEntropy - entropy };
}
