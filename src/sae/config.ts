/**
 * The two SAE configurations, as SAELens keeps them apart: the architecture (what the SAE is:
 * sizes, activation, k, Matryoshka prefixes) and the training run (loss weights, optimizer,
 * schedule, batch order). Each is one typed object with documented defaults
 * (docs/methods/msae.md §7), validated field by field; a hash of the architecture
 * versions checkpoints, so a resumed run may change its training (more epochs, another learning
 * rate) but never the SAE it continues.
 *
 * Hand-written: a config is plain data; validation must name the field and what was expected.
 */
import { createHash } from 'node:crypto';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';

/**
 * The SAE activations (docs/methods/msae.md §1.2–§1.5): 'topk' (k per row, Gao et al.),
 * 'batchtopk' (k·B per batch in training, a threshold θ at inference; Bussmann et al. 2024),
 * 'relu' (with an L1 penalty), 'jumprelu' (f_i = ReLU(pre_i)·[pre_i > θ_i] with a threshold per
 * latent; Rajamanoharan et al. 2024, SAELens' JumpReLU SAE: loaded and encoded, not trained here),
 * 'mp' (matching pursuit: k greedy steps over the decoder's atoms, the encoder tied to the decoder;
 * Costa et al. 2025, SAELens' `matching_pursuit`; docs/methods/mp-sae.md).
 */
export const ACTIVATIONS = ['topk', 'batchtopk', 'relu', 'jumprelu', 'mp'] as const;
/** One of `ACTIVATIONS`: the sparsifying activation of an SAE. */
export type SaeActivation = (typeof ACTIVATIONS)[number];

/**
 * Per-row input normalizations of SAELens (`normalize_activations`), applied before the encoder
 * and undone after the decoder (docs/methods/msae.md §8): 'none'; 'constant_norm_rescale'
 * (x·c with c = √d/‖x‖, output ÷ c); 'layer_norm' (x → (x − μ)/(σ + 1e-5) with σ the unbiased
 * standard deviation of the row, output·σ + μ).
 */
export const NORMALIZATIONS = ['none', 'constant_norm_rescale', 'layer_norm'] as const;
/** One of `NORMALIZATIONS`. */
export type SaeNormalization = (typeof NORMALIZATIONS)[number];

/** b_dec initializations (docs/methods/msae.md §4.1): geometric median, mean, or zero. */
export const BDEC_INITS = ['median', 'mean', 'zero'] as const;
/** One of `BDEC_INITS`. */
export type BDecInit = (typeof BDEC_INITS)[number];

/** What an SAE is. Fields in camelCase; checkpoints map them to SAELens' snake_case. */
export interface SaeArchitecture {
  /** Input dimension d (SAELens `d_in`). Required. */
  dIn: number;
  /** Dictionary size m (SAELens `d_sae`). Required. */
  dSae: number;
  /** 'topk' (k per sample), 'batchtopk' (k·B per batch in training, threshold θ at inference), 'relu' (+ L1), 'jumprelu' (per-latent θ), 'mp' (k matching-pursuit steps). Default 'batchtopk'. */
  activation: SaeActivation;
  /** Active latents per sample (mean, for batchtopk; may be fractional there, k·B is floored; for mp the pursuit steps, so at most k). Default min(32, dSae). Ignored by relu and jumprelu. */
  k: number;
  /**
   * Prefix sizes m_1 < … < m_K = dSae of the Matryoshka loss (fixed groups). Default [dSae]: a
   * flat SAE. `matryoshkaPrefixes(dSae)` gives the paper's groups, `halvingPrefixes(dSae)` m/16 … m.
   */
  prefixes: number[];
  /** Subtract b_dec from the input before the encoder (SAELens `apply_b_dec_to_input`). Default true; the trainer needs true. */
  applyBDecToInput: boolean;
  /** Per-row input normalization (SAELens `normalize_activations`). Default 'none'; the trainer needs 'none'. */
  normalizeActivations: SaeNormalization;
}

/** How an SAE is trained. Every field has a default; some defaults depend on the architecture. */
export interface SaeTraining {
  /**
   * L1 coefficient λ of the relu activation: loss += λ · Σ_p w_p mean_b Σ_{i<p} f_i (each prefix's L1,
   * as Nabeshima's Matryoshka SAE; λ · mean_b Σ_i f_i for a flat SAE). Default 1e-3. With
   * `l1TargetL0`, the controller's starting value.
   */
  l1Coeff: number;
  /**
   * Target L0 of the sparsity controller (relu; Nabeshima's, after G. Taggart): λ ramps up
   * linearly from 0 to l1Coeff over the first `l1Warmup` of the steps, then is multiplied each
   * step by 1 + l1Adapt when the batch's L0 ≥ the target and by 1 − l1Adapt when below. 0 (default): a fixed λ.
   */
  l1TargetL0: number;
  /** Fraction of the run over which the controller's λ ramps up. Default 0.2. */
  l1Warmup: number;
  /** The controller's per-step multiplicative change of λ. Default 3e-4. */
  l1Adapt: number;
  /**
   * Random Matryoshka prefixes (Nabeshima): each batch draws this many − 1 distinct prefix sizes
   * ℓ ∈ {1, …, dSae − 1} with P(ℓ) ∝ √ℓ − √(ℓ − 1) (a truncated Pareto, power ½), plus dSae, each
   * weighted equally; the architecture's prefixes then only say how the SAE is read. 0 (default):
   * the architecture's fixed prefixes and `prefixWeights`.
   */
  randomPrefixCount: number;
  /**
   * Latent re-sorting (Nabeshima): after every step, order the latents by a running mean (this
   * EMA factor) of mean_b (f_i‖W_dec,i‖)², largest first, permuting parameters and Adam moments
   * together. 0 (default): no re-sorting. Nabeshima uses 0.95.
   */
  latentOrderEma: number;
  /** Weight w_p of each prefix loss (one per architecture prefix). Default 1/K each (dictionary_learning). */
  prefixWeights: number[];
  /** Latents in the AuxK reconstruction (Gao et al.). Default min(dIn/2, dSae) (floored, ≥ 1). 0 disables AuxK. */
  auxK: number;
  /** Weight α of the AuxK loss. Default 1/32. */
  auxAlpha: number;
  /** A latent is dead when it has not fired for this many samples (tokens). Default 10,000,000. */
  deadTokens: number;
  /** Adam learning rate. Default 2e-4 / sqrt(dSae / 16384) (dictionary_learning's "1/√m" rule). */
  learningRate: number;
  /** Adam β1. Default 0.9. */
  beta1: number;
  /** Adam β2. Default 0.999. */
  beta2: number;
  /** Adam ε. Default 1e-8. */
  eps: number;
  /** Linear learning-rate warm-up over this many steps. Default 1000. */
  warmupSteps: number;
  /** Fraction of the run after which the rate decays linearly (1 = no decay). Default 0.8. */
  decayStart: number;
  /** The rate at the end of the decay, as a fraction of learningRate (Nabeshima's WSD schedule: 0.1). Default 0. */
  decayFloor: number;
  /** Global gradient-norm clip (after the decoder projection); 0 disables. Default 1. */
  clipNorm: number;
  /** Rows per training batch B. Default 4096. */
  batchSize: number;
  /** Passes over the data. Default 1. */
  epochs: number;
  /** b_dec initialization from the first batch: geometric median (Weiszfeld), mean, or zero. Default 'median'. */
  bDecInit: BDecInit;
  /** BatchTopK inference threshold: EMA factor of the smallest kept activation. Default 0.999. */
  thresholdBeta: number;
  /**
   * Step at which the threshold estimate starts. Default min(1000, ⌊totalSteps/2⌋), which `sae.train`
   * fills from the run's length so that θ is always estimated (1000 when the length is unknown).
   */
  thresholdStart: number;
  /** Seed of initialization and batch order. Default 0. */
  seed: number;
}

/** The architecture's fields in their canonical (hash) order. */
export const ARCHITECTURE_FIELDS: readonly (keyof SaeArchitecture)[] = ['dIn', 'dSae', 'activation', 'k', 'prefixes', 'applyBDecToInput', 'normalizeActivations'];
/** The fields every checkpoint hash has covered since version 1; the later ones join the hash only when not at their default. */
const HASHED_ALWAYS = 5;

/** The training config's fields. */
export const TRAINING_FIELDS: readonly (keyof SaeTraining)[] = [
  'l1Coeff', 'l1TargetL0', 'l1Warmup', 'l1Adapt', 'prefixWeights', 'randomPrefixCount', 'latentOrderEma', 'auxK', 'auxAlpha', 'deadTokens',
  'learningRate', 'beta1', 'beta2', 'eps', 'warmupSteps', 'decayStart', 'decayFloor', 'clipNorm', 'batchSize', 'epochs', 'bDecInit',
  'thresholdBeta', 'thresholdStart', 'seed',
];

/** The options of `saeArchitecture`: dIn and dSae required, everything else optional. */
export type SaeArchitectureInput = Partial<SaeArchitecture> & Pick<SaeArchitecture, 'dIn' | 'dSae'>;

/** The options of `saeTraining`: every field optional. */
export type SaeTrainingInput = Partial<SaeTraining>;

/**
 * The paper's five fixed groups (Bussmann et al. 2025, App. G.3): fractions [1/32, 1/16, 1/8,
 * 1/4, 17/32] of m, as cumulative prefix sizes ending at m (e.g. m = 4096 → [128, 384, 896,
 * 1920, 4096]). `options.fractions` gives other groups (all but the last). Prefix j is
 * Σ_{i ≤ j} max(1, ⌊f_i·m⌋), then m is appended (docs/methods/msae.md §2.2).
 *
 * @example const prefixes = sae.matryoshkaPrefixes(4096); // [128, 384, 896, 1920, 4096]
 */
export function matryoshkaPrefixes(dSae: number, options: { fractions?: number[] } = {}): number[] {
  const where = 'sae.matryoshkaPrefixes';
  checkInt(where, 'dSae', dSae, 1);
  checkKnownKeys(where, options, ['fractions']);
  const fractions = options.fractions ?? [1 / 32, 1 / 16, 1 / 8, 1 / 4];
  if (!Array.isArray(fractions)) throw new NestlabArgumentError(where, 'options.fractions', 'an array of fractions in (0, 1)', fractions);
  fractions.forEach((f, i) => checkNumber(where, `options.fractions[${i}]`, f, 0, 1));
  const out: number[] = [];
  let acc = 0;
  for (const f of fractions) {
    acc += Math.max(1, Math.floor(f * dSae));
    if (acc >= dSae) break;
    out.push(acc);
  }
  out.push(dSae);
  return out;
}

/**
 * Halving prefix sizes m/16, m/8, m/4, m/2, m (floored, at least 1, duplicates dropped), e.g.
 * 512 → [32, 64, 128, 256, 512]: nested sizes for reading any SAE prefix by prefix. nestlab's
 * own choice (the MNIST workflow's default), after MRL's halving sizes (docs/methods/mrl.md §2).
 *
 * @example const prefixes = sae.halvingPrefixes(512); // [32, 64, 128, 256, 512]
 */
export function halvingPrefixes(dSae: number): number[] {
  checkInt('sae.halvingPrefixes', 'dSae', dSae, 1);
  const out: number[] = [];
  for (const f of [16, 8, 4, 2, 1]) {
    const p = Math.max(1, Math.floor(dSae / f));
    if (out.length === 0 || p > out[out.length - 1]) out.push(p);
  }
  return out;
}

/**
 * Fills the architecture's defaults (docs/methods/msae.md §7: activation 'batchtopk',
 * k = min(32, dSae), prefixes [dSae]) and validates every field; throws NestlabArgumentError
 * naming the field. Checks: k ≤ dSae (an integer for topk), prefixes strictly increasing,
 * positive, ending at dSae. Field meanings follow SAELens' cfg (`d_in`, `d_sae`, `k`,
 * `matryoshka_widths`).
 *
 * @example const arch = sae.architecture({ dIn: 784, dSae: 256, k: 16 }); // arch.activation 'batchtopk', arch.prefixes [256]
 */
export function saeArchitecture(input: SaeArchitectureInput, where = 'sae.architecture'): SaeArchitecture {
  if (input === null || typeof input !== 'object') throw new NestlabArgumentError(where, 'architecture', 'an object with dIn and dSae', input);
  checkKnownKeys(where, input, ARCHITECTURE_FIELDS as string[], 'architecture');
  const dIn = checkInt(where, 'architecture.dIn', input.dIn, 1, 1 << 20);
  const dSae = checkInt(where, 'architecture.dSae', input.dSae, 1, 1 << 24);
  const activation = checkOneOf(where, 'architecture.activation', input.activation ?? 'batchtopk', ACTIVATIONS);
  const k = checkNumber(where, 'architecture.k', input.k ?? Math.min(32, dSae), 0, Infinity);
  if (activation === 'topk' || activation === 'batchtopk') {
    if (k > dSae) throw new NestlabArgumentError(where, 'architecture.k', `at most dSae = ${dSae}`, k);
    if (k <= 0) throw new NestlabArgumentError(where, 'architecture.k', 'positive', k);
    if (activation === 'topk' && !Number.isInteger(k)) {
      throw new NestlabArgumentError(where, 'architecture.k', 'an integer for activation "topk" (fractional k is for "batchtopk")', k);
    }
  }
  if (activation === 'mp') checkInt(where, 'architecture.k', k, 1, dSae); // pursuit steps
  const prefixes = input.prefixes ?? [dSae];
  if (!Array.isArray(prefixes) || prefixes.length === 0) {
    throw new NestlabArgumentError(where, 'architecture.prefixes', 'a non-empty array of prefix sizes ending at dSae', prefixes);
  }
  prefixes.forEach((p, i) => {
    checkInt(where, `architecture.prefixes[${i}]`, p, 1, dSae);
    if (i > 0 && p <= prefixes[i - 1]) throw new NestlabArgumentError(where, 'architecture.prefixes', 'strictly increasing sizes', `[${prefixes.join(', ')}]`);
  });
  if (prefixes[prefixes.length - 1] !== dSae) {
    throw new NestlabArgumentError(where, 'architecture.prefixes', `sizes ending at dSae = ${dSae}`, `[${prefixes.join(', ')}]`);
  }
  // A pursuit's code is not ordered by latent index, so a prefix of it is no smaller pursuit.
  if (activation === 'mp' && prefixes.length > 1) throw new NestlabArgumentError(where, 'architecture.prefixes', `[dSae] for activation "mp" (a flat pursuit; no Matryoshka prefixes)`, `[${prefixes.join(', ')}]`);
  const applyBDecToInput = input.applyBDecToInput ?? true;
  if (typeof applyBDecToInput !== 'boolean') throw new NestlabArgumentError(where, 'architecture.applyBDecToInput', 'true or false', applyBDecToInput);
  const normalizeActivations = checkOneOf(where, 'architecture.normalizeActivations', input.normalizeActivations ?? 'none', NORMALIZATIONS);
  return { dIn, dSae, activation, k, prefixes: [...prefixes], applyBDecToInput, normalizeActivations };
}

/**
 * Fills the training defaults for `arch` and validates every field; throws NestlabArgumentError
 * naming the field. Checks: one prefix weight per prefix, k·batchSize ≥ 1 for batchtopk, rates
 * and probabilities in range. Defaults are docs/methods/msae.md §7: learning rate
 * 2e-4/√(dSae/16384) and prefix weights 1/K (dictionary_learning), AuxK α = 1/32 with
 * auxK = min(dSae, ⌊dIn/2⌋) (Gao et al. 2024).
 *
 * @example const t = sae.training({ epochs: 5 }, sae.architecture({ dIn: 784, dSae: 256 })); // t.learningRate = 2e-4/√(256/16384) = 1.6e-3
 */
export function saeTraining(input: SaeTrainingInput | undefined, arch: SaeArchitecture, where = 'sae.training', totalSteps?: number): SaeTraining {
  const t = input ?? {};
  if (t === null || typeof t !== 'object') throw new NestlabArgumentError(where, 'training', 'an object of training options', t);
  checkKnownKeys(where, t, TRAINING_FIELDS as string[], 'training');
  const { dIn, dSae, prefixes } = arch;
  const l1Coeff = checkNumber(where, 'training.l1Coeff', t.l1Coeff ?? 1e-3, 0);
  const l1TargetL0 = checkNumber(where, 'training.l1TargetL0', t.l1TargetL0 ?? 0, 0, dSae);
  if (l1TargetL0 > 0 && arch.activation !== 'relu') throw new NestlabArgumentError(where, 'training.l1TargetL0', `0 for activation "${arch.activation}" (the controller sets a relu SAE's L1)`, l1TargetL0);
  if (l1TargetL0 > 0 && l1Coeff <= 0) throw new NestlabArgumentError(where, 'training.l1Coeff', 'positive when l1TargetL0 is set (the controller scales it)', l1Coeff);
  const l1Warmup = checkNumber(where, 'training.l1Warmup', t.l1Warmup ?? 0.2, 0, 1);
  const l1Adapt = checkNumber(where, 'training.l1Adapt', t.l1Adapt ?? 3e-4, 0, 0.5);
  const randomPrefixCount = checkInt(where, 'training.randomPrefixCount', t.randomPrefixCount ?? 0, 0, dSae);
  if (randomPrefixCount > 0 && arch.activation === 'mp') throw new NestlabArgumentError(where, 'training.randomPrefixCount', '0 for activation "mp" (a flat pursuit)', randomPrefixCount);
  if (randomPrefixCount === 1) throw new NestlabArgumentError(where, 'training.randomPrefixCount', `0 (fixed prefixes) or in [2, ${dSae}]`, 1);
  const latentOrderEma = checkNumber(where, 'training.latentOrderEma', t.latentOrderEma ?? 0, 0, 0.999999);
  const prefixWeights = t.prefixWeights ?? prefixes.map(() => 1 / prefixes.length);
  if (!Array.isArray(prefixWeights) || prefixWeights.length !== prefixes.length) {
    throw new NestlabArgumentError(where, 'training.prefixWeights', `an array of ${prefixes.length} weights (one per prefix)`, prefixWeights);
  }
  prefixWeights.forEach((x, i) => checkNumber(where, `training.prefixWeights[${i}]`, x, 0));
  const auxK = checkInt(where, 'training.auxK', t.auxK ?? Math.max(1, Math.min(dSae, Math.floor(dIn / 2))), 0, dSae);
  const auxAlpha = checkNumber(where, 'training.auxAlpha', t.auxAlpha ?? 1 / 32, 0);
  const deadTokens = checkInt(where, 'training.deadTokens', t.deadTokens ?? 10_000_000, 1);
  const learningRate = checkNumber(where, 'training.learningRate', t.learningRate ?? 2e-4 / Math.sqrt(dSae / 16384), 0, 10);
  if (learningRate <= 0) throw new NestlabArgumentError(where, 'training.learningRate', 'positive', learningRate);
  const beta1 = checkNumber(where, 'training.beta1', t.beta1 ?? 0.9, 0, 0.999999);
  const beta2 = checkNumber(where, 'training.beta2', t.beta2 ?? 0.999, 0, 0.99999999);
  const eps = checkNumber(where, 'training.eps', t.eps ?? 1e-8, 0);
  const warmupSteps = checkInt(where, 'training.warmupSteps', t.warmupSteps ?? 1000, 0);
  const decayStart = checkNumber(where, 'training.decayStart', t.decayStart ?? 0.8, 0, 1);
  const decayFloor = checkNumber(where, 'training.decayFloor', t.decayFloor ?? 0, 0, 1);
  const clipNorm = checkNumber(where, 'training.clipNorm', t.clipNorm ?? 1, 0);
  const batchSize = checkInt(where, 'training.batchSize', t.batchSize ?? 4096, 1, 1 << 24);
  if (arch.activation === 'batchtopk' && Math.floor(arch.k * batchSize) < 1) {
    throw new NestlabArgumentError(where, 'training.batchSize', `such that k·batchSize ≥ 1 (k = ${arch.k})`, batchSize);
  }
  const epochs = checkNumber(where, 'training.epochs', t.epochs ?? 1, 0);
  if (epochs <= 0) throw new NestlabArgumentError(where, 'training.epochs', 'positive', epochs);
  const bDecInit = checkOneOf(where, 'training.bDecInit', t.bDecInit ?? 'median', BDEC_INITS);
  const thresholdBeta = checkNumber(where, 'training.thresholdBeta', t.thresholdBeta ?? 0.999, 0, 0.999999);
  const thresholdStart = checkInt(where, 'training.thresholdStart', t.thresholdStart ?? (totalSteps === undefined ? 1000 : Math.min(1000, Math.floor(totalSteps / 2))), 0);
  const seed = checkInt(where, 'training.seed', t.seed ?? 0);
  return {
    l1Coeff, l1TargetL0, l1Warmup, l1Adapt, prefixWeights: [...prefixWeights], randomPrefixCount, latentOrderEma, auxK, auxAlpha, deadTokens,
    learningRate, beta1, beta2, eps, warmupSteps, decayStart, decayFloor, clipNorm, batchSize, epochs, bDecInit, thresholdBeta, thresholdStart, seed,
  };
}

/**
 * A short stable hash (first 16 hex digits of SHA-256) of the canonical JSON of the architecture
 * in a fixed field order; checkpoints carry it so a resume onto another SAE is refused. Fields
 * added after version 2 count only when they differ from their default, so older hashes hold.
 */
export function architectureHash(arch: SaeArchitecture): string {
  const defaults: Partial<SaeArchitecture> = { applyBDecToInput: true, normalizeActivations: 'none' };
  const fields = ARCHITECTURE_FIELDS.filter((f, i) => i < HASHED_ALWAYS || arch[f] !== defaults[f]);
  const canonical = JSON.stringify(fields.map((f) => [f, arch[f]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
