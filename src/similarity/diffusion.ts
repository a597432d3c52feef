/**
 * Diffusion spectral entropy (DSE) and diffusion spectral mutual information (DSMI) of a
 * representation (Liao, Liu, Christensen, Tong, Huguet, Wolf, Nickel, Adelstein & Krishnaswamy,
 * "Assessing Neural Network Representations During Training Using Noise-Resilient Diffusion
 * Spectral Entropy", CISS 2024, arXiv 2312.04823), following the authors' public code
 * (ChenLiu-1996/DiffusionSpectralEntropy, `diffusion_spectral_entropy` and
 * `diffusion_spectral_mutual_information`). What the code relies on, its conventions and its test
 * vectors are in docs/methods/diffusion-entropy.md.
 *
 * Everything runs in Float64 on the host: the n × n kernel is built from exact differences of the
 * rows (no |x|² + |y|² − 2x·y cancellation, so translations change nothing but rounding), and
 * its spectrum comes from `symmetricEigenvalues` (Householder + QL without eigenvectors, about
 * 4n³/3 multiply-adds; 1.5 s at n = 1000, 11 s at n = 2000 on one core). tfjs has no
 * eigensolver, and the O(n² d) distances are cheap next to the O(n³) spectrum.
 */
import type { tf } from '../backend/tf.js';
import { Rng } from '../backend/rng.js';
import { eventLoopYielder } from '../backend/yield.js';
import { checkMemory, resolveMemoryBudget } from '../backend/memory.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { symmetricEigenvalues } from '../math/linalg.js';

/** The float64 machine epsilon (NumPy's `np.finfo(float).eps`, 2⁻⁵²) the reference adds to every probability. */
export const DIFFUSION_ENTROPY_EPS = 2 ** -52;

/** Options of {@link diffusionSpectralEntropy}. */
export interface DiffusionSpectralEntropyOptions {
  /**
   * Width σ of the Gaussian kernel exp(−‖xᵢ − xⱼ‖² / 2σ²), absolute (in the units of the data):
   * DSE is not invariant to scaling, so rescale the data or σ together. Default 10 (the reference's).
   */
  sigma?: number;
  /** Diffusion time: the eigenvalues are raised to |λ|ᵗ. Positive; default 1. */
  t?: number;
  /** Rows above this are subsampled (seeded, without replacement) before the n³ spectrum. Default 10,000 (the reference's `max_N`). */
  maxRows?: number;
  /** Seed of the subsampling. Default 0. */
  seed?: number;
  /** Bytes the call may use, checked against `diffusionEntropyMemoryEstimate` before it starts (default: NESTLAB_MEMORY_BUDGET, else half of the available memory). */
  memoryBudget?: number;
}

/** Options of {@link diffusionSpectralMutualInformation}: those of DSE and the number of random subsets per class. */
export interface DiffusionSpectralMutualInformationOptions extends DiffusionSpectralEntropyOptions {
  /** Random subsets Z* drawn per class to estimate DSE(Z) at that class's size (averaged). Default 5. */
  repetitions?: number;
}

/** A diffusion spectral entropy and the parameters it was computed with. */
export interface DiffusionSpectralEntropyResult {
  /** DSE in bits: −Σ pᵢ log₂ pᵢ, pᵢ = |λᵢ|ᵗ / Σ|λ|ᵗ + ε. Between about 0 (one diffusion scale) and log₂ rows (K = I). */
  entropy: number;
  /** Kernel width used. */
  sigma: number;
  /** Diffusion time used. */
  t: number;
  /** Rows the spectrum was computed on (min(input rows, maxRows)). */
  rows: number;
  /** Rows of the input. */
  inputRows: number;
  /** Seed of the subsampling (used only when inputRows > rows). */
  seed: number;
}

/** One class's share of a DSMI. */
export interface DiffusionSpectralMutualInformationClass {
  /** The label value. */
  label: number;
  /** Rows with this label. */
  rows: number;
  /** p(c) = rows / all rows. */
  weight: number;
  /** Mean DSE of the random subsets of Z of this class's size (DSE(Z*)). */
  entropy: number;
  /** DSE of the rows with this label, DSE(Z | Y = c). */
  conditionalEntropy: number;
}

/** A diffusion spectral mutual information, its parts and the parameters it was computed with. */
export interface DiffusionSpectralMutualInformationResult {
  /** DSMI(Z; Y) = Σ_c p(c) [DSE(Z*_c) − DSE(Z | Y = c)], in bits (= entropy − conditionalEntropy). */
  mutualInformation: number;
  /** Σ_c p(c) DSE(Z*_c): the entropy of Z estimated at the class sizes. */
  entropy: number;
  /** Σ_c p(c) DSE(Z | Y = c). */
  conditionalEntropy: number;
  /** Per class, in ascending label order. */
  classes: DiffusionSpectralMutualInformationClass[];
  /** Kernel width used. */
  sigma: number;
  /** Diffusion time used. */
  t: number;
  /** Random subsets per class. */
  repetitions: number;
  /** Rows of the input. */
  rows: number;
  /** Seed of the random subsets (and of any subsampling above maxRows). */
  seed: number;
}

/**
 * The peak bytes of one DSE on n rows of d columns (docs/methods/compute.md §3b): the Float64
 * kernel K (8n²), the eigensolver's working copy (8n²), its vectors d and e and the degrees
 * (24n), and the gathered rows in Float64 (8nd).
 *
 * @internal exported for the tests.
 * @example const bytes = diffusionEntropyMemoryEstimate(2000, 128); // 6.4e7 + ...
 */
export function diffusionEntropyMemoryEstimate(n: number, d: number): number {
  return 16 * n * n + 24 * n + 8 * n * d;
}

/**
 * The eigenvalues (descending) of K = D^{−1/2} G D^{−1/2}, Gᵢⱼ = exp(−‖xᵢ − xⱼ‖² / 2σ²), D = diag(G 1),
 * on the rows `index` of m (all rows when null). K is symmetric and similar to the diffusion
 * operator P = D⁻¹G (K = D^{1/2} P D^{−1/2}), so they share the spectrum. The reference's factor
 * 1/(σ√2π) in G cancels in K and is left out (it would overflow for tiny σ).
 *
 * @internal used by the figure and the tests; the public entry is {@link diffusionSpectralEntropy}.
 * @example const lambda = diffusionEigenvalues(x, null, 1); // lambda[0] = 1
 */
export function diffusionEigenvalues(m: Matrix, index: ArrayLike<number> | null, sigma: number, where = 'diffusionEigenvalues'): Float64Array {
  const n = index === null ? m.rows : index.length;
  const d = m.cols;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = index === null ? i : index[i];
    for (let j = 0; j < d; j++) x[i * d + j] = m.data[r * d + j];
  }
  const k = new Float64Array(n * n);
  const scale = -1 / (2 * sigma * sigma);
  for (let i = 0; i < n; i++) {
    k[i * n + i] = 1;
    const oi = i * d;
    for (let j = 0; j < i; j++) {
      const oj = j * d;
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = x[oi + c] - x[oj + c];
        s += diff * diff;
      }
      k[i * n + j] = k[j * n + i] = Math.exp(s * scale);
    }
  }
  const root = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += k[i * n + j];
    root[i] = 1 / Math.sqrt(s); // s >= 1: the diagonal is exp(0)
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) k[i * n + j] *= root[i] * root[j];
  return symmetricEigenvalues(k, n, where);
}

/**
 * The entropy in bits of a spectrum as the reference computes it: pᵢ = |λᵢ|ᵗ / Σⱼ|λⱼ|ᵗ + ε (ε =
 * 2⁻⁵², added to every entry after normalizing), H = −Σ pᵢ log₂ pᵢ.
 *
 * @internal used by the figure and the tests; the public entry is {@link diffusionSpectralEntropy}.
 * @example const bits = spectralEntropy(diffusionEigenvalues(x, null, 1), 2);
 */
export function spectralEntropy(values: ArrayLike<number>, t: number): number {
  const n = values.length;
  const powered = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    powered[i] = Math.abs(values[i]) ** t;
    total += powered[i];
  }
  let h = 0;
  for (let i = 0; i < n; i++) {
    const p = powered[i] / total + DIFFUSION_ENTROPY_EPS;
    h -= p * Math.log2(p);
  }
  return h;
}

/** k distinct indices of 0..n−1 drawn without replacement (partial Fisher–Yates on the seeded stream). */
function sampleIndices(rng: Rng, n: number, k: number): Uint32Array {
  const pool = new Uint32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.uniform() * (n - i));
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
  }
  return pool.slice(0, k);
}

interface CheckedOptions {
  sigma: number;
  t: number;
  maxRows: number;
  seed: number;
}

function checkOptions(where: string, options: DiffusionSpectralMutualInformationOptions): CheckedOptions {
  const sigma = checkNumber(where, 'options.sigma', options.sigma ?? 10, Number.MIN_VALUE);
  const t = checkNumber(where, 'options.t', options.t ?? 1, Number.MIN_VALUE);
  const maxRows = checkInt(where, 'options.maxRows', options.maxRows ?? 10000, 2);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53);
  return { sigma, t, maxRows, seed };
}

/**
 * Diffusion spectral entropy of a representation X (n × d, rows = samples): with the Gaussian
 * affinities Gᵢⱼ = exp(−‖xᵢ − xⱼ‖² / 2σ²) / (σ√2π), degrees D = diag(G 1) and the symmetric
 * K = D^{−1/2} G D^{−1/2} (same spectrum as the diffusion operator P = D⁻¹G),
 *
 *   pᵢ = |λᵢ(K)|ᵗ / Σⱼ |λⱼ(K)|ᵗ + ε,   DSE = −Σᵢ pᵢ log₂ pᵢ   (bits, ε = 2⁻⁵²),
 *
 * as in Liao et al., CISS 2024 (arXiv 2312.04823) and their code (DiffusionSpectralEntropy,
 * `diffusion_spectral_entropy`). DSE counts the diffusion scales the data keeps at width σ: log₂ n
 * when σ is far below the nearest-neighbor distances (K = I), near 0 when σ is far above the
 * diameter (one component), and in between it grows with the intrinsic dimension of the data while
 * isotropic noise of scale well below σ changes it little. Invariant to rotations and translations,
 * not to scaling (σ is absolute). Above `maxRows` rows a seeded subsample is used. Cost O(n² d + n³).
 *
 * @throws NestlabArgumentError when X has fewer than 2 rows or non-finite values, or on a bad option
 *   (sigma or t not positive, maxRows < 2, an unknown key, a memory budget below the estimate).
 *
 * @example const { entropy } = await similarity.diffusionSpectralEntropy(x, { sigma: 1, t: 1 }); // bits, at most log2(rows)
 */
export async function diffusionSpectralEntropy(X: Matrix | tf.Tensor2D, options: DiffusionSpectralEntropyOptions = {}): Promise<DiffusionSpectralEntropyResult> {
  const yieldNow = eventLoopYielder();
  const where = 'similarity.diffusionSpectralEntropy';
  checkKnownKeys(where, options, ['sigma', 't', 'maxRows', 'seed', 'memoryBudget']);
  const { sigma, t, maxRows, seed } = checkOptions(where, options);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  const x = checkMatrix(where, 'X', X, 2);
  const rows = Math.min(x.rows, maxRows);
  checkMemory(where, diffusionEntropyMemoryEstimate(rows, x.cols), budget, 'options.maxRows', `for ${rows} rows of ${x.cols} columns`);
  const index = rows < x.rows ? sampleIndices(new Rng(seed), x.rows, rows) : null;
  const entropy = spectralEntropy(diffusionEigenvalues(x, index, sigma, where), t);
  await yieldNow(); // when this took over 100 ms: a figure measures hundreds of these in one loop
  return { entropy, sigma, t, rows, inputRows: x.rows, seed };
}

/**
 * The random subsets of a DSMI, in the order they are used: for each class in ascending label
 * order, first the class's own rows (subsampled to maxRows when larger, else all of them, in row
 * order), then `repetitions` subsets of all rows of the same size, drawn without replacement from
 * one seeded stream (`new Rng(seed)`) shared by all classes.
 *
 * @internal exported for the tests (the NumPy peer gets the same subsets).
 * @example const subsets = diffusionMutualInformationSubsets(labels, 10000, 5, 0); // [{ label, rows, own, random }]
 */
export function diffusionMutualInformationSubsets(labels: ArrayLike<number>, maxRows: number, repetitions: number, seed: number): { label: number; rows: number; own: Uint32Array; random: Uint32Array[] }[] {
  const n = labels.length;
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = byLabel.get(labels[i]);
    if (list === undefined) byLabel.set(labels[i], [i]);
    else list.push(i);
  }
  const rng = new Rng(seed);
  return Array.from(byLabel.keys())
    .sort((a, b) => a - b)
    .map((label) => {
      const members = byLabel.get(label)!;
      const size = Math.min(members.length, maxRows);
      const own = size < members.length ? Uint32Array.from(sampleIndices(rng, members.length, size), (i) => members[i]) : Uint32Array.from(members);
      const random = Array.from({ length: repetitions }, () => sampleIndices(rng, n, size));
      return { label, rows: members.length, own, random };
    });
}

/**
 * Diffusion spectral mutual information between a representation Z (n × d) and discrete labels Y
 * (Liao et al., CISS 2024; the reference's `diffusion_spectral_mutual_information` with
 * `reference_discrete=True`):
 *
 *   DSMI(Z; Y) = Σ_c p(c) [DSE(Z*_c) − DSE(Z | Y = c)],
 *
 * where DSE(Z | Y = c) is the DSE of the rows labeled c and DSE(Z*_c) the mean DSE of `repetitions`
 * random subsets of all rows of the same size as class c (DSE depends on the number of rows, so
 * both sides are measured at the same n). About 0 when Z does not depend on the labels; up to
 * about DSE(Z*) when every class collapses to a point. Each DSE uses `sigma`, `t` and `maxRows` as
 * {@link diffusionSpectralEntropy}. Continuous or multi-dimensional Y (which the reference bins or
 * spectrally clusters into 10 groups first) is not supported: pass cluster labels instead.
 *
 * @throws NestlabArgumentError on a bad Z or option (as diffusionSpectralEntropy, and repetitions < 1),
 *   when labels is not n integers, has fewer than 2 classes, or a class has fewer than 2 rows.
 *
 * @example const { mutualInformation } = await similarity.diffusionSpectralMutualInformation(z, labels, { sigma: 1 }); // bits
 */
export async function diffusionSpectralMutualInformation(
  Z: Matrix | tf.Tensor2D,
  labels: ArrayLike<number>,
  options: DiffusionSpectralMutualInformationOptions = {},
): Promise<DiffusionSpectralMutualInformationResult> {
  const where = 'similarity.diffusionSpectralMutualInformation';
  checkKnownKeys(where, options, ['sigma', 't', 'maxRows', 'seed', 'repetitions', 'memoryBudget']);
  const { sigma, t, maxRows, seed } = checkOptions(where, options);
  const repetitions = checkInt(where, 'options.repetitions', options.repetitions ?? 5, 1);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  const z = checkMatrix(where, 'Z', Z, 2);
  const n = z.rows;
  if (labels === null || typeof labels !== 'object' || typeof (labels as ArrayLike<number>).length !== 'number' || labels.length !== n) {
    throw new NestlabArgumentError(where, 'labels', `${n} integer class labels (one per row of Z)`, labels);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i])) throw new NestlabArgumentError(where, `labels[${i}]`, 'an integer class label', labels[i]);
  }
  const subsets = diffusionMutualInformationSubsets(labels, maxRows, repetitions, seed);
  if (subsets.length < 2) throw new NestlabArgumentError(where, 'labels', 'labels of at least two classes', `${subsets.length} class`);
  const small = subsets.find((s) => s.rows < 2);
  if (small !== undefined) {
    throw new NestlabArgumentError(where, 'labels', `at least 2 rows in every class (DSE of one row is 0 by construction)`, `class ${small.label} with ${small.rows} row`);
  }
  const largest = Math.max(...subsets.map((s) => s.own.length));
  checkMemory(where, diffusionEntropyMemoryEstimate(largest, z.cols), budget, 'options.maxRows', `for ${largest} rows of ${z.cols} columns (the largest class)`);
  const classes: DiffusionSpectralMutualInformationClass[] = [];
  let entropy = 0;
  let conditionalEntropy = 0;
  const yieldNow = eventLoopYielder();
  for (const s of subsets) {
    const conditional = spectralEntropy(diffusionEigenvalues(z, s.own, sigma, where), t);
    await yieldNow();
    let sum = 0;
    for (const r of s.random) {
      sum += spectralEntropy(diffusionEigenvalues(z, r, sigma, where), t);
      await yieldNow();
    }
    const weight = s.rows / n;
    const mean = sum / repetitions;
    classes.push({ label: s.label, rows: s.rows, weight, entropy: mean, conditionalEntropy: conditional });
    entropy += weight * mean;
    conditionalEntropy += weight * conditional;
  }
  return { mutualInformation: entropy - conditionalEntropy, entropy, conditionalEntropy, classes, sigma, t, repetitions, rows: n, seed };
}
