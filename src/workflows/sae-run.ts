/**
 * The training run behind every `nestlab train-sae` (MNIST and activation files alike): flat
 * camelCase options that mirror the SAE's architecture and training fields, each workflow's
 * defaults for a fresh run, resuming the run already in the output folder, `sae.train` with
 * checkpoints there, and the per-prefix metrics on held-out rows.
 *
 * Resuming: options left out keep the run's values (architecture and training config, as its
 * checkpoint recorded them); a given architecture option that differs from the run's is refused
 * in one line naming each difference; more epochs extend the run (trainSae continues from its
 * step; the learning-rate schedule then spans the new length).
 *
 * Errors name options as the caller knows them: `options.dSae` for the API, `--d-sae` for the
 * CLI (`Naming`), also when `sae.architecture` / `sae.training` find the problem.
 *
 * Hand-written: a composition of sae.train, sae.load and sae.evaluate.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { silentProgress, type Progress } from '../backend/progress.js';
import { readJsonObject } from '../data/files.js';
import { NestlabArgumentError, NestlabComputationError, NestlabIoError, checkInt, checkNumber } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import type { BatchSource } from '../data/batches.js';
import { trainSae } from '../sae/train.js';
import { halvingPrefixes, matryoshkaPrefixes, saeArchitecture, saeTraining, type BDecInit, type SaeActivation, type SaeArchitecture, type SaeArchitectureInput, type SaeTraining, type SaeTrainingInput } from '../sae/config.js';
import { evaluateSae, type PrefixMetrics } from '../sae/metrics.js';
import { loadSae } from '../sae/checkpoint.js';
import type { Sae } from '../sae/model.js';

/** Named prefix sizes: `sae.matryoshkaPrefixes`, `sae.halvingPrefixes`, or one prefix (a flat SAE). */
export const PREFIX_RULES = ['matryoshka', 'halving', 'none'] as const;
/** One of `PREFIX_RULES`. */
export type PrefixRule = (typeof PREFIX_RULES)[number];

/** How a workflow names its caller and options in errors: `where`, and `option('dSae')` = 'options.dSae' or '--d-sae'. */
export interface Naming {
  where: string;
  option(field: string): string;
}

/** Errors for an API function: `options.<field>`. */
export function apiNaming(where: string): Naming {
  return { where, option: (field) => (field === 'checkpointDir' ? field : `options.${field}`) };
}

/** The CLI's flag of each option that is not just its kebab-case name. */
const FLAGS: Record<string, string> = { learningRate: '--lr', checkpointDir: 'CHECKPOINT' };

/** Errors for a CLI command: `nestlab <command>: --d-sae must be ...`. */
export function cliNaming(command: string): Naming {
  return { where: `nestlab ${command}`, option: (field) => FLAGS[field] ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` };
}

/**
 * Re-raises an argument error of a lower function (`architecture.k`, `training.batchSize`,
 * `options.maxLatents`) under the caller's names; other errors pass unchanged.
 */
export function renameError(e: unknown, naming: Naming): unknown {
  // A full disk or a diverging run: the same message, under the caller's name and flags.
  if (e instanceof NestlabIoError || e instanceof NestlabComputationError) {
    const text = e.detail.replace(/\btraining\.(\w+)\b/g, (w, f: string) => (SAE_RUN_KEYS.includes(f) ? naming.option(f) : w));
    const out = e instanceof NestlabIoError ? new NestlabIoError(naming.where, e.path, e.code, text) : new NestlabComputationError(naming.where, text);
    out.stack = e.stack;
    return out;
  }
  if (!(e instanceof NestlabArgumentError)) return e;
  const m = /^(?:options|architecture|training)\.(\w+)(.*)$/s.exec(e.argument);
  if (m === null) return e;
  // Other fields the expectation names, as the caller knows them too ("sizes ending at --d-sae = 64").
  const expected = e.expected.replace(/\b(?:architecture\.|training\.)?([a-z]+[A-Z]\w*)\b/g, (w, f: string) => (SAE_RUN_KEYS.includes(f) && f !== 'dIn' ? naming.option(f) : w));
  const out = new NestlabArgumentError(naming.where, `${naming.option(m[1])}${m[2]}`, expected, e.got);
  out.stack = e.stack;
  return out;
}

/** Runs `fn`, re-raising its argument errors under the caller's names (`renameError`). */
export async function withNaming<T>(naming: Naming, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw renameError(e, naming);
  }
}

/**
 * The options of a training run; every field but `out` is optional. On a fresh run, a missing
 * field takes the workflow's default; on a resumed run, the run's own value.
 */
export interface SaeRunOptions {
  /** Checkpoint folder (created; an existing run there is resumed). */
  out: string;
  /** Dictionary size (architecture.dSae). */
  dSae?: number;
  /** Active latents per row: exact for topk, the mean for batchtopk (architecture.k). */
  k?: number;
  /** 'topk', 'batchtopk', 'relu' or 'mp' (architecture.activation). */
  activation?: SaeActivation;
  /** Prefix sizes ending at dSae, or a rule: 'matryoshka', 'halving', 'none' (one prefix: a flat SAE). */
  prefixes?: number[] | PrefixRule;
  /** Passes over the training rows (may be fractional). On resume: the new total. */
  epochs?: number;
  /** Alternative to epochs: total training steps (epochs = steps·batchSize / rows). */
  steps?: number;
  /** Rows per step. */
  batchSize?: number;
  /** Adam learning rate. */
  learningRate?: number;
  /** Seed of initialization and batch order. */
  seed?: number;
  /** L1 coefficient of relu SAEs. */
  l1Coeff?: number;
  /** Latents in the AuxK loss (0 turns it off). */
  auxK?: number;
  /** Weight of the AuxK loss. */
  auxAlpha?: number;
  /** A latent is dead after this many rows without firing. */
  deadTokens?: number;
  /** Linear learning-rate warm-up steps. */
  warmupSteps?: number;
  /** Fraction of the run after which the learning rate decays linearly to 0. */
  decayStart?: number;
  /** BatchTopK: the step at which the threshold estimate starts. */
  thresholdStart?: number;
  /** b_dec initialization: 'median', 'mean' or 'zero'. */
  bDecInit?: BDecInit;
  /** Weight of each prefix's loss, one per prefix. */
  prefixWeights?: number[];
  /** Save a checkpoint every this many steps (default: every epoch). */
  checkpointEvery?: number;
  /** Per-epoch progress. Default silent. */
  progress?: Progress;
  /** Receives a few lines on what the run does (data, SAE, schedule, resume). Default silent. */
  log?: (line: string) => void;
}

/** The keys of `SaeRunOptions`. */
export const SAE_RUN_KEYS = [
  'out', 'dSae', 'k', 'activation', 'prefixes', 'epochs', 'steps', 'batchSize', 'learningRate', 'seed', 'l1Coeff', 'auxK', 'auxAlpha',
  'deadTokens', 'warmupSteps', 'decayStart', 'thresholdStart', 'bDecInit', 'prefixWeights', 'checkpointEvery', 'progress', 'log',
];

/** A workflow's defaults for a fresh run; functions of the input width, the training rows or the run's steps. */
export interface SaeRunDefaults {
  dSae: (dIn: number) => number;
  /** k before capping at dSae. */
  k: (dIn: number) => number;
  prefixes: PrefixRule;
  batchSize: (rows: number) => number;
  epochs: number;
  /** Undefined: the trainer's 2e-4/√(dSae/16384). */
  learningRate?: number;
  warmupSteps: (totalSteps: number) => number;
  /** Undefined: the trainer's min(1000, ⌊totalSteps/2⌋). */
  thresholdStart?: (totalSteps: number) => number;
  deadTokens: (rows: number) => number;
  /** Undefined: the trainer's 'median'. */
  bDecInit?: BDecInit;
}

/** What `runSaeTraining` returns. */
export interface SaeRunResult {
  /** The checkpoint folder (`out`). */
  checkpointDir: string;
  /** The trained SAE. */
  sae: Sae;
  /** Per-prefix metrics on the evaluation rows (`sae.evaluate`). */
  metrics: PrefixMetrics[];
  /** Steps done in all (the checkpoint's step). */
  step: number;
  /** The run's length in steps: ⌈epochs·⌊rows/batchSize⌋⌉. */
  totalSteps: number;
  /** The step this call started from (0 for a fresh run). */
  resumedFrom: number;
  /** The architecture the run trained. */
  architecture: SaeArchitecture;
  /** The training config the run used (every default filled). */
  training: SaeTraining;
}

/** The prefix sizes of a rule or list, for dictionary size dSae. */
export function resolvePrefixes(prefixes: number[] | PrefixRule, dSae: number, naming: Naming): number[] {
  if (typeof prefixes === 'string') {
    if (prefixes === 'matryoshka') return matryoshkaPrefixes(dSae);
    if (prefixes === 'halving') return halvingPrefixes(dSae);
    if (prefixes === 'none') return [dSae];
    throw new NestlabArgumentError(naming.where, naming.option('prefixes'), `a list of sizes or one of ${PREFIX_RULES.join(', ')}`, prefixes);
  }
  if (!Array.isArray(prefixes)) throw new NestlabArgumentError(naming.where, naming.option('prefixes'), `a list of sizes or one of ${PREFIX_RULES.join(', ')}`, prefixes);
  return prefixes;
}

/** "8,16,32", "batchtopk", "4": an option's value as the CLI writes it. */
function show(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** One line on an SAE and its schedule, for logs: "d_in 16, d_sae 64, batchtopk k 4, prefixes [...]; batch 32, ...". */
export function describeRun(arch: SaeArchitecture, t: SaeTraining, totalSteps: number): string {
  const act = arch.activation === 'relu' ? `relu (L1 ${t.l1Coeff})` : `${arch.activation} k ${arch.k}`;
  return (
    `SAE d_in ${arch.dIn}, d_sae ${arch.dSae}, ${act}, prefixes [${arch.prefixes.join(', ')}]; ` +
    `batch ${t.batchSize}, ${Number(t.epochs.toPrecision(6))} epoch${t.epochs === 1 ? '' : 's'} = ${totalSteps} steps, learning rate ${Number(t.learningRate.toPrecision(4))}, ` +
    `warm-up ${t.warmupSteps}, AuxK ${t.auxK}, seed ${t.seed}`
  );
}

/**
 * Trains (or resumes) the SAE in `options.out` on `train`, then measures every prefix on `evalX`.
 * `beforeTraining` runs once every option is checked and the resume accepted, before the first
 * step (workflows write their source.json there).
 */
export async function runSaeTraining(
  train: Matrix | BatchSource,
  evalX: Matrix,
  options: SaeRunOptions,
  defaults: SaeRunDefaults,
  naming: Naming,
  beforeTraining: () => void = () => {},
): Promise<SaeRunResult> {
  const { where } = naming;
  const opt = naming.option;
  const out = options.out;
  const log = options.log ?? (() => {});
  if (typeof out !== 'string' || out === '') throw new NestlabArgumentError(where, opt('out'), 'a folder path', out);
  const dIn = train.cols;
  const rows = train.rows;

  // The run already there, if any (weights, cfg and training config; latest.json names its step).
  let prev: Sae | null = null;
  let prevStep = 0;
  if (existsSync(join(out, 'latest.json'))) {
    prev = loadSae(out);
    prevStep = Number(readJsonObject(naming.where, join(out, 'latest.json')).step ?? 0);
    if (prev.cfg.dIn !== dIn) {
      throw new NestlabArgumentError(where, opt('data'), `${prev.cfg.dIn} columns, the d_in of the run in ${out} (to resume it)`, `${dIn} columns`);
    }
  }

  // Architecture: given, else the run's, else the default.
  const dSae = checkInt(where, opt('dSae'), options.dSae ?? prev?.cfg.dSae ?? defaults.dSae(dIn), 1);
  const activation = options.activation ?? prev?.cfg.activation ?? 'batchtopk';
  const k = options.k ?? prev?.cfg.k ?? Math.min(defaults.k(dIn), dSae);
  // A pursuit is flat: its default is one prefix (a given list is still checked, and refused).
  const defaultPrefixes = activation === 'mp' ? [dSae] : resolvePrefixes(defaults.prefixes, dSae, naming);
  const prefixes = options.prefixes !== undefined ? resolvePrefixes(options.prefixes, dSae, naming) : (prev?.cfg.prefixes ?? defaultPrefixes);
  if (prev !== null) {
    const given: [string, unknown, unknown][] = [
      ['dSae', options.dSae, prev.cfg.dSae],
      ['k', options.k, prev.cfg.k],
      ['activation', options.activation, prev.cfg.activation],
      ['prefixes', options.prefixes === undefined ? undefined : prefixes, prev.cfg.prefixes],
    ];
    const diffs = given.filter(([, g, p]) => g !== undefined && show(g) !== show(p));
    if (diffs.length > 0) {
      throw new NestlabArgumentError(
        where, `${opt('out')} ${out}`,
        `a run of the same architecture to resume (it has ${diffs.map(([f, , p]) => `${opt(f)} ${show(p)}`).join(', ')}; leave those options out, or use another folder)`,
        diffs.map(([f, g]) => `${opt(f)} ${show(g)}`).join(', '),
      );
    }
  }

  const archInput: SaeArchitectureInput = prev ? { ...prev.cfg, dSae, k, activation, prefixes } : { dIn, dSae, k, activation, prefixes };
  const arch = await withNaming(naming, () => saeArchitecture(archInput, where));
  // Training config: given, else the run's, else the default; the schedule's defaults depend on the run's length.
  const base: Partial<SaeTraining> = prev?.training ?? {};
  if (options.epochs !== undefined && options.steps !== undefined) throw new NestlabArgumentError(where, opt('steps'), `absent when ${opt('epochs')} is given (one or the other)`, options.steps);
  const batchSize = options.batchSize ?? base.batchSize ?? defaults.batchSize(rows);
  if (typeof batchSize === 'number' && batchSize > rows) throw new NestlabArgumentError(where, opt('batchSize'), `at most the ${rows} training rows`, batchSize);
  checkInt(where, opt('batchSize'), batchSize, 1);
  const epochs =
    options.steps !== undefined ? (checkInt(where, opt('steps'), options.steps, 1) * batchSize) / rows : checkNumber(where, opt('epochs'), options.epochs ?? base.epochs ?? defaults.epochs, 0);
  if (epochs <= 0) throw new NestlabArgumentError(where, opt('epochs'), 'positive', epochs);
  const totalSteps = Math.ceil(epochs * Math.floor(rows / batchSize));
  // Each field: given, else the run's, else this workflow's default (undefined: the trainer's).
  const fallback: Partial<Record<keyof SaeTraining, unknown>> = {
    learningRate: defaults.learningRate,
    seed: 0,
    deadTokens: defaults.deadTokens(rows),
    warmupSteps: defaults.warmupSteps(totalSteps),
    thresholdStart: defaults.thresholdStart?.(totalSteps),
    bDecInit: defaults.bDecInit,
  };
  const trainingInput: Record<string, unknown> = { ...base, batchSize, epochs };
  const given = options as unknown as Record<string, unknown>;
  for (const key of ['learningRate', 'seed', 'l1Coeff', 'auxK', 'auxAlpha', 'deadTokens', 'warmupSteps', 'decayStart', 'thresholdStart', 'bDecInit', 'prefixWeights'] as const) {
    const value = given[key] ?? base[key] ?? fallback[key];
    if (value !== undefined) trainingInput[key] = value;
  }
  const training = await withNaming(naming, () => saeTraining(trainingInput as SaeTrainingInput, arch, where, totalSteps));
  const checkpointEvery = options.checkpointEvery === undefined ? undefined : checkInt(where, opt('checkpointEvery'), options.checkpointEvery, 1);

  log(describeRun(arch, training, totalSteps));
  if (prev !== null) {
    log(prevStep >= totalSteps ? `the run in ${out} is at step ${prevStep}, this run's end (${totalSteps} steps): nothing to train (give more ${opt('epochs')} to extend it)` : `resuming the run in ${out} from step ${prevStep} of ${totalSteps}`);
  }
  beforeTraining();
  const result = await withNaming(naming, () =>
    trainSae(train, {
      architecture: arch,
      training: trainingInput as SaeTrainingInput,
      checkpointDir: out,
      progress: options.progress ?? silentProgress,
      ...(checkpointEvery !== undefined ? { checkpointEvery } : {}),
    }),
  );
  const metrics = await evaluateSae(result.sae, evalX);
  return {
    checkpointDir: out,
    sae: result.sae,
    metrics,
    step: result.state.step,
    totalSteps: result.totalSteps,
    resumedFrom: result.resumedFrom,
    architecture: result.sae.cfg,
    training: result.sae.training ?? training,
  };
}
