/**
 * The SAE trainer: seeded batches from an in-memory Matrix or any `BatchSource` (sharded files
 * can implement it), the sparse (or dense reference) step, the decoder-norm constraint, Adam with
 * warm-up and linear decay, AuxK dead-latent bookkeeping, the BatchTopK inference threshold,
 * per-epoch progress, and checkpoints that resume bit-identically.
 *
 * Step order (docs/methods/msae.md §4, dictionary_learning): gradients → remove each decoder row's parallel component
 * (g_i ← g_i − (g_i·ŵ_i)ŵ_i) → clip the global norm → Adam → renormalize the decoder rows.
 *
 * Why hand-written: the optimizer runs on the Float32Array master parameters (the sparse
 * gradients are already there, and resuming needs the exact Adam moments); it is 20 lines.
 */
import { initBackend } from '../backend/select.js';
import { Rng } from '../backend/rng.js';
import { eventLoopYielder } from '../backend/yield.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { NestlabArgumentError, NestlabComputationError, checkFinite, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { matrixSource, type BatchSource } from '../data/batches.js';
import { architectureHash, saeArchitecture, saeTraining, type SaeArchitectureInput, type SaeTraining, type SaeTrainingInput } from './config.js';
import { centerRows, createSae, encoderPre, pursuitBestAtom, tiedEncoderWeights, zeroParams, selectAbove, selectBatchTopK, selectTopK, type PreActivations, type Sae, type SaeParams, type SparseCode } from './model.js';
import { matchingPursuit, pursuitCode, pursuitLossAndGrads } from './pursuit.js';
import { denseLossAndGrads, sparseLossAndGrads, type AuxInput, type StepLosses } from './step.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { createTrainerState, type TrainerState } from './state.js';
import { allShared, updatePool, type UpdateArgs } from './kernels.js';
import { splitRanges, sharedFloat32Array } from '../backend/threads.js';

/**
 * Learning rate at `step` (0-based) of a `totalSteps` run: learningRate · min(1, (step+1)/warmupSteps),
 * times a linear decay from 1 to decayFloor over the steps after decayStart·totalSteps.
 */
export function learningRateAt(cfg: SaeTraining, step: number, totalSteps: number): number {
  let lr = cfg.learningRate;
  if (cfg.warmupSteps > 0) lr *= Math.min(1, (step + 1) / cfg.warmupSteps);
  const start = cfg.decayStart * totalSteps;
  if (cfg.decayStart < 1 && step >= start) {
    const left = Math.max(0, (totalSteps - step) / (totalSteps - start));
    lr *= cfg.decayFloor + (1 - cfg.decayFloor) * left;
  }
  return lr;
}

/**
 * Nabeshima's random prefixes for one step: n − 1 distinct sizes from {1, …, m − 1} drawn one
 * after another without replacement with P(ℓ) ∝ √ℓ − √(ℓ − 1), sorted, then m. Seeded by
 * (seed, step), so a resumed run draws the same prefixes.
 */
export function paretoPrefixes(m: number, n: number, seed: number, step: number): number[] {
  const rng = new Rng(seed * 1_000_003 + step);
  const weight = new Float64Array(m); // weight[ℓ] for ℓ in 1..m-1
  for (let l = 1; l < m; l++) weight[l] = Math.sqrt(l) - Math.sqrt(l - 1);
  const out: number[] = [];
  for (let draw = 0; draw < Math.min(n - 1, m - 1); draw++) {
    let total = 0;
    for (let l = 1; l < m; l++) total += weight[l];
    let u = rng.uniform() * total;
    let pick = m - 1;
    for (let l = 1; l < m; l++) {
      if (weight[l] === 0) continue;
      u -= weight[l];
      if (u < 0) {
        pick = l;
        break;
      }
    }
    if (weight[pick] === 0) for (let l = m - 1; l >= 1; l--) if (weight[l] > 0) (pick = l), (l = 0); // rounding at the end of the scan
    out.push(pick);
    weight[pick] = 0;
  }
  out.sort((a, b) => a - b);
  out.push(m);
  return out;
}

/** The L1 coefficient of this step: fixed, or the sparsity controller's (updated from this batch's L0 after its warm-up). */
function l1ForStep(training: SaeTraining, state: TrainerState, totalSteps: number, l0: number): number {
  if (training.l1TargetL0 <= 0) return training.l1Coeff;
  const t = state.step + 1;
  const warm = training.l1Warmup * totalSteps;
  if (t <= warm) return (training.l1Coeff * t) / warm;
  const current = state.l1Scale > 0 ? state.l1Scale : training.l1Coeff;
  state.l1Scale = current * (l0 < training.l1TargetL0 ? 1 - training.l1Adapt : 1 + training.l1Adapt);
  return state.l1Scale;
}

/**
 * Nabeshima's latent re-sorting after a step: EMA of mean_b (f_i‖W_dec,i‖)² (‖W_dec,i‖ = 1 here),
 * then latents ordered by it, largest first (ties by index), with parameters, θ, Adam moments,
 * dead counters and the EMA itself permuted together (his code leaves the Adam moments behind).
 */
function resortLatents(sae: Sae, state: TrainerState, code: SparseCode, beta: number): void {
  const { dIn: d, dSae: m } = sae.cfg;
  const contrib = new Float64Array(m);
  for (let a = 0; a < code.idx.length; a++) contrib[code.idx[a]] += code.val[a] * code.val[a];
  const ema = state.latentEma;
  for (let j = 0; j < m; j++) ema[j] = beta * ema[j] + ((1 - beta) * contrib[j]) / code.rows;
  const order = Array.from({ length: m }, (_, j) => j).sort((a, b) => ema[b] - ema[a] || a - b);
  if (order.every((o, i) => o === i)) return;
  const byRow = (a: Float32Array | Float64Array, width: number) => {
    const copy = a.slice();
    for (let i = 0; i < m; i++) a.set(copy.subarray(order[i] * width, (order[i] + 1) * width), i * width);
  };
  const byColumn = (a: Float32Array) => {
    const copy = a.slice();
    for (let r = 0; r < d; r++) for (let i = 0; i < m; i++) a[r * m + i] = copy[r * m + order[i]];
  };
  for (const p of [sae.params, state.adamM, state.adamV]) {
    byColumn(p.wEnc);
    byRow(p.bEnc, 1);
    byRow(p.wDec, d);
  }
  byRow(state.tokensSinceFired, 1);
  byRow(ema, 1);
  if (sae.threshold !== null) byRow(sae.threshold, 1);
}

const KEYS = ['wEnc', 'bEnc', 'wDec', 'bDec'] as const;

/** Replaces each array with a copy in shared memory (loaded checkpoints), so that the update can use every thread. */
function moveToSharedMemory(p: SaeParams): void {
  for (const k of KEYS) {
    if (allShared([p[k]])) continue;
    const a = sharedFloat32Array(p[k].length);
    a.set(p[k]);
    p[k] = a;
  }
}

/** What one step reports. */
export interface StepInfo {
  /** 0-based index of the step. */
  step: number;
  /** The scheduled learning rate the step used. */
  learningRate: number;
  /** Total loss and its parts (per-prefix MSE, L1, AuxK) on the batch. */
  losses: StepLosses;
  /** Latents dead before this step. */
  dead: number;
  /** Mean active latents per row. */
  l0: number;
}

/**
 * Buffers one trainer reuses every step (x − b_dec and the gradients), so that a step allocates
 * nothing of the batch's or the dictionary's size (fresh arrays pay their page faults again every
 * step, which costs more than the arithmetic on some machines).
 */
interface StepBuffers {
  xc: Float32Array;
  grads: SaeParams;
}
const stepBuffers = new WeakMap<TrainerState, StepBuffers>();

function buffersFor(state: TrainerState, rows: number, d: number, m: number): StepBuffers {
  let b = stepBuffers.get(state);
  if (b === undefined || b.xc.length < rows * d || b.grads.bEnc.length !== m || b.grads.bDec.length !== d) {
    b = { xc: new Float32Array(rows * d), grads: zeroParams(d, m) };
    stepBuffers.set(state, b);
  }
  return b;
}

/** Which gradient implementation to use: the sparse hand-written one (default) or tfjs autograd of the dense loss. */
export type GradientPath = 'sparse' | 'dense';

/** The selected code of one batch (training-time activation). */
async function selectTraining(sae: Sae, pre: Awaited<ReturnType<typeof encoderPre>>['pre']): Promise<{ code: SparseCode; minKept: number }> {
  const cfg = sae.cfg;
  if (cfg.activation === 'topk') return { code: await selectTopK(pre, cfg.k), minKept: 0 };
  if (cfg.activation === 'relu') return { code: await selectAbove(pre), minKept: 0 };
  return selectBatchTopK(pre, cfg.k);
}

/**
 * One training step on a batch x ([rows, dIn] row-major), updating `sae` and `state` in place.
 * `totalSteps` sets the learning-rate schedule.
 */
export async function trainStep(
  sae: Sae,
  state: TrainerState,
  training: SaeTraining,
  x: Float32Array,
  rows: number,
  totalSteps: number,
  gradients: GradientPath = 'sparse',
): Promise<StepInfo> {
  const arch = sae.cfg;
  const m = arch.dSae;
  // Random prefixes replace the architecture's for this step's loss, equally weighted.
  const random = training.randomPrefixCount > 0;
  const cfg = random ? { ...arch, prefixes: paretoPrefixes(m, training.randomPrefixCount, training.seed, state.step) } : arch;
  const prefixWeights = random ? cfg.prefixes.map(() => 1 / cfg.prefixes.length) : training.prefixWeights;
  const buffers = buffersFor(state, rows, arch.dIn, m);
  const dead = new Uint8Array(m);
  let nDead = 0;
  for (let j = 0; j < m; j++) if (state.tokensSinceFired[j] >= training.deadTokens) (dead[j] = 1), nDead++;
  const auxScale = nDead > 0 && training.auxK > 0 && training.auxAlpha > 0 ? training.auxAlpha * Math.min(nDead / training.auxK, 1) : 0;
  // AuxK's latents: the top k_aux dead ones of the encoder's pre-activations (ReLU).
  const auxCodeOf = (pre: PreActivations) => selectTopK({ ...pre, rowTopK: (r: number) => pre.rowTopK(r, dead) }, Math.min(training.auxK, nDead));
  let code: SparseCode;
  let minKept = 0;
  let losses: StepLosses;
  let grads: SaeParams;
  if (arch.activation === 'mp') {
    ({ code, losses, grads } = await pursuitStep(sae, x, rows, auxScale > 0 ? { codeOf: auxCodeOf, scale: auxScale } : null, buffers));
  } else {
    const { xc, pre } = encoderPre(sae, x, rows, buffers.xc);
    let aux: AuxInput | null = null;
    try {
      ({ code, minKept } = await selectTraining(sae, pre));
      if (auxScale > 0) aux = { code: await auxCodeOf(pre), scale: auxScale };
    } finally {
      pre.dispose();
    }
    const l1Coeff = arch.activation === 'relu' ? l1ForStep(training, state, totalSteps, code.idx.length / rows) : training.l1Coeff;
    const terms = { prefixWeights, l1Coeff };
    ({ losses, grads } =
      gradients === 'sparse' ? sparseLossAndGrads(sae.params, cfg, terms, x, xc, code, aux, buffers.grads) : await denseLossAndGrads(sae.params, cfg, terms, x, code, aux));
  }
  const lr = learningRateAt(training, state.step, totalSteps);
  // A non-finite loss stops the step before the update, so the parameters stay as they were.
  if (!Number.isFinite(losses.total)) throw divergence(state.step, `the loss became ${losses.total}`, lr);
  const bad = applyUpdate(sae, state, training, grads, lr);
  if (bad.length > 0) throw divergence(state.step, `${bad.join(', ')} became non-finite in the update (loss ${losses.total.toPrecision(4)})`, lr);
  if (arch.activation === 'mp') tieEncoder(sae.params, arch.dIn, m);

  // bookkeeping: dead latents, BatchTopK threshold
  for (let j = 0; j < m; j++) state.tokensSinceFired[j] += rows;
  for (let a = 0; a < code.idx.length; a++) state.tokensSinceFired[code.idx[a]] = 0;
  if (training.latentOrderEma > 0) resortLatents(sae, state, code, training.latentOrderEma);
  if (cfg.activation === 'batchtopk' && state.step >= training.thresholdStart && minKept > 0) {
    // dictionary_learning's BatchTopK trainer keeps an EMA of the smallest kept activation; bias
    // corrected here so that short runs get the mean of their values, not a zero-started EMA.
    const beta = training.thresholdBeta;
    state.thresholdEma = beta * state.thresholdEma + (1 - beta) * minKept;
    state.thresholdUpdates++;
    setThreshold(sae, state, beta);
  }
  const info: StepInfo = { step: state.step, learningRate: lr, losses, dead: nDead, l0: code.idx.length / rows };
  state.step++;
  return info;
}

/**
 * An MP-SAE's batch (sae/pursuit.ts): k pursuit steps through the tied encoder, the loss
 * mean_b ‖x − x̂‖² (+ AuxK through the tied encoder) and its gradients, all in W_dec and b_dec
 * (W_enc and b_enc get zero gradients and are kept W_decᵀ and 0 by `tieEncoder`).
 */
async function pursuitStep(
  sae: Sae,
  x: Float32Array,
  rows: number,
  aux: { codeOf: (pre: PreActivations) => Promise<SparseCode>; scale: number } | null,
  buffers: StepBuffers,
): Promise<{ code: SparseCode; losses: StepLosses; grads: SaeParams }> {
  const { dIn: d, dSae: m, k } = sae.cfg;
  const xc = centerRows(x, rows, sae.params.bDec, buffers.xc);
  let auxCode: SparseCode | null = null;
  const best = pursuitBestAtom(sae, aux === null ? undefined : async (pre) => void (auxCode = await aux.codeOf(pre)));
  const trace = await matchingPursuit(xc, rows, d, sae.params.wDec, k, best);
  const grads = buffers.grads;
  grads.wEnc.fill(0);
  grads.bEnc.fill(0);
  const picked = auxCode as SparseCode | null; // set by the callback during the pursuit's first step
  const parts = pursuitLossAndGrads(trace, xc, sae.params.wDec, d, aux !== null && picked !== null ? { ...picked, scale: aux.scale } : null, grads);
  const losses: StepLosses = { total: parts.mse + parts.aux, prefixMse: [parts.mse], aux: parts.aux, l1: 0 };
  return { code: { rows, dSae: m, ...pursuitCode(trace) }, losses, grads };
}

/** W_enc ← W_decᵀ and b_enc ← 0: an MP-SAE's encoder is its decoder (SAELens' tied `W_enc` property). */
function tieEncoder(p: SaeParams, d: number, m: number): void {
  tiedEncoderWeights(p.wDec, m, d, p.wEnc);
  p.bEnc.fill(0);
}

/** sae.threshold ← the bias-corrected estimate θ = s/(1 − β^n) for every latent (null before the first update). */
export function setThreshold(sae: Sae, state: TrainerState, beta: number): void {
  if (state.thresholdUpdates === 0) return;
  const theta = beta >= 1 ? state.thresholdEma : state.thresholdEma / (1 - beta ** state.thresholdUpdates);
  if (sae.threshold === null || sae.threshold.length !== sae.cfg.dSae) sae.threshold = new Float32Array(sae.cfg.dSae);
  sae.threshold.fill(theta);
}

/** SAELens's names of the parameter arrays, in KEYS order. */
const PARAM_NAMES = ['W_enc', 'b_enc', 'W_dec', 'b_dec'];

/** The shared flags adamRange writes (4 per thread), kept across steps. */
let nonFiniteFlags: Float32Array | null = null;

/**
 * Decoder projection, global-norm clip, Adam (bias-corrected), decoder row renormalization.
 * Returns the SAELens names of the parameter arrays that hold a value that is not finite after
 * the update (empty when all are finite). Exported for tests; `grads` is modified.
 */
export function applyUpdate(sae: Sae, state: TrainerState, cfg: SaeTraining, grads: SaeParams, lr: number): string[] {
  const { dIn: d, dSae: m } = sae.cfg;
  const t = state.step + 1;
  const A: UpdateArgs = {
    p: KEYS.map((k) => sae.params[k]),
    g: KEYS.map((k) => grads[k]),
    m: KEYS.map((k) => state.adamM[k]),
    v: KEYS.map((k) => state.adamV[k]),
    d,
    lr,
    b1: cfg.beta1,
    b2: cfg.beta2,
    c1: 1 / (1 - cfg.beta1 ** t),
    c2: 1 / (1 - cfg.beta2 ** t),
    eps: cfg.eps,
    scale: 1,
    nonFinite: new Float32Array(0),
  };
  // worker threads share the arrays only when they live in SharedArrayBuffers (createSae, zeroParams)
  const pool = updatePool();
  const threads = allShared([...A.p, ...A.g, ...A.m, ...A.v]) ? pool.size : 1;
  if (nonFiniteFlags === null || nonFiniteFlags.length < 4 * pool.size) nonFiniteFlags = sharedFloat32Array(4 * pool.size);
  A.nonFinite = nonFiniteFlags.fill(0);
  pool.run('projectDecoderGrads', splitRanges(m, threads), A);
  if (cfg.clipNorm > 0) {
    let sq = 0; // one thread, in a fixed order: the clip factor must not depend on the thread count
    for (const a of A.g) for (let i = 0; i < a.length; i++) sq += a[i] * a[i];
    const norm = Math.sqrt(sq);
    if (norm > cfg.clipNorm) A.scale = cfg.clipNorm / norm;
  }
  let total = 0;
  for (const a of A.p) total += a.length;
  pool.run('adamRange', splitRanges(total, threads), A);
  pool.run('normalizeDecoderRows', splitRanges(m, threads), A);
  return PARAM_NAMES.filter((_, k) => {
    for (let t = 0; t < threads; t++) if (A.nonFinite[4 * t + k] !== 0) return true;
    return false;
  });
}

/**
 * The error of a step that made the loss or a parameter non-finite: names the step and the
 * tensor, and the usual remedies (the caller adds which checkpoint is kept).
 */
function divergence(step: number, what: string, lr: number): NestlabComputationError {
  return new NestlabComputationError(
    'sae.train',
    `step ${step}: ${what} (learning rate ${lr.toPrecision(3)}); lower training.learningRate, raise training.warmupSteps, or scale the data (e.g. rows of mean norm about √dIn)`,
  );
}

// ---------------------------------------------------------------------------------------------
// The loop

/** Options of `sae.train` (`trainSae`): the SAE's architecture, its training config, and how to run. */
export interface TrainSaeOptions {
  /** What to train (dIn, dSae, activation, k, prefixes). Required. */
  architecture: SaeArchitectureInput;
  /** How to train it (learning rate, batch size, epochs, seed, ...). Default: every default of `saeTraining`. */
  training?: SaeTrainingInput;
  /** Per-epoch progress lines / bar. Default silent. */
  progress?: Progress;
  /**
   * Folder for checkpoints; with it, training resumes from the last checkpoint there. The
   * checkpoint's architecture must be `architecture`; the training config may differ (e.g. more
   * epochs), and the run then continues under the new one.
   */
  checkpointDir?: string;
  /** Save every this many steps (and at the end). Default: at the end of each epoch. */
  checkpointEvery?: number;
  /** Stop after this many completed steps, as if interrupted (the schedule still spans the whole run). */
  stopAfterSteps?: number;
  /** Gradient implementation. Default 'sparse'. */
  gradients?: GradientPath;
  /** Called after every step. */
  onStep?: (info: StepInfo) => void;
  /** Rows for the b_dec initialization. Default: the first batch. */
  initSample?: Matrix;
}

/** Per-epoch summary. */
export interface EpochSummary {
  /** 1-based epoch number. */
  epoch: number;
  /** Steps of this epoch run in this call. */
  steps: number;
  /** Mean total loss over the epoch's steps. */
  loss: number;
  /** Mean MSE of each architecture prefix over the epoch's steps (with training.randomPrefixCount: one entry, the full dictionary's). */
  prefixMse: number[];
  /** Dead latents at the end of the epoch. */
  dead: number;
  /** Mean L0 of the training codes. */
  l0: number;
}

/** What `sae.train` (`trainSae`) returns. */
export interface TrainSaeResult {
  /** The trained SAE (its `training` field holds the training config used). */
  sae: Sae;
  /** Trainer state after the last step (Adam moments, dead counters, step), as checkpoints save it. */
  state: TrainerState;
  /** One summary per epoch completed in this call. */
  history: EpochSummary[];
  /** Steps of the whole run: ⌈epochs·⌊rows/batchSize⌋⌉. */
  totalSteps: number;
  /** Steps done in this call (fewer than totalSteps − resumed step when stopped early). */
  stepsRun: number;
  /** The step this call started from (> 0 when resumed). */
  resumedFrom: number;
}

const TRAIN_OPTIONS = ['architecture', 'training', 'progress', 'checkpointDir', 'checkpointEvery', 'stopAfterSteps', 'gradients', 'onStep', 'initSample'];

/**
 * Trains an SAE (flat or Matryoshka) on `data` (a Matrix or a BatchSource such as sharded .npy
 * files). Seeded: the same configs and data give the same weights; with `checkpointDir`, an
 * interrupted run resumes and ends with the same weights as an uninterrupted one (parameters,
 * Adam moments, dead counters and θ are saved; batch order is a function of (seed, epoch, index)).
 * A BatchTopK SAE leaves with its inference threshold θ estimated (from step
 * training.thresholdStart, by default min(1000, half the run)).
 *
 * Loss (docs/methods/msae.md §2–§3; Bussmann et al. 2025 §3): L = Σ_k w_k·mean_b ‖x − x̂_{m_k}‖²
 * over the prefixes m_k (or, with training.randomPrefixCount, Nabeshima's prefixes drawn per
 * batch, §2.3), plus for relu the prefix-structured L1 λ·Σ_k w_k·mean_b Σ_{i<m_k} f_i (λ·mean_b Σ_i f_i
 * when flat; λ from the sparsity controller with training.l1TargetL0), and the AuxK term of Gao
 * et al. 2024; Adam with warm-up and linear decay (§4); the recipe is closest to dictionary_learning's
 * `matryoshka_batch_top_k.py`. An MP-SAE (`activation: 'mp'`) is trained by the same loop with the
 * gradient through its k pursuit steps (docs/methods/mp-sae.md §2–§4).
 *
 * @example const { sae: model, history } = await sae.train(x, { architecture: { dIn: 784, dSae: 256, k: 16, prefixes: sae.halvingPrefixes(256) }, training: { batchSize: 128, epochs: 5 } });
 */
export async function trainSae(data: Matrix | BatchSource, options: TrainSaeOptions): Promise<TrainSaeResult> {
  const where = 'sae.train';
  if (options === null || typeof options !== 'object') throw new NestlabArgumentError(where, 'options', 'an object {architecture, training?, ...}', options);
  checkKnownKeys(where, options, TRAIN_OPTIONS);
  await initBackend();
  const arch = saeArchitecture(options.architecture, where);
  if (arch.activation === 'jumprelu') {
    throw new NestlabArgumentError(where, 'architecture.activation', "'topk', 'batchtopk', 'relu' or 'mp' (a 'jumprelu' SAE can be loaded and encoded, not trained; BatchTopK SAEs are saved as jumprelu)", arch.activation);
  }
  if (!arch.applyBDecToInput) throw new NestlabArgumentError(where, 'architecture.applyBDecToInput', 'true for training (false is for loading SAELens SAEs)', false);
  if (arch.normalizeActivations !== 'none') {
    throw new NestlabArgumentError(where, 'architecture.normalizeActivations', "'none' for training (normalize the data before training instead)", arch.normalizeActivations);
  }
  const source: BatchSource = 'batch' in data ? data : matrixSource(data);
  if (source.cols !== arch.dIn) throw new NestlabArgumentError(where, 'data.cols', `architecture.dIn = ${arch.dIn}`, source.cols);
  // The run's length sets thresholdStart's default, so the batch size and epochs come first.
  const sized = saeTraining(options.training, arch, where);
  const perEpoch = Math.floor(source.rows / sized.batchSize);
  if (perEpoch < 1) throw new NestlabArgumentError(where, 'data.rows', `at least training.batchSize = ${sized.batchSize}`, source.rows);
  const totalSteps = Math.ceil(sized.epochs * perEpoch);
  const cfg = saeTraining(options.training, arch, where, totalSteps);
  if (arch.activation === 'batchtopk' && cfg.thresholdStart >= totalSteps) {
    throw new NestlabArgumentError(where, 'training.thresholdStart', `below the run's ${totalSteps} steps, so that the inference threshold θ is estimated`, cfg.thresholdStart);
  }
  const gradients = checkOneOf(where, 'options.gradients', options.gradients ?? 'sparse', ['sparse', 'dense'] as const);
  if (gradients === 'dense' && arch.activation === 'mp') throw new NestlabArgumentError(where, 'options.gradients', "'sparse' for activation \"mp\" (the pursuit's gradient is hand-written only)", gradients);
  const every = options.checkpointEvery === undefined ? perEpoch : checkInt(where, 'options.checkpointEvery', options.checkpointEvery, 1);
  const stopAt = Math.min(totalSteps, options.stopAfterSteps === undefined ? totalSteps : checkInt(where, 'options.stopAfterSteps', options.stopAfterSteps, 0));
  const progress = options.progress ?? silentProgress;

  let sae: Sae | null = null;
  let state: TrainerState | null = null;
  if (options.checkpointDir !== undefined) {
    const ck = loadCheckpoint(options.checkpointDir);
    if (ck !== null) {
      const saved = architectureHash(ck.sae.cfg);
      if (saved !== architectureHash(arch)) {
        throw new NestlabArgumentError(
          where, 'options.architecture', `the architecture of the checkpoint in ${options.checkpointDir} (${JSON.stringify(ck.sae.cfg)})`, JSON.stringify(arch),
        );
      }
      if (ck.state === null) throw new NestlabArgumentError(where, 'options.checkpointDir', 'a checkpoint with trainer state', 'weights only');
      sae = ck.sae;
      state = ck.state;
      for (const p of [sae.params, state.adamM, state.adamV]) moveToSharedMemory(p);
    }
  }
  const resumedFrom = state?.step ?? 0;
  let lastSaved: number | null = state === null ? null : state.step;
  const batchAt = async (s: number): Promise<Float32Array> => {
    const epoch = Math.floor(s / perEpoch);
    const x = await source.batch(epoch, s % perEpoch, cfg.batchSize, cfg.seed);
    if (x.length !== cfg.batchSize * arch.dIn) throw new NestlabArgumentError(where, 'data.batch()', `${cfg.batchSize}·${arch.dIn} values`, x.length);
    checkFinite(where, `batch ${s % perEpoch} of epoch ${epoch}`, x);
    return x;
  };
  if (sae === null || state === null) {
    const sample = options.initSample ?? { data: await batchAt(0), rows: cfg.batchSize, cols: arch.dIn };
    sae = createSae(arch, { seed: cfg.seed, bDecInit: cfg.bDecInit, sample });
    state = createTrainerState(sae);
  }
  sae.training = cfg;
  setThreshold(sae, state, cfg.thresholdBeta);

  const epochs = Math.ceil(totalSteps / perEpoch);
  const reportEvery = Math.max(1, Math.ceil(epochs / 100)); // at most ~100 progress lines
  progress.start(epochs, arch.prefixes.length > 1 ? 'train matryoshka SAE' : 'train SAE');
  const history: EpochSummary[] = [];
  const measured = cfg.randomPrefixCount > 0 ? 1 : arch.prefixes.length; // random prefixes: only the full width is the same every step
  let acc = { steps: 0, loss: 0, prefix: new Array<number>(measured).fill(0), l0: 0 };
  let dead = 0;
  let stepsRun = 0;
  const yieldNow = eventLoopYielder();
  while (state.step < stopAt) {
    await yieldNow();
    const s = state.step;
    const x = await batchAt(s);
    let info: StepInfo;
    try {
      info = await trainStep(sae, state, cfg, x, cfg.batchSize, totalSteps, gradients);
    } catch (e) {
      if (!(e instanceof NestlabComputationError)) throw e;
      // Nothing non-finite is ever saved: the checkpoint on disk is the last good one.
      const kept = options.checkpointDir === undefined ? 'no checkpoint was written (options.checkpointDir)' : lastSaved === null ? `no checkpoint was written to ${options.checkpointDir} yet` : `the last good checkpoint, step ${lastSaved}, stays in ${options.checkpointDir}`;
      throw new NestlabComputationError(where, `${e.detail}; ${kept}`);
    }
    stepsRun++;
    acc.steps++;
    acc.loss += info.losses.total;
    info.losses.prefixMse.slice(-measured).forEach((v, g) => (acc.prefix[g] += v));
    acc.l0 += info.l0;
    options.onStep?.(info);
    const endOfEpoch = state.step % perEpoch === 0 || state.step === totalSteps;
    if (endOfEpoch) {
      dead = 0;
      for (let j = 0; j < arch.dSae; j++) if (state.tokensSinceFired[j] >= cfg.deadTokens) dead++;
      const e = Math.ceil(state.step / perEpoch);
      const summary: EpochSummary = {
        epoch: e,
        steps: acc.steps,
        loss: acc.loss / acc.steps,
        prefixMse: acc.prefix.map((v) => v / acc.steps),
        dead,
        l0: acc.l0 / acc.steps,
      };
      history.push(summary);
      if (e % reportEvery === 0 || state.step === stopAt) progress.update(e, `loss ${summary.loss.toPrecision(4)}  L0 ${summary.l0.toFixed(2)}  dead ${dead}`);
      acc = { steps: 0, loss: 0, prefix: new Array<number>(measured).fill(0), l0: 0 };
    }
    if (options.checkpointDir !== undefined && (state.step % every === 0 || state.step === stopAt)) {
      saveCheckpoint(options.checkpointDir, sae, state, where);
      lastSaved = state.step;
    }
  }
  progress.stop(`${state.step}/${totalSteps} steps`);
  return { sae, state, history, totalSteps, stepsRun, resumedFrom };
}
