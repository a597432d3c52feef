/**
 * The SAE configuration: one typed object with documented defaults (research/msae.md §9), its
 * validation, and a hash that versions checkpoints.
 *
 * Hand-written: a config is plain data; validation must name the field and what was expected.
 */
import { createHash } from 'node:crypto';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';

export const ACTIVATIONS = ['topk', 'batchtopk', 'relu'] as const;
export type SaeActivation = (typeof ACTIVATIONS)[number];

export const BDEC_INITS = ['median', 'mean', 'zero'] as const;
export type BDecInit = (typeof BDEC_INITS)[number];

/** Everything that defines an SAE and its training run. Fields in camelCase; checkpoints map them to SAELens' snake_case. */
export interface SaeConfig {
  /** Input dimension d (SAELens `d_in`). Required. */
  dIn: number;
  /** Dictionary size m (SAELens `d_sae`). Required. */
  dSae: number;
  /** 'topk' (k per sample), 'batchtopk' (k·B per batch in training, threshold θ at inference), 'relu' (+ L1). Default 'batchtopk'. */
  activation: SaeActivation;
  /** Active latents per sample (mean, for batchtopk; may be fractional there, k·B is floored). Default 32. Ignored by relu. */
  k: number;
  /** L1 coefficient of the relu activation: loss += l1Coeff · mean_b Σ_i f_i (rows are unit norm). Default 1e-3. */
  l1Coeff: number;
  /**
   * Prefix sizes m_1 < … < m_K = dSae of the Matryoshka loss (fixed groups). Default [dSae]: a
   * flat SAE. Use `matryoshkaPrefixes(dSae)` for the paper's [m/32, m/16+m/32, …].
   */
  prefixes: number[];
  /** Weight w_p of each prefix loss. Default 1/K each (research/msae.md §2.1, DL). */
  prefixWeights: number[];
  /** Latents in the AuxK reconstruction (Gao et al.). Default min(dIn/2, dSae) (floored, ≥ 1). 0 disables AuxK. */
  auxK: number;
  /** Weight α of the AuxK loss. Default 1/32. */
  auxAlpha: number;
  /** A latent is dead when it has not fired for this many samples (tokens). Default 10,000,000. */
  deadTokens: number;
  /** Adam learning rate. Default 2e-4 / sqrt(dSae / 16384) (DL, "1/√m"). */
  lr: number;
  /** Adam β1. Default 0.9. */
  beta1: number;
  /** Adam β2. Default 0.999. */
  beta2: number;
  /** Adam ε. Default 1e-8. */
  eps: number;
  /** Linear learning-rate warm-up over this many steps. Default 1000. */
  warmupSteps: number;
  /** Fraction of the run after which the rate decays linearly to 0 (1 = no decay). Default 0.8. */
  decayStart: number;
  /** Global gradient-norm clip (after the decoder projection); 0 disables. Default 1. */
  clipNorm: number;
  /** Rows per training batch B. Default 4096. */
  batchSize: number;
  /** Passes over the data. Default 1. */
  epochs: number;
  /** b_dec initialisation from the first batch: geometric median (Weiszfeld), mean, or zero. Default 'median'. */
  bDecInit: BDecInit;
  /** BatchTopK inference threshold: EMA factor of the smallest kept activation. Default 0.999. */
  thresholdBeta: number;
  /** Step at which the threshold estimate starts. Default 1000. */
  thresholdStart: number;
  /** Seed of initialisation and batch order. Default 0. */
  seed: number;
}

const FIELDS: readonly (keyof SaeConfig)[] = [
  'dIn', 'dSae', 'activation', 'k', 'l1Coeff', 'prefixes', 'prefixWeights', 'auxK', 'auxAlpha', 'deadTokens',
  'lr', 'beta1', 'beta2', 'eps', 'warmupSteps', 'decayStart', 'clipNorm', 'batchSize', 'epochs', 'bDecInit',
  'thresholdBeta', 'thresholdStart', 'seed',
];

/** The options of `saeConfig`: dIn and dSae required, everything else optional. */
export type SaeConfigInput = Partial<SaeConfig> & Pick<SaeConfig, 'dIn' | 'dSae'>;

/**
 * The paper's five fixed groups (P1 App. G.3): fractions [1/32, 1/16, 1/8, 1/4, 17/32] of m, as
 * cumulative prefix sizes ending at m (e.g. m = 4096 → [128, 384, 896, 1920, 4096]).
 */
export function matryoshkaPrefixes(dSae: number, fractions: number[] = [1 / 32, 1 / 16, 1 / 8, 1 / 4]): number[] {
  checkInt('matryoshkaPrefixes', 'dSae', dSae, 1);
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
 * Fills defaults and validates every field; throws NestlabArgumentError naming the field.
 * Checks: k ≤ dSae (and k·batchSize ≥ 1 for batchtopk), prefixes strictly increasing, positive,
 * ending at dSae, one weight per prefix, rates and probabilities in range.
 */
export function saeConfig(input: SaeConfigInput): SaeConfig {
  const w = 'saeConfig';
  if (input === null || typeof input !== 'object') throw new NestlabArgumentError(w, 'config', 'an object with dIn and dSae', input);
  checkKnownKeys(w, input, FIELDS as string[]);
  const dIn = checkInt(w, 'dIn', input.dIn, 1, 1 << 20);
  const dSae = checkInt(w, 'dSae', input.dSae, 1, 1 << 24);
  const activation = checkOneOf(w, 'activation', input.activation ?? 'batchtopk', ACTIVATIONS);
  const k = checkNumber(w, 'k', input.k ?? Math.min(32, dSae), 0, Infinity);
  if (activation !== 'relu') {
    if (k > dSae) throw new NestlabArgumentError(w, 'k', `at most dSae = ${dSae}`, k);
    if (k <= 0) throw new NestlabArgumentError(w, 'k', 'positive', k);
    if (activation === 'topk' && !Number.isInteger(k)) throw new NestlabArgumentError(w, 'k', 'an integer for activation "topk" (fractional k is for "batchtopk")', k);
  }
  const l1Coeff = checkNumber(w, 'l1Coeff', input.l1Coeff ?? 1e-3, 0);
  const prefixes = input.prefixes ?? [dSae];
  if (!Array.isArray(prefixes) || prefixes.length === 0) throw new NestlabArgumentError(w, 'prefixes', 'a non-empty array of prefix sizes ending at dSae', prefixes);
  prefixes.forEach((p, i) => {
    checkInt(w, `prefixes[${i}]`, p, 1, dSae);
    if (i > 0 && p <= prefixes[i - 1]) throw new NestlabArgumentError(w, 'prefixes', 'strictly increasing sizes', `[${prefixes.join(', ')}]`);
  });
  if (prefixes[prefixes.length - 1] !== dSae) throw new NestlabArgumentError(w, 'prefixes', `sizes ending at dSae = ${dSae}`, `[${prefixes.join(', ')}]`);
  const prefixWeights = input.prefixWeights ?? prefixes.map(() => 1 / prefixes.length);
  if (!Array.isArray(prefixWeights) || prefixWeights.length !== prefixes.length) {
    throw new NestlabArgumentError(w, 'prefixWeights', `an array of ${prefixes.length} weights (one per prefix)`, prefixWeights);
  }
  prefixWeights.forEach((x, i) => checkNumber(w, `prefixWeights[${i}]`, x, 0));
  const auxK = checkInt(w, 'auxK', input.auxK ?? Math.max(1, Math.min(dSae, Math.floor(dIn / 2))), 0, dSae);
  const auxAlpha = checkNumber(w, 'auxAlpha', input.auxAlpha ?? 1 / 32, 0);
  const deadTokens = checkInt(w, 'deadTokens', input.deadTokens ?? 10_000_000, 1);
  const lr = checkNumber(w, 'lr', input.lr ?? 2e-4 / Math.sqrt(dSae / 16384), 0, 10);
  if (lr <= 0) throw new NestlabArgumentError(w, 'lr', 'positive', lr);
  const beta1 = checkNumber(w, 'beta1', input.beta1 ?? 0.9, 0, 0.999999);
  const beta2 = checkNumber(w, 'beta2', input.beta2 ?? 0.999, 0, 0.99999999);
  const eps = checkNumber(w, 'eps', input.eps ?? 1e-8, 0);
  const warmupSteps = checkInt(w, 'warmupSteps', input.warmupSteps ?? 1000, 0);
  const decayStart = checkNumber(w, 'decayStart', input.decayStart ?? 0.8, 0, 1);
  const clipNorm = checkNumber(w, 'clipNorm', input.clipNorm ?? 1, 0);
  const batchSize = checkInt(w, 'batchSize', input.batchSize ?? 4096, 1, 1 << 24);
  if (activation === 'batchtopk' && Math.floor(k * batchSize) < 1) {
    throw new NestlabArgumentError(w, 'k', `such that k·batchSize ≥ 1 (batchSize ${batchSize})`, k);
  }
  const epochs = checkNumber(w, 'epochs', input.epochs ?? 1, 0);
  if (epochs <= 0) throw new NestlabArgumentError(w, 'epochs', 'positive', epochs);
  const bDecInit = checkOneOf(w, 'bDecInit', input.bDecInit ?? 'median', BDEC_INITS);
  const thresholdBeta = checkNumber(w, 'thresholdBeta', input.thresholdBeta ?? 0.999, 0, 1);
  const thresholdStart = checkInt(w, 'thresholdStart', input.thresholdStart ?? 1000, 0);
  const seed = checkInt(w, 'seed', input.seed ?? 0);
  return {
    dIn, dSae, activation, k, l1Coeff, prefixes: [...prefixes], prefixWeights: [...prefixWeights], auxK, auxAlpha,
    deadTokens, lr, beta1, beta2, eps, warmupSteps, decayStart, clipNorm, batchSize, epochs, bDecInit,
    thresholdBeta, thresholdStart, seed,
  };
}

/**
 * A short stable hash (first 16 hex digits of SHA-256) of the canonical JSON of every config
 * field in a fixed order; checkpoints carry it so a resume with another config is refused.
 */
export function configHash(cfg: SaeConfig): string {
  const canonical = JSON.stringify(FIELDS.map((f) => [f, cfg[f]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The SAELens-style cfg JSON (snake_case) of a config, plus nestlab's full config and hash. */
export function toSaeLensCfg(cfg: SaeConfig): Record<string, unknown> {
  const architecture = cfg.activation === 'relu' ? 'standard' : cfg.activation === 'topk' ? 'topk' : 'batchtopk';
  return {
    architecture: cfg.prefixes.length > 1 ? `matryoshka_${architecture}` : architecture,
    d_in: cfg.dIn,
    d_sae: cfg.dSae,
    k: cfg.k,
    activation_fn: cfg.activation,
    l1_coefficient: cfg.l1Coeff,
    matryoshka_widths: cfg.prefixes,
    prefix_weights: cfg.prefixWeights,
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    dtype: 'float32',
    config_hash: configHash(cfg),
    nestlab_config: cfg,
  };
}

/** Reads a config back from `toSaeLensCfg` output (its `nestlab_config`), validating it. */
export function fromSaeLensCfg(json: Record<string, unknown>, where = 'fromSaeLensCfg'): SaeConfig {
  const inner = json.nestlab_config;
  if (inner && typeof inner === 'object') return saeConfig(inner as SaeConfigInput);
  // A plain SAELens cfg: take what it has.
  const dIn = json.d_in;
  const dSae = json.d_sae;
  if (typeof dIn !== 'number' || typeof dSae !== 'number') throw new NestlabArgumentError(where, 'cfg', 'a cfg with numeric d_in and d_sae', json);
  const arch = String(json.architecture ?? 'standard');
  const activation: SaeActivation = arch.includes('batchtopk') ? 'batchtopk' : arch.includes('topk') ? 'topk' : 'relu';
  const widths = Array.isArray(json.matryoshka_widths) ? (json.matryoshka_widths as number[]) : [dSae];
  const prefixes = widths[widths.length - 1] === dSae ? widths : [...widths, dSae];
  return saeConfig({ dIn, dSae, activation, k: typeof json.k === 'number' ? json.k : undefined, prefixes });
}
