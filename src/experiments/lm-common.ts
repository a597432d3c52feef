/**
 * What the language-model figures share: the GPT trained on the Brown corpus, and the
 * activations at several hooks with a Matryoshka SAE trained on each. Training the LM is most of
 * a full-size run (about 25 minutes here), so both are kept for the life of the process, one
 * entry each, keyed by every parameter that shapes them: `nestlab figures` trains one LM for all
 * the lm-* figures, and a figure run alone trains exactly what it would have trained in company
 * (the same seeds, the same steps), so its numbers do not depend on which figures ran before it.
 */
import type { Progress } from '../backend/progress.js';
import { eventLoopYielder } from '../backend/yield.js';
import type { Size } from './define.js';
import type { Matrix } from '../data/matrix.js';
import { loadBrown, BROWN_GENRES } from '../data/brown.js';
import { lmArchitecture, lmTraining, type LmActivation, type LmArchitecture, type LmTraining } from '../lm/config.js';
import { createLm, disposeLm, parameterCount, type Lm } from '../lm/model.js';
import { trainLm } from '../lm/fit.js';
import { createLmTrainerState, disposeLmTrainerState, lmTrainStep, sampleWindows, type TokenBatch } from '../lm/train.js';
import { captureActivations } from '../lm/capture.js';
import { halvingPrefixes } from '../sae/config.js';
import { trainSae } from '../sae/train.js';
import type { Sae } from '../sae/model.js';
import { brownStreams, scoreBrownLm, type BrownLmScores, type BrownStreams } from '../workflows/lm-brown.js';

/** The LM of a figure: corpus, tokenizer, sizes and training (flat, so `overrides` reach them). */
export interface LmRunParams {
  /** Files per genre taken from the corpus (0: all 500). */
  filesPerGenre: number;
  vocabSize: number;
  nLayers: number;
  dModel: number;
  nHeads: number;
  contextLength: number;
  lmSteps: number;
  lmBatchSize: number;
  lmLearningRate: number;
  /** The MLP's nonlinearity (absent: GELU, the lm-* figures' LM). */
  activation?: LmActivation;
}

/** The hooks' activations and their SAEs (flat, like {@link LmRunParams}). */
export interface HookSaeParams {
  /** The hooks captured, in forward order; one Matryoshka SAE each. */
  hooks: string[];
  /** Random training windows whose activations train the SAEs. */
  saeWindows: number;
  dSae: number;
  /** Mean active latents per token (BatchTopK). */
  k: number;
  epochs: number;
  saeBatchSize: number;
}

/** The LM of the lm-* figures at each size (the cache trains it once when they agree). */
export const LM_SIZES: Record<Size, LmRunParams> = {
  smoke: { filesPerGenre: 3, vocabSize: 1000, nLayers: 2, dModel: 32, nHeads: 2, contextLength: 32, lmSteps: 400, lmBatchSize: 16, lmLearningRate: 5e-3 },
  full: { filesPerGenre: 0, vocabSize: 8192, nLayers: 2, dModel: 128, nHeads: 4, contextLength: 64, lmSteps: 2000, lmBatchSize: 32, lmLearningRate: 1e-3 },
};

/** The hooks and SAEs of the geometry figures at each size: embeddings, the stream between the blocks, the last stream. */
export const HOOK_SAE_SIZES: Record<Size, HookSaeParams> = {
  smoke: { hooks: ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post'], saeWindows: 200, dSae: 128, k: 8, epochs: 4, saeBatchSize: 256 },
  full: { hooks: ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post'], saeWindows: 6000, dSae: 2048, k: 16, epochs: 5, saeBatchSize: 4096 },
};

/** A trained LM with its corpus and scores. */
export interface BrownLmRun {
  streams: BrownStreams;
  architecture: LmArchitecture;
  model: Lm;
  parameters: number;
  scores: BrownLmScores;
}

/** The rows of one hook: activations scaled to mean row norm √d, and the SAE trained on them. */
export interface HookSae {
  hook: string;
  /** The scaled activations, rows = the training windows' tokens in (window, position) order. */
  x: Matrix;
  /** The factor applied to the raw activations (SAELens's expected_average_only_in). */
  scale: number;
  /** A Matryoshka BatchTopK SAE with halving prefixes, trained on `x`. */
  sae: Sae;
}

/** The training windows whose tokens are the rows of every {@link HookSae}. */
export interface HookSaes {
  windows: TokenBatch;
  byHook: HookSae[];
  prefixes: number[];
}

/** The first n file ids of each genre (0: every file). */
export function filesPerGenre(n: number): string[] | undefined {
  if (n === 0) return undefined;
  const ids = loadBrown().map((d) => d.id);
  return BROWN_GENRES.flatMap((g) => ids.filter((id) => id[1] === g.letter).slice(0, n));
}

const LM_FIELDS = ['filesPerGenre', 'vocabSize', 'nLayers', 'dModel', 'nHeads', 'contextLength', 'lmSteps', 'lmBatchSize', 'lmLearningRate', 'activation'] as const;
const SAE_FIELDS = ['hooks', 'saeWindows', 'dSae', 'k', 'epochs', 'saeBatchSize'] as const;

function keyOf(params: object, fields: readonly string[], seed: number): string {
  return JSON.stringify([seed, ...fields.map((f) => (params as Record<string, unknown>)[f])]);
}

let lmCache: { key: string; run: BrownLmRun } | null = null;
let saeCache: { key: string; saes: HookSaes } | null = null;

/**
 * The LM of `params` and `seed`, trained on the Brown training files (one progress unit per step,
 * as `LM step/loss`), with its test scores beside the n-gram baselines; the same object for the
 * same parameters for the rest of the process (do not dispose it).
 */
export async function brownLm(params: LmRunParams, seed: number, progress: Progress): Promise<BrownLmRun> {
  const key = keyOf({ ...params, activation: params.activation ?? 'gelu' }, LM_FIELDS, seed);
  if (lmCache?.key === key) return lmCache.run;
  releaseLmFigureCache();
  const { streams, architecture, training } = lmSetup(params, seed);
  const model = createLm(architecture, seed);
  try {
    const lmProgress: Progress = { start() {}, stop() {}, update: (step, info) => progress.update(step, `LM ${info ?? ''}`) };
    await trainLm(model, streams.train.ids, { training, tokenizer: streams.tokenizer, progress: lmProgress });
    const run: BrownLmRun = { streams, architecture, model, parameters: parameterCount(model), scores: await scoreBrownLm(model, streams) };
    lmCache = { key, run };
    return run;
  } catch (e) {
    disposeLm(model);
    throw e;
  }
}

/** The corpus, architecture and training config of the LM of `params` and `seed`. */
function lmSetup(params: LmRunParams, seed: number): { streams: BrownStreams; architecture: LmArchitecture; training: LmTraining } {
  const streams = brownStreams({ seed, vocabSize: params.vocabSize, ids: filesPerGenre(params.filesPerGenre) });
  const architecture = lmArchitecture({ vocabSize: streams.tokenizer.vocab.length, contextLength: params.contextLength, dModel: params.dModel, nLayers: params.nLayers, nHeads: params.nHeads, activation: params.activation ?? 'gelu' });
  const training = lmTraining({ steps: params.lmSteps, batchSize: params.lmBatchSize, learningRate: params.lmLearningRate, seed });
  return { streams, architecture, training };
}

/**
 * The LM of `params` and `seed` trained as {@link brownLm} trains it (the same streams, initial
 * weights, batches and schedule: `lmTrainStep` on `sampleWindows(seed, step)`, the loop of
 * `trainLm` without checkpoints), calling `visit(model, step, streams)` before the first step (step 0) and
 * after each step listed in `at`, so a figure can watch the representations form. Not cached:
 * the caller disposes the model (`disposeLm`).
 */
export async function watchBrownLmTraining(params: LmRunParams, seed: number, at: readonly number[], visit: (model: Lm, step: number, streams: BrownStreams) => Promise<void>, progress: Progress): Promise<{ streams: BrownStreams; model: Lm }> {
  const { streams, architecture, training } = lmSetup(params, seed);
  const model = createLm(architecture, seed);
  const state = createLmTrainerState(model);
  const reportEvery = Math.max(1, Math.ceil(training.steps / 100)); // as trainLm: at most ~100 progress lines
  const yieldNow = eventLoopYielder();
  try {
    if (at.includes(0)) await visit(model, 0, streams);
    while (state.step < training.steps) {
      await yieldNow();
      const batch = sampleWindows(streams.train.ids, training.batchSize, architecture.contextLength, training.seed, state.step);
      const record = await lmTrainStep(model, state, training, batch);
      if (state.step % reportEvery === 0 || state.step === training.steps) progress.update(state.step, `LM loss ${record.loss.toFixed(4)}`);
      if (at.includes(state.step)) await visit(model, state.step, streams);
    }
    return { streams, model };
  } catch (e) {
    disposeLm(model);
    throw e;
  } finally {
    disposeLmTrainerState(state);
  }
}

/**
 * Activations of `params.saeWindows` random training windows (sampleWindows(seed, step 0)) at
 * every hook, each scaled to mean row norm √d, and a Matryoshka BatchTopK SAE (halving prefixes,
 * seed `seed`) trained on each; kept for the process like {@link brownLm}.
 */
export async function hookSaes(lm: BrownLmRun, params: LmRunParams & HookSaeParams, seed: number, progress: (info: string) => void): Promise<HookSaes> {
  const key = keyOf({ ...params, activation: params.activation ?? 'gelu' }, [...LM_FIELDS, ...SAE_FIELDS], seed);
  if (saeCache?.key === key) return saeCache.saes;
  saeCache = null;
  const windows = sampleWindows(lm.streams.train.ids, params.saeWindows, params.contextLength, seed, 0);
  const captured = await captureActivations(lm.model, windows, params.hooks);
  const prefixes = halvingPrefixes(params.dSae);
  const byHook: HookSae[] = [];
  for (const hook of params.hooks) {
    const { x, scale } = scaleToRootD(captured.get(hook) as Matrix);
    captured.delete(hook); // the raw copy is not needed past this point
    const { sae } = await trainSae(x, {
      architecture: { dIn: x.cols, dSae: params.dSae, activation: 'batchtopk', k: params.k, prefixes },
      training: { batchSize: params.saeBatchSize, epochs: params.epochs, seed, deadTokens: Math.min(x.rows, 1_000_000) },
    });
    byHook.push({ hook, x, scale, sae });
    progress(`SAE at ${hook}`);
  }
  const saes = { windows, byHook, prefixes };
  saeCache = { key, saes };
  return saes;
}

/**
 * Rows scaled by one factor so that their mean L2 norm is √d (SAELens's
 * `normalize_activations: expected_average_only_in`); returns the factor with them.
 */
export function scaleToRootD(raw: Matrix): { x: Matrix; scale: number } {
  let norm = 0;
  for (let r = 0; r < raw.rows; r++) {
    let s = 0;
    for (let j = 0; j < raw.cols; j++) s += raw.data[r * raw.cols + j] ** 2;
    norm += Math.sqrt(s);
  }
  const scale = Math.sqrt(raw.cols) / (norm / raw.rows);
  return { x: { data: raw.data.map((v) => v * scale), rows: raw.rows, cols: raw.cols }, scale };
}

/** Disposes the kept LM and drops the kept SAEs (tests that count tensors call it). */
export function releaseLmFigureCache(): void {
  if (lmCache) disposeLm(lmCache.run.model);
  lmCache = null;
  saeCache = null;
}
