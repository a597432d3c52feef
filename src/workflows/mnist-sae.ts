/**
 * The MNIST SAE workflow behind `nestlab train-sae --data mnist` and `nestlab report DIR --data
 * mnist`: train a Matryoshka BatchTopK SAE on MNIST with checkpoints, then write the HTML report
 * of a checkpoint.
 *
 * Two inputs: the 784 pixels (default; decoder directions are then images), or, with
 * `hidden: true`, the first hidden layer of a small MLP classifier trained first (its weights go
 * to `<out>/mlp.safetensors`, so the report recomputes the same activations). `<out>/source.json`
 * records which, and which MNIST split; the SAE trains on the training split of loadMnist (seed 0)
 * and the report reads the held-out test split.
 *
 * Hand-written: a thin composition of loadMnist, createMlp/trainClassifier and the training run
 * every `train-sae` shares (sae-run.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { silentProgress } from '../backend/progress.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { readJsonObject, writeFileAtomic } from '../data/files.js';
import { loadMnist } from '../data/mnist.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../data/safetensors.js';
import { createMlp, layerActivations, trainClassifier } from '../models/mlp.js';
import { loadSae } from '../sae/checkpoint.js';
import { buildSaeReport, writeSaeReport, type SaeReportData } from '../report/sae-report.js';
import { SAE_RUN_KEYS, apiNaming, runSaeTraining, withNaming, type Naming, type SaeRunDefaults, type SaeRunOptions, type SaeRunResult } from './sae-run.js';

/** Version of source.json. */
export const MNIST_SOURCE_VERSION = 1;

/** `<out>/source.json`: what the SAE in a checkpoint folder was trained on. */
export interface MnistSaeSource {
  version: number;
  data: 'mnist';
  /** Seed of loadMnist's train/test split. */
  splitSeed: number;
  input: 'pixels' | 'mlp-hidden';
  /** For 'mlp-hidden': the MLP (weights in mlp.safetensors). */
  mlp?: { hidden: number[]; seed: number; epochs: number; testAccuracy?: number };
}

/**
 * Options of `report.trainMnistSae` (and of `nestlab train-sae --data mnist`): the run options
 * every `train-sae` shares (`SaeRunOptions`: architecture, training, checkpoints; on resume,
 * options left out keep the run's values) with MNIST's defaults, plus the input.
 * Defaults: dSae 256, k 16 (batchtopk), prefixes halving (dSae/16 … dSae), 12 epochs of the 8,000
 * training digits, batch 128, learning rate 1e-3, warm-up min(100, steps/10), threshold from a
 * quarter of the run, latents dead after 20,000 digits without firing, b_dec the mean.
 */
export interface TrainMnistSaeOptions extends SaeRunOptions {
  /** Train on the MLP's first hidden layer (128 ReLU units) instead of pixels. Default false. */
  hidden?: boolean;
  /** Use only the first `limit` MNIST digits (before the 4:1 train/test split), for quick runs. */
  limit?: number;
}

/** What `report.trainMnistSae` returns: the run (`SaeRunResult`) and which rows its metrics are on. */
export interface TrainMnistSaeResult extends SaeRunResult {
  /** "the 2000 digits of the MNIST test split": the rows of `metrics`. */
  evalDescription: string;
}

/** MNIST's defaults of a fresh run (trainMnistSae's doc comment lists them). */
const MNIST_DEFAULTS: SaeRunDefaults = {
  dSae: () => 256,
  k: () => 16,
  prefixes: 'halving',
  batchSize: () => 128,
  epochs: 12,
  learningRate: 1e-3,
  warmupSteps: (total) => Math.min(100, Math.floor(total / 10)),
  thresholdStart: (total) => Math.floor(total / 4),
  deadTokens: () => 20000,
  bDecInit: 'mean',
};

const MLP_HIDDEN = [128];
const MLP_EPOCHS = 4;

function mlpToTensors(model: tf.Sequential): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = {};
  model.getWeights().forEach((w, i) => {
    out[`weight${i}`] = { dtype: 'F32', shape: [...w.shape], data: Float32Array.from(w.dataSync() as Float32Array) };
  });
  return out;
}

/** The saved MLP of a hidden-activation SAE, rebuilt with its weights (the caller disposes it). */
function loadMlp(dir: string, source: MnistSaeSource): tf.Sequential {
  const path = join(dir, 'mlp.safetensors');
  if (!existsSync(path) || source.mlp === undefined) throw new NestlabArgumentError('report.reportFromCheckpoint', 'checkpointDir', 'a folder with mlp.safetensors (source.json says input "mlp-hidden")', dir);
  const model = createMlp({ inputDim: 784, hidden: source.mlp.hidden, outputDim: 10, seed: source.mlp.seed });
  const { tensors } = readSafetensors(path);
  const shapes = model.getWeights().map((w) => w.shape);
  const weights = shapes.map((shape, i) => {
    const t = tensors[`weight${i}`];
    if (t === undefined || t.shape.join(',') !== shape.join(',')) {
      throw new NestlabArgumentError('report.reportFromCheckpoint', `mlp.safetensors weight${i}`, `shape [${shape.join(', ')}]`, t ? `[${t.shape.join(', ')}]` : 'none');
    }
    return tf.tensor(t.data as Float32Array, shape as number[], 'float32');
  });
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

function readSource(dir: string, where = 'report.reportFromCheckpoint'): MnistSaeSource {
  const path = join(dir, 'source.json');
  if (!existsSync(path)) return { version: MNIST_SOURCE_VERSION, data: 'mnist', splitSeed: 0, input: 'pixels' };
  const j = readJsonObject('report.reportFromCheckpoint', path) as unknown as MnistSaeSource;
  if (j.data !== 'mnist') throw new NestlabArgumentError(where, path, 'a run on MNIST (data "mnist")', `a run on ${String(j.data)} (give that --data)`);
  if (j.version !== MNIST_SOURCE_VERSION || (j.input !== 'pixels' && j.input !== 'mlp-hidden')) {
    throw new NestlabArgumentError(where, path, `version ${MNIST_SOURCE_VERSION}, data "mnist", input "pixels" or "mlp-hidden"`, JSON.stringify(j));
  }
  return j;
}

/**
 * The report inputs of an MNIST SAE checkpoint: the split's digits (x = pixels, or the saved
 * MLP's hidden activations with the digits as pictures), labels, and a one-line description.
 * A folder without source.json is taken as a pixel SAE (split seed 0).
 */
export async function loadMnistReportData(dir: string, split: 'test' | 'train', limit: number | undefined, dIn: number): Promise<{ data: SaeReportData; description: string }> {
  const source = readSource(dir);
  const sets = loadMnist({ seed: source.splitSeed });
  const set = sets[split];
  const n = Math.min(set.x.rows, limit ?? set.x.rows);
  const images: Matrix = { data: set.x.data.subarray(0, n * 784), rows: n, cols: 784 };
  const y = set.y.slice(0, n);
  const what = `MNIST ${split} split (${n} digits, split seed ${source.splitSeed})`;
  if (source.input === 'pixels') {
    if (dIn !== 784) throw new NestlabArgumentError('report.reportFromCheckpoint', 'checkpoint', 'an SAE with d_in = 784 for MNIST pixels (or a source.json naming its input)', `d_in = ${dIn}`);
    return { data: { x: images, y, imageShape: [28, 28], ink: true }, description: `${what}, pixels` };
  }
  await initBackend();
  const model = loadMlp(dir, source);
  try {
    const x = (await layerActivations(model, images))[0];
    if (x.cols !== dIn) throw new NestlabArgumentError('report.reportFromCheckpoint', 'checkpoint', `an SAE with d_in = ${x.cols} (the MLP's hidden width)`, `d_in = ${dIn}`);
    return { data: { x, y, images, imageShape: [28, 28], ink: true }, description: `${what}, hidden layer 1 of an MLP [784-${source.mlp!.hidden.join('-')}-10]` };
  } finally {
    model.dispose();
  }
}

/**
 * Trains a Matryoshka BatchTopK SAE on MNIST (training split of loadMnist, seed 0) with
 * checkpoints in `out` (trainSae's checkpointDir: an existing run there resumes; more epochs
 * extend it). Defaults (d_sae 256, k 16, prefixes [16, 32, 64, 128, 256], batch 128, 12 epochs,
 * lr 1e-3 with 100 warm-up steps, AuxK with latents dead after 20,000 digits) train in about a
 * minute on 2 cores. Returns the folder, the step counts and the per-prefix metrics on the test
 * split (`sae.evaluate`). Method: `sae.train` with the Matryoshka BatchTopK loss of Bussmann et
 * al. 2025 (docs/methods/msae.md §1–§4).
 *
 * @example const { checkpointDir, metrics } = await report.trainMnistSae({ out: 'runs/mnist-sae', epochs: 12 }); // metrics[i].fvu per prefix
 */
export async function trainMnistSae(options: TrainMnistSaeOptions): Promise<TrainMnistSaeResult> {
  return trainMnistSaeAs(options, apiNaming('report.trainMnistSae'));
}

/** `trainMnistSae` with errors named for its caller (`nestlab train-sae` names flags). */
export async function trainMnistSaeAs(options: TrainMnistSaeOptions, naming: Naming): Promise<TrainMnistSaeResult> {
  const { where } = naming;
  const opt = naming.option;
  if (options === null || typeof options !== 'object') throw new NestlabArgumentError(where, 'options', 'an object {out, ...}', options);
  checkKnownKeys(where, options, [...SAE_RUN_KEYS, 'hidden', 'limit']);
  if (typeof options.out !== 'string' || options.out === '') throw new NestlabArgumentError(where, opt('out'), 'a folder path', options.out);
  if (options.hidden !== undefined && typeof options.hidden !== 'boolean') throw new NestlabArgumentError(where, opt('hidden'), 'a boolean', options.hidden);
  if (options.epochs !== undefined && options.steps !== undefined) throw new NestlabArgumentError(where, opt('steps'), `absent when ${opt('epochs')} is given (one or the other)`, options.steps);
  const limit = options.limit === undefined ? undefined : checkInt(where, opt('limit'), options.limit, 10, 10000);
  const progress = options.progress ?? silentProgress;
  const input = options.hidden ? 'mlp-hidden' : 'pixels';
  // Resuming: the run's inputs must be these (a pixel run cannot continue on hidden activations).
  if (existsSync(join(options.out, 'latest.json')) && existsSync(join(options.out, 'source.json'))) {
    const data = readJsonObject(naming.where, join(options.out, 'source.json')).data;
    if (data !== 'mnist') throw new NestlabArgumentError(where, `${opt('out')} ${options.out}`, 'a run on MNIST to resume', `a run on ${String(data)} (resume it with ${opt('data')} and its files, or use another folder)`);
    const prev = readSource(options.out, where);
    if (prev.input !== input) {
      throw new NestlabArgumentError(where, `${opt('out')} ${options.out}`, `a run on the same input to resume (it was trained on ${prev.input === 'pixels' ? 'pixels' : `MNIST's MLP hidden layer (${opt('hidden')})`})`, input);
    }
  }
  await initBackend();

  const splitSeed = 0;
  const { train, test } = loadMnist({ seed: splitSeed, ...(limit !== undefined ? { limit } : {}) });
  let xTrain = train.x;
  let xTest = test.x;
  const source: MnistSaeSource = { version: MNIST_SOURCE_VERSION, data: 'mnist', splitSeed, input };
  if (options.hidden) {
    const seed = options.seed ?? 0;
    source.mlp = { hidden: MLP_HIDDEN, seed, epochs: MLP_EPOCHS };
    let model: tf.Sequential;
    if (existsSync(join(options.out, 'mlp.safetensors')) && existsSync(join(options.out, 'source.json'))) {
      const saved = readSource(options.out, where);
      source.mlp = saved.mlp ?? source.mlp;
      model = loadMlp(options.out, saved); // resuming: the SAE's inputs must not change
    } else {
      model = createMlp({ inputDim: 784, hidden: MLP_HIDDEN, outputDim: 10, seed });
      await trainClassifier(model, train.x, train.y, { epochs: MLP_EPOCHS, batchSize: 128, learningRate: 1e-3, seed, progress });
      writeSafetensors(join(options.out, 'mlp.safetensors'), mlpToTensors(model), { hidden: MLP_HIDDEN.join(','), seed: String(seed) }, where);
    }
    try {
      xTrain = (await layerActivations(model, train.x))[0];
      xTest = (await layerActivations(model, test.x))[0];
    } finally {
      model.dispose();
    }
  }
  const run: SaeRunOptions = { ...options };
  delete (run as TrainMnistSaeOptions).hidden;
  delete (run as TrainMnistSaeOptions).limit;
  options.log?.(`data: MNIST ${input === 'pixels' ? 'pixels' : 'MLP hidden layer 1'}, ${xTrain.rows} training digits × ${xTrain.cols}; metrics on the ${xTest.rows} test digits`);
  const result = await runSaeTraining(xTrain, xTest, run, MNIST_DEFAULTS, naming, () => {
    writeFileAtomic(join(options.out, 'source.json'), `${JSON.stringify(source, null, 2)}\n`, where);
  });
  return { ...result, evalDescription: `the ${xTest.rows} digits of the MNIST test split (split seed ${splitSeed})` };
}

/** Options of `report.reportFromCheckpoint` (and of `nestlab report DIR --data mnist`). */
export interface ReportFromCheckpointOptions {
  /** The dataset to describe. Only 'mnist' for now. */
  data: 'mnist';
  /** Which split of loadMnist (seed 0): 'test' (default; held out from trainMnistSae) or 'train'. */
  split?: 'test' | 'train';
  /** Use only the first `limit` rows of the split. */
  limit?: number;
  /** Latent cards (default 64). */
  maxLatents?: number;
  /** Output file. Default `<checkpointDir>/report.html`. */
  out?: string;
  /** Header date (tests). Default now. */
  date?: Date;
}

/**
 * Loads the SAE in `checkpointDir` (latest.json or a step folder), the MNIST split, and writes
 * the report. For an SAE trained by trainMnistSae on hidden activations, the saved MLP turns the
 * digits into its inputs and the digits are shown as pictures. Returns the file, the number of
 * latent cards and the wall time. The page is `report.buildSaeReport`'s.
 *
 * @example const { path, latents } = await report.reportFromCheckpoint('runs/mnist-sae', { data: 'mnist', maxLatents: 32 }); // path = runs/mnist-sae/report.html
 */
export async function reportFromCheckpoint(checkpointDir: string, options: ReportFromCheckpointOptions): Promise<{ path: string; latents: number; seconds: number }> {
  return reportFromCheckpointAs(checkpointDir, options, apiNaming('report.reportFromCheckpoint'));
}

/** `reportFromCheckpoint` with errors named for its caller (`nestlab report` names flags). */
export async function reportFromCheckpointAs(checkpointDir: string, options: ReportFromCheckpointOptions, naming: Naming): Promise<{ path: string; latents: number; seconds: number }> {
  const { where } = naming;
  const opt = naming.option;
  const t0 = performance.now();
  if (typeof checkpointDir !== 'string' || !existsSync(checkpointDir) || !statSync(checkpointDir).isDirectory()) {
    throw new NestlabArgumentError(where, opt('checkpointDir'), 'an existing checkpoint folder', checkpointDir);
  }
  if (options === null || typeof options !== 'object') throw new NestlabArgumentError(where, 'options', "an object {data: 'mnist', ...}", options);
  checkKnownKeys(where, options, ['data', 'split', 'limit', 'maxLatents', 'out', 'date']);
  checkOneOf(where, opt('data'), options.data, ['mnist'] as const);
  const split = checkOneOf(where, opt('split'), options.split ?? 'test', ['test', 'train'] as const);
  const limit = options.limit === undefined ? undefined : checkInt(where, opt('limit'), options.limit, 1);
  if (options.out !== undefined && (typeof options.out !== 'string' || options.out === '')) throw new NestlabArgumentError(where, opt('out'), 'a file path', options.out);
  await initBackend();
  const sae = loadSae(checkpointDir);
  const input = await loadMnistReportData(checkpointDir, split, limit, sae.cfg.dIn);
  const html = await withNaming(naming, () =>
    buildSaeReport(sae, input.data, {
      dataDescription: input.description,
      source: checkpointDir,
      maxLatents: options.maxLatents ?? Math.min(64, sae.cfg.dSae),
      classNames: Array.from({ length: 10 }, (_, i) => String(i)),
      ...(options.date ? { date: options.date } : {}),
    }),
  );
  const path = options.out ?? join(checkpointDir, 'report.html');
  writeSaeReport(path, html);
  return { path, latents: options.maxLatents ?? Math.min(64, sae.cfg.dSae), seconds: (performance.now() - t0) / 1000 };
}
