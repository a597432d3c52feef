/**
 * Count-based baselines for the language models of `lm/`: an add-α unigram and a Jelinek–Mercer
 * interpolated bigram (Jelinek & Mercer 1980; Chen & Goodman 1999, "An empirical study of
 * smoothing techniques for language modeling", Computer Speech & Language 13(4), §2.3), scored on
 * exactly the targets the transformer is scored on (`evaluationWindows`), so that "the model beats
 * the bigram" compares the same predictions. docs/methods/lm-training.md §4–§5.
 *
 * Why a bigram at all: a transformer that does not beat it has learned nothing a table of word
 * pairs does not already know. Why by hand: it is two frequency counts; the npm n-gram packages
 * work on strings, not on token ids, and none of them interpolates with a tuned λ.
 *
 * Storage: the bigram counts are a compressed sparse row table (contexts × followers, each row's
 * followers sorted), built with a counting sort in O(n + pairs·log): at V = 8192 a dense V×V table
 * of float32 would take 256 MB, while the Brown training stream has under a million distinct pairs.
 */
import { NestlabArgumentError, checkKnownKeys } from '../errors.js';
import type { TokenBatch } from './train.js';

/** An add-α unigram model: P(w) = (c(w) + α) / (N + α·V). */
export interface UnigramModel {
  kind: 'unigram';
  /** Tokens in the vocabulary (ids 0..V−1). */
  vocabSize: number;
  /** The add-α pseudo-count given to every token. */
  alpha: number;
  /** c(w): how often each id occurs in the training stream. */
  counts: Int32Array;
  /** P(w) for each id; sums to 1. */
  probabilities: Float64Array;
}

/**
 * A Jelinek–Mercer bigram: P(w | a) = λ·c(a, w) / c(a) + (1 − λ)·P_uni(w), with c(a) = Σ_w c(a, w);
 * a context never seen before another token (c(a) = 0) falls back to P_uni. The pair counts are
 * kept sparse: the followers of context a are `next[rowStart[a] .. rowStart[a + 1])`, ascending,
 * with their counts in `pairCounts`.
 */
export interface BigramModel {
  kind: 'bigram';
  /** Tokens in the vocabulary (ids 0..V−1). */
  vocabSize: number;
  /** The weight of the maximum-likelihood bigram, in [0, 1]. */
  lambda: number;
  /** The unigram it is interpolated with (add-α, fitted on the same stream). */
  unigram: UnigramModel;
  /** Row offsets into `next` / `pairCounts`, V + 1 entries. */
  rowStart: Int32Array;
  /** The followers of each context, ascending within a row. */
  next: Int32Array;
  /** c(a, w) for each stored (a, w). */
  pairCounts: Int32Array;
  /** c(a): how often a is followed by any token in the training stream. */
  contextCounts: Int32Array;
}

/** A count-based baseline: {@link UnigramModel} or {@link BigramModel}. */
export type NgramModel = UnigramModel | BigramModel;

/** Options of {@link fitUnigram}. */
export interface FitUnigramOptions {
  /** The add-α pseudo-count, > 0 (so that no token has probability 0). Default 1 (Laplace). */
  alpha?: number;
}

/** Options of {@link fitBigram}. */
export interface FitBigramOptions {
  /** The weight λ of the bigram's maximum-likelihood estimate, in [0, 1]. Default 0.9; {@link tuneBigramLambda} picks it on validation text. */
  lambda?: number;
  /** The add-α pseudo-count of the unigram it is interpolated with. Default 1. */
  alpha?: number;
}

/** Options of {@link tuneBigramLambda}. */
export interface TuneBigramLambdaOptions {
  /** The λ values tried, each in [0, 1]. Default [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]. */
  grid?: number[];
  /** The add-α pseudo-count of the unigram. Default 1. */
  alpha?: number;
}

/** What {@link tuneBigramLambda} returns. */
export interface TunedBigram {
  /** The λ of the lowest validation loss (the first such in the grid on ties). */
  lambda: number;
  /** The bigram fitted with that λ. */
  model: BigramModel;
  /** The validation loss (mean nats per target) of every λ in the grid, in grid order. */
  losses: { lambda: number; loss: number }[];
}

const DEFAULT_GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

function checkVocabSize(where: string, vocabSize: unknown): number {
  if (typeof vocabSize !== 'number' || !Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 2 ** 24) {
    throw new NestlabArgumentError(where, 'vocabSize', 'an integer in [1, 16777216]', vocabSize);
  }
  return vocabSize;
}

function checkStream(where: string, argument: string, stream: unknown, vocabSize: number, minLength: number): Int32Array {
  if (!(stream instanceof Int32Array) || stream.length < minLength) {
    throw new NestlabArgumentError(where, argument, `an Int32Array of at least ${minLength} token ids`, stream);
  }
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] < 0 || stream[i] >= vocabSize) throw new NestlabArgumentError(where, `${argument}[${i}]`, `a token id in [0, ${vocabSize - 1}]`, stream[i]);
  }
  return stream;
}

function checkAlpha(where: string, alpha: unknown): number {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) throw new NestlabArgumentError(where, 'options.alpha', 'a finite number > 0', alpha);
  return alpha;
}

function checkLambda(where: string, argument: string, lambda: unknown): number {
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0 || lambda > 1) throw new NestlabArgumentError(where, argument, 'a number in [0, 1]', lambda);
  return lambda;
}

function unigramFrom(stream: Int32Array, vocabSize: number, alpha: number): UnigramModel {
  const counts = new Int32Array(vocabSize);
  for (let i = 0; i < stream.length; i++) counts[stream[i]]++;
  const denominator = stream.length + alpha * vocabSize;
  const probabilities = new Float64Array(vocabSize);
  for (let w = 0; w < vocabSize; w++) probabilities[w] = (counts[w] + alpha) / denominator;
  return { kind: 'unigram', vocabSize, alpha, counts, probabilities };
}

/**
 * Fits an add-α unigram on a token stream: P(w) = (c(w) + α) / (N + α·V), N the stream's length
 * (α = 1 is Laplace's rule). Chen & Goodman 1999, §2.1.
 *
 * @example const uni = lm.fitUnigram(train.ids, tokenizer.vocab.length); // lm.ngramCrossEntropy(uni, windows) in nats
 */
export function fitUnigram(trainStream: Int32Array, vocabSize: number, options: FitUnigramOptions = {}): UnigramModel {
  const where = 'lm.fitUnigram';
  checkKnownKeys(where, options, ['alpha']);
  const V = checkVocabSize(where, vocabSize);
  const alpha = checkAlpha(where, options.alpha ?? 1);
  return unigramFrom(checkStream(where, 'trainStream', trainStream, V, 1), V, alpha);
}

/**
 * Fits a Jelinek–Mercer interpolated bigram on a token stream:
 * P(w | a) = λ·c(a, w) / c(a) + (1 − λ)·P_uni(w), with c(a, w) the count of the pair (a, w) at
 * consecutive positions, c(a) = Σ_w c(a, w), and P_uni the add-α unigram of the same stream; a
 * context with c(a) = 0 gets P_uni. Every P(· | a) sums to 1 (Chen & Goodman 1999, §2.3, eq. 4
 * with a single λ for all contexts). Counts are stored sparse (see the module header).
 *
 * @example const bi = lm.fitBigram(train.ids, tokenizer.vocab.length, { lambda: 0.8 });
 */
export function fitBigram(trainStream: Int32Array, vocabSize: number, options: FitBigramOptions = {}): BigramModel {
  const where = 'lm.fitBigram';
  checkKnownKeys(where, options, ['lambda', 'alpha']);
  const V = checkVocabSize(where, vocabSize);
  const lambda = checkLambda(where, 'options.lambda', options.lambda ?? 0.9);
  const alpha = checkAlpha(where, options.alpha ?? 1);
  const stream = checkStream(where, 'trainStream', trainStream, V, 2);
  return bigramFrom(stream, V, lambda, alpha);
}

function bigramFrom(stream: Int32Array, V: number, lambda: number, alpha: number): BigramModel {
  const unigram = unigramFrom(stream, V, alpha);
  const pairs = stream.length - 1;
  // Counting sort of the pairs by context: followers of context a land in bucket a.
  const contextCounts = new Int32Array(V);
  for (let i = 0; i < pairs; i++) contextCounts[stream[i]]++;
  const bucketStart = new Int32Array(V + 1);
  for (let a = 0; a < V; a++) bucketStart[a + 1] = bucketStart[a] + contextCounts[a];
  const fill = bucketStart.slice(0, V);
  const followers = new Int32Array(pairs);
  for (let i = 0; i < pairs; i++) followers[fill[stream[i]]++] = stream[i + 1];
  // Each bucket sorted, then run-length encoded into (next, pairCounts) rows.
  const rowStart = new Int32Array(V + 1);
  const next = new Int32Array(pairs);
  const pairCounts = new Int32Array(pairs);
  let k = 0;
  for (let a = 0; a < V; a++) {
    rowStart[a] = k;
    const bucket = followers.subarray(bucketStart[a], bucketStart[a + 1]);
    bucket.sort();
    for (let j = 0; j < bucket.length; j++) {
      if (k > rowStart[a] && next[k - 1] === bucket[j]) pairCounts[k - 1]++;
      else {
        next[k] = bucket[j];
        pairCounts[k] = 1;
        k++;
      }
    }
  }
  rowStart[V] = k;
  return { kind: 'bigram', vocabSize: V, lambda, unigram, rowStart, next: next.slice(0, k), pairCounts: pairCounts.slice(0, k), contextCounts };
}

/** c(a, w) by binary search in context a's sorted row. */
function pairCount(model: BigramModel, a: number, w: number): number {
  let lo = model.rowStart[a];
  let hi = model.rowStart[a + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = model.next[mid];
    if (x === w) return model.pairCounts[mid];
    if (x < w) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** P(w | prev) under `model` (prev is ignored by a unigram). */
function probability(model: NgramModel, prev: number, w: number): number {
  if (model.kind === 'unigram') return model.probabilities[w];
  const pUni = model.unigram.probabilities[w];
  const ca = model.contextCounts[prev];
  if (ca === 0) return pUni;
  return (model.lambda * pairCount(model, prev, w)) / ca + (1 - model.lambda) * pUni;
}

function checkModel(where: string, model: unknown): NgramModel {
  const m = model as NgramModel | null;
  if (typeof m !== 'object' || m === null || (m.kind !== 'unigram' && m.kind !== 'bigram')) {
    throw new NestlabArgumentError(where, 'model', 'an n-gram model (lm.fitUnigram or lm.fitBigram)', model);
  }
  if (m.kind === 'bigram') checkLambda(where, 'model.lambda', m.lambda);
  return m;
}

/**
 * The next-token distribution P(· | prev) of an n-gram model over the whole vocabulary (a
 * unigram ignores `prev`); it sums to 1.
 *
 * @example const p = lm.ngramDistribution(bigram, lm.tokenId(tokenizer, 'the')); // p[lm.tokenId(tokenizer, 'jury')]
 */
export function ngramDistribution(model: NgramModel, prev: number): Float64Array {
  const where = 'lm.ngramDistribution';
  const m = checkModel(where, model);
  const V = m.vocabSize;
  if (m.kind === 'unigram') return m.probabilities.slice();
  if (!Number.isInteger(prev) || prev < 0 || prev >= V) throw new NestlabArgumentError(where, 'prev', `a token id in [0, ${V - 1}]`, prev);
  const out = new Float64Array(V);
  const ca = m.contextCounts[prev];
  const back = ca === 0 ? 1 : 1 - m.lambda;
  for (let w = 0; w < V; w++) out[w] = back * m.unigram.probabilities[w];
  if (ca > 0) for (let j = m.rowStart[prev]; j < m.rowStart[prev + 1]; j++) out[m.next[j]] += (m.lambda * m.pairCounts[j]) / ca;
  return out;
}

/**
 * Mean cross-entropy in nats per target, −(1/n)·Σ_i ln P(targets[i] | inputs[i]), over the
 * targets of `windows` (as `evaluationWindows` gives them; negative targets are ignored). The
 * bigram predicts each target from the input token at the same position, which is the token
 * right before it; the transformer scored on the same windows sees that token and the ones
 * before it in the window.
 *
 * @example const nats = lm.ngramCrossEntropy(bigram, lm.evaluationWindows(validation.ids, 64)); // compare with lm.loss(model, windows)
 */
export function ngramCrossEntropy(model: NgramModel, windows: TokenBatch): number {
  const where = 'lm.ngramCrossEntropy';
  return crossEntropyOf(where, checkModel(where, model), windows, 'windows');
}

function crossEntropyOf(where: string, m: NgramModel, windows: TokenBatch, argument: string): number {
  const V = m.vocabSize;
  if (typeof windows !== 'object' || windows === null || !(windows.inputs instanceof Int32Array) || !(windows.targets instanceof Int32Array) || windows.inputs.length !== windows.targets.length) {
    throw new NestlabArgumentError(where, argument, 'a TokenBatch with Int32Array inputs and targets of one length (lm.evaluationWindows)', windows);
  }
  const { inputs, targets } = windows;
  let total = 0;
  let count = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    if (t < 0) continue;
    if (t >= V) throw new NestlabArgumentError(where, `${argument}.targets[${i}]`, `a token id below vocabSize ${V} (or negative to skip it)`, t);
    const prev = inputs[i];
    if (m.kind === 'bigram' && (prev < 0 || prev >= V)) throw new NestlabArgumentError(where, `${argument}.inputs[${i}]`, `a token id in [0, ${V - 1}]`, prev);
    total -= Math.log(probability(m, prev, t));
    count++;
  }
  if (count === 0) throw new NestlabArgumentError(where, `${argument}.targets`, 'at least one target ≥ 0', 'none');
  return total / count;
}

/**
 * Fits a Jelinek–Mercer bigram on `train` for each λ in the grid and keeps the one with the
 * lowest cross-entropy on `validationWindows` (Jelinek & Mercer 1980's held-out estimation, on a
 * grid). Choosing λ on the validation text favors the baseline: a model scored on that same text
 * then has to beat the best bigram in hindsight, which makes beating it a stricter test
 * (docs/methods/lm-training.md §5).
 *
 * @example const { lambda, model } = lm.tuneBigramLambda(train.ids, lm.evaluationWindows(validation.ids, 64), tokenizer.vocab.length);
 */
export function tuneBigramLambda(train: Int32Array, validationWindows: TokenBatch, vocabSize: number, options: TuneBigramLambdaOptions = {}): TunedBigram {
  const where = 'lm.tuneBigramLambda';
  checkKnownKeys(where, options, ['grid', 'alpha']);
  const V = checkVocabSize(where, vocabSize);
  const alpha = checkAlpha(where, options.alpha ?? 1);
  const grid = options.grid ?? DEFAULT_GRID;
  if (!Array.isArray(grid) || grid.length === 0) throw new NestlabArgumentError(where, 'options.grid', 'a non-empty array of numbers in [0, 1]', grid);
  grid.forEach((l, i) => checkLambda(where, `options.grid[${i}]`, l));
  const base = bigramFrom(checkStream(where, 'train', train, V, 2), V, grid[0], alpha);
  const losses = grid.map((lambda) => ({ lambda, loss: crossEntropyOf(where, { ...base, lambda }, validationWindows, 'validationWindows') }));
  let best = 0;
  for (let i = 1; i < losses.length; i++) if (losses[i].loss < losses[best].loss) best = i;
  const lambda = losses[best].lambda;
  return { lambda, model: { ...base, lambda }, losses };
}
