/**
 * SAELens interop: what a SAELens folder (cfg.json + sae_weights.safetensors) means in nestlab's
 * terms, and the folder nestlab writes so that SAELens' `SAE.load_from_disk` reads it back.
 * Definitions follow SAELens v6 (github.com/decoderesearch/SAELens, `saes/sae.py`,
 * `standard_sae.py`, `topk_sae.py`, `jumprelu_sae.py`, `batchtopk_sae.py`,
 * `loading/pretrained_sae_loaders.py`), summarized in docs/methods/msae.md §8:
 *
 * - architectures read: 'standard' (ReLU), 'topk', 'jumprelu' (θ per latent), 'matching_pursuit'
 *   (tied, W_dec and b_dec only; read when it runs exactly max_iterations steps), and the training
 *   checkpoints 'batchtopk' / 'matryoshka_batchtopk' (a scalar `topk_threshold`); anything else
 *   (gated, transcoders, ...) is refused with the list of what is supported.
 * - `apply_b_dec_to_input` and `normalize_activations` ('none', 'constant_norm_rescale',
 *   'layer_norm') are kept in the architecture and honored by encode/decode;
 *   'expected_average_only_in' is folded into the weights with its scaling factor s
 *   (W_enc·s, W_dec/s, b_dec/s, as SAELens' `fold_activation_norm_scaling_factor`), taken from
 *   activation_scaler.json or the caller; without s the load is refused.
 * - TopK's `rescale_acts_by_decoder_norm` is folded (W_dec_i/n_i, W_enc[:, i]·n_i, b_enc_i·n_i,
 *   n_i = ‖W_dec_i‖), which leaves the codes SAELens returns unchanged.
 * - `dtype` (required by SAELens) rounds the weights to that precision; nestlab computes in float32.
 * - cfg.json files older than SAELens 6 (no `sae_lens_version`) are converted as SAELens does.
 *
 * Writing: ReLU → 'standard', TopK → 'topk', JumpReLU → 'jumprelu', BatchTopK with θ → 'jumprelu'
 * with θ per latent (as SAELens saves BatchTopK SAEs for inference), BatchTopK before θ is
 * estimated → SAELens' training form 'batchtopk' / 'matryoshka_batchtopk', MP → 'matching_pursuit'
 * (W_dec and b_dec; `max_iterations` k, no early stops). nestlab's own configs
 * ride along as extra keys (SAELens drops unknown keys), with `matryoshka_widths`.
 *
 * Hand-written: a mapping between two configurations; no package reads SAELens folders in JS.
 */
import { NestlabArgumentError, describe } from '../errors.js';
import { fileText, float32ToHalfBits, halfBitsToFloat32, type NamedTensor, type SafetensorsDtype } from '../data/safetensors.js';
import { architectureHash, saeArchitecture, saeTraining, ARCHITECTURE_FIELDS, TRAINING_FIELDS, type SaeArchitecture, type SaeArchitectureInput, type SaeTraining, type SaeTrainingInput } from './config.js';
import { tiedEncoderWeights, type Sae, type SaeParams } from './model.js';

/** The SAELens version whose cfg.json layout nestlab writes (SAELens reads a cfg without one as a pre-6 legacy cfg). */
export const SAELENS_FORMAT_VERSION = '6.18.0';

/** The architectures a SAELens folder may declare and nestlab reads. */
export const SAELENS_ARCHITECTURES = ['standard', 'topk', 'jumprelu', 'batchtopk', 'matryoshka_batchtopk', 'matching_pursuit'] as const;

/** Weight precisions of a saved SAE (SAELens' cfg `dtype`). */
export const SAE_DTYPES = ['float32', 'float16', 'bfloat16'] as const;
/** One of `SAE_DTYPES`. */
export type SaeDtype = (typeof SAE_DTYPES)[number];

const SAFETENSORS_DTYPE: Record<SaeDtype, SafetensorsDtype> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };

/** Options of `sae.load` (`loadSae`): what a SAELens folder may not record. */
export interface SaeLensReadOptions {
  /** Matryoshka prefix sizes, for folders that do not record them (SAELens' inference cfg drops `matryoshka_widths`). */
  prefixes?: number[];
  /** The factor s of `normalize_activations: 'expected_average_only_in'` when the folder has no activation_scaler.json. */
  scalingFactor?: number;
}

/** What a folder holds, in nestlab's terms. */
export interface SaeLensRead {
  sae: Sae;
  /** The architecture hash the folder was written with (nestlab checkpoints), else the hash of the architecture read. */
  hash: string;
}

type Json = Record<string, unknown>;

/** A cfg value for an error message: strings from the file on one short line, other values as they are. */
function got(value: unknown): unknown {
  return typeof value === 'string' ? fileText(value) : value;
}

/** `data`'s entries rounded to the precision of `dtype` (cfg dtype; computations stay float32). */
function roundTo(dtype: string, data: Float32Array): Float32Array {
  if (dtype === 'float16') return halfBitsToFloat32(float32ToHalfBits(data, 'F16'), 'F16');
  if (dtype === 'bfloat16') return halfBitsToFloat32(float32ToHalfBits(data, 'BF16'), 'BF16');
  return data;
}

/** SAELens' dtype names: float32 | float64 | float16 | bfloat16, optionally prefixed "torch.". */
function readDtype(where: string, json: Json): string {
  const raw = json.dtype;
  const name = typeof raw === 'string' ? raw.replace(/^torch\./, '') : raw;
  if (name !== 'float32' && name !== 'float64' && name !== 'float16' && name !== 'bfloat16') {
    throw new NestlabArgumentError(where, 'cfg.dtype', 'one of "float32", "float64", "float16", "bfloat16" (optionally "torch."-prefixed; SAELens requires it)', got(raw));
  }
  return name;
}

/** A float tensor of the given shape as float32 (a copy), or an error naming it and both shapes. */
export function tensorAs(where: string, tensors: Record<string, NamedTensor>, name: string, shape: number[]): Float32Array {
  const t = tensors[name];
  if (t === undefined) throw new NestlabArgumentError(where, name, `a tensor of shape [${shape.join(', ')}] in sae_weights.safetensors`, 'none');
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new NestlabArgumentError(where, name, `shape [${shape.join(', ')}] (from cfg.json)`, `shape [${t.shape.join(', ')}]`);
  }
  if (t.data instanceof Float32Array) return t.data.slice();
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new NestlabArgumentError(where, name, 'a float tensor (F32, F64, F16 or BF16)', t.dtype);
}

/**
 * SAELens' conversion of a pre-6 cfg (`handle_pre_6_0_config`): renamed keys, defaults, TopK from
 * `activation_fn_kwargs.k`, a boolean `normalize_activations`.
 */
function legacyToV6(where: string, json: Json): Json {
  const c: Json = { ...json };
  const rename: [string, string][] = [['hook_point', 'hook_name'], ['hook_point_head_index', 'hook_head_index'], ['activation_fn_str', 'activation_fn']];
  for (const [from, to] of rename) if (from in c && !(to in c)) c[to] = c[from];
  c.apply_b_dec_to_input ??= true;
  c.architecture ??= 'standard';
  c.activation_fn ??= 'relu';
  const kwargs = c.activation_fn_kwargs as Json | undefined;
  if (c.activation_fn === 'topk' && typeof kwargs?.k === 'number') {
    c.architecture = 'topk';
    c.k = kwargs.k;
  } else if (c.architecture === 'topk' && typeof kwargs?.k === 'number') c.k = kwargs.k;
  if (c.activation_fn !== 'relu' && c.activation_fn !== 'topk') {
    // SAELens 6 would load e.g. "tanh-relu" as plain ReLU; refuse rather than compute something else.
    throw new NestlabArgumentError(where, 'cfg.activation_fn', '"relu" or "topk" (legacy cfg)', got(c.activation_fn));
  }
  if (c.normalize_activations === true) c.normalize_activations = 'expected_average_only_in';
  else if (c.normalize_activations === false || c.normalize_activations === null || c.normalize_activations === undefined) c.normalize_activations = 'none';
  return c;
}

function saeLensVersion(json: Json): string | undefined {
  const meta = json.metadata as Json | undefined;
  const v = json.sae_lens_version ?? meta?.sae_lens_version;
  return typeof v === 'string' ? v : undefined;
}

/** W_dec_i ← W_dec_i/n_i, W_enc[:, i] ← n_i·W_enc[:, i], b_enc_i ← n_i·b_enc_i (SAELens `fold_W_dec_norm`). */
function foldDecoderNorms(p: SaeParams, d: number, m: number): void {
  for (let i = 0; i < m; i++) {
    let nn = 0;
    for (let j = 0; j < d; j++) nn += p.wDec[i * d + j] ** 2;
    const n = Math.sqrt(nn);
    if (n === 0) continue;
    for (let j = 0; j < d; j++) p.wDec[i * d + j] /= n;
    for (let j = 0; j < d; j++) p.wEnc[j * m + i] *= n;
    p.bEnc[i] *= n;
  }
}

/** W_enc·s, W_dec/s, b_dec/s (SAELens `fold_activation_norm_scaling_factor`): the SAE of inputs x·s, output ÷ s. */
function foldScalingFactor(p: SaeParams, s: number): void {
  for (let i = 0; i < p.wEnc.length; i++) p.wEnc[i] *= s;
  for (let i = 0; i < p.wDec.length; i++) p.wDec[i] /= s;
  for (let i = 0; i < p.bDec.length; i++) p.bDec[i] /= s;
}

/** Matryoshka prefixes: cfg `matryoshka_widths`, else the caller's, else flat; d_sae appended when missing. */
function readPrefixes(where: string, json: Json, dSae: number, given: number[] | undefined): number[] {
  const widths = Array.isArray(json.matryoshka_widths) ? (json.matryoshka_widths as number[]) : undefined;
  const w = given ?? widths ?? [dSae];
  if (!Array.isArray(w) || w.length === 0) throw new NestlabArgumentError(where, 'options.prefixes', 'a non-empty array of prefix sizes', w);
  return w[w.length - 1] === dSae ? [...w] : [...w, dSae];
}

/**
 * Reads a SAELens (or nestlab) cfg.json object and its safetensors tensors into an `Sae`.
 * `scalerFactor` is activation_scaler.json's factor when the folder has one.
 */
export function readSaeLens(where: string, json: Json, tensors: Record<string, NamedTensor>, options: SaeLensReadOptions, scalerFactor?: number): SaeLensRead {
  try {
    return readCfg(where, json, tensors, options, scalerFactor);
  } catch (e) {
    // A string from cfg.json that a validator refused (saeArchitecture, saeTraining) on one short line.
    if (e instanceof NestlabArgumentError && typeof e.got === 'string' && fileText(e.got) !== e.got) throw new NestlabArgumentError(e.where, e.argument, e.expected, fileText(e.got));
    throw e;
  }
}

function readCfg(where: string, json: Json, tensors: Record<string, NamedTensor>, options: SaeLensReadOptions, scalerFactor?: number): SaeLensRead {
  if (json.nestlab_architecture !== undefined || json.nestlab_config !== undefined) return readNestlab(where, json, tensors, options);
  const cfg = saeLensVersion(json) !== undefined && Number(saeLensVersion(json)!.split('.')[0]) >= 6 ? json : legacyToV6(where, json);
  const architecture = cfg.architecture;
  if (typeof architecture !== 'string' || !(SAELENS_ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new NestlabArgumentError(where, 'cfg.architecture', `one of ${SAELENS_ARCHITECTURES.map((a) => `"${a}"`).join(', ')} (gated SAEs and transcoders are not supported)`, got(architecture));
  }
  const dIn = cfg.d_in;
  const dSae = cfg.d_sae;
  if (typeof dIn !== 'number' || typeof dSae !== 'number') throw new NestlabArgumentError(where, 'cfg', 'a cfg with numeric d_in and d_sae', `d_in ${describe(got(dIn))}, d_sae ${describe(got(dSae))}`);
  const dtype = readDtype(where, cfg);
  const applyBDecToInput = cfg.apply_b_dec_to_input ?? true;
  if (typeof applyBDecToInput !== 'boolean') throw new NestlabArgumentError(where, 'cfg.apply_b_dec_to_input', 'true or false', applyBDecToInput);
  let normalize = cfg.normalize_activations ?? 'none';
  if (typeof normalize !== 'string' || !['none', 'constant_norm_rescale', 'layer_norm', 'expected_average_only_in'].includes(normalize)) {
    throw new NestlabArgumentError(where, 'cfg.normalize_activations', '"none", "constant_norm_rescale", "layer_norm" or "expected_average_only_in"', got(normalize));
  }
  const reshape = cfg.reshape_activations ?? 'none';
  if (reshape !== 'none' && reshape !== 'hook_z') throw new NestlabArgumentError(where, 'cfg.reshape_activations', '"none" or "hook_z"', got(reshape));
  // hook_z only flattens [..., heads, d_head] into d_in columns: nestlab's rows are already flat.

  if (architecture === 'matching_pursuit') return readPursuit(where, cfg, tensors, dIn, dSae, readDtype(where, cfg), applyBDecToInput, normalize, options);
  const batchtopk = architecture === 'batchtopk' || architecture === 'matryoshka_batchtopk';
  const expected = ['W_enc', 'b_enc', 'W_dec', 'b_dec', ...(architecture === 'jumprelu' ? ['threshold'] : []), ...(batchtopk ? ['topk_threshold'] : [])];
  const legacyScale = ['scaling_factor', 'finetuning_scaling_factor'].filter((n) => n in tensors);
  const extra = Object.keys(tensors).filter((n) => !expected.includes(n) && !legacyScale.includes(n));
  if (extra.length > 0) throw new NestlabArgumentError(where, 'sae_weights.safetensors', `exactly the tensors ${expected.join(', ')} of a "${architecture}" SAE`, `also ${extra.join(', ')}`);
  const params: SaeParams = {
    wEnc: roundTo(dtype, tensorAs(where, tensors, 'W_enc', [dIn, dSae])),
    bEnc: roundTo(dtype, tensorAs(where, tensors, 'b_enc', [dSae])),
    wDec: roundTo(dtype, tensorAs(where, tensors, 'W_dec', [dSae, dIn])),
    bDec: roundTo(dtype, tensorAs(where, tensors, 'b_dec', [dIn])),
  };
  // SAELens 5's per-latent decoder scale (decode: (f·s)·W_dec), folded into W_dec.
  for (const name of legacyScale) {
    const s = tensorAs(where, tensors, name, [dSae]);
    for (let i = 0; i < dSae; i++) for (let j = 0; j < dIn; j++) params.wDec[i * dIn + j] *= s[i];
  }
  let threshold: Float32Array | null = null;
  if (architecture === 'jumprelu') threshold = roundTo(dtype, tensorAs(where, tensors, 'threshold', [dSae]));
  if (batchtopk) {
    const t = tensors.topk_threshold;
    if (t === undefined || t.data.length !== 1) throw new NestlabArgumentError(where, 'topk_threshold', 'a scalar tensor (SAELens BatchTopK training checkpoint)', t ? `shape [${t.shape.join(', ')}]` : 'none');
    const theta = Number(t.data[0]);
    if (theta > 0) threshold = new Float32Array(dSae).fill(theta); // SAELens starts it at 0: not estimated yet
  }
  const topkFamily = architecture === 'topk' || batchtopk;
  // SAELens' training configs of the TopK family default to rescaling by the decoder norms.
  const rescale = topkFamily && (cfg.rescale_acts_by_decoder_norm ?? (batchtopk ? true : false)) === true;
  if (rescale) foldDecoderNorms(params, dIn, dSae);
  if (normalize === 'expected_average_only_in') {
    const s = options.scalingFactor ?? scalerFactor;
    if (s === undefined || !(s > 0) || !Number.isFinite(s)) {
      throw new NestlabArgumentError(
        where, 'options.scalingFactor',
        "a positive factor for normalize_activations 'expected_average_only_in' (activation_scaler.json in the folder, or the release's norm_scaling_factor)",
        s,
      );
    }
    foldScalingFactor(params, s);
    normalize = 'none';
  }
  const k = topkFamily ? (typeof cfg.k === 'number' ? cfg.k : 100) : undefined; // 100: SAELens' TopKSAEConfig default
  const arch = saeArchitecture(
    {
      dIn, dSae,
      activation: architecture === 'standard' ? 'relu' : architecture === 'topk' ? 'topk' : architecture === 'jumprelu' ? 'jumprelu' : 'batchtopk',
      ...(k !== undefined ? { k } : {}),
      prefixes: readPrefixes(where, cfg, dSae, options.prefixes),
      applyBDecToInput,
      normalizeActivations: normalize as SaeArchitecture['normalizeActivations'],
    },
    where,
  );
  return { sae: { cfg: arch, params, threshold }, hash: architectureHash(arch) };
}

/**
 * A SAELens `matching_pursuit` SAE (tied: W_dec and b_dec). nestlab's pursuit runs exactly k
 * steps, so the folder must say the same: a numeric `max_iterations` (k), `residual_threshold` 0
 * and `stop_on_duplicate_support` false; SAELens' defaults (stop early) are refused loudly.
 */
function readPursuit(where: string, cfg: Json, tensors: Record<string, NamedTensor>, dIn: number, dSae: number, dtype: string, applyBDecToInput: boolean, normalize: string, options: SaeLensReadOptions): SaeLensRead {
  const extra = Object.keys(tensors).filter((n) => n !== 'W_dec' && n !== 'b_dec');
  if (extra.length > 0) throw new NestlabArgumentError(where, 'sae_weights.safetensors', 'exactly the tensors W_dec, b_dec of a "matching_pursuit" SAE', `also ${extra.join(', ')}`);
  const k = cfg.max_iterations;
  if (typeof k !== 'number') throw new NestlabArgumentError(where, 'cfg.max_iterations', 'the number of pursuit steps k (nestlab runs exactly k)', got(k));
  if ((cfg.residual_threshold ?? 1e-2) !== 0) throw new NestlabArgumentError(where, 'cfg.residual_threshold', '0 (nestlab runs exactly k steps, with no stop on a small residual)', got(cfg.residual_threshold ?? 1e-2));
  if ((cfg.stop_on_duplicate_support ?? true) !== false) throw new NestlabArgumentError(where, 'cfg.stop_on_duplicate_support', 'false (nestlab runs exactly k steps, repeated atoms included)', got(cfg.stop_on_duplicate_support ?? true));
  if (normalize === 'expected_average_only_in') {
    throw new NestlabArgumentError(where, 'cfg.normalize_activations', '"none", "constant_norm_rescale" or "layer_norm" for a "matching_pursuit" SAE (scale the inputs instead)', normalize);
  }
  const wDec = roundTo(dtype, tensorAs(where, tensors, 'W_dec', [dSae, dIn]));
  const params: SaeParams = { wEnc: tiedEncoderWeights(wDec, dSae, dIn), bEnc: new Float32Array(dSae), wDec, bDec: roundTo(dtype, tensorAs(where, tensors, 'b_dec', [dIn])) };
  const arch = saeArchitecture(
    { dIn, dSae, activation: 'mp', k, prefixes: readPrefixes(where, cfg, dSae, options.prefixes), applyBDecToInput, normalizeActivations: normalize as SaeArchitecture['normalizeActivations'] },
    where,
  );
  return { sae: { cfg: arch, params, threshold: null }, hash: architectureHash(arch) };
}

/** nestlab's own folders: the architecture and training configs it recorded. */
function readNestlab(where: string, json: Json, tensors: Record<string, NamedTensor>, options: SaeLensReadOptions): SaeLensRead {
  let architecture: SaeArchitecture;
  let training: SaeTraining | undefined;
  if (json.nestlab_architecture !== undefined) {
    architecture = saeArchitecture({ ...(json.nestlab_architecture as SaeArchitectureInput), ...(options.prefixes ? { prefixes: options.prefixes } : {}) }, where);
    const t = json.nestlab_training;
    if (t && typeof t === 'object') training = saeTraining(t as SaeTrainingInput, architecture, where);
  } else {
    // Version 1 kept both configs in one object (and called the learning rate `lr`).
    const all = { ...(json.nestlab_config as Json) };
    if ('lr' in all) {
      all.learningRate = all.lr;
      delete all.lr;
    }
    const pick = (fields: readonly string[]) => Object.fromEntries(Object.entries(all).filter(([k]) => fields.includes(k)));
    architecture = saeArchitecture(pick(ARCHITECTURE_FIELDS) as unknown as SaeArchitectureInput, where);
    training = saeTraining(pick(TRAINING_FIELDS) as SaeTrainingInput, architecture, where);
  }
  const { dIn: d, dSae: m } = architecture;
  const tied = architecture.activation === 'mp' && tensors.W_enc === undefined; // SAELens' MP-SAE: W_dec and b_dec only
  const wEnc = tied ? null : tensorAs(where, tensors, 'W_enc', [d, m]);
  const wDec = tensorAs(where, tensors, 'W_dec', [m, d]);
  const params: SaeParams = {
    wEnc: wEnc ?? tiedEncoderWeights(wDec, m, d),
    bEnc: tied ? new Float32Array(m) : tensorAs(where, tensors, 'b_enc', [m]),
    wDec,
    bDec: tensorAs(where, tensors, 'b_dec', [d]),
  };
  let threshold: Float32Array | null = null;
  if (tensors.threshold !== undefined) threshold = tensorAs(where, tensors, 'threshold', [m]);
  else if (typeof json.threshold === 'number' && json.threshold >= 0) threshold = new Float32Array(m).fill(json.threshold); // version ≤ 2: one θ in cfg.json
  // The hash cfg.json was written with (version 1 hashed both configs), to match the trainer state's.
  const hash = typeof json.config_hash === 'string' ? json.config_hash : architectureHash(architecture);
  return { sae: { cfg: architecture, params, threshold, ...(training ? { training } : {}) }, hash };
}

/** The architecture name SAELens gives an SAE of nestlab's. */
function saeLensArchitecture(sae: Sae): string {
  const a = sae.cfg.activation;
  if (a === 'relu') return 'standard';
  if (a === 'topk' || a === 'jumprelu') return a;
  if (a === 'mp') return 'matching_pursuit';
  if (sae.threshold !== null) return 'jumprelu';
  return sae.cfg.prefixes.length > 1 ? 'matryoshka_batchtopk' : 'batchtopk';
}

/**
 * The cfg.json object and the tensors SAELens reads for `sae` (see the module comment), weights
 * in `dtype`. nestlab's configs and the architecture hash ride along as extra keys.
 */
export function writeSaeLens(sae: Sae, dtype: SaeDtype, version: number): { cfg: Json; tensors: Record<string, NamedTensor> } {
  const { dIn: d, dSae: m } = sae.cfg;
  const architecture = saeLensArchitecture(sae);
  const st = SAFETENSORS_DTYPE[dtype];
  const p = sae.params;
  const tensors: Record<string, NamedTensor> = {
    W_enc: { dtype: st, shape: [d, m], data: p.wEnc },
    b_enc: { dtype: st, shape: [m], data: p.bEnc },
    W_dec: { dtype: st, shape: [m, d], data: p.wDec },
    b_dec: { dtype: st, shape: [d], data: p.bDec },
  };
  if (architecture === 'matching_pursuit') {
    // SAELens' MP-SAE is tied: W_dec and b_dec are its only parameters.
    delete tensors.W_enc;
    delete tensors.b_enc;
  }
  if (architecture === 'jumprelu') tensors.threshold = { dtype: st, shape: [m], data: sae.threshold ?? new Float32Array(m) };
  if (architecture.endsWith('batchtopk')) tensors.topk_threshold = { dtype: 'F64', shape: [], data: new Float64Array(1) }; // θ not estimated: SAELens' initial 0
  const cfg: Json = {
    architecture,
    d_in: d,
    d_sae: m,
    dtype,
    device: 'cpu',
    apply_b_dec_to_input: sae.cfg.applyBDecToInput,
    normalize_activations: sae.cfg.normalizeActivations,
    reshape_activations: 'none',
    metadata: { sae_lens_version: SAELENS_FORMAT_VERSION },
    ...(architecture === 'topk' || architecture.endsWith('batchtopk') ? { k: sae.cfg.k, rescale_acts_by_decoder_norm: false } : {}),
    // exactly k steps, as nestlab's pursuit: no stop on a small residual or a repeated atom
    ...(architecture === 'matching_pursuit' ? { max_iterations: sae.cfg.k, residual_threshold: 0, stop_on_duplicate_support: false } : {}),
    ...(sae.cfg.prefixes.length > 1 ? { matryoshka_widths: sae.cfg.prefixes } : {}),
    config_hash: architectureHash(sae.cfg),
    nestlab_checkpoint_version: version,
    nestlab_architecture: sae.cfg,
    ...(sae.training ? { nestlab_training: sae.training } : {}),
  };
  return { cfg, tensors };
}
