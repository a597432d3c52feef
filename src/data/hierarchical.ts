/**
 * Synthetic hierarchical features with ground truth: the tree toy of Bussmann et al. 2025
 * (Matryoshka SAEs, §4.1 and App. C.1; Nabeshima's `toy_model.py` / `tree.json`), as specified in
 * docs/methods/msae.md §6.1.
 *
 * Default tree (20 binary features, index order [P1, C11, C12, C13, P2, C21, …, P3, …, S1…S8]):
 * - 3 parents, each on independently with p = 0.15;
 * - when a parent is on, exactly one of 4 options is drawn with probabilities
 *   [0.2, 0.2, 0.2, 0.4]: one of its 3 children, or the 4th, "none" (so a child never fires
 *   without its parent and siblings are mutually exclusive);
 * - 8 independent features, each on with p = 0.05.
 * E[L0] = 3·0.15·(1 + 0.6) + 8·0.05 = 1.12. Feature directions are the rows of a random
 * orthogonal matrix (QR of a Gaussian) when d ≥ #features, else random unit vectors in ℝ^d
 * (superposition); each is scaled by (1 + 0.05·N(0, 1)). A sample is the sum of its active
 * directions, without noise.
 *
 * Hand-written because it is a dozen lines of sampling whose ground truth (tree, active sets)
 * the SAE metrics need; every random draw comes from one seeded Rng.
 */
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import type { Matrix } from './matrix.js';

/** Options of {@link hierarchicalFeatures}; the defaults are the paper's tree (docs/methods/msae.md §6.1). */
export interface HierarchicalOptions {
  /** Number of samples. Default 10000. */
  samples?: number;
  /** Embedding dimension d. Default = number of features (20 for the default tree). */
  d?: number;
  /** Number of parent features. Default 3. */
  parents?: number;
  /** Probability that a parent is on. Default 0.15. */
  parentProb?: number;
  /**
   * Probability of each child given its parent is on; their sum must be ≤ 1 and the remainder is
   * the "none" option. Length = children per parent. Default [0.2, 0.2, 0.2].
   */
  childProbs?: number[];
  /** Number of independent (parentless) features. Default 8. */
  independent?: number;
  /** Probability that an independent feature is on. Default 0.05. */
  independentProb?: number;
  /** Standard deviation of the per-feature norm jitter (norm = 1 + jitter·N(0,1)). Default 0.05. */
  normJitter?: number;
  /** Seed of every random draw. Default 0. */
  seed?: number;
}

/** The toy data set of {@link hierarchicalFeatures} with its ground truth (tree, directions, active sets). */
export interface HierarchicalData {
  /** The samples, [samples, d]: each row is the sum of its active feature directions. */
  samples: Matrix;
  /** The true feature directions, [features, d] (norms 1 ± jitter). */
  features: Matrix;
  /** parent[i] = index of feature i's parent, or -1 for a top-level feature. */
  parent: Int32Array;
  /** children[i] = indices of feature i's children (empty for leaves). */
  children: number[][];
  /** Indices of the parent features (those with children). */
  parentIndices: number[];
  /** Marginal probability that each feature is on (from the tree, not estimated). */
  probability: Float64Array;
  /** active[s * features + i] = 1 when feature i is on in sample s. */
  active: Uint8Array;
  /** Number of features. */
  nFeatures: number;
  /** Expected number of active features per sample. */
  expectedL0: number;
}

const KNOWN = ['samples', 'd', 'parents', 'parentProb', 'childProbs', 'independent', 'independentProb', 'normJitter', 'seed'];

/**
 * The sorted list of features active in sample `s` of `data`.
 *
 * @example const on = data.activeFeatures(toy, 0); // e.g. [0, 2]: parent P1 and its child C12 in sample 0
 */
export function activeFeatures(data: HierarchicalData, s: number): number[] {
  const out: number[] = [];
  const base = s * data.nFeatures;
  for (let i = 0; i < data.nFeatures; i++) if (data.active[base + i]) out.push(i);
  return out;
}

/**
 * Unit-norm random directions: rows of a random orthogonal matrix (Gram–Schmidt on Gaussian rows,
 * equivalent to QR) when n ≤ d, else normalized Gaussian vectors (superposition).
 */
function randomDirections(n: number, d: number, rng: Rng): Float32Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let tries = 0; ; tries++) {
      const v = new Float64Array(d);
      for (let j = 0; j < d; j++) v[j] = rng.normal();
      if (n <= d) {
        for (let p = 0; p < i; p++) {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += v[j] * out[p * d + j];
          for (let j = 0; j < d; j++) v[j] -= dot * out[p * d + j];
        }
      }
      let norm = 0;
      for (let j = 0; j < d; j++) norm += v[j] * v[j];
      norm = Math.sqrt(norm);
      if (norm > 1e-6 || tries > 10) {
        for (let j = 0; j < d; j++) out[i * d + j] = v[j] / norm;
        break;
      }
    }
  }
  return Float32Array.from(out);
}

/**
 * Generates the hierarchical toy of docs/methods/msae.md §6.1 (defaults reproduce it exactly), with
 * the ground truth needed for absorption metrics: the tree and each sample's active features.
 *
 * @example const toy = data.hierarchicalFeatures({ samples: 10000, seed: 0 }); // toy.samples: 10000 x 20, toy.expectedL0 = 1.12
 */
export function hierarchicalFeatures(options: HierarchicalOptions = {}): HierarchicalData {
  const where = 'data.hierarchicalFeatures';
  checkKnownKeys(where, options, KNOWN);
  const samples = checkInt(where, 'options.samples', options.samples ?? 10000, 1, 1e8);
  const parents = checkInt(where, 'options.parents', options.parents ?? 3, 0, 1e5);
  const parentProb = checkNumber(where, 'options.parentProb', options.parentProb ?? 0.15, 0, 1);
  const childProbs = options.childProbs ?? [0.2, 0.2, 0.2];
  if (!Array.isArray(childProbs)) throw new NestlabArgumentError(where, 'options.childProbs', 'an array of probabilities', childProbs);
  let childSum = 0;
  childProbs.forEach((p, i) => {
    checkNumber(where, `options.childProbs[${i}]`, p, 0, 1);
    childSum += p;
  });
  if (childSum > 1 + 1e-9) throw new NestlabArgumentError(where, 'options.childProbs', 'probabilities summing to at most 1', `a sum of ${childSum}`);
  const independent = checkInt(where, 'options.independent', options.independent ?? 8, 0, 1e6);
  const independentProb = checkNumber(where, 'options.independentProb', options.independentProb ?? 0.05, 0, 1);
  const normJitter = checkNumber(where, 'options.normJitter', options.normJitter ?? 0.05, 0, 1);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0);
  const nChildren = childProbs.length;
  const nFeatures = parents * (1 + nChildren) + independent;
  if (nFeatures < 1) throw new NestlabArgumentError(where, 'options', 'a tree with at least one feature', 'no features');
  const d = checkInt(where, 'options.d', options.d ?? nFeatures, 1, 1e6);

  const rng = new Rng(seed);
  const dirs = randomDirections(nFeatures, d, rng);
  for (let i = 0; i < nFeatures; i++) {
    const scale = 1 + normJitter * rng.normal();
    for (let j = 0; j < d; j++) dirs[i * d + j] *= scale;
  }

  const parent = new Int32Array(nFeatures).fill(-1);
  const children: number[][] = Array.from({ length: nFeatures }, () => []);
  const parentIndices: number[] = [];
  const probability = new Float64Array(nFeatures);
  for (let p = 0; p < parents; p++) {
    const pi = p * (1 + nChildren);
    parentIndices.push(pi);
    probability[pi] = parentProb;
    for (let c = 0; c < nChildren; c++) {
      parent[pi + 1 + c] = pi;
      children[pi].push(pi + 1 + c);
      probability[pi + 1 + c] = parentProb * childProbs[c];
    }
  }
  const indStart = parents * (1 + nChildren);
  for (let i = indStart; i < nFeatures; i++) probability[i] = independentProb;
  let expectedL0 = 0;
  for (let i = 0; i < nFeatures; i++) expectedL0 += probability[i];

  const active = new Uint8Array(samples * nFeatures);
  const data = new Float32Array(samples * d);
  for (let s = 0; s < samples; s++) {
    const a = s * nFeatures;
    for (let p = 0; p < parents; p++) {
      const pi = p * (1 + nChildren);
      if (rng.uniform() < parentProb) {
        active[a + pi] = 1;
        let u = rng.uniform();
        for (let c = 0; c < nChildren; c++) {
          if (u < childProbs[c]) {
            active[a + pi + 1 + c] = 1;
            break;
          }
          u -= childProbs[c];
        }
      }
    }
    for (let i = indStart; i < nFeatures; i++) if (rng.uniform() < independentProb) active[a + i] = 1;
    const row = s * d;
    for (let i = 0; i < nFeatures; i++) {
      if (!active[a + i]) continue;
      for (let j = 0; j < d; j++) data[row + j] += dirs[i * d + j];
    }
  }

  return {
    samples: { data, rows: samples, cols: d },
    features: { data: dirs, rows: nFeatures, cols: d },
    parent,
    children,
    parentIndices,
    probability,
    active,
    nFeatures,
    expectedL0,
  };
}
