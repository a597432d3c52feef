/**
 * Saved language models and training checkpoints, in the layout of the SAE checkpoints
 * (`sae/checkpoint.ts`) so one habit serves both (docs/methods/lm-training.md §1–§2):
 *
 *   <folder>/cfg.json                      {"format": "nestlab-lm", "version": 1, "architecture": {...}}
 *   <folder>/model.safetensors             every parameter, F32, TransformerLens names (embed.W_E, blocks.0.attn.W_Q, ...)
 *   <folder>/tokenizer.json                the word tokenizer the ids belong to (lm.tokenizerToJson)
 *
 *   <dir>/latest.json                      {"format": "nestlab-lm-checkpoint", "version": 1, "step", "folder", "config_hash"}
 *   <dir>/step-00000100/                   a model folder as above, plus
 *   <dir>/step-00000100/trainer_state.safetensors   adam_m.<name>, adam_v.<name> (F32); step, config_hash, training in metadata
 *
 * A step folder is written under a hidden name and renamed into place when complete, and
 * latest.json is rewritten (atomically) last, so a crash leaves the previous checkpoint in force; the two newest step folders are kept. The hash that guards a
 * resume covers the architecture only: the training config may change between runs (more steps).
 * Batches are a pure function of (seed, step) (`sampleWindows`), so weights, moments and the step
 * resume a run bit-identically.
 *
 * Hand-written: a thin mapping between a model's variables and the safetensors / JSON files.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf.js';
import { commitCheckpoint, readJsonObject, writeFileAtomic, writeFolderAtomic } from '../data/files.js';
import { fileText, isFloat32Tensor, readSafetensors, writeSafetensors, type NamedTensor } from '../data/safetensors.js';
import { NestlabArgumentError, checkFinite, describe } from '../errors.js';
import { LM_ARCHITECTURE_FIELDS, lmArchitecture, lmTraining, type LmArchitecture, type LmTraining } from './config.js';
import { lmFromParameters, parameterShapes, type Lm } from './model.js';
import { tokenizerFromJson, tokenizerToJson, type WordTokenizer } from './tokenizer.js';
import type { LmTrainerState } from './train.js';

/** The format name in a model folder's cfg.json. */
export const LM_FORMAT = 'nestlab-lm';
/** The format name in a checkpoint folder's latest.json. */
export const LM_CHECKPOINT_FORMAT = 'nestlab-lm-checkpoint';
/** Version of both formats. */
export const LM_CHECKPOINT_VERSION = 1;

const KEEP = 2;

/**
 * A short stable hash (first 16 hex digits of SHA-256) of the architecture's canonical JSON, its
 * fields in a fixed order; checkpoints carry it so that a resume onto another architecture is
 * refused. The training config is not hashed: it may change between runs.
 *
 * @example const hash = lm.architectureHash(model.architecture); // e.g. '3f1c0a9e5b7d2c44'
 */
export function lmArchitectureHash(arch: LmArchitecture): string {
  const canonical = JSON.stringify(LM_ARCHITECTURE_FIELDS.map((f) => [f, arch[f]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/**
 * Runs `fn` (a validator of another public function, e.g. `lm.architecture`), rethrowing a
 * NestlabArgumentError it raises under `where`: its argument's leading `options.` becomes
 * `prefix` and `suffix` (a file) is appended, so the message names what the caller passed or read.
 *
 * @example const arch = asCaller('lm.load', () => lmArchitecture(json.architecture), 'architecture.', 'in cfg.json'); // 'lm.load: architecture.nHeads in cfg.json must be ...'
 */
export function asCaller<T>(where: string, fn: () => T, prefix = 'options.', suffix = ''): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NestlabArgumentError && e.where !== where) {
      throw new NestlabArgumentError(where, `${e.argument.replace(/^options\./, prefix)}${suffix === '' ? '' : ` ${suffix}`}`, e.expected, e.got);
    }
    throw e;
  }
}

async function variableValues(v: tf.Variable): Promise<Float32Array> {
  return Float32Array.from((await v.data()) as Float32Array);
}

function checkFolder(where: string, argument: string, folder: unknown): string {
  if (typeof folder !== 'string' || folder === '') throw new NestlabArgumentError(where, argument, 'a folder path', folder);
  return folder;
}

function checkModelAndTokenizer(where: string, model: Lm, tokenizer: WordTokenizer): string {
  if (typeof model !== 'object' || model === null || !(model.params instanceof Map) || typeof model.architecture !== 'object') {
    throw new NestlabArgumentError(where, 'model', 'a language model (lm.create, lm.load)', model);
  }
  const json = asCaller(where, () => tokenizerToJson(tokenizer));
  if (tokenizer.vocab.length !== model.architecture.vocabSize) {
    throw new NestlabArgumentError(where, 'tokenizer', `a vocabulary of model.architecture.vocabSize = ${model.architecture.vocabSize} tokens`, `${tokenizer.vocab.length} tokens`);
  }
  return json;
}

/** Every parameter of `model` read back as an F32 tensor (finite, or an error naming it: a checkpoint that cannot be loaded back is never written). */
async function modelTensors(where: string, model: Lm): Promise<Record<string, NamedTensor>> {
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, shape] of parameterShapes(model.architecture)) {
    const v = model.params.get(name);
    if (v === undefined || v.isDisposed) throw new NestlabArgumentError(where, `model.params ${name}`, 'a live variable', v === undefined ? 'none' : 'a disposed variable');
    const data = await variableValues(v);
    checkFinite(where, `model.params ${name}`, data);
    tensors[name] = { dtype: 'F32', shape, data };
  }
  return tensors;
}

/** Writes the three files of a model folder from values read before (modelTensors); the caller has checked the tokenizer. */
function writeModelFolder(where: string, arch: LmArchitecture, tensors: Record<string, NamedTensor>, tokenizerJson: string, folder: string): void {
  writeSafetensors(join(folder, 'model.safetensors'), tensors, {
    format: LM_FORMAT,
    version: String(LM_CHECKPOINT_VERSION),
    config_hash: lmArchitectureHash(arch),
    architecture: JSON.stringify(arch),
  }, where);
  writeFileAtomic(join(folder, 'tokenizer.json'), tokenizerJson, where);
  writeFileAtomic(join(folder, 'cfg.json'), `${JSON.stringify({ format: LM_FORMAT, version: LM_CHECKPOINT_VERSION, architecture: arch }, null, 2)}\n`, where);
}

/**
 * Saves a model with its tokenizer as a folder: `cfg.json` ({format: 'nestlab-lm', version: 1,
 * architecture}), `model.safetensors` (every parameter as F32 under its TransformerLens name,
 * e.g. `blocks.0.attn.W_Q` [d, d]; the architecture and its hash in the metadata) and
 * `tokenizer.json`. Each file is written atomically. docs/methods/lm-training.md §1.
 *
 * @example await lm.save(model, tokenizer, 'runs/brown-lm/final'); // lm.load('runs/brown-lm/final') reads it back
 */
export async function saveLm(model: Lm, tokenizer: WordTokenizer, folder: string): Promise<void> {
  const where = 'lm.save';
  const dir = checkFolder(where, 'folder', folder);
  const json = checkModelAndTokenizer(where, model, tokenizer);
  writeModelFolder(where, model.architecture, await modelTensors(where, model), json, dir);
}

/** A value read from a file, for an error message: a string on one short line, anything else as it is. */
function got(value: unknown): unknown {
  return typeof value === 'string' ? fileText(value) : value;
}

/** Runs a validator on values read from a file; a string it refuses is cut to one short line in the error. */
function checkRead<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NestlabArgumentError && typeof e.got === 'string') throw new NestlabArgumentError(e.where, e.argument, e.expected, fileText(e.got));
    throw e;
  }
}

/** The model folder `path` names: itself if it holds cfg.json, else latest.json's step folder; null if neither. */
function resolveModelFolder(where: string, path: string): { folder: string; latest: Record<string, unknown> | null } | null {
  if (existsSync(join(path, 'cfg.json'))) return { folder: path, latest: null };
  const latestPath = join(path, 'latest.json');
  if (!existsSync(latestPath)) return null;
  const latest = readJsonObject(where, latestPath);
  if (latest.format !== LM_CHECKPOINT_FORMAT) throw new NestlabArgumentError(where, `format in ${latestPath}`, JSON.stringify(LM_CHECKPOINT_FORMAT), got(latest.format));
  if (latest.version !== LM_CHECKPOINT_VERSION) throw new NestlabArgumentError(where, `version in ${latestPath}`, String(LM_CHECKPOINT_VERSION), got(latest.version));
  if (typeof latest.folder !== 'string' || !/^step-\d+$/.test(latest.folder)) {
    throw new NestlabArgumentError(where, `folder in ${latestPath}`, 'the name of a step folder (step-NNNNNNNN)', got(latest.folder));
  }
  const folder = join(path, latest.folder);
  if (!existsSync(join(folder, 'cfg.json'))) throw new NestlabArgumentError(where, `folder in ${latestPath}`, 'a step folder that holds cfg.json', folder);
  return { folder, latest };
}

function readArchitecture(where: string, cfgPath: string): LmArchitecture {
  const cfg = readJsonObject(where, cfgPath);
  for (const key of Object.keys(cfg)) {
    if (!['format', 'version', 'architecture'].includes(key)) throw new NestlabArgumentError(where, `the fields of ${cfgPath}`, 'format, version and architecture only', JSON.stringify(key));
  }
  if (cfg.format !== LM_FORMAT) throw new NestlabArgumentError(where, `format in ${cfgPath}`, JSON.stringify(LM_FORMAT), got(cfg.format));
  if (cfg.version !== LM_CHECKPOINT_VERSION) throw new NestlabArgumentError(where, `version in ${cfgPath}`, String(LM_CHECKPOINT_VERSION), got(cfg.version));
  const a = cfg.architecture;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new NestlabArgumentError(where, `architecture in ${cfgPath}`, 'an object (lm.architecture)', a);
  const arch = asCaller(where, () => checkRead(() => lmArchitecture(a as LmArchitecture)), 'architecture.', `in ${cfgPath}`);
  // Every field written explicitly, so a default can never stand in for a value that was lost.
  for (const f of LM_ARCHITECTURE_FIELDS) if (!(f in a)) throw new NestlabArgumentError(where, `architecture.${f} in ${cfgPath}`, 'present', 'none');
  return arch;
}

function readModelFolder(where: string, folder: string): { model: Lm; tokenizer: WordTokenizer } {
  const cfgPath = join(folder, 'cfg.json');
  const arch = readArchitecture(where, cfgPath);
  const tokenizerPath = join(folder, 'tokenizer.json');
  let text: string;
  try {
    text = readFileSync(tokenizerPath, 'utf8');
  } catch (e) {
    throw new NestlabArgumentError(where, tokenizerPath, 'a readable tokenizer file', (e as Error).message.split('\n')[0]);
  }
  const tokenizer = asCaller(where, () => tokenizerFromJson(text, tokenizerPath));
  if (tokenizer.vocab.length !== arch.vocabSize) {
    throw new NestlabArgumentError(where, `architecture.vocabSize in ${cfgPath}`, `the size of the tokenizer in ${tokenizerPath} (${tokenizer.vocab.length})`, arch.vocabSize);
  }
  const weightsPath = join(folder, 'model.safetensors');
  if (!existsSync(weightsPath)) throw new NestlabArgumentError(where, 'path', `a model folder with model.safetensors beside cfg.json`, folder);
  const { tensors } = asCaller(where, () => readSafetensors(weightsPath));
  const shapes = parameterShapes(arch);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const t = tensors[name];
    if (t === undefined) throw new NestlabArgumentError(where, `tensor ${name} in ${weightsPath}`, `present (shape [${shape.join(', ')}])`, 'none');
    if (!isFloat32Tensor(t) || t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new NestlabArgumentError(where, `tensor ${name} in ${weightsPath}`, `F32 of shape [${shape.join(', ')}]`, `${t.dtype} [${t.shape.join(', ')}]`);
    }
    checkFinite(where, `tensor ${name} in ${weightsPath}`, t.data as Float32Array);
    values.set(name, t.data as Float32Array);
  }
  const known = new Set(shapes.map(([name]) => name));
  for (const name of Object.keys(tensors)) {
    if (!known.has(name)) throw new NestlabArgumentError(where, `tensor ${name} in ${weightsPath}`, `absent from a model of this architecture (${cfgPath})`, 'present');
  }
  return { model: lmFromParameters(arch, values, where), tokenizer };
}

/**
 * Loads a model and its tokenizer from a folder written by {@link saveLm}, or from a checkpoint
 * folder with latest.json (then its latest step folder). Checks everything and names the file on
 * failure: cfg.json's format, version and architecture (as `lm.architecture` validates it), every
 * tensor's presence, dtype, shape and finiteness, the tokenizer, and that the vocabulary size is
 * the tokenizer's size. docs/methods/lm-training.md §1.
 *
 * @example const { model, tokenizer } = lm.load('runs/brown-lm'); // the latest checkpoint
 */
export function loadLm(path: string, where = 'lm.load'): { model: Lm; tokenizer: WordTokenizer } {
  checkFolder(where, 'path', path);
  const resolved = resolveModelFolder(where, path);
  if (resolved === null) throw new NestlabArgumentError(where, 'path', 'a model folder (cfg.json, model.safetensors, tokenizer.json) or a checkpoint folder with latest.json', path);
  return readModelFolder(where, resolved.folder);
}

/**
 * Saves a training checkpoint under `dir`: a step folder `step-NNNNNNNN` (the trainer's step)
 * with the files of {@link saveLm} plus `trainer_state.safetensors` (AdamW's moments as
 * `adam_m.<name>` / `adam_v.<name>`, F32; the step, the architecture's hash and the training
 * config as JSON in the metadata), then `latest.json` pointing at it, then removes all but the two
 * newest step folders. Returns the step folder's path. docs/methods/lm-training.md §2.
 *
 * @example await lm.saveCheckpoint('runs/brown-lm', model, tokenizer, state, training); // runs/brown-lm/step-00000500
 */
export async function saveLmCheckpoint(dir: string, model: Lm, tokenizer: WordTokenizer, state: LmTrainerState, training: LmTraining): Promise<string> {
  const where = 'lm.saveCheckpoint';
  checkFolder(where, 'dir', dir);
  const json = checkModelAndTokenizer(where, model, tokenizer);
  if (typeof state !== 'object' || state === null || !(state.m instanceof Map) || !(state.v instanceof Map) || !Number.isInteger(state.step) || state.step < 0) {
    throw new NestlabArgumentError(where, 'state', 'a trainer state (createLmTrainerState)', state);
  }
  const cfg = asCaller(where, () => lmTraining(training), 'training.');
  const step = state.step;
  const hash = lmArchitectureHash(model.architecture);
  const folderName = `step-${String(step).padStart(8, '0')}`;
  const folder = join(dir, folderName);
  // Everything is read and checked before the first file is written.
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, shape] of parameterShapes(model.architecture)) {
    for (const [prefix, moments] of [['adam_m', state.m], ['adam_v', state.v]] as const) {
      const v = moments.get(name);
      if (v === undefined || v.isDisposed || v.shape.join(',') !== shape.join(',')) {
        throw new NestlabArgumentError(where, `state.${prefix === 'adam_m' ? 'm' : 'v'} ${name}`, `a live variable of shape [${shape.join(', ')}]`, v === undefined ? 'none' : `[${v.shape.join(', ')}]`);
      }
      const data = await variableValues(v);
      checkFinite(where, `state.${prefix === 'adam_m' ? 'm' : 'v'} ${name}`, data);
      tensors[`${prefix}.${name}`] = { dtype: 'F32', shape, data };
    }
  }
  const weights = await modelTensors(where, model);
  writeFolderAtomic(folder, (tmp) => {
    writeModelFolder(where, model.architecture, weights, json, tmp);
    writeSafetensors(join(tmp, 'trainer_state.safetensors'), tensors, {
      format: LM_CHECKPOINT_FORMAT,
      version: String(LM_CHECKPOINT_VERSION),
      step: String(step),
      config_hash: hash,
      training: JSON.stringify(cfg),
    }, where);
  }, where);
  commitCheckpoint(dir, folderName, { format: LM_CHECKPOINT_FORMAT, version: LM_CHECKPOINT_VERSION, step, folder: folderName, config_hash: hash }, KEEP, where);
  return folder;
}

/** What {@link loadLmCheckpoint} returns. */
export interface LmCheckpoint {
  /** The weights of the checkpoint's step. */
  model: Lm;
  /** The tokenizer saved with them. */
  tokenizer: WordTokenizer;
  /** AdamW's moments and the step, as variables ready for `lmTrainStep`. */
  state: LmTrainerState;
  /** The training config of the run that wrote the checkpoint. */
  training: LmTraining;
}

/**
 * Loads the latest checkpoint under `dir` (model, tokenizer, AdamW state, training config), or
 * null when `dir` has no latest.json. Refuses (naming the file) a trainer state whose
 * architecture hash differs from the weights' or latest.json's, and moments of the wrong shape.
 * The caller owns the returned variables: free them with `disposeLm` and `disposeLmTrainerState`.
 * docs/methods/lm-training.md §2.
 *
 * @example const ck = lm.loadCheckpoint('runs/brown-lm'); // ck?.state.step is where a resume starts
 */
export function loadLmCheckpoint(dir: string, where = 'lm.loadCheckpoint'): LmCheckpoint | null {
  checkFolder(where, 'dir', dir);
  if (!existsSync(join(dir, 'latest.json'))) return null;
  const resolved = resolveModelFolder(where, dir);
  if (resolved === null || resolved.latest === null) {
    throw new NestlabArgumentError(where, 'dir', 'a checkpoint folder (latest.json and step folders), not a model folder', dir);
  }
  const { folder, latest } = resolved;
  const { model, tokenizer } = readModelFolder(where, folder);
  const m = new Map<string, tf.Variable>();
  const v = new Map<string, tf.Variable>();
  try {
    const hash = lmArchitectureHash(model.architecture);
    const latestPath = join(dir, 'latest.json');
    if (latest.config_hash !== hash) throw new NestlabArgumentError(where, `config_hash in ${latestPath}`, `${hash} (the hash of the architecture in ${join(folder, 'cfg.json')})`, got(latest.config_hash));
    const statePath = join(folder, 'trainer_state.safetensors');
    if (!existsSync(statePath)) throw new NestlabArgumentError(where, 'dir', `a checkpoint with ${statePath}`, 'a step folder without trainer state');
    const { tensors, metadata } = asCaller(where, () => readSafetensors(statePath));
    if (metadata.config_hash !== hash) {
      throw new NestlabArgumentError(where, `config_hash in ${statePath}`, `${hash} (the hash of the architecture in ${join(folder, 'cfg.json')})`, got(metadata.config_hash));
    }
    const step = Number(metadata.step);
    if (metadata.step === undefined || !Number.isInteger(step) || step < 0 || step !== latest.step) {
      throw new NestlabArgumentError(where, `step in ${statePath}`, `the step of ${latestPath} (${describe(got(latest.step))})`, got(metadata.step));
    }
    let trainingJson: unknown;
    try {
      trainingJson = JSON.parse(metadata.training ?? '');
    } catch {
      throw new NestlabArgumentError(where, `training in ${statePath}`, 'the training config as JSON', got(metadata.training ?? 'none'));
    }
    if (typeof trainingJson !== 'object' || trainingJson === null || Array.isArray(trainingJson)) {
      throw new NestlabArgumentError(where, `training in ${statePath}`, 'a JSON object (lm.training)', trainingJson);
    }
    const training = asCaller(where, () => checkRead(() => lmTraining(trainingJson as LmTraining)), 'training.', `in ${statePath}`);
    for (const [name, shape] of parameterShapes(model.architecture)) {
      for (const [prefix, moments] of [['adam_m', m], ['adam_v', v]] as const) {
        const t = tensors[`${prefix}.${name}`];
        if (t === undefined || !isFloat32Tensor(t) || t.shape.join(',') !== shape.join(',')) {
          throw new NestlabArgumentError(where, `tensor ${prefix}.${name} in ${statePath}`, `F32 of shape [${shape.join(', ')}]`, t === undefined ? 'none' : `${t.dtype} [${t.shape.join(', ')}]`);
        }
        checkFinite(where, `tensor ${prefix}.${name} in ${statePath}`, t.data as Float32Array);
        moments.set(name, tf.tidy(() => tf.variable(tf.tensor(t.data as Float32Array, shape, 'float32'), false)));
      }
    }
    return { model, tokenizer, state: { step, m, v }, training };
  } catch (e) {
    for (const x of [...m.values(), ...v.values(), ...model.params.values()]) x.dispose();
    throw e;
  }
}
