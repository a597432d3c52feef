/**
 * The language model of nestlab, end to end on the Brown corpus (behind `nestlab train-lm` and
 * `nestlab capture`): split by file, a word tokenizer trained on the training files, the GPT
 * trained with checkpoints and resume, its validation and test loss and perplexity beside a
 * unigram and a bigram baseline scored on the same targets; then activations at named hooks
 * written as .npy shards with the token, document, position and tag of every row.
 */
import { initBackend } from '../backend/select.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { silentProgress, type Progress } from '../backend/progress.js';
import { loadBrown, splitBrown, type BrownDocument } from '../data/brown.js';
import { makeFolder, writeFileAtomic } from '../data/files.js';
import { writeNpy } from '../data/npy.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import { lmArchitecture, lmTraining, type LmArchitecture, type LmTraining } from '../lm/config.js';
import { createLm, disposeLm, hookWidth, parameterCount, type Lm } from '../lm/model.js';
import { evaluationWindows, lmLoss } from '../lm/train.js';
import { trainLm } from '../lm/fit.js';
import { loadLm, saveLm } from '../lm/checkpoint.js';
import { fitUnigram, ngramCrossEntropy, tuneBigramLambda } from '../lm/baselines.js';
import { encodeDocuments, trainWordTokenizer, type EncodedDocuments, type WordTokenizer } from '../lm/tokenizer.js';
import { captureBatches, checkHooks } from '../lm/capture.js';

/** The three splits' files and token streams, for one tokenizer. */
export interface BrownStreams {
  tokenizer: WordTokenizer;
  documents: { train: BrownDocument[]; validation: BrownDocument[]; test: BrownDocument[] };
  train: EncodedDocuments;
  validation: EncodedDocuments;
  test: EncodedDocuments;
}

/** The names of the splits. */
export const BROWN_SPLITS = ['train', 'validation', 'test'] as const;
/** One of {@link BROWN_SPLITS}. */
export type BrownSplitName = (typeof BROWN_SPLITS)[number];

/** What `trainBrownLm` starts from when not told otherwise: the tokenizer's words and the model's context and width. */
export const BROWN_LM_DEFAULTS = { vocabSize: 8192, contextLength: 64, dModel: 128 } as const;

/**
 * The Brown corpus split by file (seeded, stratified by genre) and encoded: with `tokenizer`
 * given, that one; else one trained on the training files with `vocabSize` tokens. `ids`
 * restricts the corpus to some files (smoke runs).
 *
 * @example const { tokenizer, train, test } = lm.brownStreams({ vocabSize: 8192 }); // train.ids: one stream, <doc> before each file
 */
export function brownStreams(options: { seed?: number; vocabSize?: number; tokenizer?: WordTokenizer; ids?: string[] } = {}): BrownStreams {
  const documents = splitBrown(loadBrown(options.ids ? { ids: options.ids } : {}), { seed: options.seed ?? 0 });
  const tokenizer = options.tokenizer ?? trainWordTokenizer(documents.train, { vocabSize: options.vocabSize ?? BROWN_LM_DEFAULTS.vocabSize });
  return {
    tokenizer,
    documents,
    train: encodeDocuments(tokenizer, documents.train),
    validation: encodeDocuments(tokenizer, documents.validation),
    test: encodeDocuments(tokenizer, documents.test),
  };
}

/** Loss (nats per token) and perplexity of one model on one split. */
export interface LmScore {
  loss: number;
  perplexity: number;
}

const score = (loss: number): LmScore => ({ loss, perplexity: Math.exp(loss) });

/** What a training run on the Brown corpus measured (written as `summary.json`). */
export interface BrownLmSummary extends BrownLmScores {
  architecture: LmArchitecture;
  training: LmTraining;
  parameters: number;
  /** Files and tokens per split (tokens include one `<doc>` per file). */
  split: Record<BrownSplitName, { files: number; tokens: number }>;
  /** Share of the split's tokens that are not `<unk>`. */
  coverage: Record<BrownSplitName, number>;
  /** Training loss every `historyEvery` steps, validation loss at each evaluation. */
  history: { step: number; loss: number }[];
  evaluations: { step: number; validationLoss: number }[];
  seconds: number;
}

/** Options of {@link trainBrownLm}. */
export interface TrainBrownLmOptions {
  /** Output folder: `checkpoints/` (resumable), `model/` (the final weights and tokenizer), `summary.json`. */
  out: string;
  /** Sizes (vocabSize comes from the tokenizer). Default 2 layers, d 128, 4 heads, context 64. */
  architecture?: Partial<Omit<LmArchitecture, 'vocabSize'>>;
  training?: Partial<LmTraining>;
  /** Tokens in the vocabulary. Default 8192. */
  vocabSize?: number;
  /** Seed of the split (the training seed is `training.seed`). Default 0. */
  splitSeed?: number;
  /** Restrict the corpus to these files (smoke runs). */
  ids?: string[];
  progress?: Progress;
}

function coverage(e: EncodedDocuments): number {
  let known = 0;
  for (let i = 0; i < e.ids.length; i++) if (e.ids[i] !== 0) known++;
  return known / e.ids.length;
}

/** The model's and the n-gram baselines' loss and perplexity on the validation and test splits. */
export interface BrownLmScores {
  /** Scored on consecutive windows of contextLength + 1 tokens covering each split. */
  model: { validation: LmScore; test: LmScore };
  unigram: { validation: LmScore; test: LmScore };
  /** Jelinek–Mercer bigram, λ chosen on the validation split. */
  bigram: { lambda: number; validation: LmScore; test: LmScore };
}

/**
 * Scores `model` and the unigram and bigram baselines (fitted on the training stream) on the same
 * targets of the validation and test streams: every token after the first of each split, in
 * consecutive windows of the model's context length.
 *
 * @example const s = await lm.scoreBrownLm(model, lm.brownStreams({ tokenizer })); // s.model.test.perplexity vs s.bigram.test.perplexity
 */
export async function scoreBrownLm(model: Lm, streams: BrownStreams): Promise<BrownLmScores> {
  await initBackend();
  const T = model.architecture.contextLength;
  const V = model.architecture.vocabSize;
  const valWindows = evaluationWindows(streams.validation.ids, T);
  const testWindows = evaluationWindows(streams.test.ids, T);
  const unigram = fitUnigram(streams.train.ids, V);
  const bigram = tuneBigramLambda(streams.train.ids, valWindows, V);
  return {
    model: { validation: score(await lmLoss(model, valWindows)), test: score(await lmLoss(model, testWindows)) },
    unigram: { validation: score(ngramCrossEntropy(unigram, valWindows)), test: score(ngramCrossEntropy(unigram, testWindows)) },
    bigram: { lambda: bigram.lambda, validation: score(ngramCrossEntropy(bigram.model, valWindows)), test: score(ngramCrossEntropy(bigram.model, testWindows)) },
  };
}

/**
 * Trains the GPT on the Brown corpus's training files and scores it and the n-gram baselines on
 * the validation and test files. Resumes from `out/checkpoints` when it holds a run of the same
 * architecture.
 *
 * @example const { summary } = await lm.trainBrownLm({ out: 'runs/lm', training: { steps: 3000 } });
 */
export async function trainBrownLm(options: TrainBrownLmOptions): Promise<{ model: Lm; tokenizer: WordTokenizer; summary: BrownLmSummary }> {
  const where = 'lm.trainBrownLm';
  checkKnownKeys(where, options, ['out', 'architecture', 'training', 'vocabSize', 'splitSeed', 'ids', 'progress']);
  if (typeof options.out !== 'string' || options.out === '') throw new NestlabArgumentError(where, 'options.out', 'a folder path', options.out);
  const t0 = performance.now();
  await initBackend();
  const streams = brownStreams({ seed: options.splitSeed ?? 0, vocabSize: options.vocabSize ?? BROWN_LM_DEFAULTS.vocabSize, ids: options.ids });
  const { tokenizer } = streams;
  const architecture = lmArchitecture({ contextLength: BROWN_LM_DEFAULTS.contextLength, dModel: BROWN_LM_DEFAULTS.dModel, ...options.architecture, vocabSize: tokenizer.vocab.length });
  const training = lmTraining(options.training ?? {});
  makeFolder(options.out, where);
  const model = createLm(architecture, training.seed);
  try {
    const run = await trainLm(model, streams.train.ids, {
      training,
      tokenizer,
      validation: streams.validation.ids,
      checkpointDir: join(options.out, 'checkpoints'),
      progress: options.progress ?? silentProgress,
    });
    const scores = scoreBrownLm(model, streams);
    const historyEvery = Math.max(1, Math.floor(training.steps / 200));
    const summary: BrownLmSummary = {
      architecture,
      training,
      parameters: parameterCount(model),
      split: Object.fromEntries(BROWN_SPLITS.map((s) => [s, { files: streams.documents[s].length, tokens: streams[s].ids.length }])) as BrownLmSummary['split'],
      coverage: Object.fromEntries(BROWN_SPLITS.map((s) => [s, coverage(streams[s])])) as BrownLmSummary['coverage'],
      ...(await scores),
      history: run.history.filter((h) => h.step % historyEvery === 0 || h.step === training.steps).map((h) => ({ step: h.step, loss: h.loss })),
      evaluations: run.evaluations,
      seconds: (performance.now() - t0) / 1000,
    };
    await saveLm(model, tokenizer, join(options.out, 'model'));
    writeFileAtomic(join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`, where);
    return { model, tokenizer, summary };
  } catch (e) {
    disposeLm(model);
    throw e;
  }
}

/**
 * What a capture records of each row, for tokens first … first + count − 1 of an encoded stream:
 * int32 [count, 4] row-major: token id, document index, position in the document, tag index
 * (the columns of `rows/part-*.npy`; what `report.textDashboardData` reads).
 *
 * @example const rows = lm.captureRows(streams.test, 0, 64 * 20); // the rows of 20 consecutive windows of 64 tokens
 */
export function captureRows(enc: EncodedDocuments, first: number, count: number): Int32Array {
  checkInt('lm.captureRows', 'first', first, 0, enc.ids.length);
  checkInt('lm.captureRows', 'count', count, 0, enc.ids.length - first);
  const rows = new Int32Array(count * 4);
  for (let r = 0; r < count; r++) {
    const s = first + r;
    rows[r * 4] = enc.ids[s];
    rows[r * 4 + 1] = enc.document[s];
    rows[r * 4 + 2] = enc.position[s];
    rows[r * 4 + 3] = enc.tagIds[s];
  }
  return rows;
}

/** Options of {@link captureBrown}. */
export interface CaptureBrownOptions {
  /** A model folder or checkpoint folder (`lm.load`). */
  lm: string;
  /** Output folder: one sub-folder of .npy shards per hook, `rows/` and `capture.json`. */
  out: string;
  /** Hook names (TransformerLens's, `lm.hookNames`). */
  hooks: string[];
  /** Which files. Default 'train'. */
  split?: BrownSplitName;
  /** The split's seed (as in training). Default 0. */
  splitSeed?: number;
  /** At most this many windows of contextLength tokens. Default all. */
  maxWindows?: number;
  /** Rows per shard. Default 65536. */
  rowsPerShard?: number;
  /** Windows per forward pass. Default 32. */
  batchSize?: number;
  /** Restrict the corpus to these files (smoke runs). */
  ids?: string[];
  progress?: Progress;
}

/** What {@link captureBrown} wrote (also `capture.json`). */
export interface CaptureSummary {
  lm: string;
  hooks: string[];
  split: BrownSplitName;
  rows: number;
  contextLength: number;
  dModel: number;
  /** Columns of each hook's shards: dModel, or dMlp at `blocks.l.mlp.hook_pre` / `hook_post`. */
  widths: Record<string, number>;
  shards: number;
  /** Columns of `rows/part-*.npy` (int32): token id, document index, position in the document, tag index. */
  rowColumns: ['token', 'document', 'position', 'tag'];
  /** Document index → file id and genre. */
  documents: { id: string; genre: string }[];
  /** Tag index → tag. */
  tagNames: string[];
}

/**
 * Runs the split's tokens through the model in consecutive windows of contextLength tokens and
 * writes the activations at `hooks` as .npy shards (`out/<hook>/part-00000.npy`, float32
 * [rows, dModel], or [rows, dMlp] at the MLP's hooks), with `out/rows/part-00000.npy` (int32 [rows, 4]: token, document, position,
 * tag) and `out/capture.json`. `nestlab train-sae --data out/<hook>` streams the shards.
 *
 * @example await lm.captureBrown({ lm: 'runs/lm/model', out: 'runs/acts', hooks: ['blocks.1.hook_resid_pre'] });
 */
export async function captureBrown(options: CaptureBrownOptions): Promise<CaptureSummary> {
  const where = 'lm.captureBrown';
  checkKnownKeys(where, options, ['lm', 'out', 'hooks', 'split', 'splitSeed', 'maxWindows', 'rowsPerShard', 'batchSize', 'ids', 'progress']);
  if (typeof options.out !== 'string' || options.out === '') throw new NestlabArgumentError(where, 'options.out', 'a folder path', options.out);
  if (typeof options.lm !== 'string' || !existsSync(options.lm)) throw new NestlabArgumentError(where, 'options.lm', 'an existing model or checkpoint folder', options.lm);
  const split = checkOneOf(where, 'options.split', options.split ?? 'train', BROWN_SPLITS);
  const rowsPerShard = checkInt(where, 'options.rowsPerShard', options.rowsPerShard ?? 65536, 1, 2 ** 26);
  await initBackend();
  const { model, tokenizer } = loadLm(options.lm, where);
  try {
    const hooks = checkHooks(where, model, options.hooks);
    const streams = brownStreams({ seed: options.splitSeed ?? 0, tokenizer, ids: options.ids });
    const enc = streams[split];
    const T = model.architecture.contextLength;
    const d = model.architecture.dModel;
    const widths = Object.fromEntries(hooks.map((h) => [h, hookWidth(model.architecture, h)]));
    const maxWindows = options.maxWindows === undefined ? Infinity : checkInt(where, 'options.maxWindows', options.maxWindows, 1);
    const windows = evaluationWindows(enc.ids, T, maxWindows);
    // Row r of the windows is token r of the stream (windows are consecutive and start at 0).
    const total = windows.inputs.length;
    for (const h of [...hooks, 'rows']) makeFolder(join(options.out, h), where);
    const pending = new Map<string, Float32Array>(hooks.map((h) => [h, new Float32Array(rowsPerShard * widths[h])]));
    let filled = 0;
    let shard = 0;
    const flush = () => {
      if (filled === 0) return;
      const name = `part-${String(shard).padStart(5, '0')}.npy`;
      for (const h of hooks) writeNpy(join(options.out, h, name), { shape: [filled, widths[h]], data: (pending.get(h) as Float32Array).slice(0, filled * widths[h]) });
      writeNpy(join(options.out, 'rows', name), { shape: [filled, 4], data: captureRows(enc, shard * rowsPerShard, filled) });
      shard++;
      filled = 0;
    };
    const progress = options.progress ?? silentProgress;
    progress.start(total, where);
    for await (const b of captureBatches(model, windows, hooks, { batchSize: options.batchSize ?? 32 })) {
      let r = 0;
      while (r < b.rows) {
        const take = Math.min(b.rows - r, rowsPerShard - filled);
        for (const h of hooks) {
          const w = widths[h];
          (pending.get(h) as Float32Array).set((b.activations.get(h) as Float32Array).subarray(r * w, (r + take) * w), filled * w);
        }
        filled += take;
        r += take;
        if (filled === rowsPerShard) flush();
      }
      progress.update(b.firstRow + b.rows);
    }
    flush();
    progress.stop(`${total} rows × ${hooks.length} hooks in ${shard} shards`);
    const summary: CaptureSummary = {
      lm: options.lm,
      hooks,
      split,
      rows: total,
      contextLength: T,
      dModel: d,
      widths,
      shards: shard,
      rowColumns: ['token', 'document', 'position', 'tag'],
      documents: streams.documents[split].map((doc) => ({ id: doc.id, genre: doc.genre })),
      tagNames: enc.tagNames,
    };
    writeFileAtomic(join(options.out, 'capture.json'), `${JSON.stringify(summary, null, 2)}\n`, where);
    return summary;
  } finally {
    disposeLm(model);
  }
}
