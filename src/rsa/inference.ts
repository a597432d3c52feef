/**
 * Inference for RSA: noise ceilings, model evaluation over subjects (fixed effects) and bootstrap
 * over stimuli and/or subjects, pairwise model comparisons with standard errors, and the tRSA
 * authors' leave-one-subject-out nearest-centroid identification accuracy.
 *
 * Definitions follow rsatoolbox/inference (evaluate.py, noise_ceiling.py, util/pooling.py) and the
 * tRSA code (utils_stats.loo_eval), as summarized in docs/methods/rsa.md §9-11.
 * Hand-written: these are short loops over condensed vectors; the random steps use nestlab's Rng.
 */
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import { makeRdm, measureOf, rdmSize, subsampleValues, valuesOf, type Rdm, type RdmLike } from './condensed.js';
import { COMPARE_METHODS, compareRdmBatch, type CompareMethod, type CompareOptions } from './compare.js';
import { rankdata } from '../math/order.js';
import { normalTwoSidedP, studentTwoSidedP } from '../math/special.js';

function checkRdmList(where: string, argument: string, list: unknown, minCount = 1): ArrayLike<number>[] {
  if (!Array.isArray(list) || list.length < minCount) {
    throw new NestlabArgumentError(where, argument, `an array of at least ${minCount} RDMs`, list);
  }
  const rdms = list.map((r) => (r == null ? r : valuesOf(r as RdmLike)));
  const m = (rdms[0] as ArrayLike<number>)?.length;
  rdms.forEach((r, i) => {
    if (r == null || typeof (r as ArrayLike<number>).length !== 'number') throw new NestlabArgumentError(where, `${argument}[${i}]`, 'a condensed RDM', r);
    rdmSize((r as ArrayLike<number>).length, where, `${argument}[${i}]`, 3);
    if ((r as ArrayLike<number>).length !== m) {
      throw new NestlabArgumentError(where, `${argument}[${i}]`, `an RDM of the same size as ${argument}[0] (length ${m})`, `length ${(r as ArrayLike<number>).length}`);
    }
  });
  return rdms as ArrayLike<number>[];
}

/** Applies f to the non-NaN entries of v, keeping NaN in place. */
function onFinite(v: ArrayLike<number>, f: (x: Float64Array) => Float64Array): Float64Array {
  const idx: number[] = [];
  for (let i = 0; i < v.length; i++) if (!Number.isNaN(v[i])) idx.push(i);
  const sub = new Float64Array(idx.length);
  idx.forEach((j, k) => (sub[k] = v[j]));
  const t = f(sub);
  const out = new Float64Array(v.length).fill(NaN);
  idx.forEach((j, k) => (out[j] = t[k]));
  return out;
}

/**
 * The pooled (group) RDM used for a noise ceiling, by comparison method (rsatoolbox `pool_rdm`):
 * cosine-type: mean of r / sqrt(mean(r^2)); corr-type: mean of z-scores (ddof 0) minus its min;
 * rank methods: mean of average ranks (docs/methods/rsa.md §9).
 *
 * @example const group = rsa.poolRdms(subjectRdms, { method: 'corr' }); // mean z-scored RDM, shifted to min 0
 */
export function poolRdms(rdms: RdmLike[], options: CompareOptions = {}): Rdm {
  const where = 'rsa.poolRdms';
  checkKnownKeys(where, options, ['method']);
  const method = checkOneOf(where, 'options.method', options.method ?? 'cosine', COMPARE_METHODS);
  return makeRdm(pool(checkRdmList(where, 'rdms', rdms), method), `pooled (${method}) ${measureOf(rdms[0])}`);
}

function pool(list: ArrayLike<number>[], method: CompareMethod): Float64Array {
  const m = list[0].length;
  const acc = new Float64Array(m);
  for (const r of list) {
    let t: Float64Array;
    if (method === 'cosine' || method === 'cosine_cov') {
      t = onFinite(r, (x) => {
        let s = 0;
        for (let i = 0; i < x.length; i++) s += x[i] * x[i];
        const k = s > 0 ? 1 / Math.sqrt(s / x.length) : 0;
        return x.map((a) => a * k);
      });
    } else if (method === 'corr' || method === 'corr_cov') {
      t = onFinite(r, (x) => {
        let s = 0;
        for (let i = 0; i < x.length; i++) s += x[i];
        const mu = s / x.length;
        let q = 0;
        for (let i = 0; i < x.length; i++) q += (x[i] - mu) ** 2;
        const sd = Math.sqrt(q / x.length);
        return x.map((a) => (sd > 0 ? (a - mu) / sd : 0));
      });
    } else {
      t = onFinite(r, (x) => rankdata(x));
    }
    for (let i = 0; i < m; i++) acc[i] += t[i];
  }
  for (let i = 0; i < m; i++) acc[i] /= list.length;
  if (method === 'corr' || method === 'corr_cov') {
    let mn = Infinity;
    for (let i = 0; i < m; i++) if (acc[i] < mn) mn = acc[i];
    for (let i = 0; i < m; i++) acc[i] -= mn;
  }
  return acc;
}

/** Lower and upper noise-ceiling bounds, as `rsa.noiseCeiling` returns them (docs/methods/rsa.md §9). */
export interface NoiseCeiling {
  /** Leave-one-out: mean_i compare(pool(all but i), rdm_i). A lower bound on the true model's score. */
  lower: number;
  /** mean_i compare(pool(all), rdm_i). An upper bound (the pool is overfitted to each rdm_i). */
  upper: number;
}

/**
 * Noise ceiling of a set of subject RDMs (at least 2) for a comparison method (rsatoolbox
 * `boot_noise_ceiling`): upper = mean_i compare(pool(all), rdm_i), lower = mean_i
 * compare(pool(all but i), rdm_i), pool as `rsa.poolRdms` (docs/methods/rsa.md §9).
 *
 * @example const { lower, upper } = rsa.noiseCeiling(subjectRdms, { method: 'spearman' });
 */
export function noiseCeiling(rdms: RdmLike[], options: CompareOptions = {}): NoiseCeiling {
  const where = 'rsa.noiseCeiling';
  checkKnownKeys(where, options, ['method']);
  const method = checkOneOf(where, 'options.method', options.method ?? 'cosine', COMPARE_METHODS);
  return ceiling(checkRdmList(where, 'rdms', rdms, 2), method);
}

function ceiling(list: ArrayLike<number>[], method: CompareMethod): NoiseCeiling {
  const all = pool(list, method);
  const upper = compareRdmBatch(list, all, { method });
  let up = 0;
  let lo = 0;
  list.forEach((r, i) => {
    up += upper[i];
    const pooled = pool(list.filter((_, j) => j !== i), method);
    lo += compareRdmBatch([r], pooled, { method })[0];
  });
  return { lower: lo / list.length, upper: up / list.length };
}

/** A test of the score difference between models a and b of a ModelEvaluation. */
export interface PairwiseComparison {
  /** Index of the first model. */
  a: number;
  /** Index of the second model (b > a). */
  b: number;
  /** score[a] - score[b] (point estimate). */
  difference: number;
  /** Standard error of the difference (fixed effects: over subjects; bootstrap: SD over samples). */
  standardError: number;
  /** difference / standardError. */
  t: number;
  /** Two-sided p: Student t with `df` (fixed effects) or normal (bootstrap, df = Infinity). */
  p: number;
  /** Degrees of freedom: subjects - 1 (fixed effects) or Infinity (bootstrap). */
  df: number;
}

/** What `rsa.evaluateModels` returns: per-model scores with standard errors, the data's noise ceiling and pairwise tests. */
export interface ModelEvaluation {
  /** The comparator used. */
  method: CompareMethod;
  /** Mean score of each model. */
  scores: Float64Array;
  /** Standard error of each score. */
  standardErrors: Float64Array;
  /** Noise ceiling of the data RDMs (null with a single subject). */
  noiseCeiling: NoiseCeiling | null;
  /** One test per pair of models a < b. */
  pairwise: PairwiseComparison[];
}

/**
 * Fixed-effects evaluation over subjects (rsatoolbox `eval_fixed`): score of model k = mean over
 * subjects of compare(model_k, data_s); variance = population covariance over subjects / n
 * (ddof 0, as rsatoolbox); pairwise t-tests with df = n - 1 (docs/methods/rsa.md §10).
 *
 * @example const ev = rsa.evaluateModels([modelA, modelB], subjectRdms, { method: 'corr' }); // ev.scores, ev.pairwise[0].p
 */
export function evaluateModels(models: RdmLike[], data: RdmLike[], options: CompareOptions = {}): ModelEvaluation {
  const where = 'rsa.evaluateModels';
  checkKnownKeys(where, options, ['method']);
  const method = checkOneOf(where, 'options.method', options.method ?? 'cosine', COMPARE_METHODS);
  return evaluateFixed(where, models, data, method);
}

function evaluateFixed(where: string, models: RdmLike[], data: RdmLike[], method: CompareMethod): ModelEvaluation {
  const ms = checkRdmList(where, 'models', models);
  const ds = checkRdmList(where, 'data', data);
  if (ms[0].length !== ds[0].length) throw new NestlabArgumentError(where, 'models', `RDMs of the data's size (length ${ds[0].length})`, `length ${ms[0].length}`);
  const nS = ds.length;
  const per = ms.map((m) => compareRdmBatch(ds, m, { method })); // per[k][s]
  const scores = Float64Array.from(per, (v) => v.reduce((a, b) => a + b, 0) / nS);
  const se = Float64Array.from(per, (v, k) => Math.sqrt(v.reduce((a, b) => a + (b - scores[k]) ** 2, 0) / nS / nS));
  const pairwise: PairwiseComparison[] = [];
  for (let a = 0; a < ms.length; a++) for (let b = a + 1; b < ms.length; b++) {
    const diff = scores[a] - scores[b];
    let q = 0;
    for (let s = 0; s < nS; s++) q += (per[a][s] - per[b][s] - diff) ** 2;
    const sErr = Math.sqrt(q / nS / nS);
    const t = diff / sErr;
    pairwise.push({ a, b, difference: diff, standardError: sErr, t, p: nS > 1 ? studentTwoSidedP(t, nS - 1) : NaN, df: nS - 1 });
  }
  return { method, scores, standardErrors: se, noiseCeiling: nS >= 2 ? ceiling(ds, method) : null, pairwise };
}

/** Options of `rsa.bootstrapEvaluate`. */
export interface BootstrapOptions {
  /** The comparator (rsatoolbox's names). Default 'cosine'. */
  method?: CompareMethod;
  /** Bootstrap samples (default 1000). */
  samples?: number;
  /** What to resample with replacement: 'stimuli' (default), 'subjects' or 'both'. */
  resample?: 'stimuli' | 'subjects' | 'both';
  /** Seed of the resampling (nestlab's Rng). Default 0. */
  seed?: number;
}

/** What `rsa.bootstrapEvaluate` returns: a ModelEvaluation with bootstrap standard errors and the bootstrap distribution. */
export interface BootstrapEvaluation extends ModelEvaluation {
  /** Bootstrap distribution: samples x models, row-major; NaN rows for samples with < 3 unique stimuli. */
  distribution: Float64Array;
  /** Bootstrap samples drawn. */
  samples: number;
  /** Samples actually scored (those with at least 3 unique stimuli). */
  validSamples: number;
}

/**
 * Bootstrap evaluation (rsatoolbox `eval_bootstrap` / `_pattern` / `_rdm`): resample stimuli
 * (pairs of two copies of one stimulus become NaN and are dropped by the comparators) and/or
 * subjects with replacement; score = mean over subjects of compare(model, data). Scores are the
 * point estimates on the full data; standard errors and pairwise-difference standard errors are
 * the standard deviations (ddof 1) over bootstrap samples; p-values are normal approximations.
 * Cov-weighted methods need resampling 'subjects' (NaN pairs are not supported there).
 * docs/methods/rsa.md §10.
 *
 * @example const ev = rsa.bootstrapEvaluate(models, subjectRdms, { method: 'spearman', samples: 1000, seed: 0 }); // ev.standardErrors
 */
export function bootstrapEvaluate(models: RdmLike[], data: RdmLike[], options: BootstrapOptions = {}): BootstrapEvaluation {
  const where = 'rsa.bootstrapEvaluate';
  checkKnownKeys(where, options, ['method', 'samples', 'resample', 'seed']);
  const method = checkOneOf(where, 'options.method', options.method ?? 'cosine', COMPARE_METHODS);
  const nBoot = checkInt(where, 'options.samples', options.samples ?? 1000, 2);
  const resample = checkOneOf(where, 'options.resample', options.resample ?? 'stimuli', ['stimuli', 'subjects', 'both'] as const);
  const rng = new Rng(options.seed ?? 0);
  const fixed = evaluateFixed(where, models, data, method);
  const ms = models.map(valuesOf);
  const ds = data.map(valuesOf);
  const n = rdmSize(ds[0].length);
  const nM = ms.length;
  const nS = ds.length;
  if (resample !== 'subjects' && (method === 'cosine_cov' || method === 'corr_cov')) {
    throw new NestlabArgumentError(where, 'options.resample', "'subjects' for cov-weighted methods (stimulus resampling creates NaN pairs)", resample);
  }
  const dist = new Float64Array(nBoot * nM).fill(NaN);
  let valid = 0;
  for (let b = 0; b < nBoot; b++) {
    let subj = Array.from({ length: nS }, (_, i) => i);
    if (resample !== 'stimuli') subj = subj.map(() => rng.int(nS));
    let dSample: ArrayLike<number>[] = subj.map((s) => ds[s]);
    let mSample: ArrayLike<number>[] = ms;
    if (resample !== 'subjects') {
      const idx = Array.from({ length: n }, () => rng.int(n));
      if (new Set(idx).size < 3) continue;
      dSample = dSample.map((d) => subsampleValues(d, idx));
      mSample = ms.map((m) => subsampleValues(m, idx));
    }
    for (let k = 0; k < nM; k++) {
      const v = compareRdmBatch(dSample, mSample[k], { method });
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i];
      dist[b * nM + k] = s / v.length;
    }
    valid++;
  }
  const sdOf = (f: (b: number) => number): number => {
    let s = 0;
    let c = 0;
    const vals: number[] = [];
    for (let b = 0; b < nBoot; b++) {
      const x = f(b);
      if (!Number.isNaN(x)) {
        vals.push(x);
        s += x;
        c++;
      }
    }
    const mu = s / c;
    return Math.sqrt(vals.reduce((a, x) => a + (x - mu) ** 2, 0) / (c - 1));
  };
  const se = Float64Array.from({ length: nM }, (_, k) => sdOf((b) => dist[b * nM + k]));
  const pairwise: PairwiseComparison[] = [];
  for (let a = 0; a < nM; a++) for (let c = a + 1; c < nM; c++) {
    const diff = fixed.scores[a] - fixed.scores[c];
    const sErr = sdOf((b) => dist[b * nM + a] - dist[b * nM + c]);
    const t = diff / sErr;
    pairwise.push({ a, b: c, difference: diff, standardError: sErr, t, p: Number.isNaN(t) ? NaN : normalTwoSidedP(t), df: Infinity });
  }
  return { ...fixed, standardErrors: se, pairwise, distribution: dist, samples: nBoot, validSamples: valid };
}

/** What `rsa.identificationAccuracy` returns. */
export interface IdentificationResult {
  /** correct / total over all held-out rows. */
  accuracy: number;
  /** Rows assigned their own label. */
  correct: number;
  /** Rows classified (every row, each once, when its subject is held out). */
  total: number;
  /** Predicted label of each row (when its subject was held out). */
  predicted: Int32Array;
}

/**
 * Leave-one-subject-out nearest-centroid identification (the tRSA authors' `loo_eval`, sklearn
 * NearestCentroid with Euclidean distance): for each subject s, the centroid of each label is the
 * mean of the rows of the other subjects with that label; each row of s is assigned the label of
 * the nearest centroid. Ties go to the lowest label. Chance = 1 / number of labels.
 * docs/methods/rsa.md §11.
 *
 * @example const { accuracy } = rsa.identificationAccuracy(rdms, subjectOfRow, layerOfRow); // chance = 1 / number of labels
 */
export function identificationAccuracy(vectors: RdmLike[], subjects: ArrayLike<number>, labels: ArrayLike<number>): IdentificationResult {
  const where = 'rsa.identificationAccuracy';
  if (!Array.isArray(vectors) || vectors.length < 2) throw new NestlabArgumentError(where, 'vectors', 'an array of at least 2 vectors (RDMs or statistics)', vectors);
  const rows = vectors.map(valuesOf);
  const dim = rows[0].length;
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new NestlabArgumentError(where, `vectors[${i}]`, `a vector of length ${dim} like vectors[0]`, `length ${r.length}`);
  });
  if (subjects.length !== rows.length) throw new NestlabArgumentError(where, 'subjects', `${rows.length} labels`, subjects.length);
  if (labels.length !== rows.length) throw new NestlabArgumentError(where, 'labels', `${rows.length} labels`, labels.length);
  const subjList = [...new Set(Array.from(subjects))].sort((a, b) => a - b);
  const labelList = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  if (subjList.length < 2) throw new NestlabArgumentError(where, 'subjects', 'at least 2 distinct subjects', subjList.length);
  // Sums per (subject, label), once: a held-out subject's centroids are (total - own) / count,
  // so the rule costs O(rows x dim) per call instead of per held-out subject (the tRSA bootstrap
  // calls it thousands of times).
  const nS = subjList.length;
  const nL = labelList.length;
  const n = rows.length;
  const subjIndex = new Map(subjList.map((s, i) => [s, i]));
  const labelIndex = new Map(labelList.map((l, i) => [l, i]));
  const si = Int32Array.from({ length: n }, (_, i) => subjIndex.get(subjects[i])!);
  const li = Int32Array.from({ length: n }, (_, i) => labelIndex.get(labels[i])!);
  const x = new Float64Array(n * dim); // one flat copy: monomorphic loops over a typed array
  rows.forEach((r, i) => {
    for (let j = 0; j < dim; j++) x[i * dim + j] = r[j];
  });
  const sums = new Float64Array(nS * nL * dim);
  const counts = new Float64Array(nS * nL);
  const totals = new Float64Array(nL * dim);
  const totalCounts = new Float64Array(nL);
  for (let i = 0; i < n; i++) {
    const off = (si[i] * nL + li[i]) * dim;
    for (let j = 0; j < dim; j++) {
      sums[off + j] += x[i * dim + j];
      totals[li[i] * dim + j] += x[i * dim + j];
    }
    counts[si[i] * nL + li[i]]++;
    totalCounts[li[i]]++;
  }
  const predicted = new Int32Array(n);
  const cents = new Float64Array(nL * dim);
  const present = new Uint8Array(nL);
  let correct = 0;
  for (let s = 0; s < nS; s++) {
    for (let l = 0; l < nL; l++) {
      const cnt = totalCounts[l] - counts[s * nL + l];
      present[l] = cnt > 0 ? 1 : 0;
      if (cnt === 0) continue;
      const off = (s * nL + l) * dim;
      for (let j = 0; j < dim; j++) cents[l * dim + j] = (totals[l * dim + j] - sums[off + j]) / cnt;
    }
    for (let i = 0; i < n; i++) {
      if (si[i] !== s) continue;
      let best = -1;
      let bestD = Infinity;
      for (let l = 0; l < nL; l++) {
        if (present[l] === 0) continue;
        let d = 0;
        for (let j = 0, a = i * dim, c = l * dim; j < dim; j++, a++, c++) {
          const diff = x[a] - cents[c];
          d += diff * diff;
        }
        if (d < bestD) {
          bestD = d;
          best = l;
        }
      }
      predicted[i] = labelList[best];
      if (labelList[best] === labels[i]) correct++;
    }
  }
  return { accuracy: correct / rows.length, correct, total: rows.length, predicted };
}
