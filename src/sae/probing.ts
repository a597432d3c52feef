/**
 * SAEBench's probing metrics for an SAE, per Matryoshka prefix (docs/methods/msae.md §5.4, §5.5):
 *
 * - `sparseProbing`: k-sparse probing accuracy. SAEBench `sae_bench/evals/sparse_probing/`
 *   (`main.py`, `probe_training.py`; github.com/adamkarvonen/SAEBench).
 * - `probeAbsorption`: probe-based feature absorption and feature splitting. SAEBench
 *   `sae_bench/evals/absorption/` (`feature_absorption_calculator.py`, `feature_absorption.py`,
 *   `k_sparse_probing.py`, `probing.py`, `main.py`), with classes in place of first letters.
 *
 * Every prefix p reads the code restricted to latents < p (Matryoshka inference, msae.md §1.7):
 * the SAE is encoded once and the code truncated per prefix. The probes are logistic regressions
 * fitted in src/math/logistic.ts (L2 as scikit-learn's lbfgs; L1 by FISTA), all on typed arrays.
 */
import { Rng } from '../backend/rng.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { eventLoopYielder } from '../backend/yield.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { holdoutSplit } from '../data/batches.js';
import { balancedWeights, csrDesign, denseDesign, fitLogisticL1, fitLogisticL2, logisticScores, type Design } from '../math/logistic.js';
import { encodeCode, truncateCode, type Sae, type SparseCode } from './model.js';
import { absorptionScore } from './absorption-score.js';
import { decoderFeatureCosines } from './metrics.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Checks labels: one non-negative integer per row; returns them and the sorted distinct classes. */
function checkClassLabels(where: string, labels: unknown, n: number): { y: Int32Array; classes: number[] } {
  if (!(labels instanceof Int32Array || Array.isArray(labels)) || labels.length !== n) {
    throw new NestlabArgumentError(where, 'labels', `an Int32Array or array of ${n} class labels (one per row of x)`, labels);
  }
  const y = new Int32Array(n);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new NestlabArgumentError(where, `labels[${i}]`, 'a non-negative integer class', v);
    y[i] = v;
    seen.add(v);
  }
  if (seen.size < 2) throw new NestlabArgumentError(where, 'labels', 'at least two distinct classes', `${seen.size} class`);
  return { y, classes: [...seen].sort((a, b) => a - b) };
}

/** Checks a prefix list against the SAE (default: its own prefixes). */
function checkPrefixes(where: string, sae: Sae, prefixes: unknown): number[] {
  const list = prefixes ?? sae.cfg.prefixes;
  if (!Array.isArray(list) || list.length === 0) throw new NestlabArgumentError(where, 'options.prefixes', 'a non-empty array of prefix sizes', list);
  list.forEach((p, i) => checkInt(where, `options.prefixes[${i}]`, p, 1, sae.cfg.dSae));
  return list as number[];
}

/** The SAE code of x: `options.code` when given (checked), else one encoding. */
async function codeOf(where: string, sae: Sae, x: Matrix, code: SparseCode | undefined): Promise<SparseCode> {
  const c = code ?? (await encodeCode(where, sae, x));
  if (c.rows !== x.rows) throw new NestlabArgumentError(where, 'options.code.rows', `x.rows = ${x.rows}`, c.rows);
  if (c.dSae !== sae.cfg.dSae) throw new NestlabArgumentError(where, 'options.code.dSae', `dSae = ${sae.cfg.dSae}`, c.dSae);
  return c;
}

/** The probes' train/test split: data.holdoutSplit's seeded rule (test = the held-out rows), as Int32Arrays. */
function testSplit(where: string, rows: number, testFraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  const { train, holdout } = holdoutSplit(rows, testFraction, seed, where);
  return { train: Int32Array.from(train), test: Int32Array.from(holdout) };
}

/** Throws unless every class has rows in both splits (each task needs positives to train and test on). */
function checkSplit(where: string, y: Int32Array, classes: number[], split: { train: Int32Array; test: Int32Array }, seed: number): void {
  for (const [name, rows] of [['train', split.train], ['test', split.test]] as const) {
    for (const c of classes) {
      if (!rows.some((r) => y[r] === c)) {
        throw new NestlabArgumentError(where, 'labels', `rows of every class in both the train and the test split (seed ${seed})`, `class ${c} with no ${name} row`);
      }
    }
  }
}

/**
 * One balanced one-vs-rest task on `rows` (SAEBench `prepare_probe_data`): all rows of class c
 * as positives; from each other class ⌈n_pos / (classes − 1)⌉ random rows, of which n_pos at
 * random are the negatives (fewer when the other classes run short).
 */
function balancedTask(rows: Int32Array, y: Int32Array, c: number, classes: number[], rng: Rng): { idx: Int32Array; y: Uint8Array } {
  const pos: number[] = [];
  const byClass = new Map<number, number[]>();
  for (const r of rows) {
    if (y[r] === c) pos.push(r);
    else {
      const list = byClass.get(y[r]) ?? [];
      list.push(r);
      byClass.set(y[r], list);
    }
  }
  const per = Math.ceil(pos.length / (classes.length - 1));
  const pool: number[] = [];
  for (const k of classes) {
    const list = byClass.get(k);
    if (k === c || !list) continue;
    const order = rng.permutation(list.length);
    for (let i = 0; i < Math.min(per, list.length); i++) pool.push(list[order[i]]);
  }
  const order = rng.permutation(pool.length);
  const neg = Array.from(order.subarray(0, Math.min(pos.length, pool.length)), (i) => pool[i]);
  const idx = Int32Array.from([...pos, ...neg]);
  const labels = new Uint8Array(idx.length);
  labels.fill(1, 0, pos.length);
  return { idx, y: labels };
}

/** Per-column means of the code over positive and negative rows: diff[j] = mean_pos − mean_neg. */
function codeMeanDiff(code: SparseCode, idx: Int32Array, y: Uint8Array): Float64Array {
  const sumPos = new Float64Array(code.dSae);
  const sumNeg = new Float64Array(code.dSae);
  let nPos = 0;
  for (let t = 0; t < idx.length; t++) {
    const b = idx[t];
    const sum = y[t] ? sumPos : sumNeg;
    if (y[t]) nPos++;
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) sum[code.idx[a]] += code.val[a];
  }
  const nNeg = idx.length - nPos;
  return Float64Array.from(sumPos, (s, j) => (nPos > 0 ? s / nPos : 0) - (nNeg > 0 ? sumNeg[j] / nNeg : 0));
}

/** The same for the columns of a dense matrix. */
function denseMeanDiff(x: Matrix, idx: Int32Array, y: Uint8Array): Float64Array {
  const d = x.cols;
  const sumPos = new Float64Array(d);
  const sumNeg = new Float64Array(d);
  let nPos = 0;
  for (let t = 0; t < idx.length; t++) {
    const o = idx[t] * d;
    const sum = y[t] ? sumPos : sumNeg;
    if (y[t]) nPos++;
    for (let j = 0; j < d; j++) sum[j] += x.data[o + j];
  }
  const nNeg = idx.length - nPos;
  return Float64Array.from(sumPos, (s, j) => (nPos > 0 ? s / nPos : 0) - (nNeg > 0 ? sumNeg[j] / nNeg : 0));
}

/** The `count` columns among 0..limit−1 with the largest key (ties: then tie key, then lower index). */
function topColumns(key: Float64Array, limit: number, count: number, tie?: Float64Array): Int32Array {
  const cols = Array.from({ length: limit }, (_, j) => j);
  cols.sort((a, b) => key[b] - key[a] || (tie ? tie[b] - tie[a] : 0) || a - b);
  return Int32Array.from(cols.slice(0, Math.min(count, limit)));
}

/** Dense [idx.length, cols.length] Float64 features of code rows idx at the given latents. */
function gatherCode(code: SparseCode, idx: Int32Array, cols: Int32Array): Float64Array {
  const K = cols.length;
  const colOf = new Int32Array(code.dSae).fill(-1);
  cols.forEach((c, j) => (colOf[c] = j));
  const out = new Float64Array(idx.length * K);
  for (let t = 0; t < idx.length; t++) {
    const b = idx[t];
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) {
      const j = colOf[code.idx[a]];
      if (j >= 0) out[t * K + j] = code.val[a];
    }
  }
  return out;
}

/** Dense [idx.length, cols.length] features of matrix rows idx at the given columns (all when cols is null). */
function gatherDense(x: Matrix, idx: Int32Array, cols: Int32Array | null): Float64Array {
  const d = x.cols;
  const K = cols ? cols.length : d;
  const out = new Float64Array(idx.length * K);
  for (let t = 0; t < idx.length; t++) {
    const o = idx[t] * d;
    if (cols) for (let j = 0; j < K; j++) out[t * K + j] = x.data[o + cols[j]];
    else for (let j = 0; j < d; j++) out[t * K + j] = x.data[o + j];
  }
  return out;
}

function accuracy(z: Float64Array, y: Uint8Array): number {
  let right = 0;
  for (let i = 0; i < z.length; i++) if ((z[i] > 0 ? 1 : 0) === y[i]) right++;
  return right / z.length;
}

/** Binary F1 = 2TP / (2TP + FP + FN) of the decision z > 0; 0 when there is nothing to find or predict (scikit-learn's zero_division). */
export function binaryF1(z: ArrayLike<number>, y: ArrayLike<number>): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < z.length; i++) {
    const p = z[i] > 0;
    if (p && y[i]) tp++;
    else if (p) fp++;
    else if (y[i]) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

// Stopping rule of every probe: max |∂F| ≤ 1e-6 for the (1/n)-scaled objective, or 1000 iterations
// (SAEBench's scikit-learn probes: max_iter 1000 in sparse probing, 500 in absorption). Pixel
// probes need ~100 L-BFGS iterations for this and ~600 for 1e-9, for a loss lower by < 1e-8.
const PROBE_MAX_ITER = 1000;
const PROBE_TOL = 1e-6;

// ---------------------------------------------------------------------------------------------
// k-sparse probing

/** Options of `sae.sparseProbing`. */
export interface SparseProbingOptions {
  /** Prefix sizes to evaluate. Default: the SAE's own `cfg.prefixes`. */
  prefixes?: number[];
  /** The k values: latents (or input dims) each probe reads. Default [1, 2, 5] (SAEBench's k_values). */
  k?: number | number[];
  /** Seed of the train/test split and of the balanced negatives. Default 0. */
  seed?: number;
  /** Share of the rows held out for testing. Default 0.2 (SAEBench: 4,000 train / 1,000 test). */
  testFraction?: number;
  /** Inverse L2 strength C of every probe (scikit-learn's C). Default 1. */
  c?: number;
  /** Also probe the raw input x (SAEBench's "LLM" probes): the top-k input dims and all dIn dims. Default true. */
  baseline?: boolean;
  /** A code of x from `sae.encode` to reuse (all latents, no prefix). Default: encode x. */
  code?: SparseCode;
  /** Progress, one step per prefix (and one for the baseline). */
  progress?: Progress;
}

/** One k-sparse probing result: a class's one-vs-rest task, or the mean over classes (label 'mean'). */
export interface SparseProbingRow {
  /** 'sae': the probe reads SAE latents < prefix; 'input': it reads the raw input x. */
  source: 'sae' | 'input';
  /** The prefix p whose latents were eligible; null for input rows. */
  prefix: number | null;
  /** Latents or input dims the probe reads (dIn for the all-dims input probe; min(k, prefix) latents are used). */
  k: number;
  /** The positive class of the one-vs-rest task, or 'mean' for the mean over all classes. */
  label: number | 'mean';
  /** Test accuracy (balanced test set, decision x·w + b > 0). For 'mean' rows the mean over classes. */
  accuracy: number;
  /** The latents (or input dims) the probe read, by decreasing |mean difference|; [] for 'mean' rows and the all-dims probe. */
  features: number[];
  /** Rows of the balanced training set (sum over classes for 'mean' rows). */
  trainRows: number;
  /** Rows of the balanced test set (sum over classes for 'mean' rows). */
  testRows: number;
}

/**
 * k-sparse probing per Matryoshka prefix (SAEBench `evals/sparse_probing`, github.com/adamkarvonen/SAEBench;
 * docs/methods/msae.md §5.4). The rows of x are split train/test by `seed`; for each class c a
 * one-vs-rest task is balanced as SAEBench's `prepare_probe_data` does (all rows of c, and as many
 * negatives drawn evenly from the other classes), once per split. On the training set the latents
 * j < prefix are ranked by |mean_pos f_j − mean_neg f_j| (`get_top_k_mean_diff_mask`); an L2
 * logistic regression (C = `c`, scikit-learn's objective, unpenalized intercept) is fitted on the
 * top k latents, and its accuracy on the balanced test set is reported. The baseline reads x
 * itself: the top-k input dims by the same rule, and all dIn dims.
 *
 * Differences from SAEBench: one split of one data set instead of its fixed train/test sets; the
 * same balanced negatives serve every k, prefix and the baseline (SAEBench redraws them per call);
 * the all-dims baseline is the same L2 fit (SAEBench trains it with AdamW and early stopping on
 * the test accuracy, which flatters it).
 *
 * @example const rows = await sae.sparseProbing(model, test.x, test.y, { k: [1, 2, 5], seed: 0 }); // rows.filter((r) => r.label === 'mean')
 */
export async function sparseProbing(sae: Sae, x: Matrix, labels: Int32Array | number[], options: SparseProbingOptions = {}): Promise<SparseProbingRow[]> {
  const where = 'sae.sparseProbing';
  checkKnownKeys(where, options, ['prefixes', 'k', 'seed', 'testFraction', 'c', 'baseline', 'code', 'progress']);
  const xm = checkMatrix(where, 'x', x, 2, 1);
  if (xm.cols !== sae.cfg.dIn) throw new NestlabArgumentError(where, 'x.cols', `dIn = ${sae.cfg.dIn}`, xm.cols);
  const { y, classes } = checkClassLabels(where, labels, xm.rows);
  const prefixes = checkPrefixes(where, sae, options.prefixes);
  const kRaw = options.k ?? [1, 2, 5];
  const ks = (Array.isArray(kRaw) ? kRaw : [kRaw]).map((k, i) => checkInt(where, Array.isArray(kRaw) ? `options.k[${i}]` : 'options.k', k, 1, 2 ** 31 - 1));
  if (ks.length === 0) throw new NestlabArgumentError(where, 'options.k', 'at least one k', '[]');
  const seed = checkInt(where, 'options.seed', options.seed ?? 0);
  const testFraction = checkNumber(where, 'options.testFraction', options.testFraction ?? 0.2, 1e-6, 0.9);
  const c = checkNumber(where, 'options.c', options.c ?? 1, 1e-12, 1e12);
  const baseline = options.baseline ?? true;
  if (typeof baseline !== 'boolean') throw new NestlabArgumentError(where, 'options.baseline', 'true or false', baseline);
  const progress = options.progress ?? silentProgress;
  const code = await codeOf(where, sae, xm, options.code);

  const split = testSplit(where, xm.rows, testFraction, seed);
  const rng = new Rng(seed + 1); // the balanced tasks' negatives
  checkSplit(where, y, classes, split, seed);
  const tasks = classes.map((cl) => ({ label: cl, train: balancedTask(split.train, y, cl, classes, rng), test: balancedTask(split.test, y, cl, classes, rng) }));
  const kMax = Math.max(...ks);
  const rows: SparseProbingRow[] = [];
  const fit = (train: Float64Array, test: Float64Array, k: number, stride: number, task: (typeof tasks)[number]): number => {
    const f = fitLogisticL2(denseDesign(train, task.train.idx.length, k, stride), task.train.y, c, { maxIter: PROBE_MAX_ITER, tol: PROBE_TOL }, where);
    return accuracy(logisticScores(denseDesign(test, task.test.idx.length, k, stride), f), task.test.y);
  };
  const pushMean = (source: 'sae' | 'input', prefix: number | null, k: number, perClass: SparseProbingRow[]) => {
    rows.push(...perClass);
    rows.push({
      source,
      prefix,
      k,
      label: 'mean',
      accuracy: perClass.reduce((a, r) => a + r.accuracy, 0) / perClass.length,
      features: [],
      trainRows: perClass.reduce((a, r) => a + r.trainRows, 0),
      testRows: perClass.reduce((a, r) => a + r.testRows, 0),
    });
  };

  progress.start(prefixes.length + (baseline ? 1 : 0), 'sparse probing');
  const diffs = tasks.map((t) => codeMeanDiff(code, t.train.idx, t.train.y).map(Math.abs));
  const yieldNow = eventLoopYielder();
  for (const [pi, prefix] of prefixes.entries()) {
    const perK = ks.map(() => [] as SparseProbingRow[]);
    for (const [ti, task] of tasks.entries()) {
      await yieldNow();
      const top = topColumns(diffs[ti], prefix, kMax);
      const K = top.length;
      const train = gatherCode(code, task.train.idx, top);
      const test = gatherCode(code, task.test.idx, top);
      ks.forEach((k, ki) => {
        const used = Math.min(k, K);
        perK[ki].push({
          source: 'sae', prefix, k, label: task.label, accuracy: fit(train, test, used, K, task),
          features: Array.from(top.subarray(0, used)), trainRows: task.train.idx.length, testRows: task.test.idx.length,
        });
      });
    }
    ks.forEach((k, ki) => pushMean('sae', prefix, k, perK[ki]));
    progress.update(pi + 1, `prefix ${prefix}`);
  }
  if (baseline) {
    const d = xm.cols;
    const perK = ks.map(() => [] as SparseProbingRow[]);
    const all: SparseProbingRow[] = [];
    for (const task of tasks) {
      await yieldNow();
      const top = topColumns(denseMeanDiff(xm, task.train.idx, task.train.y).map(Math.abs), d, kMax);
      const K = top.length;
      const train = gatherDense(xm, task.train.idx, top);
      const test = gatherDense(xm, task.test.idx, top);
      const base = { source: 'input' as const, prefix: null, label: task.label, trainRows: task.train.idx.length, testRows: task.test.idx.length };
      ks.forEach((k, ki) => {
        const used = Math.min(k, K);
        perK[ki].push({ ...base, k, accuracy: fit(train, test, used, K, task), features: Array.from(top.subarray(0, used)) });
      });
      all.push({ ...base, k: d, accuracy: fit(gatherDense(xm, task.train.idx, null), gatherDense(xm, task.test.idx, null), d, d, task), features: [] });
    }
    ks.forEach((k, ki) => pushMean('input', null, k, perK[ki]));
    pushMean('input', null, d, all);
    progress.update(prefixes.length + 1, 'input baseline');
  }
  progress.stop(`${rows.length} rows`);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Probe-based absorption

/** How `sae.probeAbsorption` ranks latents for its k-sparse probes. */
export type LatentRanking = 'l1Probe' | 'meanDiff';
const LATENT_RANKINGS: readonly LatentRanking[] = ['l1Probe', 'meanDiff'];

/** Options of `sae.probeAbsorption`. */
export interface ProbeAbsorptionOptions {
  /** Prefix sizes to evaluate. Default: the SAE's own `cfg.prefixes`. */
  prefixes?: number[];
  /** Seed of the train/test split. Default 0. */
  seed?: number;
  /** Share of the rows held out for testing. Default 0.2 (SAEBench's train_test_fraction 0.8). */
  testFraction?: number;
  /** Largest k of the k-sparse probes (SAEBench max_k_value; capped at the prefix). Default 10. */
  maxK?: number;
  /** A larger k is a split only when its F1 beats the best so far by more than this (SAEBench f1_jump_threshold). Default 0.03. */
  f1Jump?: number;
  /** Classes whose input-probe test F1 is at most this are left out of the mean (SAEBench min_GT_probe_f1). Default 0.6. */
  minProbeF1?: number;
  /** Latent ranking: 'l1Probe' (SAEBench's absorption eval: largest weights of an L1 probe) or 'meanDiff' (largest mean_pos − mean_neg; signed, unlike sparse probing's |·|). Default 'l1Probe'. */
  latentRanking?: LatentRanking;
  /** λ of the L1 ranking probe (SAEBench k_sparse_probe_l1_decay). Default 0.01. */
  l1Coeff?: number;
  /** Inverse L2 strength C of the input probe and the k-sparse probes (scikit-learn's C). Default 1. */
  c?: number;
  /** Project x − b_dec instead of x on the probe direction. Default false (SAEBench projects the raw activations). */
  subtractBDec?: boolean;
  /** A code of x from `sae.encode` to reuse (all latents, no prefix). Default: encode x. */
  code?: SparseCode;
  /** Progress, one step per prefix. */
  progress?: Progress;
}

/** Probe-based absorption of one class at one prefix, or the mean over the included classes (label 'mean'). */
export interface ProbeAbsorptionRow {
  /** The prefix p: only latents < p were read. */
  prefix: number;
  /** The class, or 'mean' (mean over the included classes). */
  label: number | 'mean';
  /** Whether the class enters the mean (probeF1 > minProbeF1); true for 'mean' rows. */
  included: boolean;
  /** Test F1 of the logistic-regression probe on x (decision > 0, all test rows). 'mean': mean over included classes. */
  probeF1: number;
  /** F1 on the test rows of the k-sparse probe for k = 1, 2, … up to the first k that is not a split (or maxK). [] for 'mean'. */
  f1ByK: number[];
  /** The main latents S: those of the last k accepted by the feature-splitting rule. [] for 'mean'. */
  splitLatents: number[];
  /** |S| (SAEBench's num_split_features). 'mean': mean over included classes (mean_num_split_features). */
  splitFeatures: number;
  /** Test rows of the class that the input probe scores > 0 (the rows scored; sum for 'mean'). */
  probeTruePositives: number;
  /** Σ_rows absorption fraction / probeTruePositives (mean_absorption_fraction; NaN without rows). 'mean': mean over included classes. */
  meanAbsorptionFraction: number;
  /** Full absorptions / probeTruePositives (full_absorption_rate; NaN without rows). 'mean': mean over included classes. */
  fullAbsorptionRate: number;
  /** Number of full absorptions (sum for 'mean'). */
  fullAbsorptions: number;
}

/**
 * Probe-based feature absorption per Matryoshka prefix: SAEBench's first-letter absorption eval
 * (`sae_bench/evals/absorption/`, github.com/adamkarvonen/SAEBench; Chanin et al., arXiv
 * 2409.14507) with classes for letters (digits on MNIST); docs/methods/msae.md §5.5. Rows are split
 * train/test by `seed`. For each class c:
 * 1. an L2 logistic regression on x (train rows, class_weight 'balanced', C = `c`) gives the probe;
 *    p = w/‖w‖ is its unit direction and its test F1 decides whether c enters the mean;
 * 2. per prefix, latents < prefix are ranked (`latentRanking`; 'l1Probe' fits (1/n)Σ s_i ℓ_i + λ‖w‖₁
 *    with positives weighted n_neg/n_pos, as SAEBench's sparse multi-probe, and ranks by weight,
 *    ties by mean difference); for k = 1..maxK an L2 probe (balanced, C = `c`) on the top k latents
 *    is scored by test F1, and k is accepted while F1 beats the best so far by more than `f1Jump`
 *    (k = 1 always): the last accepted k's latents are the main latents S;
 * 3. on the test rows of c that the x probe scores > 0, each row gets `absorptionScore` with
 *    a = ⟨x, p⟩ (raw x, as SAEBench; x − b_dec with `subtractBDec`) and proj_i = f_i·cos(W_dec,i, p);
 *    meanAbsorptionFraction = Σ fraction / #rows, fullAbsorptionRate = #full / #rows.
 * The 'mean' row of a prefix averages the classes whose probe F1 > `minProbeF1` (NaN if none).
 *
 * Differences from SAEBench: probes are exact minimizers (L-BFGS, FISTA) instead of 50 epochs of
 * Adam; the x probe is an L2 logistic regression with balanced class weights (SAEBench: Adam with
 * weight decay 1e-4 and BCE pos_weight, the same class balance); no minimum number of classes
 * (SAEBench needs 20 letters with a good probe).
 *
 * @example const rows = await sae.probeAbsorption(model, test.x, test.y, { seed: 0 }); // rows.filter((r) => r.label === 'mean').map((r) => r.meanAbsorptionFraction)
 */
export async function probeAbsorption(sae: Sae, x: Matrix, labels: Int32Array | number[], options: ProbeAbsorptionOptions = {}): Promise<ProbeAbsorptionRow[]> {
  const where = 'sae.probeAbsorption';
  checkKnownKeys(where, options, ['prefixes', 'seed', 'testFraction', 'maxK', 'f1Jump', 'minProbeF1', 'latentRanking', 'l1Coeff', 'c', 'subtractBDec', 'code', 'progress']);
  const xm = checkMatrix(where, 'x', x, 2, 1);
  const { dIn: d, dSae: m } = sae.cfg;
  if (xm.cols !== d) throw new NestlabArgumentError(where, 'x.cols', `dIn = ${d}`, xm.cols);
  const { y, classes } = checkClassLabels(where, labels, xm.rows);
  const prefixes = checkPrefixes(where, sae, options.prefixes);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0);
  const testFraction = checkNumber(where, 'options.testFraction', options.testFraction ?? 0.2, 1e-6, 0.9);
  const maxK = checkInt(where, 'options.maxK', options.maxK ?? 10, 1, 2 ** 31 - 1); // at most the prefix's latents are used
  const f1Jump = checkNumber(where, 'options.f1Jump', options.f1Jump ?? 0.03, 0, 1);
  const minProbeF1 = checkNumber(where, 'options.minProbeF1', options.minProbeF1 ?? 0.6, 0, 1);
  const latentRanking = checkOneOf(where, 'options.latentRanking', options.latentRanking ?? 'l1Probe', LATENT_RANKINGS);
  const l1Coeff = checkNumber(where, 'options.l1Coeff', options.l1Coeff ?? 0.01, 0, 1e6);
  const c = checkNumber(where, 'options.c', options.c ?? 1, 1e-12, 1e12);
  const subtractBDec = options.subtractBDec ?? false;
  if (typeof subtractBDec !== 'boolean') throw new NestlabArgumentError(where, 'options.subtractBDec', 'true or false', subtractBDec);
  const progress = options.progress ?? silentProgress;
  const code = await codeOf(where, sae, xm, options.code);

  const split = testSplit(where, xm.rows, testFraction, seed);
  checkSplit(where, y, classes, split, seed);
  const { train, test } = split;
  const xTrain = denseDesign(gatherDense(xm, train, null), train.length, d);
  const xTest = denseDesign(gatherDense(xm, test, null), test.length, d);

  // 1. the probe on x, per class: unit direction, test F1, the rows to score and their a = ⟨x, p⟩
  const fitted = classes.map((cl) => {
    const yTrain = Uint8Array.from(train, (r) => (y[r] === cl ? 1 : 0));
    const yTest = Uint8Array.from(test, (r) => (y[r] === cl ? 1 : 0));
    const fit = fitLogisticL2(xTrain, yTrain, c, { sampleWeight: balancedWeights(yTrain), maxIter: PROBE_MAX_ITER, tol: PROBE_TOL }, where);
    const scores = logisticScores(xTest, fit);
    const norm = Math.hypot(...fit.coef);
    const dir = fit.coef.map((v) => (norm > 0 ? v / norm : 0));
    const rows = Int32Array.from(test.filter((_, t) => yTest[t] === 1 && scores[t] > 0));
    const a = Float64Array.from(rows, (r) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += (xm.data[r * d + j] - (subtractBDec ? sae.params.bDec[j] : 0)) * dir[j];
      return s;
    });
    return { label: cl, yTrain, yTest, probeF1: binaryF1(scores, yTest), rows, a, dir };
  });
  // cos(W_dec,i, p) of every latent with every class's probe direction, [m, classes]
  const cosAll = decoderFeatureCosines(sae, { data: Float32Array.from(fitted.flatMap((f) => Array.from(f.dir))), rows: fitted.length, cols: d });
  const probes = fitted.map((f, q) => ({ ...f, cos: Float64Array.from({ length: m }, (_, i) => cosAll.data[i * fitted.length + q]) }));

  const out: ProbeAbsorptionRow[] = [];
  progress.start(prefixes.length, 'probe absorption');
  const yieldNow = eventLoopYielder();
  for (const [pi, prefix] of prefixes.entries()) {
    const trunc = truncateCode(code, prefix);
    // the training rows' code restricted to latents < prefix, as a CSR design for the L1 probe
    const ptr = new Int32Array(train.length + 1);
    for (let t = 0; t < train.length; t++) ptr[t + 1] = ptr[t] + trunc.ptr[train[t] + 1] - trunc.ptr[train[t]];
    const idx = new Int32Array(ptr[train.length]);
    const val = new Float32Array(ptr[train.length]);
    for (let t = 0; t < train.length; t++) {
      idx.set(trunc.idx.subarray(trunc.ptr[train[t]], trunc.ptr[train[t] + 1]), ptr[t]);
      val.set(trunc.val.subarray(trunc.ptr[train[t]], trunc.ptr[train[t] + 1]), ptr[t]);
    }
    const codeTrain: Design = csrDesign(ptr, idx, val, prefix);
    const perClass: ProbeAbsorptionRow[] = [];
    for (const probe of probes) {
      await yieldNow();
      const diff = codeMeanDiff(trunc, train, probe.yTrain);
      let key: Float64Array;
      let tie: Float64Array | undefined;
      if (latentRanking === 'l1Probe') {
        const nPos = probe.yTrain.reduce((s, v) => s + v, 0);
        const posWeight = (probe.yTrain.length - nPos) / nPos;
        const weights = Float64Array.from(probe.yTrain, (v) => (v ? posWeight : 1));
        key = fitLogisticL1(codeTrain, probe.yTrain, l1Coeff, { sampleWeight: weights, maxIter: 500, tol: 1e-6 }, where).coef;
        tie = diff;
      } else key = diff; // signed: main latents must fire more on the class, not less
      const top = topColumns(key, prefix, maxK, tie);
      const K = top.length;
      const fTrain = gatherCode(trunc, train, top);
      const fTest = gatherCode(trunc, test, top);
      const bal = { sampleWeight: balancedWeights(probe.yTrain), maxIter: PROBE_MAX_ITER, tol: PROBE_TOL };
      const f1ByK: number[] = [];
      let best = -Infinity;
      let kMain = 0;
      for (let k = 1; k <= K; k++) {
        const fit = fitLogisticL2(denseDesign(fTrain, train.length, k, K), probe.yTrain, c, bal, where);
        const f1 = binaryF1(logisticScores(denseDesign(fTest, test.length, k, K), fit), probe.yTest);
        f1ByK.push(f1);
        if (!(f1 > best + f1Jump)) break;
        best = f1;
        kMain = k;
      }
      const splitLatents = Array.from(top.subarray(0, kMain));
      const isMain = new Uint8Array(m);
      for (const i of splitLatents) isMain[i] = 1;
      let fractions = 0;
      let full = 0;
      probe.rows.forEach((r, t) => {
        const s = absorptionScore(trunc, r, probe.cos, isMain, probe.a[t], prefix);
        fractions += s.fraction;
        if (s.full) full++;
      });
      const n = probe.rows.length;
      perClass.push({
        prefix,
        label: probe.label,
        included: probe.probeF1 > minProbeF1,
        probeF1: probe.probeF1,
        f1ByK,
        splitLatents,
        splitFeatures: splitLatents.length,
        probeTruePositives: n,
        meanAbsorptionFraction: n > 0 ? fractions / n : NaN,
        fullAbsorptionRate: n > 0 ? full / n : NaN,
        fullAbsorptions: full,
      });
    }
    const inc = perClass.filter((r) => r.included);
    const avg = (f: (r: ProbeAbsorptionRow) => number) => (inc.length > 0 ? inc.reduce((s, r) => s + f(r), 0) / inc.length : NaN);
    out.push(...perClass, {
      prefix,
      label: 'mean',
      included: true,
      probeF1: avg((r) => r.probeF1),
      f1ByK: [],
      splitLatents: [],
      splitFeatures: avg((r) => r.splitFeatures),
      probeTruePositives: inc.reduce((s, r) => s + r.probeTruePositives, 0),
      meanAbsorptionFraction: avg((r) => r.meanAbsorptionFraction),
      fullAbsorptionRate: avg((r) => r.fullAbsorptionRate),
      fullAbsorptions: inc.reduce((s, r) => s + r.fullAbsorptions, 0),
    });
    progress.update(pi + 1, `prefix ${prefix}`);
  }
  progress.stop(`${out.length} rows`);
  return out;
}
