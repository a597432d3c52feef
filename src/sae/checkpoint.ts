/**
 * SAE checkpoints, laid out so SAELens-style tools can read the weights:
 *
 *   <dir>/latest.json                         {"version": 3, "step", "folder", "config_hash"}
 *   <dir>/step-00000100/cfg.json              SAELens v6 cfg (saelens.ts) + nestlab's architecture and training configs
 *   <dir>/step-00000100/sae_weights.safetensors   W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_in], b_dec (+ threshold [d_sae])
 *   <dir>/step-00000100/trainer_state.safetensors  Adam moments, samples-since-fired and latent-order EMA (F64); step, θ estimate, L1 controller in metadata
 *
 * A step folder is written under a hidden name and renamed into place when complete, and
 * `latest.json` is rewritten (atomically) last, so a crash leaves the previous checkpoint in force.
 * The two newest step folders are kept. The batch order is a pure
 * function of (seed, epoch, index), so no RNG state needs saving: (weights, Adam state, dead
 * counters, θ, step) resume a run exactly.
 *
 * Hand-written: a thin mapping between nestlab's arrays and the safetensors / JSON files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { commitCheckpoint, readJsonObject, writeFileAtomic, writeFolderAtomic } from '../data/files.js';
import { fileText, readSafetensors, writeSafetensors, type NamedTensor } from '../data/safetensors.js';
import { NestlabArgumentError, checkKnownKeys, checkNumber, checkOneOf, describe } from '../errors.js';
import { architectureHash } from './config.js';
import type { Sae } from './model.js';
import { readSaeLens, tensorAs, writeSaeLens, SAE_DTYPES, type SaeDtype, type SaeLensRead, type SaeLensReadOptions } from './saelens.js';
import type { TrainerState } from './state.js';

/**
 * Format version of nestlab checkpoints. 3: SAELens v6 cfg.json (BatchTopK saved as JumpReLU),
 * θ per latent, the θ estimate's state in the trainer state. 2: architecture and training
 * configs apart, the hash covers the architecture only. 1: one combined config. All load.
 */
export const CHECKPOINT_VERSION = 3;
const READABLE_VERSIONS = [1, 2, 3];

const KEEP = 2;

function f32(shape: number[], data: Float32Array): NamedTensor {
  return { dtype: 'F32', shape, data };
}

/**
 * Saves `sae` (and the trainer `state`, if given) as a new step folder under `dir` and points
 * latest.json at it. Returns the step folder's path. The step folder is written in full under a
 * hidden name and renamed into place, and latest.json is rewritten only after that, so a process
 * killed at any moment leaves the previous checkpoint in force and no half-written one under a
 * step name. A write that fails (full or read-only disk) throws a NestlabIoError naming the file.
 */
export function saveCheckpoint(dir: string, sae: Sae, state: TrainerState | null = null, where = 'sae.train'): string {
  const { dIn: d, dSae: m } = sae.cfg;
  const step = state?.step ?? 0;
  const hash = architectureHash(sae.cfg);
  const folderName = `step-${String(step).padStart(8, '0')}`;
  const folder = join(dir, folderName);
  writeFolderAtomic(folder, (tmp) => {
    writeSaeFolder(sae, tmp, 'float32', where);
    if (state === null) return;
    const t: Record<string, NamedTensor> = {};
    for (const [name, key, shape] of [
      ['W_enc', 'wEnc', [d, m]],
      ['b_enc', 'bEnc', [m]],
      ['W_dec', 'wDec', [m, d]],
      ['b_dec', 'bDec', [d]],
    ] as const) {
      t[`adam_m.${name}`] = f32([...shape], state.adamM[key]);
      t[`adam_v.${name}`] = f32([...shape], state.adamV[key]);
    }
    t.tokens_since_fired = { dtype: 'F64', shape: [m], data: state.tokensSinceFired };
    t.latent_order_ema = { dtype: 'F64', shape: [m], data: state.latentEma };
    writeSafetensors(join(tmp, 'trainer_state.safetensors'), t, {
      step: String(step),
      threshold_ema: String(state.thresholdEma),
      threshold_updates: String(state.thresholdUpdates),
      l1_scale: String(state.l1Scale),
      config_hash: hash,
      nestlab_checkpoint_version: String(CHECKPOINT_VERSION),
    }, where);
  }, where);
  commitCheckpoint(dir, folderName, { version: CHECKPOINT_VERSION, step, folder: folderName, config_hash: hash }, KEEP, where);
  return folder;
}

/** Options of `sae.save` (`saveSae`). */
export interface SaveSaeOptions {
  /** Precision of the saved weights (SAELens cfg `dtype`). Default 'float32'. */
  dtype?: SaeDtype;
}

/**
 * Writes an SAE as a SAELens v6 folder: cfg.json + sae_weights.safetensors (W_enc [d_in, d_sae],
 * b_enc, W_dec [d_sae, d_in], b_dec, and θ per latent for JumpReLU), which SAELens'
 * `SAE.load_from_disk` reads. A BatchTopK SAE with its θ is saved as SAELens saves one, as a
 * 'jumprelu' SAE; nestlab's own configs ride along so `sae.load` gets the same SAE back.
 * `options.dtype` 'float16' / 'bfloat16' rounds the weights (to nearest even). docs/methods/msae.md §8.
 *
 * @example sae.save(model, 'runs/mnist-sae/final'); // writes cfg.json and sae_weights.safetensors there
 */
export function saveSae(sae: Sae, folder: string, options: SaveSaeOptions = {}): void {
  const where = 'sae.save';
  if (typeof folder !== 'string' || folder === '') throw new NestlabArgumentError(where, 'folder', 'a folder path', folder);
  checkKnownKeys(where, options, ['dtype']);
  const dtype = checkOneOf(where, 'options.dtype', options.dtype ?? 'float32', SAE_DTYPES);
  writeSaeFolder(sae, folder, dtype, where);
}

/** The two files of a SAELens folder: the weights first, cfg.json last. */
function writeSaeFolder(sae: Sae, folder: string, dtype: SaeDtype, where: string): void {
  const { cfg, tensors } = writeSaeLens(sae, dtype, CHECKPOINT_VERSION);
  writeSafetensors(join(folder, 'sae_weights.safetensors'), tensors, { config_hash: String(cfg.config_hash), nestlab_checkpoint_version: String(CHECKPOINT_VERSION) }, where);
  writeFileAtomic(join(folder, 'cfg.json'), `${JSON.stringify(cfg, null, 2)}\n`, where);
}

/** The step folder `path` points at: itself if it has sae_weights.safetensors, else latest.json's folder. */
function resolveFolder(path: string): string | null {
  if (existsSync(join(path, 'sae_weights.safetensors'))) return path;
  const latest = join(path, 'latest.json');
  if (!existsSync(latest)) return null;
  const j = readJsonObject('sae.load', latest);
  // Only numbers and strings are converted: Number() of an object from JSON may throw.
  const version = typeof j.version === 'number' || typeof j.version === 'string' ? Number(j.version) : NaN;
  if (!READABLE_VERSIONS.includes(version)) {
    throw new NestlabArgumentError('sae.load', 'checkpoint', `version ${READABLE_VERSIONS.join(', ')}`, `version ${typeof j.version === 'string' ? fileText(j.version) : describe(j.version)}`);
  }
  if (typeof j.folder !== 'string' || !/^step-\d+$/.test(j.folder)) {
    throw new NestlabArgumentError('sae.load', `folder in ${latest}`, 'the name of a step folder (step-NNNNNNNN)', typeof j.folder === 'string' ? fileText(j.folder) : j.folder);
  }
  return join(path, j.folder);
}

/**
 * Loads an SAE from a folder: nestlab's checkpoints (a step folder, or a folder with
 * latest.json) or any SAELens folder (cfg.json + sae_weights.safetensors) of architecture
 * 'standard', 'topk', 'jumprelu' (BatchTopK SAEs as SAELens saves them) or a BatchTopK training
 * checkpoint; F32, F64, F16 and BF16 weights. SAELens' conventions are kept as it defines them
 * (see `sae.encode`); `options.prefixes` gives Matryoshka widths a SAELens inference cfg no longer
 * records, `options.scalingFactor` the factor of 'expected_average_only_in'. Anything else, or
 * tensors whose shapes do not match the cfg, is refused with an error naming it. docs/methods/msae.md §8.
 *
 * @example const model = sae.load('runs/mnist-sae'); // the step folder latest.json points at
 */
export function loadSae(path: string, options: SaeLensReadOptions = {}): Sae {
  const where = 'sae.load';
  checkKnownKeys(where, options, ['prefixes', 'scalingFactor']);
  if (options.scalingFactor !== undefined) checkNumber(where, 'options.scalingFactor', options.scalingFactor, 0);
  if (typeof path !== 'string' || path === '') throw new NestlabArgumentError(where, 'path', 'a folder path', path);
  const folder = resolveFolder(path);
  if (folder === null) throw new NestlabArgumentError(where, 'path', 'a folder with cfg.json + sae_weights.safetensors or latest.json', path);
  return loadFolder(folder, options).sae;
}

/** `readSafetensors`, its errors under the name of the function the user called. */
function readTensorsAs(where: string, path: string): ReturnType<typeof readSafetensors> {
  try {
    return readSafetensors(path);
  } catch (e) {
    if (e instanceof NestlabArgumentError && e.where !== where) throw new NestlabArgumentError(where, e.argument, e.expected, e.got);
    throw e;
  }
}

function loadFolder(folder: string, options: SaeLensReadOptions = {}): SaeLensRead {
  const where = 'sae.load';
  const cfgPath = join(folder, 'cfg.json');
  if (!existsSync(cfgPath)) throw new NestlabArgumentError(where, 'path', 'a folder containing cfg.json', folder);
  const json = readJsonObject(where, cfgPath);
  const { tensors } = readTensorsAs(where, join(folder, 'sae_weights.safetensors'));
  // SAELens keeps the factor of 'expected_average_only_in' beside mid-training checkpoints.
  const scalerPath = join(folder, 'activation_scaler.json');
  const scaler = existsSync(scalerPath) ? readJsonObject(where, scalerPath).scaling_factor : undefined;
  return readSaeLens(where, json, tensors, options, typeof scaler === 'number' ? scaler : undefined);
}

/**
 * Loads the latest checkpoint under `dir` with its trainer state, or null when there is none.
 * Errors if the state's config hash differs from the weights' or its shapes do not match.
 */
export function loadCheckpoint(dir: string): { sae: Sae; state: TrainerState | null } | null {
  const where = 'sae.train';
  const folder = resolveFolder(dir);
  if (folder === null) return null;
  const { sae, hash } = loadFolder(folder);
  const statePath = join(folder, 'trainer_state.safetensors');
  if (!existsSync(statePath)) return { sae, state: null };
  const { tensors, metadata } = readTensorsAs(where, statePath);
  if (metadata.config_hash !== hash) {
    throw new NestlabArgumentError(where, 'trainer_state.safetensors', `config hash ${hash} (as the weights)`, metadata.config_hash === undefined ? undefined : fileText(metadata.config_hash));
  }
  const step = /^\d+$/.test(metadata.step ?? '') ? Number(metadata.step) : Number.NaN; // Number('') would be 0
  if (!Number.isSafeInteger(step) || step < 0) throw new NestlabArgumentError(where, 'step in trainer_state.safetensors', 'a step count (an integer ≥ 0)', metadata.step === undefined ? undefined : fileText(metadata.step));
  const { dIn: d, dSae: m } = sae.cfg;
  const moments = (prefix: string) => ({
    wEnc: tensorAs(where, tensors, `${prefix}.W_enc`, [d, m]),
    bEnc: tensorAs(where, tensors, `${prefix}.b_enc`, [m]),
    wDec: tensorAs(where, tensors, `${prefix}.W_dec`, [m, d]),
    bDec: tensorAs(where, tensors, `${prefix}.b_dec`, [d]),
  });
  const tsf = tensors.tokens_since_fired;
  if (tsf === undefined || tsf.dtype !== 'F64' || tsf.shape.length !== 1 || tsf.shape[0] !== m) {
    throw new NestlabArgumentError(where, 'tokens_since_fired', `an F64 tensor of shape [${m}]`, tsf ? `${tsf.dtype} [${tsf.shape.join(', ')}]` : 'none');
  }
  // Version ≤ 2 kept θ itself (a plain EMA, -1 before the first update): resume it as converged.
  const old = Number(metadata.threshold ?? -1);
  const ema = metadata.threshold_ema !== undefined ? Number(metadata.threshold_ema) : Math.max(0, old);
  const updates = metadata.threshold_updates !== undefined ? Number(metadata.threshold_updates) : old >= 0 ? Number.MAX_SAFE_INTEGER : 0;
  return {
    sae,
    state: {
      step,
      adamM: moments('adam_m'),
      adamV: moments('adam_v'),
      tokensSinceFired: (tsf.data as Float64Array).slice(),
      thresholdEma: ema,
      thresholdUpdates: updates,
      l1Scale: Number(metadata.l1_scale ?? 0),
      latentEma: tensors.latent_order_ema?.data instanceof Float64Array && tensors.latent_order_ema.data.length === m ? tensors.latent_order_ema.data.slice() : new Float64Array(m),
    },
  };
}
