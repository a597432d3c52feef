/**
 * The training run of a language model: the loop around `lmTrainStep` that checkpoints, resumes,
 * evaluates on validation text and reports progress (docs/methods/lm-training.md §2–§3).
 *
 * Why resuming is exact: the batch of step s is a pure function of (seed, s) (`sampleWindows`),
 * the learning rate a function of s, and a checkpoint holds the weights, AdamW's two moments and
 * s, in float32 as the variables hold them. Loading them and running steps s+1..S therefore
 * performs the same arithmetic as the uninterrupted run, and its weights come out bit-identical.
 * Why a divergence cannot spoil a checkpoint: `lmTrainStep` throws before it updates anything
 * when the loss or the gradient is not finite, and a checkpoint with a non-finite weight or moment
 * is refused before its first file is written; so the last checkpoint is always a good one.
 */
import { initBackend } from '../backend/select.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { tf } from '../backend/tf.js';
import { eventLoopYielder } from '../backend/yield.js';
import { NestlabArgumentError, NestlabComputationError, checkInt, checkKnownKeys } from '../errors.js';
import { asCaller, lmArchitectureHash, loadLmCheckpoint, saveLmCheckpoint} from './checkpoint.js';
import { lmTraining, type LmTraining } from './config.js';
import { disposeLm, parameterShapes, type Lm } from './model.js';
import type { WordTokenizer } from './tokenizer.js';
import {
  createLmTrainerState,
  disposeLmTrainerState,
  evaluationWindows,
  lmLoss,
  lmTrainStep,
  sampleWindows,
  type LmStepRecord,
  type LmTrainerState,
} from './train.js';

/** Options of `lm.train` ({@link trainLm}). */
export interface TrainLmOptions {
  /** How to train (lm.training): batch size, steps, learning rate schedule, seed, checkpoint and evaluation intervals. Required. */
  training: LmTraining;
  /** The tokenizer of the stream's ids; saved with every checkpoint. Its size must be the model's vocabSize. Required. */
  tokenizer: WordTokenizer;
  /** Validation token stream; its loss is evaluated every `training.evalEvery` steps (if > 0) and at the end. */
  validation?: Int32Array;
  /**
   * Folder for checkpoints (every `training.checkpointEvery` steps and at the end). If it holds a
   * checkpoint of the model's architecture, training resumes from it; the training config may
   * differ from the one that wrote it (e.g. more steps), and the run then continues under the new one.
   */
  checkpointDir?: string;
  /** Progress reporting (at most about 100 updates, plus every evaluation). Default silent. */
  progress?: Progress;
  /** The most validation windows of contextLength + 1 tokens evaluated (the first ones of the stream). Default 64. */
  evalWindows?: number;
}

/** One validation-loss evaluation. */
export interface LmEvaluation {
  /** Optimizer steps done when it was measured. */
  step: number;
  /** Mean next-token cross-entropy in nats over the validation windows. */
  validationLoss: number;
}

/** What `lm.train` ({@link trainLm}) returns. */
export interface TrainLmResult {
  /** Every step run in this call: its loss before the update, gradient norm and learning rate. */
  history: LmStepRecord[];
  /** The validation losses measured in this call, by step. */
  evaluations: LmEvaluation[];
  /** The step this call started from (> 0 when it resumed from a checkpoint). */
  resumedFrom: number;
}

const TRAIN_OPTIONS = ['training', 'tokenizer', 'validation', 'checkpointDir', 'progress', 'evalWindows'];

function checkStream(where: string, argument: string, stream: unknown, vocabSize: number, minLength: number): Int32Array {
  if (!(stream instanceof Int32Array) || stream.length < minLength) {
    throw new NestlabArgumentError(where, argument, `an Int32Array of at least contextLength + 1 = ${minLength} token ids`, stream);
  }
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] < 0 || stream[i] >= vocabSize) throw new NestlabArgumentError(where, `${argument}[${i}]`, `a token id in [0, ${vocabSize - 1}]`, stream[i]);
  }
  return stream;
}

/** The names of the weights that hold a value that is not finite (one small vector read back). */
async function nonFiniteWeights(model: Lm): Promise<string[]> {
  const names = [...model.params.keys()];
  const s = tf.tidy(() => tf.stack(names.map((n) => tf.sum(tf.mul(model.params.get(n) as tf.Variable, 0))))); // 0 iff all finite, else NaN
  const values = await s.data();
  s.dispose();
  return names.filter((_, i) => values[i] !== 0);
}

/**
 * Loads the checkpoint in `dir` into `model`'s variables (by `assign`) and returns its trainer
 * state, or null when `dir` has none. Refuses another architecture or another tokenizer.
 */
function resumeInto(where: string, model: Lm, tokenizer: WordTokenizer, dir: string): LmTrainerState | null {
  const ck = loadLmCheckpoint(dir, where);
  if (ck === null) return null;
  if (lmArchitectureHash(ck.model.architecture) !== lmArchitectureHash(model.architecture)) {
    const saved = JSON.stringify(ck.model.architecture);
    disposeLm(ck.model);
    disposeLmTrainerState(ck.state);
    throw new NestlabArgumentError(where, 'model.architecture', `the architecture of the checkpoint in ${dir} (${saved})`, JSON.stringify(model.architecture));
  }
  const same = ck.tokenizer.lowercase === tokenizer.lowercase && ck.tokenizer.vocab.length === tokenizer.vocab.length && ck.tokenizer.vocab.every((w, i) => w === tokenizer.vocab[i]);
  if (!same) {
    disposeLm(ck.model);
    disposeLmTrainerState(ck.state);
    throw new NestlabArgumentError(where, 'options.tokenizer', `the tokenizer of the checkpoint in ${dir} (the ids would mean other words)`, 'a different vocabulary');
  }
  for (const [name, v] of model.params) v.assign(ck.model.params.get(name) as tf.Variable);
  disposeLm(ck.model); // the model's variables now hold the data; this drops the loader's references
  return ck.state;
}

/**
 * Trains a GPT-style model on a token stream, in place: `training.steps` AdamW steps
 * (`lmTrainStep`: warm-up and cosine decay, decoupled weight decay, global-norm clipping) on
 * random windows of contextLength + 1 tokens, the batch of step s seeded by (seed, s). With
 * `checkpointDir` it saves a checkpoint every `training.checkpointEvery` steps and at the end,
 * and first resumes from the checkpoint there, if any, so that an interrupted run ends with the
 * weights of an uninterrupted one, bit for bit. With `validation` it measures the loss on the
 * first `evalWindows` non-overlapping windows every `training.evalEvery` steps (if > 0) and at
 * the end. A step whose loss or gradient is not finite throws `lmTrainStep`'s
 * NestlabComputationError unchanged (naming the step); the last checkpoint is then intact.
 * docs/methods/lm-training.md §2–§3.
 *
 * @example const { history, evaluations } = await lm.train(model, train.ids, { training: lm.training({ steps: 2000 }), tokenizer, validation: valid.ids, checkpointDir: 'runs/brown-lm' });
 */
export async function trainLm(model: Lm, trainStream: Int32Array, options: TrainLmOptions): Promise<TrainLmResult> {
  const where = 'lm.train';
  // A model made before any backend started lives on tfjs's default; its tensors move on first use.
  await initBackend();
  if (typeof options !== 'object' || options === null) throw new NestlabArgumentError(where, 'options', 'an object {training, tokenizer, ...}', options);
  checkKnownKeys(where, options, TRAIN_OPTIONS);
  if (typeof model !== 'object' || model === null || !(model.params instanceof Map) || typeof model.architecture !== 'object') {
    throw new NestlabArgumentError(where, 'model', 'a language model (lm.create, lm.load)', model);
  }
  const arch = model.architecture;
  for (const [name, shape] of parameterShapes(arch)) {
    const v = model.params.get(name);
    if (v === undefined || v.isDisposed || v.shape.join(',') !== shape.join(',')) {
      throw new NestlabArgumentError(where, `model.params ${name}`, `a live variable of shape [${shape.join(', ')}]`, v === undefined ? 'none' : v.isDisposed ? 'a disposed variable' : `[${v.shape.join(', ')}]`);
    }
  }
  if (typeof options.training !== 'object' || options.training === null) throw new NestlabArgumentError(where, 'options.training', 'a training config (lm.training)', options.training);
  const training = asCaller(where, () => lmTraining(options.training), 'options.training.');
  const tokenizer = options.tokenizer;
  if (typeof tokenizer !== 'object' || tokenizer === null || !Array.isArray(tokenizer.vocab) || tokenizer.vocab.length !== arch.vocabSize) {
    throw new NestlabArgumentError(where, 'options.tokenizer', `a word tokenizer of model.architecture.vocabSize = ${arch.vocabSize} tokens`, Array.isArray(tokenizer?.vocab) ? `${tokenizer.vocab.length} tokens` : tokenizer);
  }
  const T = arch.contextLength;
  const stream = checkStream(where, 'trainStream', trainStream, arch.vocabSize, T + 1);
  const evalCount = checkInt(where, 'options.evalWindows', options.evalWindows ?? 64, 1, 1e9);
  const windows = options.validation === undefined ? null : evaluationWindows(checkStream(where, 'options.validation', options.validation, arch.vocabSize, T + 1), T, evalCount);
  let dir: string | undefined;
  if (options.checkpointDir !== undefined) {
    if (typeof options.checkpointDir !== 'string' || options.checkpointDir === '') throw new NestlabArgumentError(where, 'options.checkpointDir', 'a folder path', options.checkpointDir);
    dir = options.checkpointDir;
  }
  const progress = options.progress ?? silentProgress;

  const state = (dir === undefined ? null : resumeInto(where, model, tokenizer, dir)) ?? createLmTrainerState(model);
  const resumedFrom = state.step;
  const history: LmStepRecord[] = [];
  const evaluations: LmEvaluation[] = [];
  const evaluate = async () => {
    if (windows === null) return;
    evaluations.push({ step: state.step, validationLoss: await lmLoss(model, windows, { batchSize: training.batchSize }) });
  };
  const reportEvery = Math.max(1, Math.ceil(training.steps / 100)); // at most ~100 progress lines
  const yieldNow = eventLoopYielder();
  try {
    progress.start(training.steps, where);
    while (state.step < training.steps) {
      await yieldNow();
      const batch = sampleWindows(stream, training.batchSize, T, training.seed, state.step);
      const record = await lmTrainStep(model, state, training, batch); // throws on divergence, before any update
      history.push(record);
      const s = state.step;
      const last = s === training.steps;
      if (dir !== undefined && (s % training.checkpointEvery === 0 || last)) {
        // Finite loss and gradient can still overflow a weight; such a state is not saved.
        const bad = await nonFiniteWeights(model);
        if (bad.length > 0) {
          throw new NestlabComputationError(where, `step ${s}: ${bad.join(', ')} not finite after the update; lower training.learningRate or raise training.warmupSteps (the last checkpoint in ${dir} is kept)`);
        }
        await saveLmCheckpoint(dir, model, tokenizer, state, training);
      }
      const evaluated = windows !== null && ((training.evalEvery > 0 && s % training.evalEvery === 0) || last);
      if (evaluated) await evaluate();
      if (s % reportEvery === 0 || last || evaluated) {
        const val = evaluated ? `  validation ${evaluations[evaluations.length - 1].validationLoss.toFixed(4)}` : '';
        progress.update(s, `loss ${record.loss.toFixed(4)}${val}`);
      }
    }
    // A run resumed at its end still reports the validation loss of its final weights.
    if (windows !== null && evaluations[evaluations.length - 1]?.step !== state.step) await evaluate();
    const final = evaluations[evaluations.length - 1];
    progress.stop(`${state.step}/${training.steps} steps${history.length > 0 ? `  loss ${history[history.length - 1].loss.toFixed(4)}` : ''}${final ? `  validation ${final.validationLoss.toFixed(4)}` : ''}`);
    return { history, evaluations, resumedFrom };
  } catch (e) {
    progress.stop();
    throw e;
  } finally {
    disposeLmTrainerState(state);
  }
}
