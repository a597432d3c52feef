/**
 * The SAE workflow on any activations, behind `nestlab train-sae --data PATH` and `nestlab report
 * CHECKPOINT`: train a (Matryoshka) SAE on a .npy file, a tensor of a .safetensors file, or a
 * folder of .npy shards, with checkpoints, metrics per prefix on held-out rows and a record of the
 * data (`<out>/source.json`); then write the HTML report of a checkpoint on those rows (or others),
 * with per-row labels and pictures when given.
 *
 * Memory: a file is read whole; a shard folder streams its training rows (float32 shards, one
 * batch in memory at a time, `npyShardSource`) and reads only its held-out last shard. Held out,
 * by default: a file's rows at the first round(fraction·rows) positions of a permutation with seed 0
 * (`holdoutSplit`; the same rows whatever the SAE's seed, so runs compare on one hold-out); a
 * folder's last shard; or all of an `eval` file, when given.
 *
 * Hand-written: a composition of the data readers, the training run every `train-sae` shares
 * (sae-run.ts) and report.buildSaeReport.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { initBackend } from '../backend/select.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { headRows, selectRows, type Matrix } from '../data/matrix.js';
import { readJsonObject, writeFileAtomic } from '../data/files.js';
import { npyShardFiles, readActivationRows, readActivations, readImages, readLabels, safetensorsTensorNames } from '../data/activations.js';
import { holdoutSplit, matrixSource, npyShardSource, type BatchSource } from '../data/batches.js';
import { loadSae } from '../sae/checkpoint.js';
import { buildSaeReport, writeSaeReport, type SaeReportData } from '../report/sae-report.js';
import { SAE_RUN_KEYS, apiNaming, runSaeTraining, withNaming, type Naming, type SaeRunDefaults, type SaeRunOptions, type SaeRunResult } from './sae-run.js';

/** Version of an activations run's source.json. */
export const ACTIVATIONS_SOURCE_VERSION = 1;

/** Which rows a run held out to measure the SAE on. */
export type ActivationsHoldout =
  /** The rows at the first `rows` positions of `new Rng(seed).permutation(all rows)` (`holdoutSplit`). */
  | { rule: 'fraction'; fraction: number; seed: number; rows: number }
  /** The last shard of the folder (by name). */
  | { rule: 'last-shard'; shard: string; rows: number }
  /** Nothing of the data: a separate evaluation file. */
  | { rule: 'file'; path: string; tensor: string | null; rows: number }
  /** Nothing: the metrics are on the training rows. */
  | { rule: 'none' };

/** `<out>/source.json` of a run on activation files: what the SAE was trained on. */
export interface ActivationsSaeSource {
  version: number;
  data: 'activations';
  /** The file or folder, absolute. */
  path: string;
  kind: 'npy' | 'safetensors' | 'npy-shards';
  /** The tensor of a .safetensors file; null otherwise. */
  tensor: string | null;
  /** A folder's shard files, in order (names). */
  shards?: string[];
  /** All rows of `path` and their width. */
  rows: number;
  columns: number;
  /** The rows the SAE trained on (rows minus the held-out ones). */
  trainRows: number;
  holdout: ActivationsHoldout;
}

/** Options of `report.trainActivationsSae` (and of `nestlab train-sae --data PATH`): the data, the hold-out, and the run options (`SaeRunOptions`). */
export interface TrainActivationsSaeOptions extends SaeRunOptions {
  /** A .npy file, a .safetensors file, or a folder of .npy shards (2-D, same width, float32 to stream). */
  data: string;
  /** The tensor of a .safetensors file (default: its only tensor, or 'activations'); applies to `eval` too. */
  tensor?: string;
  /** Held-out rows in a separate file or shard folder (read into memory); then all of `data` trains. */
  eval?: string;
  /** A file's fraction of rows held out (seeded, seed 0). Default 0.1; 0 = none (metrics on the training rows). Not for folders. */
  evalFraction?: number;
}

/** What `report.trainActivationsSae` returns. */
export interface TrainActivationsSaeResult extends SaeRunResult {
  /** What was written to `<out>/source.json`. */
  source: ActivationsSaeSource;
  /** Which rows `metrics` are on, in words. */
  evalDescription: string;
}

/**
 * The defaults of a fresh run on activations: dSae 8·dIn (at most 4096), k = dIn/4 (1 … 32),
 * prefixes halving, batch 4096 or the power of two giving ≥ 10 steps an epoch, 10 epochs (1 for
 * a shard folder), the trainer's learning rate 2e-4/√(dSae/16384), warm-up min(1000, steps/10),
 * latents dead after min(10^7, training rows) rows without firing.
 */
function activationDefaults(folder: boolean): SaeRunDefaults {
  return {
    dSae: (dIn) => Math.min(4096, 8 * dIn),
    k: (dIn) => Math.min(32, Math.max(1, Math.floor(dIn / 4))),
    prefixes: 'halving',
    batchSize: (rows) => Math.min(4096, 2 ** Math.floor(Math.log2(Math.max(1, rows / 10)))),
    epochs: folder ? 1 : 10,
    warmupSteps: (total) => Math.min(1000, Math.floor(total / 10)),
    deadTokens: (rows) => Math.min(10_000_000, rows),
  };
}

/** What a data path holds, with the file's rows when they are read (files are; folders stream). */
interface OpenedData {
  kind: ActivationsSaeSource['kind'];
  /** As given, and absolute. */
  given: string;
  path: string;
  tensor: string | null;
  shards: string[] | null;
  rows: number;
  cols: number;
  /** The whole matrix of a file; null for a folder. */
  matrix: Matrix | null;
}

/**
 * Runs a data reader, re-raising its errors as the caller's: naming the option (`--data`) and
 * the file (the shard, for a folder), or the system's reason (e.g. EACCES).
 */
function fromFile<T>(naming: Naming, field: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NestlabArgumentError) {
      const a = e.argument;
      const named = /[\\/]|\.(npy|safetensors)\b/i.test(a) ? a : ['path', 'folder', 'paths'].includes(a) ? path : `${path} ${a}`;
      throw new NestlabArgumentError(naming.where, `${naming.option(field)} ${named}`, e.expected, e.got);
    }
    if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT') throw new NestlabArgumentError(naming.where, naming.option(field), 'an existing file', path);
    if (e instanceof Error && 'code' in e) throw new NestlabArgumentError(naming.where, `${naming.option(field)} ${path}`, 'a readable file', `${String((e as NodeJS.ErrnoException).code)} (${e.message})`);
    throw e;
  }
}

/** Opens `path` (option `field`): a folder's shards are listed and checked, a file is read. */
function openData(path: string, tensor: string | undefined, naming: Naming, field: string): OpenedData {
  const { where } = naming;
  const opt = naming.option;
  const kinds = 'an existing .npy or .safetensors file, or a folder of .npy shards';
  if (typeof path !== 'string' || path === '') throw new NestlabArgumentError(where, opt(field), kinds, path);
  if (!existsSync(path)) throw new NestlabArgumentError(where, opt(field), kinds, `${path} (no such file or folder)`);
  if (tensor !== undefined && (typeof tensor !== 'string' || tensor === '')) throw new NestlabArgumentError(where, opt('tensor'), 'a tensor name', tensor);
  const abs = resolve(path);
  if (statSync(path).isDirectory()) {
    const shards = fromFile(naming, field, path, () => npyShardFiles(path));
    const src = fromFile(naming, field, path, () => npyShardSource(shards));
    src.close();
    return { kind: 'npy-shards', given: path, path: abs, tensor: null, shards, rows: src.rows, cols: src.cols, matrix: null };
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const matrix = fromFile(naming, field, path, () => readActivations(path));
    return { kind: 'npy', given: path, path: abs, tensor: null, shards: null, rows: matrix.rows, cols: matrix.cols, matrix };
  }
  if (ext === '.safetensors') {
    const names = fromFile(naming, field, path, () => safetensorsTensorNames(path));
    const name = tensor ?? (names.length === 1 ? names[0] : names.includes('activations') ? 'activations' : undefined);
    if (name === undefined || !names.includes(name)) {
      throw new NestlabArgumentError(where, opt('tensor'), `one of ${names.join(', ')} (the tensors of ${opt(field)} ${path})`, tensor ?? 'none');
    }
    const matrix = fromFile(naming, field, path, () => readActivations(path, name));
    return { kind: 'safetensors', given: path, path: abs, tensor: name, shards: null, rows: matrix.rows, cols: matrix.cols, matrix };
  }
  throw new NestlabArgumentError(where, opt(field), kinds, path);
}

/** All rows of opened data in memory (a folder's shards stacked), at most `limit`. */
function readAll(d: OpenedData, naming: Naming, field: string, limit = Infinity): Matrix {
  if (d.matrix !== null) return limit < d.matrix.rows ? headRows(d.matrix, limit) : d.matrix;
  return fromFile(naming, field, d.given, () => readActivationRows(d.shards!, limit));
}

/** Which rows a hold-out rule picks, in words: "a seeded 10%, permutation seed 0". */
function holdoutRule(h: ActivationsHoldout): string {
  if (h.rule === 'fraction') return `a seeded ${Number((100 * h.fraction).toPrecision(4))}%, permutation seed ${h.seed}`;
  if (h.rule === 'last-shard') return `the last shard ${h.shard}`;
  if (h.rule === 'file') return `a separate file ${h.path}`;
  return 'none';
}

/** What a run held out, in words: "60 rows held out: a seeded 10%, permutation seed 0". */
function holdoutText(h: ActivationsHoldout): string {
  if (h.rule === 'none') return 'nothing held out';
  if (h.rule === 'file') return `all rows trained on, metrics on ${h.path}`;
  return `${h.rows} rows held out: ${holdoutRule(h)}`;
}

/** What must not change for a run to resume: the data's shape and tensor and the hold-out rule (not the rows' file path). */
function resumeKey(s: RecordedSource): string {
  const h = s.holdout as Partial<Record<string, unknown>> | undefined;
  return JSON.stringify([s.rows, s.columns, s.tensor ?? null, h?.rule, h?.fraction, h?.seed, h?.shard]);
}

/** A run's source.json: an activations run's fields, or another workflow's (`data` says which). */
type RecordedSource = Omit<Partial<ActivationsSaeSource>, 'data'> & { data?: unknown };

function readSourceJson(dir: string, where: string): RecordedSource {
  return readJsonObject(where, join(dir, 'source.json')) as unknown as RecordedSource;
}

/**
 * A resumed run's tensor and hold-out, for the options left out (a run keeps its values): the
 * run's source.json says which tensor trained and which rows were held out.
 */
function recordedDefaults(out: string, options: TrainActivationsSaeOptions, where: string): Partial<TrainActivationsSaeOptions> {
  if (!existsSync(join(out, 'latest.json')) || !existsSync(join(out, 'source.json'))) return {};
  const prev = readSourceJson(out, where);
  if (prev.data !== 'activations') return {};
  const h = prev.holdout;
  const holdout: Partial<TrainActivationsSaeOptions> =
    options.eval !== undefined || options.evalFraction !== undefined || h === undefined
      ? {}
      : h.rule === 'file' ? { eval: h.path } : h.rule === 'none' ? { evalFraction: 0 } : h.rule === 'fraction' ? { evalFraction: h.fraction } : {};
  const safetensors = typeof options.data === 'string' && /\.safetensors$/i.test(options.data);
  return { ...holdout, ...(options.tensor === undefined && safetensors && typeof prev.tensor === 'string' ? { tensor: prev.tensor } : {}) };
}

/**
 * Trains (or resumes) a Matryoshka SAE on activations in a file or a folder of .npy shards, with
 * checkpoints in `out`, and measures every prefix on held-out rows: a file's seeded 10% (by
 * default; `evalFraction`), a folder's last shard, or all of `eval`. Writes `<out>/source.json`
 * (`ActivationsSaeSource`) so the report finds the data. Options left out of a resumed run keep
 * its values; a different architecture, or other data, is refused. Method: `sae.train`
 * (docs/methods/msae.md §1–§4).
 *
 * @example const { metrics, step } = await report.trainActivationsSae({ data: 'acts/layer3.npy', out: 'runs/l3', dSae: 4096, k: 32, prefixes: 'matryoshka' }); // metrics[i].fvu per prefix
 */
export async function trainActivationsSae(options: TrainActivationsSaeOptions): Promise<TrainActivationsSaeResult> {
  return trainActivationsSaeAs(options, apiNaming('report.trainActivationsSae'));
}

/** `trainActivationsSae` with errors named for its caller (`nestlab train-sae` names flags). */
export async function trainActivationsSaeAs(options: TrainActivationsSaeOptions, naming: Naming): Promise<TrainActivationsSaeResult> {
  const { where } = naming;
  const opt = naming.option;
  if (options === null || typeof options !== 'object') throw new NestlabArgumentError(where, 'options', 'an object {data, out, ...}', options);
  checkKnownKeys(where, options, [...SAE_RUN_KEYS, 'data', 'tensor', 'eval', 'evalFraction']);
  const out = options.out;
  if (typeof out !== 'string' || out === '') throw new NestlabArgumentError(where, opt('out'), 'a folder path', out);
  const log = options.log ?? (() => {});
  await initBackend();
  options = { ...options, ...recordedDefaults(out, options, where) };

  const data = openData(options.data, options.tensor, naming, 'data');
  if (data.kind === 'npy-shards' && options.tensor !== undefined) throw new NestlabArgumentError(where, opt('tensor'), `absent for a folder of .npy shards (${opt('data')} ${data.given})`, options.tensor);
  if (data.kind === 'npy' && options.tensor !== undefined) throw new NestlabArgumentError(where, opt('tensor'), `absent for a .npy file (${opt('data')} ${data.given})`, options.tensor);
  if (options.evalFraction !== undefined && options.eval !== undefined) throw new NestlabArgumentError(where, opt('evalFraction'), `absent when ${opt('eval')} is given (one or the other)`, options.evalFraction);
  if (options.evalFraction !== undefined && data.kind === 'npy-shards') {
    throw new NestlabArgumentError(where, opt('evalFraction'), `absent for a shard folder (its last shard is held out; ${opt('eval')} FILE trains on every shard)`, options.evalFraction);
  }

  let train: BatchSource | Matrix;
  let evalX: Matrix;
  let holdout: ActivationsHoldout;
  let evalDescription: string;
  let close = () => {};
  let memory: string;
  if (options.eval !== undefined) {
    const ev = openData(options.eval, data.kind === 'safetensors' ? (data.tensor ?? undefined) : undefined, naming, 'eval');
    if (ev.cols !== data.cols) throw new NestlabArgumentError(where, `${opt('eval')} ${ev.given}`, `${data.cols} columns like ${opt('data')} ${data.given}`, `${ev.cols} columns`);
    evalX = readAll(ev, naming, 'eval');
    holdout = { rule: 'file', path: ev.path, tensor: ev.tensor, rows: ev.rows };
    evalDescription = `the ${ev.rows} rows of ${ev.given}${ev.tensor ? ` [${ev.tensor}]` : ''} (${opt('eval')})`;
    if (data.kind === 'npy-shards') {
      const src = fromFile(naming, 'data', data.given, () => npyShardSource(data.shards!));
      close = () => src.close();
      train = src;
      memory = `${data.shards!.length} shards streamed`;
    } else {
      train = data.matrix!;
      memory = 'in memory';
    }
  } else if (data.kind === 'npy-shards') {
    const shards = data.shards!;
    if (shards.length < 2) {
      throw new NestlabArgumentError(where, `${opt('data')} ${data.given}`, `a folder of at least 2 .npy shards (the last is held out), or ${opt('eval')} FILE to hold out`, `${shards.length} shard`);
    }
    const src = fromFile(naming, 'data', data.given, () => npyShardSource(shards.slice(0, -1)));
    close = () => src.close();
    train = src;
    const last = shards[shards.length - 1];
    evalX = fromFile(naming, 'data', data.given, () => readActivations(last));
    holdout = { rule: 'last-shard', shard: basename(last), rows: evalX.rows };
    evalDescription = `the ${evalX.rows} rows of the held-out last shard ${basename(last)}`;
    memory = `${shards.length - 1} shards streamed, the last read into memory`;
  } else {
    const x = data.matrix!;
    const fraction = checkNumber(where, opt('evalFraction'), options.evalFraction ?? 0.1, 0, 0.9);
    const split = await withNaming(naming, () => holdoutSplit(x.rows, fraction, 0));
    if (split.holdout.length === 0) {
      train = x;
      evalX = x;
      holdout = { rule: 'none' };
      evalDescription = `the ${x.rows} training rows (nothing held out: ${opt('evalFraction')} 0)`;
    } else {
      train = matrixSource(x, { rows: split.train });
      evalX = selectRows(x, split.holdout);
      holdout = { rule: 'fraction', fraction, seed: 0, rows: split.holdout.length };
      evalDescription = `the ${split.holdout.length} held-out rows of ${data.given} (${holdoutRule(holdout)})`;
    }
    memory = 'in memory';
  }

  try {
    const source: ActivationsSaeSource = {
      version: ACTIVATIONS_SOURCE_VERSION,
      data: 'activations',
      path: data.path,
      kind: data.kind,
      tensor: data.tensor,
      ...(data.shards ? { shards: data.shards.map((s) => basename(s)) } : {}),
      rows: data.rows,
      columns: data.cols,
      trainRows: train.rows,
      holdout,
    };
    // Resuming: the same rows must train (a changed file or hold-out would mix the runs' data).
    if (existsSync(join(out, 'latest.json')) && existsSync(join(out, 'source.json'))) {
      const prev = readSourceJson(out, where);
      if (prev.data !== 'activations') {
        throw new NestlabArgumentError(where, `${opt('out')} ${out}`, 'a run on activation files to resume', `a run on ${String(prev.data)} (resume it with ${opt('data')} ${String(prev.data)}, or use another folder)`);
      }
      const sig = (s: RecordedSource) => `${s.rows} rows × ${s.columns}${s.tensor ? ` [${s.tensor}]` : ''}, ${s.holdout ? holdoutText(s.holdout) : 'hold-out unknown'}`;
      if (resumeKey(prev) !== resumeKey(source)) throw new NestlabArgumentError(where, opt('data'), `the data the run in ${out} trained on, to resume it (${sig(prev)}; source.json)`, sig(source));
      if (prev.path !== source.path) log(`note: the run in ${out} was trained on ${prev.path}; it continues on ${source.path} (same shape and hold-out)`);
    }
    log(`data: ${data.given}${data.tensor ? ` [${data.tensor}]` : ''}, ${data.rows} rows × ${data.cols} (${memory}); training on ${train.rows} rows; ${holdoutText(holdout)}`);
    const run: SaeRunOptions = { ...options };
    for (const key of ['data', 'tensor', 'eval', 'evalFraction'] as const) delete (run as Partial<TrainActivationsSaeOptions>)[key];
    const result = await runSaeTraining(train, evalX, run, activationDefaults(data.kind === 'npy-shards'), naming, () => {
      writeFileAtomic(join(out, 'source.json'), `${JSON.stringify(source, null, 2)}\n`, where);
    });
    return { ...result, source, evalDescription };
  } finally {
    close();
  }
}

/** Options of `report.reportActivations` (and of `nestlab report CHECKPOINT --data PATH`). */
export interface ReportActivationsOptions {
  /** A .npy / .safetensors file or a folder of .npy shards (read into memory). Default: the run's data (source.json). */
  data?: string;
  /** The tensor of a .safetensors file. Default: the run's, for the run's file; else its only tensor, or 'activations'. */
  tensor?: string;
  /** 'all' rows (default) or the run's 'holdout' rows (source.json's rule; the run's data only). */
  split?: 'all' | 'holdout';
  /** Use only the first `limit` rows (of the split). */
  limit?: number;
  /** Per-row integer class labels (.npy, one per row of `data`). */
  labels?: string;
  /** Per-row pictures (.npy [rows, height·width] or [rows, height, width]), drawn in the latent cards. */
  images?: string;
  /** [height, width] of the pictures (needed for 2-D `images`; without `images`, the rows of `data` themselves are pictures). */
  imageShape?: [number, number];
  /** Draw pictures as ink on paper (high values dark). Default false. */
  ink?: boolean;
  /** Latent cards (default min(64, dSae)). */
  maxLatents?: number;
  /** Output file. Default `<checkpointDir>/report.html`. */
  out?: string;
  /** Header date (tests). Default now. */
  date?: Date;
}

/**
 * Loads the SAE in `checkpointDir` and writes its HTML report (`report.buildSaeReport`) on the
 * rows of `data` (default: the data its source.json records): metrics per prefix, and a card per
 * latent with its top-activating rows as pictures (`images`, or the rows themselves with
 * `imageShape`) or as a table of row indices, labels and activations. Returns the file, the
 * number of cards, a description of the rows, and the wall time.
 *
 * @example const { path } = await report.reportActivations('runs/l3', { labels: 'acts/labels.npy', split: 'holdout' }); // runs/l3/report.html
 */
export async function reportActivations(checkpointDir: string, options: ReportActivationsOptions = {}): Promise<{ path: string; latents: number; description: string; seconds: number }> {
  return reportActivationsAs(checkpointDir, options, apiNaming('report.reportActivations'));
}

/** `reportActivations` with errors named for its caller (`nestlab report` names flags). */
export async function reportActivationsAs(checkpointDir: string, options: ReportActivationsOptions, naming: Naming): Promise<{ path: string; latents: number; description: string; seconds: number }> {
  const { where } = naming;
  const opt = naming.option;
  const t0 = performance.now();
  if (typeof checkpointDir !== 'string' || !existsSync(checkpointDir) || !statSync(checkpointDir).isDirectory()) {
    throw new NestlabArgumentError(where, opt('checkpointDir'), 'an existing checkpoint folder', checkpointDir);
  }
  if (options === null || typeof options !== 'object') throw new NestlabArgumentError(where, 'options', 'an object {data?, labels?, ...}', options);
  checkKnownKeys(where, options, ['data', 'tensor', 'split', 'limit', 'labels', 'images', 'imageShape', 'ink', 'maxLatents', 'out', 'date']);
  const split = checkOneOf(where, opt('split'), options.split ?? 'all', ['all', 'holdout'] as const);
  const limit = options.limit === undefined ? Infinity : checkInt(where, opt('limit'), options.limit, 1);
  if (options.out !== undefined && (typeof options.out !== 'string' || options.out === '')) throw new NestlabArgumentError(where, opt('out'), 'a file path', options.out);
  const source = existsSync(join(checkpointDir, 'source.json')) ? readSourceJson(checkpointDir, where) : null;
  if (source !== null && source.data !== 'activations' && options.data === undefined) {
    throw new NestlabArgumentError(where, opt('data'), `given: the run in ${checkpointDir} was trained on ${String(source.data)}`, 'none');
  }
  const recorded = source?.data === 'activations' ? (source as unknown as ActivationsSaeSource) : null;
  const dataPath = options.data ?? recorded?.path;
  if (dataPath === undefined) throw new NestlabArgumentError(where, opt('data'), `given (${checkpointDir} has no source.json saying what the SAE was trained on)`, 'none');
  const isRunData = recorded !== null && resolve(dataPath) === recorded.path;
  const tensor = options.tensor ?? (isRunData && recorded.tensor !== null ? recorded.tensor : undefined);
  await initBackend();
  const sae = loadSae(checkpointDir);
  const data = openData(dataPath, tensor, naming, 'data');
  if (data.cols !== sae.cfg.dIn) throw new NestlabArgumentError(where, `${opt('data')} ${data.given}`, `${sae.cfg.dIn} columns, the SAE's d_in`, `${data.cols} columns`);

  // The rows to describe, and where they sit among all rows of the data (for labels and pictures).
  let x: Matrix;
  let rowsOf: Uint32Array | null = null; // null: rows 0 … x.rows−1
  let which: string;
  if (split === 'all') {
    x = readAll(data, naming, 'data', limit);
    const whole = x.rows === data.rows ? `all ${data.rows} rows` : `the first ${x.rows} of ${data.rows} rows`;
    which = isRunData ? `${whole} (the run trained on ${recorded.trainRows}; ${holdoutText(recorded.holdout)})` : whole;
  } else {
    if (!isRunData) throw new NestlabArgumentError(where, opt('split'), `'all' for data other than the run's (${recorded?.path ?? 'none recorded'}; source.json)`, 'holdout');
    const h = recorded.holdout;
    if (h.rule === 'fraction') {
      const held = holdoutSplit(data.rows, h.fraction, h.seed).holdout;
      rowsOf = held.length > limit ? held.slice(0, limit) : held;
      x = selectRows(readAll(data, naming, 'data'), rowsOf);
    } else if (h.rule === 'last-shard') {
      const last = data.shards?.[data.shards.length - 1];
      if (last === undefined || basename(last) !== h.shard) throw new NestlabArgumentError(where, `${opt('data')} ${data.given}`, `a folder whose last shard is ${h.shard}, as when the run trained`, last === undefined ? 'a file' : basename(last));
      const shard = fromFile(naming, 'data', data.given, () => readActivations(last));
      x = limit < shard.rows ? headRows(shard, limit) : shard;
      rowsOf = Uint32Array.from({ length: x.rows }, (_, i) => data.rows - shard.rows + i);
    } else if (h.rule === 'file') {
      throw new NestlabArgumentError(where, opt('split'), `'all': the run held out a separate file; report on it with ${opt('data')} ${h.path}`, 'holdout');
    } else {
      throw new NestlabArgumentError(where, opt('split'), `'all': the run held out nothing`, 'holdout');
    }
    which = `the ${x.rows} held-out rows (${holdoutRule(h)})`;
  }
  const pick = <T extends Int32Array | Float32Array>(all: T, width: number): T => {
    if (rowsOf === null) return all.subarray(0, x.rows * width) as T;
    const outArr = new (all.constructor as new (n: number) => T)(rowsOf.length * width);
    rowsOf.forEach((r, i) => outArr.set(all.subarray(r * width, (r + 1) * width), i * width));
    return outArr;
  };

  const input: SaeReportData = { x };
  if (options.labels !== undefined) {
    const y = fromFile(naming, 'labels', options.labels, () => readLabels(options.labels!));
    if (y.length !== data.rows) throw new NestlabArgumentError(where, `${opt('labels')} ${options.labels}`, `${data.rows} labels, one per row of ${opt('data')} ${data.given}`, `${y.length} labels`);
    input.y = pick(y, 1);
  }
  let shape: [number, number] | undefined;
  if (options.imageShape !== undefined) {
    const s = options.imageShape;
    if (!Array.isArray(s) || s.length !== 2) throw new NestlabArgumentError(where, opt('imageShape'), 'a [height, width] pair', s);
    shape = [checkInt(where, `${opt('imageShape')}[0]`, s[0], 1, 4096), checkInt(where, `${opt('imageShape')}[1]`, s[1], 1, 4096)];
  }
  if (options.images !== undefined) {
    const read = fromFile(naming, 'images', options.images, () => readImages(options.images!));
    if (read.images.rows !== data.rows) throw new NestlabArgumentError(where, `${opt('images')} ${options.images}`, `${data.rows} pictures, one per row of ${opt('data')} ${data.given}`, `${read.images.rows} pictures`);
    shape = shape ?? read.shape ?? undefined;
    if (shape === undefined) throw new NestlabArgumentError(where, opt('imageShape'), `H,W of the pictures in ${opt('images')} ${options.images} (H·W = ${read.images.cols})`, 'none');
    if (shape[0] * shape[1] !== read.images.cols) {
      throw new NestlabArgumentError(where, opt('imageShape'), `H,W with H·W = ${read.images.cols}, the width of ${opt('images')} ${options.images}`, shape.join(','));
    }
    input.images = { data: pick(read.images.data, read.images.cols), rows: x.rows, cols: read.images.cols };
  } else if (shape !== undefined && shape[0] * shape[1] !== x.cols) {
    throw new NestlabArgumentError(where, opt('imageShape'), `H,W with H·W = ${x.cols}, the width of ${opt('data')} ${data.given} (or give ${opt('images')})`, shape.join(','));
  }
  if (shape !== undefined) input.imageShape = shape;
  if (options.ink !== undefined) input.ink = options.ink;

  const maxLatents = options.maxLatents ?? Math.min(64, sae.cfg.dSae);
  const description = `${data.given}${data.tensor ? ` [tensor ${data.tensor}]` : ''}: ${which}`;
  const html = await withNaming(naming, () =>
    buildSaeReport(sae, input, { dataDescription: description, source: checkpointDir, maxLatents, ...(options.date ? { date: options.date } : {}) }),
  );
  const path = options.out ?? join(checkpointDir, 'report.html');
  writeSaeReport(path, html);
  return { path, latents: maxLatents, description, seconds: (performance.now() - t0) / 1000 };
}

/**
 * What the run in `dir` was trained on, by its source.json: 'mnist', 'activations', or null
 * when there is none (`nestlab report` reads the run's data by default).
 *
 * @example const kind = recordedData('runs/l3'); // 'activations'
 */
/**
 * The file or folder an activations run trained on (absolute, from its source.json), or null when
 * the run recorded none (MNIST, or no source.json).
 *
 * @example const path = recordedPath('runs/sae'); // '/home/me/runs/acts/blocks.1.hook_resid_pre'
 */
export function recordedPath(dir: string): string | null {
  if (!existsSync(join(dir, 'source.json'))) return null;
  const d = readSourceJson(dir, 'report.recordedPath');
  return d.data === 'activations' && typeof d.path === 'string' ? d.path : null;
}

export function recordedData(dir: string): 'mnist' | 'activations' | null {
  if (!existsSync(join(dir, 'source.json'))) return null;
  const d = readSourceJson(dir, 'report.recordedData').data;
  return d === 'mnist' || d === 'activations' ? d : null;
}
