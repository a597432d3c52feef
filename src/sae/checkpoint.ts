/**
 * SAE checkpoints, laid out so SAELens-style tools can read the weights:
 *
 *   <dir>/latest.json                         {"version": 2, "step", "folder", "config_hash"}
 *   <dir>/step-00000100/cfg.json              SAELens-style cfg (d_in, d_sae, k, matryoshka_widths, …) + nestlab's architecture and training configs
 *   <dir>/step-00000100/sae_weights.safetensors   W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_in], b_dec (+ threshold)
 *   <dir>/step-00000100/trainer_state.safetensors  Adam moments, samples-since-fired (F64); step/θ in metadata
 *
 * Every file is written atomically (temp + rename) and `latest.json` last, so a crash leaves the
 * previous checkpoint in force. The two newest step folders are kept. The batch order is a pure
 * function of (seed, epoch, index), so no RNG state needs saving: (weights, Adam state, dead
 * counters, θ, step) resume a run exactly.
 *
 * Hand-written: a thin mapping between nestlab's arrays and the safetensors / JSON files.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NestlabArgumentError } from '../errors.js';
import { writeFileAtomic } from '../data/files.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../data/safetensors.js';
import { architectureHash, fromSaeLensCfg, toSaeLensCfg } from './config.js';
import type { Sae } from './model.js';
import type { TrainerState } from './state.js';

/**
 * Format version of nestlab checkpoints. 2: architecture and training configs apart, the hash
 * covers the architecture only. Version 1 folders (one combined config) still load.
 */
export const CHECKPOINT_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

const KEEP = 2;

function f32(shape: number[], data: Float32Array): NamedTensor {
  return { dtype: 'F32', shape, data };
}

/**
 * Saves `sae` (and the trainer `state`, if given) as a new step folder under `dir` and points
 * latest.json at it. Returns the step folder's path.
 */
export function saveCheckpoint(dir: string, sae: Sae, state: TrainerState | null = null): string {
  const { dIn: d, dSae: m } = sae.cfg;
  const step = state?.step ?? 0;
  const hash = architectureHash(sae.cfg);
  const folderName = `step-${String(step).padStart(8, '0')}`;
  const folder = join(dir, folderName);
  saveSae(sae, folder);
  if (state !== null) {
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
    writeSafetensors(join(folder, 'trainer_state.safetensors'), t, {
      step: String(step),
      threshold: String(sae.threshold),
      config_hash: hash,
      nestlab_checkpoint_version: String(CHECKPOINT_VERSION),
    });
  }
  writeFileAtomic(join(dir, 'latest.json'), `${JSON.stringify({ version: CHECKPOINT_VERSION, step, folder: folderName, config_hash: hash }, null, 2)}\n`);
  // keep the newest KEEP step folders
  const steps = readdirSync(dir).filter((n) => /^step-\d+$/.test(n) && statSync(join(dir, n)).isDirectory()).sort();
  for (const old of steps.slice(0, Math.max(0, steps.length - KEEP))) if (old !== folderName) rmSync(join(dir, old), { recursive: true, force: true });
  return folder;
}

/**
 * Writes an SAE's weights (sae_weights.safetensors, SAELens names) and cfg.json into `folder`.
 * For BatchTopK with an estimated θ, also a per-latent `threshold` [d_sae] (SAELens JumpReLU form).
 * Layout: docs/methods/msae.md §8 (SAELens v6 tensor names W_enc [d_in, d_sae], b_enc, W_dec
 * [d_sae, d_in], b_dec).
 *
 * @example sae.save(model, 'runs/mnist-sae/final'); // writes cfg.json and sae_weights.safetensors there
 */
export function saveSae(sae: Sae, folder: string): void {
  if (typeof folder !== 'string' || folder === '') throw new NestlabArgumentError('sae.save', 'folder', 'a folder path', folder);
  const { dIn: d, dSae: m } = sae.cfg;
  const p = sae.params;
  const tensors: Record<string, NamedTensor> = {
    W_enc: f32([d, m], p.wEnc),
    b_enc: f32([m], p.bEnc),
    W_dec: f32([m, d], p.wDec),
    b_dec: f32([d], p.bDec),
  };
  if (sae.cfg.activation === 'batchtopk' && sae.threshold >= 0) tensors.threshold = f32([m], new Float32Array(m).fill(sae.threshold));
  const hash = architectureHash(sae.cfg);
  writeSafetensors(join(folder, 'sae_weights.safetensors'), tensors, { config_hash: hash, nestlab_checkpoint_version: String(CHECKPOINT_VERSION) });
  const cfg = { ...toSaeLensCfg(sae.cfg, sae.training), threshold: sae.threshold, nestlab_checkpoint_version: CHECKPOINT_VERSION };
  writeFileAtomic(join(folder, 'cfg.json'), `${JSON.stringify(cfg, null, 2)}\n`);
}

function expectShape(where: string, name: string, t: NamedTensor | undefined, shape: number[]): Float32Array {
  if (t === undefined) throw new NestlabArgumentError(where, name, `a tensor of shape [${shape.join(', ')}] in the checkpoint`, 'none');
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new NestlabArgumentError(where, name, `shape [${shape.join(', ')}] (from cfg.json)`, `shape [${t.shape.join(', ')}]`);
  }
  if (t.dtype === 'F32') return (t.data as Float32Array).slice();
  if (t.dtype === 'F64') return Float32Array.from(t.data as Float64Array);
  throw new NestlabArgumentError(where, name, 'an F32 or F64 tensor', t.dtype);
}

/** The step folder `path` points at: itself if it has sae_weights.safetensors, else latest.json's folder. */
function resolveFolder(path: string): string | null {
  if (existsSync(join(path, 'sae_weights.safetensors'))) return path;
  const latest = join(path, 'latest.json');
  if (!existsSync(latest)) return null;
  const j = JSON.parse(readFileSync(latest, 'utf8')) as { version?: number; folder?: string };
  if (!READABLE_VERSIONS.includes(Number(j.version))) {
    throw new NestlabArgumentError('sae.load', 'checkpoint', `version ${READABLE_VERSIONS.join(' or ')}`, `version ${j.version}`);
  }
  return join(path, String(j.folder));
}

/**
 * Loads an SAE from a checkpoint folder (a step folder, a folder with latest.json, or any folder
 * with SAELens' cfg.json + sae_weights.safetensors). Rejects tensors whose shapes do not match
 * the cfg with an error naming the tensor and both shapes. Format: docs/methods/msae.md §8.
 *
 * @example const model = sae.load('runs/mnist-sae'); // the step folder latest.json points at
 */
export function loadSae(path: string): Sae {
  const folder = resolveFolder(path);
  if (folder === null) throw new NestlabArgumentError('sae.load', 'path', 'a folder with cfg.json + sae_weights.safetensors or latest.json', path);
  return loadFolder(folder).sae;
}

function loadFolder(folder: string): { sae: Sae; hash: string } {
  const where = 'sae.load';
  const cfgPath = join(folder, 'cfg.json');
  if (!existsSync(cfgPath)) throw new NestlabArgumentError(where, 'path', 'a folder containing cfg.json', folder);
  const json = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  const { architecture: cfg, training } = fromSaeLensCfg(json, where);
  const { tensors } = readSafetensors(join(folder, 'sae_weights.safetensors'));
  const { dIn: d, dSae: m } = cfg;
  const params = {
    wEnc: expectShape(where, 'W_enc', tensors.W_enc, [d, m]),
    bEnc: expectShape(where, 'b_enc', tensors.b_enc, [m]),
    wDec: expectShape(where, 'W_dec', tensors.W_dec, [m, d]),
    bDec: expectShape(where, 'b_dec', tensors.b_dec, [d]),
  };
  let threshold = typeof json.threshold === 'number' ? json.threshold : -1;
  if (threshold < 0 && tensors.threshold !== undefined) threshold = expectShape(where, 'threshold', tensors.threshold, [m])[0];
  // The hash cfg.json was written with (version 1 hashed both configs), to match the trainer state's.
  const hash = typeof json.config_hash === 'string' ? json.config_hash : architectureHash(cfg);
  return { sae: { cfg, params, threshold, ...(training ? { training } : {}) }, hash };
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
  const { tensors, metadata } = readSafetensors(statePath);
  if (metadata.config_hash !== hash) {
    throw new NestlabArgumentError(where, 'trainer_state.safetensors', `config hash ${hash} (as the weights)`, metadata.config_hash);
  }
  const { dIn: d, dSae: m } = sae.cfg;
  const moments = (prefix: string) => ({
    wEnc: expectShape(where, `${prefix}.W_enc`, tensors[`${prefix}.W_enc`], [d, m]),
    bEnc: expectShape(where, `${prefix}.b_enc`, tensors[`${prefix}.b_enc`], [m]),
    wDec: expectShape(where, `${prefix}.W_dec`, tensors[`${prefix}.W_dec`], [m, d]),
    bDec: expectShape(where, `${prefix}.b_dec`, tensors[`${prefix}.b_dec`], [d]),
  });
  const tsf = tensors.tokens_since_fired;
  if (tsf === undefined || tsf.dtype !== 'F64' || tsf.shape.length !== 1 || tsf.shape[0] !== m) {
    throw new NestlabArgumentError(where, 'tokens_since_fired', `an F64 tensor of shape [${m}]`, tsf ? `${tsf.dtype} [${tsf.shape.join(', ')}]` : 'none');
  }
  sae.threshold = Number(metadata.threshold ?? sae.threshold);
  return {
    sae,
    state: {
      step: Number(metadata.step),
      adamM: moments('adam_m'),
      adamV: moments('adam_v'),
      tokensSinceFired: (tsf.data as Float64Array).slice(),
    },
  };
}
