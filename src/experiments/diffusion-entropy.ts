/**
 * Figure `diffusion-entropy`: diffusion spectral entropy (DSE) and mutual information with the
 * labels (DSMI) after Liao et al., "Assessing Neural Network Representations During Training Using
 * Noise-Resilient Diffusion Spectral Entropy" (CISS 2024, arXiv 2312.04823), in three panels:
 *
 *  (a) simulated data: a Gaussian in d of D dimensions (a random isometric embedding), plus
 *      isotropic noise in all D; DSE against d and the noise level, beside the binned Shannon
 *      entropy (CSE, 2 bins per dimension, as the reference's `classic_shannon_entropy`);
 *  (b) an MLP trained on MNIST: per hidden layer and epoch (0 = initialization), DSE of the test
 *      representation and its DSMI with the digit labels, beside the test accuracy;
 *  (c) an MRL model on MNIST: DSE and DSMI of every Matryoshka prefix of its embedding;
 *  (d) the Brown-corpus GPT of the lm-* figures, watched while it trains (lm-common.ts
 *      `watchBrownLmTraining`: the same weights at the end): per residual-stream hook and
 *      snapshot step, DSE of held-out tokens and their DSMI with the tokens' coarse part of speech,
 *      beside the test loss.
 *
 * Kernel width: every measurement is made under two σ rules, both in the rows and the meta
 * (docs/methods/diffusion-entropy.md §6): 'absolute' (a fixed σ, as the paper: 1 on the simulated
 * data, whose signal has unit variance per intrinsic dimension, and the reference's 10 on the
 * networks' features) and 'median' (σ = bandwidthFraction × the median pairwise distance of the
 * analyzed rows, which makes DSE and DSMI blind to the overall scale of a layer, a scale that
 * grows several-fold during training). The verdicts are computed from the numbers in `run`.
 *
 * `measureRepresentation` measures every panel: DSE and DSMI of one matrix with labels under given
 * σ rules.
 */
import type { TopLevelSpec } from 'vega-lite';
import { Rng } from '../backend/rng.js';
import { headRows, matmul, prefixColumns, randomProjection, selectRows, type Matrix } from '../data/matrix.js';
import { loadMnist } from '../data/mnist.js';
import { median, pearsonCorrelation } from '../math/order.js';
import { createMlp, evaluateClassifier, layerActivations, trainClassifier } from '../models/mlp.js';
import { disposeMrl, mrlEmbed, mrlTestAccuracy } from '../models/mrl.js';
import { DIFFUSION_ENTROPY_EPS, diffusionSpectralEntropy, diffusionSpectralMutualInformation } from '../similarity/diffusion.js';
import { captureActivations } from '../lm/capture.js';
import { disposeLm } from '../lm/model.js';
import { evaluationWindows, lmLoss, type TokenBatch } from '../lm/train.js';
import { defineExperiment } from './define.js';
import { LM_SIZES, watchBrownLmTraining, type LmRunParams } from './lm-common.js';
import { posStimuli, type PosStimuli } from './lm-geometry-nested.js';
import { trainNested } from './mrl-common.js';

/** Parameters of a run (sizes of the three panels and the two σ rules). */
export interface DiffusionEntropyParams extends LmRunParams {
  /** (a) Points per simulated data set. */
  simulatedRows: number;
  /** (a) Ambient dimension D. */
  ambientDim: number;
  /** (a) Intrinsic dimensions d of the Gaussian. */
  intrinsicDims: number[];
  /** (a) Standard deviations of the isotropic noise added in all D dimensions (the signal has sd 1 per intrinsic dimension). */
  noiseLevels: number[];
  /** (a) The absolute σ on the simulated data. */
  simulatedSigma: number;
  /** (a) Diffusion times t shown (the paper raises t to damp noise). */
  simulatedTimes: number[];
  /** (b, c) The absolute σ on network features (the reference's default, 10). */
  featureSigma: number;
  /** The 'median' rule: σ = bandwidthFraction × median pairwise distance of the analyzed rows. */
  bandwidthFraction: number;
  /** (b, c) Diffusion time. */
  t: number;
  /** Random subsets per class in DSMI. */
  repetitions: number;
  /** (b, c) MNIST digits used (4:1 train/test split, seeded). */
  limit: number;
  /** (b, c) Test rows whose representations are analyzed (the first ones of the seeded test split). */
  analyzedRows: number;
  /** (b) Hidden widths of the MLP. */
  hidden: number[];
  /** (b) Training epochs (measured after each, and at initialization). */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** (c) The MRL encoder's hidden widths, embedding size, nesting and epochs. */
  mrlHidden: number[];
  embeddingDim: number;
  nesting: number[];
  mrlEpochs: number;
  /** (d) The GPT's hooks measured, in forward order. */
  lmHooks: string[];
  /** (d) Training steps at which the GPT is measured (0 = initialization). */
  lmSnapshots: number[];
  /** (d) Test windows spread over the test stream; the token stimuli are drawn from them. */
  testWindows: number;
  /** (d) Test tokens drawn (a seeded draw at positions ≥ minPosition, 'other' tags left out, then tags with fewer than 10 of them). */
  lmStimuli: number;
  minPosition: number;
  /** (d) Test windows whose mean cross-entropy is the test loss at each snapshot. */
  lossWindows: number;
}

/** How σ is chosen for one measurement. */
export type SigmaRule = { kind: 'absolute'; sigma: number } | { kind: 'median'; bandwidthFraction: number };

/** One tidy row: a DSE, DSMI, CSE or accuracy value of one panel, with what it was measured on. */
export type DiffusionEntropyRow = {
  panel: 'simulated' | 'training' | 'prefix' | 'lm';
  measure: 'DSE' | 'DSMI' | 'CSE' | 'accuracy' | 'loss';
  /** Bits for DSE, DSMI and CSE; a fraction for accuracy; nats per token for loss. */
  value: number;
  /** The σ rule (null for CSE and accuracy). */
  sigmaRule: 'absolute' | 'median' | null;
  /** The σ used (null for CSE and accuracy). */
  sigma: number | null;
  /** The diffusion time (null for CSE and accuracy). */
  t: number | null;
  /** (a) Intrinsic dimension d. */
  intrinsicDim: number | null;
  /** (a) Noise sd. */
  noise: number | null;
  /** (b) Layer name (hidden1, ...); (d) the hook. */
  layer: string | null;
  /** (b) Epoch, 0 = initialization. */
  epoch: number | null;
  /** (c) Prefix size m. */
  prefix: number | null;
  /** (d) Training step of the GPT. */
  step: number | null;
  /** Rows the value was computed on. */
  rows: number;
};

/** DSE and DSMI of one representation under one σ rule: what {@link measureRepresentation} returns. */
export interface DiffusionMeasurement {
  sigmaRule: 'absolute' | 'median';
  sigma: number;
  t: number;
  rows: number;
  /** DSE in bits. */
  entropy: number;
  /** DSMI with the labels in bits (null without labels). */
  mutualInformation: number | null;
}

/** (a) Per σ rule and t: DSE against d at no noise, and how far noise moves DSE and CSE. */
export interface SimulatedFinding {
  sigmaRule: 'absolute' | 'median';
  t: number;
  /** DSE at noise 0, per intrinsic dimension (in intrinsicDims order). */
  entropyByDim: number[];
  /** Whether DSE at noise 0 increases strictly with d. */
  risesWithDimension: boolean;
  /**
   * Per noise level > 0: the mean over d of |value(d, noise) − value(d, 0)|, divided by the spread
   * max_d − min_d of the values at noise 0, for DSE and for CSE (0: noise changes nothing; 1: as
   * much as the whole range of d).
   */
  noiseShift: { noise: number; dse: number; cse: number }[];
  /** The noise levels at which DSE moved less than CSE (relative to their own range over d). */
  moreRobustThanCseAt: number[];
}

/** (b) One layer under one σ rule: DSE and DSMI at initialization and after the last epoch. */
export interface TrainingFinding {
  layer: string;
  sigmaRule: 'absolute' | 'median';
  entropyInit: number;
  entropyFinal: number;
  mutualInformationInit: number;
  mutualInformationFinal: number;
  /** Pearson correlation over epochs between DSMI and test accuracy. */
  accuracyCorrelation: number;
  /** The median pairwise distance of the layer's rows at initialization and at the end (its scale). */
  medianDistanceInit: number;
  medianDistanceFinal: number;
}

/** What the run found. */
export interface DiffusionEntropyMeta {
  /** The σ rules in words. */
  sigmaRules: string;
  /** The CSE baseline in words. */
  cseRule: string;
  /** How the per-epoch measurements were taken (training protocol). */
  trainingProtocol: string;
  simulated: SimulatedFinding[];
  /** Whether DSE rises with d at noise 0 under every rule and t. */
  simulatedRisesWithDimension: boolean;
  /** The verdict of (a) in words, from the numbers. */
  simulatedVerdict: string;
  trainRows: number;
  testRows: number;
  analyzedRows: number;
  /** (b) Test accuracy per epoch (index = epoch, 0 = initialization). */
  accuracyByEpoch: number[];
  training: TrainingFinding[];
  /** (b) DSMI with the labels at the last epoch above its value at initialization, in every layer, per σ rule. */
  mutualInformationRose: Record<'absolute' | 'median', boolean>;
  /** (b) In how many layers DSE at the end is above its value at initialization, per σ rule. */
  entropyRoseLayers: Record<'absolute' | 'median', number>;
  /** The verdict of (b) in words, from the numbers. */
  trainingVerdict: string;
  /** (c) Per σ rule, DSE and DSMI per prefix (nesting order), and the heads' accuracy. */
  prefixes: { sigmaRule: 'absolute' | 'median'; entropy: number[]; mutualInformation: number[] }[];
  prefixAccuracy: number[];
  /** The verdict of (c) in words, from the numbers. */
  prefixVerdict: string;
  /** (d) The GPT: test loss per snapshot, the part-of-speech labels, and per hook and σ rule DSE and DSMI at the first and last snapshot. */
  lm: {
    steps: number[];
    testLoss: number[];
    posNames: string[];
    analyzedRows: number;
    hooks: { hook: string; sigmaRule: 'absolute' | 'median'; entropyInit: number; entropyFinal: number; mutualInformationInit: number; mutualInformationFinal: number; lossCorrelation: number }[];
  };
  /** (d) DSMI with the part of speech at the last snapshot above its value at initialization, at every hook, per σ rule. */
  lmMutualInformationRose: Record<'absolute' | 'median', boolean>;
  /** The verdict of (d) in words, from the numbers. */
  lmVerdict: string;
}

const RULES_TEXT = (p: DiffusionEntropyParams) =>
  `two rules, both reported: 'absolute' σ (${p.simulatedSigma} on the simulated data, whose signal has sd 1 per intrinsic dimension; ` +
  `${p.featureSigma} on network features, the reference code's default) and 'median' σ = ${p.bandwidthFraction} × the median pairwise Euclidean ` +
  `distance of the analyzed rows (scale-free: a layer's overall scale, which grows during training, does not change DSE or DSMI)`;

/**
 * The median of the n(n − 1)/2 pairwise Euclidean distances between the rows of x (Float64).
 *
 * @example const m = medianPairwiseDistance(acts); // the scale the 'median' σ rule is relative to
 */
export function medianPairwiseDistance(x: Matrix): number {
  const n = x.rows;
  const d = x.cols;
  const all = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = x.data[i * d + c] - x.data[j * d + c];
        s += diff * diff;
      }
      all[k++] = Math.sqrt(s);
    }
  }
  return median(all);
}

/**
 * σ for x under a rule: the rule's σ, or bandwidthFraction × medianPairwiseDistance(x) (1 in place of a zero median).
 *
 * @example const sigma = sigmaFor(x, { kind: 'median', bandwidthFraction: 0.5 });
 */
export function sigmaFor(x: Matrix, rule: SigmaRule): number {
  if (rule.kind === 'absolute') return rule.sigma;
  const m = medianPairwiseDistance(x);
  return rule.bandwidthFraction * (m > 0 ? m : 1);
}

/**
 * The hook every panel (and a later LM panel) measures through: DSE of `x` and, when labels are
 * given, its DSMI with them, under each σ rule (docs/methods/diffusion-entropy.md §6).
 *
 * @example const [m] = await measureRepresentation(acts, labels, [{ kind: 'median', bandwidthFraction: 0.5 }], { t: 1, repetitions: 5, seed: 0 }); // m.entropy, m.mutualInformation, m.sigma
 */
export async function measureRepresentation(
  x: Matrix,
  labels: Int32Array | null,
  rules: SigmaRule[],
  options: { t: number; repetitions: number; seed: number },
): Promise<DiffusionMeasurement[]> {
  const out: DiffusionMeasurement[] = [];
  for (const rule of rules) {
    const sigma = sigmaFor(x, rule);
    const dse = await diffusionSpectralEntropy(x, { sigma, t: options.t, seed: options.seed });
    const mi = labels === null ? null : (await diffusionSpectralMutualInformation(x, labels, { sigma, t: options.t, repetitions: options.repetitions, seed: options.seed })).mutualInformation;
    out.push({ sigmaRule: rule.kind, sigma, t: options.t, rows: dse.rows, entropy: dse.entropy, mutualInformation: mi });
  }
  return out;
}

/**
 * Binned Shannon entropy in bits, as the reference's `classic_shannon_entropy`: each column
 * min-max scaled to [0, 1] and cut into `bins` equal bins (a constant column is one bin), the rows'
 * bin vectors counted, p = count / n + ε, H = −Σ p log₂ p. Saturates at log₂ n once every row has
 * a cell of its own.
 *
 * @example const cse = binnedShannonEntropy(x); // bits, at most log2(x.rows)
 */
export function binnedShannonEntropy(x: Matrix, bins = 2): number {
  const { rows: n, cols: d } = x;
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      const v = x.data[i * d + c];
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
  const counts = new Map<string, number>();
  const cell = new Array<number>(d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      const range = hi[c] - lo[c];
      cell[c] = range > 0 ? Math.min(bins - 1, Math.floor(((x.data[i * d + c] - lo[c]) / range) * bins)) : 0;
    }
    const key = cell.join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let h = 0;
  for (const count of counts.values()) {
    const p = count / n + DIFFUSION_ENTROPY_EPS;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * n points of a standard Gaussian in d dimensions, embedded isometrically in D (random orthonormal map), plus N(0, noise²) in all D.
 *
 * @example const x = noisyGaussian(500, 4, 16, 0.1, 0); // 500 x 16, intrinsic dimension 4
 */
export function noisyGaussian(n: number, d: number, D: number, noise: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const z = { data: rng.normalArray(n * d), rows: n, cols: d };
  const x = matmul(z, randomProjection(d, D, { seed: seed + 1, orthonormal: true }));
  const noiseRng = new Rng(seed + 2);
  for (let i = 0; i < x.data.length; i++) x.data[i] += noise * noiseRng.normal();
  return x;
}


const fmt = (v: number, digits = 2) => v.toFixed(digits);
const EMPTY = { sigmaRule: null, sigma: null, t: null, intrinsicDim: null, noise: null, layer: null, epoch: null, prefix: null, step: null } as const;
const LM_HOOKS = ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post'];

/** Tags with fewer stimuli than this are left out of (d): DSMI needs a few rows per class. */
const MIN_CLASS_ROWS = 10;

/** The stimuli whose class has at least `min` rows, relabeled 0.. in the order of `posNames` (rarer classes dropped from it). */
function commonClasses(s: PosStimuli, min: number): PosStimuli {
  const counts = new Map<number, number>();
  for (const l of s.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const kept = s.posNames.map((_, i) => i).filter((i) => (counts.get(i) ?? 0) >= min);
  const keep = s.chosen.map((_, i) => i).filter((i) => kept.includes(s.labels[i]));
  return { windows: s.windows, chosen: keep.map((i) => s.chosen[i]), labels: Int32Array.from(keep, (i) => kept.indexOf(s.labels[i])), posNames: kept.map((i) => s.posNames[i]) };
}

/** The `diffusion-entropy` figure (module comment; docs/methods/diffusion-entropy.md §6). */
export const diffusionEntropy = defineExperiment<DiffusionEntropyParams, DiffusionEntropyRow, DiffusionEntropyMeta>({
  id: 'diffusion-entropy',
  title: 'Diffusion spectral entropy and mutual information: intrinsic dimension, noise, training, Matryoshka prefixes',
  sizes: {
    smoke: {
      simulatedRows: 200,
      ambientDim: 16,
      intrinsicDims: [1, 4, 16],
      noiseLevels: [0, 0.1, 0.4],
      simulatedSigma: 1,
      simulatedTimes: [1, 3],
      featureSigma: 10,
      bandwidthFraction: 0.5,
      t: 1,
      repetitions: 5,
      limit: 1500,
      analyzedRows: 300,
      hidden: [64, 32],
      epochs: 2,
      batchSize: 128,
      learningRate: 1e-3,
      mrlHidden: [32],
      embeddingDim: 16,
      nesting: [2, 4, 16],
      mrlEpochs: 3,
      ...LM_SIZES.smoke,
      lmHooks: LM_HOOKS,
      lmSnapshots: [0, 100, 400],
      testWindows: 20,
      lmStimuli: 200,
      minPosition: 8,
      lossWindows: 16,
    },
    full: {
      simulatedRows: 500,
      ambientDim: 16,
      intrinsicDims: [1, 2, 4, 8, 16],
      noiseLevels: [0, 0.05, 0.1, 0.2, 0.4],
      simulatedSigma: 1,
      simulatedTimes: [1, 3],
      featureSigma: 10,
      bandwidthFraction: 0.5,
      t: 1,
      repetitions: 5,
      limit: 10000,
      analyzedRows: 1000,
      hidden: [128, 64],
      epochs: 8,
      batchSize: 128,
      learningRate: 1e-3,
      mrlHidden: [256, 128],
      embeddingDim: 64,
      nesting: [2, 4, 8, 16, 32, 64],
      mrlEpochs: 10,
      ...LM_SIZES.full,
      lmHooks: LM_HOOKS,
      lmSnapshots: [0, 50, 100, 200, 500, 1000, 2000],
      testWindows: 300,
      lmStimuli: 1000,
      minPosition: 8,
      lossWindows: 128,
    },
  },
  async run({ params: p, seed, progress }) {
    const rows: DiffusionEntropyRow[] = [];
    const steps = p.intrinsicDims.length * p.noiseLevels.length + (p.epochs + 1) + 1 + p.lmSteps;
    let step = 0;
    progress.start(steps, 'diffusion-entropy');

    // (a) Simulated data: DSE (both rules, every t) and CSE against d and noise.
    const simRules: SigmaRule[] = [
      { kind: 'absolute', sigma: p.simulatedSigma },
      { kind: 'median', bandwidthFraction: p.bandwidthFraction },
    ];
    for (const [di, d] of p.intrinsicDims.entries()) {
      for (const noise of p.noiseLevels) {
        // The same signal at every noise level (seed per d), so the noise is the only change.
        const x = noisyGaussian(p.simulatedRows, d, p.ambientDim, noise, seed * 1000 + 17 * di);
        for (const t of p.simulatedTimes) {
          for (const m of await measureRepresentation(x, null, simRules, { t, repetitions: p.repetitions, seed })) {
            rows.push({ ...EMPTY, panel: 'simulated', measure: 'DSE', value: m.entropy, sigmaRule: m.sigmaRule, sigma: m.sigma, t, intrinsicDim: d, noise, rows: m.rows });
          }
        }
        rows.push({ ...EMPTY, panel: 'simulated', measure: 'CSE', value: binnedShannonEntropy(x), intrinsicDim: d, noise, rows: x.rows });
        progress.update(++step);
      }
    }
    const simulated: SimulatedFinding[] = [];
    const value = (measure: 'DSE' | 'CSE', d: number, noise: number, rule: string | null, t: number | null) =>
      rows.find((r) => r.panel === 'simulated' && r.measure === measure && r.intrinsicDim === d && r.noise === noise && r.sigmaRule === rule && r.t === t)!.value;
    const cleanNoise = p.noiseLevels[0];
    const shift = (v: (d: number, noise: number) => number, noise: number) => {
      const base = p.intrinsicDims.map((d) => v(d, cleanNoise));
      const range = Math.max(...base) - Math.min(...base);
      return p.intrinsicDims.reduce((s, d, i) => s + Math.abs(v(d, noise) - base[i]), 0) / p.intrinsicDims.length / (range > 0 ? range : 1);
    };
    for (const rule of ['absolute', 'median'] as const) {
      for (const t of p.simulatedTimes) {
        const entropyByDim = p.intrinsicDims.map((d) => value('DSE', d, cleanNoise, rule, t));
        const noiseShift = p.noiseLevels.slice(1).map((noise) => ({
          noise,
          dse: shift((d, nz) => value('DSE', d, nz, rule, t), noise),
          cse: shift((d, nz) => value('CSE', d, nz, null, null), noise),
        }));
        simulated.push({
          sigmaRule: rule,
          t,
          entropyByDim,
          risesWithDimension: entropyByDim.every((v, i) => i === 0 || v > entropyByDim[i - 1]),
          noiseShift,
          moreRobustThanCseAt: noiseShift.filter((s) => s.dse < s.cse).map((s) => s.noise),
        });
      }
    }
    const simulatedRisesWithDimension = simulated.every((s) => s.risesWithDimension);
    const simulatedVerdict = simulated
      .map((s) => {
        const first = s.noiseShift[0];
        return (
          `${s.sigmaRule} σ, t = ${s.t}: DSE at no noise ${s.risesWithDimension ? 'rises' : 'does not rise'} with d (${s.entropyByDim.map((v) => fmt(v)).join(' → ')} bits for d = ${p.intrinsicDims.join(', ')}); ` +
          `noise moves it less than CSE at ${s.moreRobustThanCseAt.length} of ${s.noiseShift.length} noise levels (${s.moreRobustThanCseAt.join(', ') || 'none'})` +
          (first === undefined ? '' : `; at noise ${first.noise} DSE moves ${fmt(first.dse)} of its range over d, CSE ${fmt(first.cse)}`)
        );
      })
      .join('. ');

    // (b) An MLP on MNIST, measured at initialization and after every epoch.
    const { train, test } = loadMnist({ seed, limit: p.limit });
    const analyzed = Math.min(p.analyzedRows, test.x.rows);
    const xs = headRows(test.x, analyzed);
    const ys = test.y.slice(0, analyzed);
    const featureRules: SigmaRule[] = [
      { kind: 'absolute', sigma: p.featureSigma },
      { kind: 'median', bandwidthFraction: p.bandwidthFraction },
    ];
    const layerNames = p.hidden.map((_, i) => `hidden${i + 1}`);
    const accuracyByEpoch: number[] = [];
    const scale: Record<string, number[]> = {};
    const model = createMlp({ inputDim: train.x.cols, hidden: p.hidden, outputDim: 10, seed });
    try {
      for (let epoch = 0; epoch <= p.epochs; epoch++) {
        if (epoch > 0) {
          await trainClassifier(model, train.x, train.y, { epochs: 1, batchSize: p.batchSize, learningRate: p.learningRate, seed: seed * 1000 + epoch });
        }
        const accuracy = (await evaluateClassifier(model, test.x, test.y)).accuracy;
        accuracyByEpoch.push(accuracy);
        rows.push({ ...EMPTY, panel: 'training', measure: 'accuracy', value: accuracy, epoch, rows: test.x.rows });
        const acts = await layerActivations(model, xs);
        for (const [li, layer] of layerNames.entries()) {
          (scale[layer] ??= []).push(medianPairwiseDistance(acts[li]));
          for (const m of await measureRepresentation(acts[li], ys, featureRules, { t: p.t, repetitions: p.repetitions, seed })) {
            const base = { ...EMPTY, panel: 'training' as const, sigmaRule: m.sigmaRule, sigma: m.sigma, t: m.t, layer, epoch, rows: m.rows };
            rows.push({ ...base, measure: 'DSE', value: m.entropy });
            rows.push({ ...base, measure: 'DSMI', value: m.mutualInformation! });
          }
        }
        progress.update(++step);
      }
    } finally {
      model.dispose();
    }
    const series = (measure: 'DSE' | 'DSMI', layer: string, rule: string) =>
      rows.filter((r) => r.panel === 'training' && r.measure === measure && r.layer === layer && r.sigmaRule === rule).sort((a, b) => a.epoch! - b.epoch!).map((r) => r.value);
    const training: TrainingFinding[] = [];
    for (const rule of ['absolute', 'median'] as const) {
      for (const layer of layerNames) {
        const dse = series('DSE', layer, rule);
        const dsmi = series('DSMI', layer, rule);
        training.push({
          layer,
          sigmaRule: rule,
          entropyInit: dse[0],
          entropyFinal: dse[dse.length - 1],
          mutualInformationInit: dsmi[0],
          mutualInformationFinal: dsmi[dsmi.length - 1],
          accuracyCorrelation: pearsonCorrelation(dsmi, accuracyByEpoch),
          medianDistanceInit: scale[layer][0],
          medianDistanceFinal: scale[layer][scale[layer].length - 1],
        });
      }
    }
    const byRule = (rule: 'absolute' | 'median') => training.filter((f) => f.sigmaRule === rule);
    const mutualInformationRose = {
      absolute: byRule('absolute').every((f) => f.mutualInformationFinal > f.mutualInformationInit),
      median: byRule('median').every((f) => f.mutualInformationFinal > f.mutualInformationInit),
    };
    const entropyRoseLayers = {
      absolute: byRule('absolute').filter((f) => f.entropyFinal > f.entropyInit).length,
      median: byRule('median').filter((f) => f.entropyFinal > f.entropyInit).length,
    };
    const describeRule = (rule: 'absolute' | 'median') =>
      `${rule} σ: DSMI with the labels ${mutualInformationRose[rule] ? 'rose in every layer' : 'did not rise in every layer'} (` +
      byRule(rule).map((f) => `${f.layer} ${fmt(f.mutualInformationInit)} → ${fmt(f.mutualInformationFinal)} bits, r = ${fmt(f.accuracyCorrelation)} with test accuracy over epochs`).join('; ') +
      `); DSE rose in ${entropyRoseLayers[rule]} of ${layerNames.length} layers (` +
      byRule(rule).map((f) => `${f.layer} ${fmt(f.entropyInit)} → ${fmt(f.entropyFinal)}`).join('; ') +
      ')';
    const trainingVerdict =
      `Test accuracy ${fmt(accuracyByEpoch[0], 3)} at initialization, ${fmt(accuracyByEpoch[accuracyByEpoch.length - 1], 3)} after ${p.epochs} epochs. ` +
      `${describeRule('absolute')}. ${describeRule('median')}. ` +
      `The layers' median pairwise distance grew ${layerNames.map((l) => `${fmt(scale[l][0], 1)} → ${fmt(scale[l][scale[l].length - 1], 1)}`).join(', ')} ` +
      `(so under a fixed σ part of any change in DSE is a change of scale). The paper reports that DSMI with the labels rises during generalizable ` +
      `training ${mutualInformationRose.median && mutualInformationRose.absolute ? '(reproduced under both rules)' : mutualInformationRose.median || mutualInformationRose.absolute ? '(reproduced under one rule only)' : '(not reproduced)'}; ` +
      `on DSE its CISS 2024 version reports an increase during training and its 2023 workshop version a decrease: here DSE ` +
      `${entropyRoseLayers.absolute === layerNames.length ? 'rose' : entropyRoseLayers.absolute === 0 ? 'fell' : 'moved both ways'} under the absolute σ and ` +
      `${entropyRoseLayers.median === layerNames.length ? 'rose' : entropyRoseLayers.median === 0 ? 'fell' : 'moved both ways'} under the median rule.`;

    // (c) An MRL model: DSE and DSMI of every prefix of its embedding.
    const mrl = await trainNested(train, { hidden: p.mrlHidden, epochs: p.mrlEpochs }, { efficient: false, embeddingDim: p.embeddingDim, nesting: p.nesting }, seed);
    let prefixAccuracy: number[];
    try {
      const z = await mrlEmbed(mrl, xs);
      prefixAccuracy = (await mrlTestAccuracy(mrl, test.x, test.y)).map((a) => a.accuracy);
      for (const [i, m] of p.nesting.entries()) {
        rows.push({ ...EMPTY, panel: 'prefix', measure: 'accuracy', value: prefixAccuracy[i], prefix: m, rows: test.x.rows });
        for (const meas of await measureRepresentation(prefixColumns(z, m), ys, featureRules, { t: p.t, repetitions: p.repetitions, seed })) {
          const base = { ...EMPTY, panel: 'prefix' as const, sigmaRule: meas.sigmaRule, sigma: meas.sigma, t: meas.t, prefix: m, rows: meas.rows };
          rows.push({ ...base, measure: 'DSE', value: meas.entropy });
          rows.push({ ...base, measure: 'DSMI', value: meas.mutualInformation! });
        }
      }
    } finally {
      disposeMrl(mrl);
    }
    progress.update(++step);

    // (d) The GPT while it trains: DSE and DSMI (coarse part of speech) of held-out tokens per hook.
    let stimuli: PosStimuli | null = null;
    let lossWindows: TokenBatch | null = null;
    const lmLosses: number[] = [];
    const watchedSteps: number[] = [];
    const lmProgress = { start() {}, stop() {}, update: (s: number, info?: string) => progress.update(step + s, info) };
    const { model: lm } = await watchBrownLmTraining(p, seed, p.lmSnapshots, async (model, at, streams) => {
      stimuli ??= commonClasses(posStimuli(streams.test, { ...p, stimuli: p.lmStimuli }, seed), MIN_CLASS_ROWS);
      lossWindows ??= evaluationWindows(streams.test.ids, p.contextLength, p.lossWindows);
      const loss = await lmLoss(model, lossWindows, { batchSize: 32 });
      watchedSteps.push(at);
      lmLosses.push(loss);
      rows.push({ ...EMPTY, panel: 'lm', measure: 'loss', value: loss, step: at, rows: lossWindows.inputs.length });
      const captured = await captureActivations(model, stimuli.windows, p.lmHooks);
      for (const hook of p.lmHooks) {
        const x = selectRows(captured.get(hook) as Matrix, stimuli.chosen);
        for (const m of await measureRepresentation(x, stimuli.labels, featureRules, { t: p.t, repetitions: p.repetitions, seed })) {
          const base = { ...EMPTY, panel: 'lm' as const, sigmaRule: m.sigmaRule, sigma: m.sigma, t: m.t, layer: hook, step: at, rows: m.rows };
          rows.push({ ...base, measure: 'DSE', value: m.entropy });
          rows.push({ ...base, measure: 'DSMI', value: m.mutualInformation! });
        }
      }
    }, lmProgress);
    disposeLm(lm);
    progress.stop();
    const lmSeries = (measure: 'DSE' | 'DSMI', hook: string, rule: string) =>
      rows.filter((r) => r.panel === 'lm' && r.measure === measure && r.layer === hook && r.sigmaRule === rule).sort((a, b) => a.step! - b.step!).map((r) => r.value);
    const lmHooks = (['absolute', 'median'] as const).flatMap((rule) =>
      p.lmHooks.map((hook) => {
        const dse = lmSeries('DSE', hook, rule);
        const dsmi = lmSeries('DSMI', hook, rule);
        return {
          hook,
          sigmaRule: rule,
          entropyInit: dse[0],
          entropyFinal: dse[dse.length - 1],
          mutualInformationInit: dsmi[0],
          mutualInformationFinal: dsmi[dsmi.length - 1],
          lossCorrelation: pearsonCorrelation(dsmi, lmLosses.map((l) => -l)),
        };
      }),
    );
    const lmMutualInformationRose = {
      absolute: lmHooks.filter((f) => f.sigmaRule === 'absolute').every((f) => f.mutualInformationFinal > f.mutualInformationInit),
      median: lmHooks.filter((f) => f.sigmaRule === 'median').every((f) => f.mutualInformationFinal > f.mutualInformationInit),
    };
    const lmVerdict =
      `Test loss ${fmt(lmLosses[0])} nats at initialization, ${fmt(lmLosses[lmLosses.length - 1])} after ${watchedSteps[watchedSteps.length - 1]} steps. ` +
      (['absolute', 'median'] as const)
        .map(
          (rule) =>
            `${rule} σ: DSMI with the part of speech ${lmMutualInformationRose[rule] ? 'rose at every hook' : 'did not rise at every hook'} (` +
            lmHooks.filter((f) => f.sigmaRule === rule).map((f) => `${f.hook} ${fmt(f.mutualInformationInit)} → ${fmt(f.mutualInformationFinal)} bits, r = ${fmt(f.lossCorrelation)} with −loss over snapshots`).join('; ') +
            `); DSE ${lmHooks.filter((f) => f.sigmaRule === rule).map((f) => `${fmt(f.entropyInit)} → ${fmt(f.entropyFinal)}`).join(', ')}`,
        )
        .join('. ') +
      '.';
    const prefixSeries = (measure: 'DSE' | 'DSMI', rule: string) =>
      p.nesting.map((m) => rows.find((r) => r.panel === 'prefix' && r.measure === measure && r.prefix === m && r.sigmaRule === rule)!.value);
    const prefixes = (['absolute', 'median'] as const).map((rule) => ({ sigmaRule: rule, entropy: prefixSeries('DSE', rule), mutualInformation: prefixSeries('DSMI', rule) }));
    const monotone = (v: number[]) => v.every((x, i) => i === 0 || x > v[i - 1]);
    const prefixVerdict =
      prefixes
        .map(
          (s) =>
            `${s.sigmaRule} σ: DSE ${monotone(s.entropy) ? 'rises at every step' : 'does not rise at every step'} with the prefix (${s.entropy.map((v) => fmt(v)).join(' → ')}), ` +
            `DSMI ${monotone(s.mutualInformation) ? 'rises at every step' : 'does not rise at every step'} (${s.mutualInformation.map((v) => fmt(v)).join(' → ')})`,
        )
        .join('; ') + `; the heads' test accuracy per prefix: ${prefixAccuracy.map((v) => fmt(v, 3)).join(' → ')}.`;

    return {
      rows,
      meta: {
        sigmaRules: RULES_TEXT(p),
        cseRule: 'binned Shannon entropy (the reference classic_shannon_entropy): each column min-max scaled and cut into 2 bins, entropy of the rows’ cells in bits (+ε per cell)',
        trainingProtocol:
          `MLP ${p.hidden.join('-')} (ReLU) on ${train.x.rows} MNIST digits, Adam (learning rate ${p.learningRate}, batch ${p.batchSize}), one trainClassifier call per epoch (the optimizer's moments restart each epoch); ` +
          `after each epoch and at initialization (epoch 0) the hidden layers' outputs on the first ${analyzed} test digits are measured (DSMI: ${p.repetitions} random subsets per class, t = ${p.t})`,
        simulated,
        simulatedRisesWithDimension,
        simulatedVerdict,
        trainRows: train.x.rows,
        testRows: test.x.rows,
        analyzedRows: analyzed,
        accuracyByEpoch,
        training,
        mutualInformationRose,
        entropyRoseLayers,
        trainingVerdict,
        prefixes,
        prefixAccuracy,
        prefixVerdict,
        lm: { steps: watchedSteps, testLoss: lmLosses, posNames: stimuli!.posNames, analyzedRows: stimuli!.chosen.length, hooks: lmHooks },
        lmMutualInformationRose,
        lmVerdict,
      },
    };
  },
  spec: (rows, meta) => diffusionEntropySpec(rows, meta),
});

/**
 * Three rows of panels: (a) DSE and CSE of the simulated data, (b) DSE, DSMI and accuracy over training, (c) the same per MRL prefix.
 *
 * @example const spec = diffusionEntropySpec(result.rows, result.meta);
 */
export function diffusionEntropySpec(rows: DiffusionEntropyRow[], meta: Pick<DiffusionEntropyMeta, 'analyzedRows' | 'sigmaRules'> & { seed: number; params: DiffusionEntropyParams }): TopLevelSpec {
  const p = meta.params;
  const w = 200;
  const h = 150;
  const ruleDash = { field: 'sigmaRule', type: 'nominal', title: 'σ rule', sort: ['median', 'absolute'] };
  const line = (panel: string, measure: string, x: Record<string, unknown>, title: string, yTitle: string, color?: Record<string, unknown>) => ({
    title,
    transform: [{ filter: `datum.panel === '${panel}' && datum.measure === '${measure}'` }],
    mark: { type: 'line', point: true },
    encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } }, ...(color ? { color } : {}), ...(measure === 'accuracy' || measure === 'loss' ? {} : { strokeDash: ruleDash }) },
    width: w,
    height: h,
  });
  const dimX = { field: 'intrinsicDim', type: 'quantitative', title: 'intrinsic dimension d', scale: { type: 'log', base: 2 } };
  const noiseColor = { field: 'noise', type: 'ordinal', title: 'noise sd', scale: { scheme: 'viridis' } };
  const epochX = { field: 'epoch', type: 'quantitative', title: 'epoch (0 = init)', axis: { tickMinStep: 1 } };
  const layerColor = { field: 'layer', type: 'nominal', title: 'layer', legend: { labelLimit: 300 } };
  const stepX = { field: 'step', type: 'quantitative', title: 'training step (symlog)', scale: { type: 'symlog', constant: 50 } };
  const prefixX = { field: 'prefix', type: 'quantitative', title: 'prefix m', scale: { type: 'log', base: 2 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Diffusion spectral entropy (DSE) and mutual information with the labels (DSMI)',
      subtitle: [
        `(a) Gaussian in d of ${p.ambientDim} dims + isotropic noise, ${p.simulatedRows} points; (b) MLP ${p.hidden.join('-')} on MNIST over ${p.epochs} epochs; (c) MRL prefixes. ` +
          `(b, c) on ${meta.analyzedRows} test digits; (d) the Brown GPT (${p.nLayers} layers, d = ${p.dModel}) on ${p.lmStimuli} test tokens while it trains; seed ${meta.seed}.`,
        `σ: ${meta.sigmaRules}.`,
      ],
      anchor: 'start',
      subtitleFontSize: 11,
    },
    data: { values: rows },
    resolve: { scale: { color: 'independent' } },
    vconcat: [
      {
        hconcat: [
          ...p.simulatedTimes.flatMap((t) =>
            (['absolute', 'median'] as const).map((rule) => ({
              title: `(a) DSE, ${rule} σ, t = ${t}`,
              transform: [{ filter: `datum.panel === 'simulated' && datum.measure === 'DSE' && datum.sigmaRule === '${rule}' && datum.t === ${t}` }],
              mark: { type: 'line', point: true },
              encoding: { x: dimX, y: { field: 'value', type: 'quantitative', title: 'bits' }, color: noiseColor },
              width: 150,
              height: h,
            })),
          ),
          {
            title: '(a) CSE (2 bins per dim)',
            transform: [{ filter: "datum.panel === 'simulated' && datum.measure === 'CSE'" }],
            mark: { type: 'line', point: true },
            encoding: { x: dimX, y: { field: 'value', type: 'quantitative', title: 'bits' }, color: noiseColor },
            width: 150,
            height: h,
          },
        ],
      },
      {
        hconcat: [
          line('training', 'DSE', epochX, '(b) DSE of each hidden layer', 'bits', layerColor),
          line('training', 'DSMI', epochX, '(b) DSMI with the digit labels', 'bits', layerColor),
          line('training', 'accuracy', epochX, '(b) test accuracy', 'accuracy'),
        ],
      },
      {
        hconcat: [
          line('prefix', 'DSE', prefixX, '(c) DSE of the MRL prefix z[:, :m]', 'bits'),
          line('prefix', 'DSMI', prefixX, '(c) DSMI of the prefix with the labels', 'bits'),
          line('prefix', 'accuracy', prefixX, "(c) the prefix head's test accuracy", 'accuracy'),
        ],
      },
      {
        hconcat: [
          line('lm', 'DSE', stepX, '(d) DSE of the GPT at each hook', 'bits', layerColor),
          line('lm', 'DSMI', stepX, '(d) DSMI with the part of speech', 'bits', layerColor),
          line('lm', 'loss', stepX, '(d) test loss', 'nats per token'),
        ],
      },
    ],
  } as unknown as TopLevelSpec;
}
