/**
 * A small GPT's architecture and its training, as two validated configs kept apart (SAELens's
 * habit, as in `sae/config.ts`): the architecture fixes the weights' shapes and is what a resume
 * is checked against; the training config may change between runs.
 */
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';

/** The MLP's nonlinearity: GPT-2's tanh-approximated GELU ("gelu_new") or ReLU. */
export const LM_ACTIVATIONS = ['gelu', 'relu'] as const;
/** One of {@link LM_ACTIVATIONS}. */
export type LmActivation = (typeof LM_ACTIVATIONS)[number];

/** Sizes of a GPT-style decoder (pre-LayerNorm blocks, learned positions). */
export interface LmArchitecture {
  /** Tokens in the vocabulary (the tokenizer's size). */
  vocabSize: number;
  /** The longest context (rows of the position embedding). */
  contextLength: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads per block; `dModel` must be a multiple of it. */
  nHeads: number;
  /** Hidden units of each block's MLP (GPT-2: 4 · dModel). */
  dMlp: number;
  /** The MLP's nonlinearity. */
  activation: LmActivation;
  /** Unembedding = embeddingᵀ (GPT-2) or a separate matrix. */
  tiedEmbeddings: boolean;
  /** LayerNorm's ε (GPT-2: 1e-5). */
  layerNormEps: number;
}

/** How an LM is trained: AdamW with linear warm-up and cosine decay, gradient clipping. */
export interface LmTraining {
  /** Sequences per step. */
  batchSize: number;
  /** Optimizer steps in the run (the decay schedule's length). */
  steps: number;
  /** Peak learning rate. */
  learningRate: number;
  /** The learning rate at the end of the cosine decay, as a fraction of the peak (nanoGPT: 0.1). */
  minLearningRateFraction: number;
  /** Steps of linear warm-up from 0. */
  warmupSteps: number;
  /** AdamW's decoupled weight decay on matrices (not on biases, gains or position embeddings). */
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Global gradient-norm clip (0: none). */
  gradClip: number;
  /** Seed of the initialization and of the batches. */
  seed: number;
  /** Steps between checkpoints when a checkpoint folder is given. */
  checkpointEvery: number;
  /** Steps between validation-loss evaluations (0: only at the end). */
  evalEvery: number;
}

/** The fields of an {@link LmArchitecture}, in the order its hash and cfg.json use. */
export const LM_ARCHITECTURE_FIELDS = ['vocabSize', 'contextLength', 'dModel', 'nLayers', 'nHeads', 'dMlp', 'activation', 'tiedEmbeddings', 'layerNormEps'] as const;
const TRAINING_KEYS = ['batchSize', 'steps', 'learningRate', 'minLearningRateFraction', 'warmupSteps', 'weightDecay', 'beta1', 'beta2', 'gradClip', 'seed', 'checkpointEvery', 'evalEvery'] as const;

/**
 * A validated {@link LmArchitecture}: `vocabSize`, `contextLength` and `dModel` are required; the
 * rest default to GPT-2's choices at this scale (2 layers, 4 heads, dMlp = 4·dModel, GELU, tied).
 *
 * @example const arch = lm.architecture({ vocabSize: 8192, contextLength: 64, dModel: 128 })
 */
export function lmArchitecture(options: Partial<LmArchitecture> & Pick<LmArchitecture, 'vocabSize' | 'contextLength' | 'dModel'>): LmArchitecture {
  const where = 'lm.architecture';
  checkKnownKeys(where, options, LM_ARCHITECTURE_FIELDS);
  const vocabSize = checkInt(where, 'options.vocabSize', options.vocabSize, 2, 2 ** 20);
  const contextLength = checkInt(where, 'options.contextLength', options.contextLength, 1, 8192);
  const dModel = checkInt(where, 'options.dModel', options.dModel, 1, 8192);
  const nLayers = checkInt(where, 'options.nLayers', options.nLayers ?? 2, 0, 64);
  const nHeads = checkInt(where, 'options.nHeads', options.nHeads ?? 4, 1, dModel);
  if (dModel % nHeads !== 0) throw new NestlabArgumentError(where, 'options.nHeads', `a divisor of dModel ${dModel}`, nHeads);
  const dMlp = checkInt(where, 'options.dMlp', options.dMlp ?? 4 * dModel, 1, 65536);
  const activation = checkOneOf(where, 'options.activation', options.activation ?? 'gelu', LM_ACTIVATIONS);
  const tiedEmbeddings = options.tiedEmbeddings ?? true;
  if (typeof tiedEmbeddings !== 'boolean') throw new NestlabArgumentError(where, 'options.tiedEmbeddings', 'a boolean', tiedEmbeddings);
  const layerNormEps = checkNumber(where, 'options.layerNormEps', options.layerNormEps ?? 1e-5, 0, 1);
  return { vocabSize, contextLength, dModel, nLayers, nHeads, dMlp, activation, tiedEmbeddings, layerNormEps };
}

/**
 * A validated {@link LmTraining}; defaults follow nanoGPT's small runs (AdamW 3e-4 → 3e-5 cosine,
 * β = (0.9, 0.95), weight decay 0.1, clip 1.0).
 *
 * @example const training = lm.training({ steps: 2000, batchSize: 32 })
 */
export function lmTraining(options: Partial<LmTraining> = {}): LmTraining {
  const where = 'lm.training';
  checkKnownKeys(where, options, TRAINING_KEYS);
  const steps = checkInt(where, 'options.steps', options.steps ?? 1000, 1, 1e9);
  return {
    batchSize: checkInt(where, 'options.batchSize', options.batchSize ?? 32, 1, 1e6),
    steps,
    learningRate: checkNumber(where, 'options.learningRate', options.learningRate ?? 3e-4, 0, 10),
    minLearningRateFraction: checkNumber(where, 'options.minLearningRateFraction', options.minLearningRateFraction ?? 0.1, 0, 1),
    warmupSteps: checkInt(where, 'options.warmupSteps', options.warmupSteps ?? Math.min(100, Math.floor(steps / 10)), 0, 1e9),
    weightDecay: checkNumber(where, 'options.weightDecay', options.weightDecay ?? 0.1, 0, 10),
    beta1: checkNumber(where, 'options.beta1', options.beta1 ?? 0.9, 0, 0.999999),
    beta2: checkNumber(where, 'options.beta2', options.beta2 ?? 0.95, 0, 0.999999),
    gradClip: checkNumber(where, 'options.gradClip', options.gradClip ?? 1, 0, 1e9),
    seed: checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53),
    checkpointEvery: checkInt(where, 'options.checkpointEvery', options.checkpointEvery ?? 500, 1, 1e9),
    evalEvery: checkInt(where, 'options.evalEvery', options.evalEvery ?? 0, 0, 1e9),
  };
}

/**
 * The learning rate at `step` (0-based): linear warm-up to the peak over `warmupSteps`, then a
 * cosine decay to `minLearningRateFraction` of it at `steps` (nanoGPT's `get_lr`).
 *
 * @example const lr = lm.learningRateAt(lm.training({ steps: 1000, warmupSteps: 100 }), 50); // half the peak, mid warm-up
 */
export function learningRateAt(t: LmTraining, step: number): number {
  const peak = t.learningRate;
  if (step < t.warmupSteps) return (peak * (step + 1)) / t.warmupSteps;
  const span = Math.max(1, t.steps - t.warmupSteps);
  const progress = Math.min(1, (step - t.warmupSteps) / span);
  const floor = peak * t.minLearningRateFraction;
  return floor + 0.5 * (1 + Math.cos(Math.PI * progress)) * (peak - floor);
}
