/**
 * The sparse autoencoder itself: parameters, initialization, the encoder pre-activations, the
 * TopK / BatchTopK / ReLU / JumpReLU selection, and inference (encode, decode, reconstruct at a prefix).
 *
 * Shapes (row vectors, as in SAELens and docs/methods/msae.md §1.1): x ∈ ℝ^d, W_enc [d, m],
 * b_enc [m], W_dec [m, d] (row i = latent i's direction; unit norm when trained here), b_dec [d]:
 *   pre = (x − b_dec)·W_enc + b_enc,  f = σ(pre),  x̂_p = f_{0:p}·W_dec[0:p] + b_dec.
 * SAEs loaded from SAELens may skip the b_dec subtraction (`applyBDecToInput: false`) and
 * normalize each input row first (`normalizeActivations`), undone after the decoder (§8).
 *
 * Why hand-written: a TopK code has k of m entries, so the code is kept sparse (CSR: per row the
 * active latent indices in increasing order and their values) and everything after the encoder
 * product works on active latents only. The one dense product, pre = (x − b_dec)·W_enc, runs on
 * tfjs (wasm/XNNPACK, webgpu...) for large problems and in plain loops for tiny ones (the
 * 20-feature toy), where tfjs' per-op overhead would dominate. tfjs' topk has no gradient; we never
 * differentiate through it (the selection is a constant mask, see step.ts).
 */
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/select.js';
import { loadBlas, NO_TRANS, type Cblas } from '../backend/blas.js';
import { wasmMatMulKernel } from '../backend/wasm-matmul.js';
import { insertDescending, leasePreBuffer } from './kernels.js';
import { sharedFloat32Array } from '../backend/threads.js';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import { kthLargest } from '../math/order.js';
import { checkMatrix, columnMeans, normalizeRowsInPlace, type Matrix } from '../data/matrix.js';
import { matchingPursuit, pursuitCode, type BestAtom } from './pursuit.js';
import { BDEC_INITS, saeArchitecture, type BDecInit, type SaeArchitecture, type SaeArchitectureInput, type SaeTraining } from './config.js';

/** The four trained tensors, row-major Float32Arrays (the master copy; tfjs tensors are made per step). */
export interface SaeParams {
  /** [dIn, dSae] */
  wEnc: Float32Array;
  /** [dSae] */
  bEnc: Float32Array;
  /** [dSae, dIn], unit-norm rows */
  wDec: Float32Array;
  /** [dIn] */
  bDec: Float32Array;
}

/** Parameters of the given sizes, all zero (also the layout of gradients and Adam moments). */
export function zeroParams(dIn: number, dSae: number): SaeParams {
  // shared memory, so that the trainer's worker threads can update them in place (sae/kernels.ts)
  return { wEnc: sharedFloat32Array(dIn * dSae), bEnc: sharedFloat32Array(dSae), wDec: sharedFloat32Array(dSae * dIn), bDec: sharedFloat32Array(dIn) };
}

/**
 * A sparse code in CSR form: row b's active latents are idx[ptr[b] .. ptr[b+1]) in increasing
 * order, with values val (> 0).
 */
export interface SparseCode {
  /** Number of encoded rows. */
  rows: number;
  /** Dictionary size m (the dense width of the code). */
  dSae: number;
  /** Row offsets into idx/val, length rows + 1. */
  ptr: Int32Array;
  /** Active latent indices, increasing within each row. */
  idx: Int32Array;
  /** Activations of those latents (> 0). */
  val: Float32Array;
  /**
   * How to undo the input normalization after decoding (SAEs with `normalizeActivations` other
   * than 'none'): x̂_b = scale_b·(f_b·W_dec + b_dec) + shift_b, one entry per row.
   */
  output?: { scale: Float32Array; shift: Float32Array };
}

/** A trained or initialized SAE: its architecture, parameters and inference threshold. */
export interface Sae {
  /** The architecture (SAELens keeps it in `sae.cfg` too). */
  cfg: SaeArchitecture;
  /** W_enc, b_enc, W_dec, b_dec (the master copy, row-major). */
  params: SaeParams;
  /**
   * Inference threshold θ per latent [dSae] of 'batchtopk' (the trainer's estimate of the
   * smallest kept activation, the same for every latent) and 'jumprelu' SAEs: f_i = ReLU(pre_i)·[pre_i > θ_i].
   * null while not estimated, and for 'topk' and 'relu'.
   */
  threshold: Float32Array | null;
  /** The training config it was trained with, when known (trainers and checkpoints record it). */
  training?: SaeTraining;
}

/** Options of `sae.create` (`createSae`): seed and b_dec initialization. */
export interface CreateSaeOptions {
  /** Seed of the initialization. Default 0. */
  seed?: number;
  /** b_dec from `sample`: geometric median, mean, or zero. Default 'median'. */
  bDecInit?: BDecInit;
  /** Rows [n, dIn] for the b_dec initialization. Default none (b_dec = 0). */
  sample?: Matrix;
}

/** Below this many multiply-adds (B·d·m) the encoder product runs in JS instead of tfjs. */
export const JS_ENCODER_MAX_MACS = 1 << 22;

/**
 * Geometric median of the rows (Weiszfeld: g₀ = mean; w_j = 1/‖x_j − g‖; g = Σ w_j x_j / Σ w_j;
 * at most 100 iterations, stop when the step is below 1e-5·(1 + ‖g‖)). docs/methods/msae.md §4.1.
 */
export function geometricMedian(x: Matrix, maxIter = 100): Float32Array {
  const { rows: n, cols: d, data } = x;
  const g = columnMeans(x);
  const next = new Float64Array(d);
  for (let it = 0; it < maxIter; it++) {
    next.fill(0);
    let wsum = 0;
    for (let i = 0; i < n; i++) {
      let dist = 0;
      for (let j = 0; j < d; j++) {
        const t = data[i * d + j] - g[j];
        dist += t * t;
      }
      const w = 1 / Math.max(Math.sqrt(dist), 1e-8);
      wsum += w;
      for (let j = 0; j < d; j++) next[j] += w * data[i * d + j];
    }
    let step = 0;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = next[j] / wsum;
      step += (v - g[j]) ** 2;
      norm += v * v;
      g[j] = v;
    }
    if (Math.sqrt(step) < 1e-5 * (1 + Math.sqrt(norm))) break;
  }
  return Float32Array.from(g);
}

/**
 * A new SAE. Tied init (docs/methods/msae.md §4.1): W_dec rows kaiming-uniform (U(±√(6/d))... then
 * normalized to unit norm), W_enc = W_decᵀ (a copy), b_enc = 0, b_dec = geometric median / mean
 * of `options.sample` (zero without a sample or with bDecInit 'zero'). Every draw comes from
 * Rng(options.seed). `sae.train` calls this itself; use it to inspect or hand-train an SAE.
 *
 * @example const model = sae.create({ dIn: 784, dSae: 256, k: 16, prefixes: sae.halvingPrefixes(256) }, { seed: 0, sample: x }); // b_dec = geometric median of x
 */
export function createSae(architecture: SaeArchitectureInput, options: CreateSaeOptions = {}): Sae {
  const where = 'sae.create';
  const cfg = saeArchitecture(architecture, where);
  checkKnownKeys(where, options, ['seed', 'bDecInit', 'sample']);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0);
  const bDecInit = checkOneOf(where, 'options.bDecInit', options.bDecInit ?? 'median', BDEC_INITS);
  const sample = options.sample;
  const { dIn: d, dSae: m } = cfg;
  const rng = new Rng(seed);
  const bound = Math.sqrt(6 / d);
  const { wEnc, wDec, bEnc, bDec } = zeroParams(d, m);
  for (let i = 0; i < wDec.length; i++) wDec[i] = (2 * rng.uniform() - 1) * bound;
  normalizeRowsInPlace(wDec, m, d);
  tiedEncoderWeights(wDec, m, d, wEnc);
  if (sample !== undefined && bDecInit !== 'zero') {
    const s = checkMatrix(where, 'options.sample', sample, 1, d);
    if (s.cols !== d) throw new NestlabArgumentError(where, 'options.sample.cols', `dIn = ${d}`, s.cols);
    bDec.set(bDecInit === 'median' ? geometricMedian(s) : columnMeans(s));
  }
  // A JumpReLU SAE starts at θ = 0, i.e. as a ReLU SAE; BatchTopK's θ is estimated in training.
  const threshold = cfg.activation === 'jumprelu' ? new Float32Array(m) : null;
  return { cfg, params: { wEnc, bEnc, wDec, bDec }, threshold };
}

/**
 * A deep copy (architecture, parameters, threshold θ and training config): no array is shared, so
 * editing the copy (e.g. ablating latents) leaves the original intact.
 *
 * @example const copy = sae.clone(model); // copy.params.wDec !== model.params.wDec
 */
export function cloneSae(sae: Sae): Sae {
  const p = sae.params;
  return {
    cfg: { ...sae.cfg, prefixes: [...sae.cfg.prefixes] },
    params: { wEnc: p.wEnc.slice(), bEnc: p.bEnc.slice(), wDec: p.wDec.slice(), bDec: p.bDec.slice() },
    threshold: sae.threshold === null ? null : sae.threshold.slice(),
    ...(sae.training ? { training: { ...sae.training, prefixWeights: [...sae.training.prefixWeights] } } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Encoder pre-activations

/** Per-row top-r candidates: values (descending) and latent indices, [rows, r] each. */
export interface RowTopK {
  r: number;
  val: Float32Array;
  idx: Int32Array;
  /** The same entries with each row sorted by latent index, when the selection produced them too (worker threads). */
  byIndex?: { val: Float32Array; idx: Int32Array };
}

/**
 * The encoder pre-activations of one batch, kept where they were computed (a JS array or a tfjs
 * tensor) so that only the selected entries travel.
 */
export interface PreActivations {
  rows: number;
  dSae: number;
  /** Top-r entries of each row (ties: lower index first), optionally only among latents with allowed[j] = 1. */
  rowTopK(r: number, allowed?: Uint8Array): Promise<RowTopK>;
  /** All entries, [rows, dSae]. */
  full(): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Top-r of each row of a row-major [rows, m] array (insertion into a sorted buffer; r ≪ m, so
 * most entries fail the one comparison with the current r-th largest).
 */
export function rowTopKJs(pre: Float32Array, rows: number, m: number, r: number, allowed?: Uint8Array): RowTopK {
  const val = new Float32Array(rows * r).fill(-Infinity);
  const idx = new Int32Array(rows * r).fill(-1);
  for (let b = 0; b < rows; b++) {
    const o = b * m;
    const vo = b * r;
    let count = 0;
    for (let j = 0; j < m; j++) {
      const v = pre[o + j];
      if (count === r && !(v > val[vo + r - 1])) continue;
      if (allowed !== undefined && !allowed[j]) continue;
      count = insertDescending(val, idx, vo, r, count, v, j);
    }
  }
  return { r, val, idx };
}

/** xc = x − b_dec, row-major [rows, d] (into `out` when given). */
export function centerRows(x: Float32Array, rows: number, bDec: Float32Array, out?: Float32Array): Float32Array {
  const d = bDec.length;
  const xc = out !== undefined ? out.subarray(0, rows * d) : new Float32Array(rows * d);
  for (let b = 0; b < rows; b++) for (let j = 0; j < d; j++) xc[b * d + j] = x[b * d + j] - bDec[j];
  return xc;
}

/**
 * SAELens' per-row input normalization (`normalize_activations`, docs/methods/msae.md §8) of
 * x [rows, d]: the normalized rows and how decode undoes it (x̂ = scale·y + shift per row), or
 * null for 'none'. constant_norm_rescale: x·c, c = √d/‖x‖ (scale 1/c). layer_norm:
 * (x − μ)/(σ + 1e-5) with σ the unbiased standard deviation (scale σ, shift μ: no ε on the way out).
 */
export function normalizeInput(sae: Sae, x: Float32Array, rows: number): { x: Float32Array; output: { scale: Float32Array; shift: Float32Array } } | null {
  const mode = sae.cfg.normalizeActivations;
  if (mode === 'none') return null;
  const d = sae.cfg.dIn;
  const out = new Float32Array(rows * d);
  const scale = new Float32Array(rows);
  const shift = new Float32Array(rows);
  for (let b = 0; b < rows; b++) {
    const o = b * d;
    let mu = 0;
    if (mode === 'layer_norm') {
      for (let j = 0; j < d; j++) mu += x[o + j];
      mu /= d;
    }
    let ss = 0;
    for (let j = 0; j < d; j++) ss += (x[o + j] - mu) ** 2;
    if (mode === 'layer_norm') {
      const sd = Math.sqrt(ss / Math.max(1, d - 1));
      for (let j = 0; j < d; j++) out[o + j] = (x[o + j] - mu) / (sd + 1e-5);
      scale[b] = sd;
      shift[b] = mu;
    } else {
      const c = Math.sqrt(d) / Math.sqrt(ss); // a zero row gives ∞·0 = NaN, as in SAELens
      for (let j = 0; j < d; j++) out[o + j] = x[o + j] * c;
      scale[b] = 1 / c;
    }
  }
  return { x: out, output: { scale, shift } };
}

function jsPre(xc: Float32Array, rows: number, p: SaeParams, d: number, m: number): PreActivations {
  const pre = new Float32Array(rows * m);
  for (let b = 0; b < rows; b++) {
    const o = b * m;
    pre.set(p.bEnc, o);
    for (let i = 0; i < d; i++) {
      const xv = xc[b * d + i];
      if (xv === 0) continue;
      const wo = i * m;
      for (let j = 0; j < m; j++) pre[o + j] += xv * p.wEnc[wo + j];
    }
  }
  return {
    rows,
    dSae: m,
    rowTopK: async (r, allowed) => rowTopKJs(pre, rows, m, r, allowed),
    full: async () => pre,
    dispose() {},
  };
}

function blasPre(blas: Cblas, xc: Float32Array, rows: number, p: SaeParams, d: number, m: number): PreActivations {
  const size = rows * m;
  // the workspace's buffer (no page faults, TopK on every thread), or a fresh one while it is in use
  const lease = leasePreBuffer(rows, m);
  const pre = lease !== null ? lease.pre : new Float32Array(size);
  // b_enc in every row (doubling copies run at memcpy speed), then the product added on top (beta = 1)
  pre.set(p.bEnc, 0);
  for (let filled = m; filled < size; filled *= 2) pre.copyWithin(filled, 0, Math.min(filled, size - filled));
  blas.sgemm(NO_TRANS, NO_TRANS, rows, m, d, 1, xc, d, p.wEnc, m, 1, pre, m);
  return {
    rows,
    dSae: m,
    async rowTopK(r, allowed) {
      const fast = lease !== null && allowed === undefined ? lease.topK(r) : null;
      if (fast !== null) return { r, ...fast };
      // many candidates (BatchTopK widening r, AuxK among the dead): tf.topk, whose cost does not grow with r·m as the insertion scan's does
      const t = tf.tensor2d(pre, [rows, m]);
      try {
        return await tfRowTopK(t, m, r, allowed);
      } finally {
        t.dispose();
      }
    },
    full: async () => pre,
    dispose: () => lease?.release(),
  };
}

/** Top-r of each row of a [rows, m] tensor by tf.topk (optionally among allowed latents only). */
async function tfRowTopK(pre: tf.Tensor2D, m: number, r: number, allowed?: Uint8Array): Promise<RowTopK> {
  const { values, indices } = tf.tidy(() => {
    let src: tf.Tensor2D = pre;
    if (allowed !== undefined) {
      const neg = new Float32Array(m);
      for (let j = 0; j < m; j++) neg[j] = allowed[j] ? 0 : -3e38;
      src = tf.add(pre, tf.tensor1d(neg));
    }
    return tf.topk(src, r, true);
  });
  try {
    const [v, i] = await Promise.all([values.data(), indices.data()]);
    return { r, val: v as Float32Array, idx: i as Int32Array };
  } finally {
    values.dispose();
    indices.dispose();
  }
}

function tfPre(xc: Float32Array, rows: number, p: SaeParams, d: number, m: number): PreActivations {
  // W_enc stays [d, m]: on wasm a transposed operand is 10-30x slower than the plain product.
  const pre = tf.tidy(() => {
    const xt = tf.tensor2d(xc, [rows, d]);
    const w = tf.tensor2d(p.wEnc, [d, m]);
    return tf.fused.matMul({ a: xt, b: w, bias: tf.tensor1d(p.bEnc) }) as tf.Tensor2D; // bias fused into the product
  });
  let disposed = false;
  return {
    rows,
    dSae: m,
    rowTopK: (r, allowed) => tfRowTopK(pre, m, r, allowed),
    async full() {
      return (await pre.data()) as Float32Array;
    },
    dispose() {
      if (!disposed) pre.dispose();
      disposed = true;
    },
  };
}

/**
 * pre = (x − b_dec)·W_enc + b_enc for a batch x ([rows, dIn] row-major; x itself when the
 * architecture has applyBDecToInput false). Returns the encoder's input too (the encoder
 * gradient needs it), written into `xcOut` when given (the trainer reuses one buffer). Tiny
 * problems run in JS, others on the BLAS (wasm backend with the system BLAS) or tfjs.
 */
export function encoderPre(sae: Sae, x: Float32Array, rows: number, xcOut?: Float32Array): { xc: Float32Array; pre: PreActivations } {
  const { dIn: d, dSae: m } = sae.cfg;
  const xc = sae.cfg.applyBDecToInput ? centerRows(x, rows, sae.params.bDec, xcOut) : x;
  if (rows * d * m <= JS_ENCODER_MAX_MACS) return { xc, pre: jsPre(xc, rows, sae.params, d, m) };
  // On wasm with the system BLAS, tf.matMul would run the same sgemm after copying both operands
  // into the wasm heap, and tf.topk would scan the result single-threaded in C; calling the BLAS
  // directly skips the copies and the tensor round trip.
  const blas = tf.getBackend() === 'wasm' && wasmMatMulKernel() === 'blas' ? loadBlas() : null;
  return { xc, pre: blas !== null ? blasPre(blas, xc, rows, sae.params, d, m) : tfPre(xc, rows, sae.params, d, m) };
}

// ---------------------------------------------------------------------------------------------
// Selection

/** Sorts each row's (idx, val) pairs by idx (rows are short: insertion sort). */
function sortRows(ptr: Int32Array, idx: Int32Array, val: Float32Array): void {
  for (let b = 0; b + 1 < ptr.length; b++) {
    for (let a = ptr[b] + 1; a < ptr[b + 1]; a++) {
      const ki = idx[a];
      const kv = val[a];
      let p = a - 1;
      while (p >= ptr[b] && idx[p] > ki) {
        idx[p + 1] = idx[p];
        val[p + 1] = val[p];
        p--;
      }
      idx[p + 1] = ki;
      val[p + 1] = kv;
    }
  }
}

/** Builds a CSR code from per-row candidates, keeping entries where keep(value, row, position). */
function codeFromCandidates(c: RowTopK, rows: number, m: number, keep: (v: number, b: number, a: number) => boolean): SparseCode {
  const ptr = new Int32Array(rows + 1);
  const idx = new Int32Array(rows * c.r);
  const val = new Float32Array(rows * c.r);
  let n = 0;
  for (let b = 0; b < rows; b++) {
    for (let a = 0; a < c.r; a++) {
      const v = c.val[b * c.r + a];
      if (c.idx[b * c.r + a] >= 0 && v > 0 && keep(v, b, a)) {
        idx[n] = c.idx[b * c.r + a];
        val[n++] = v;
      }
    }
    ptr[b + 1] = n;
  }
  const code = { rows, dSae: m, ptr, idx: n === idx.length ? idx : idx.slice(0, n), val: n === val.length ? val : val.slice(0, n) };
  sortRows(code.ptr, code.idx, code.val);
  return code;
}

/** Per-row TopK: the k largest pre-activations of each row, then ReLU (Gao et al. eq. 2). */
export async function selectTopK(pre: PreActivations, k: number): Promise<SparseCode> {
  const c = await pre.rowTopK(Math.min(k, pre.dSae));
  if (c.byIndex === undefined) return codeFromCandidates(c, pre.rows, pre.dSae, () => true);
  // rows already in index order: keep the positive entries
  const { rows, dSae } = pre;
  const ptr = new Int32Array(rows + 1);
  const idx = new Int32Array(rows * c.r);
  const val = new Float32Array(rows * c.r);
  let n = 0;
  for (let b = 0; b < rows; b++) {
    for (let a = b * c.r; a < (b + 1) * c.r; a++) {
      const v = c.byIndex.val[a];
      if (c.byIndex.idx[a] >= 0 && v > 0) {
        idx[n] = c.byIndex.idx[a];
        val[n++] = v;
      }
    }
    ptr[b + 1] = n;
  }
  return { rows, dSae, ptr, idx: n === idx.length ? idx : idx.slice(0, n), val: n === val.length ? val : val.slice(0, n) };
}

/**
 * BatchTopK (Bussmann et al. 2024 §3): the K = floor(k·B) largest entries of ReLU(pre) over the
 * whole batch. Exact: it takes per-row top-r candidates (r = 4k), finds the K-th largest candidate
 * τ, and doubles r while some row could hold further entries ≥ τ (its r-th candidate ≥ τ).
 * Ties at τ go to earlier rows, then lower latent indices. Also returns the smallest kept value.
 */
export async function selectBatchTopK(pre: PreActivations, k: number): Promise<{ code: SparseCode; minKept: number }> {
  const { rows, dSae: m } = pre;
  const K = Math.max(1, Math.floor(k * rows));
  let r = Math.min(m, Math.max(1, Math.ceil(4 * k)));
  for (;;) {
    const c = await pre.rowTopK(r);
    const total = rows * r;
    const tau = K >= total ? -Infinity : kthLargest(c.val, K);
    let exact = r >= m;
    if (!exact) {
      exact = true;
      for (let b = 0; b < rows; b++) {
        const last = c.val[b * r + r - 1];
        if (last > 0 && last >= tau) {
          exact = false;
          break;
        }
      }
    }
    if (!exact) {
      r = Math.min(m, 2 * r);
      continue;
    }
    let above = 0;
    for (let i = 0; i < total; i++) if (c.val[i] > tau && c.val[i] > 0) above++;
    let tiesLeft = K - above;
    let minKept = Infinity;
    const code = codeFromCandidates(c, rows, m, (v) => {
      let kept = v > tau;
      if (!kept && v === tau && tiesLeft > 0) {
        tiesLeft--;
        kept = true;
      }
      if (kept && v < minKept) minKept = v;
      return kept;
    });
    return { code, minKept: minKept === Infinity ? 0 : minKept };
  }
}

/**
 * ReLU code: every positive entry; with `threshold` (one per latent), the JumpReLU code
 * f_j = ReLU(pre_j)·[pre_j > θ_j], i.e. entries above max(0, θ_j) (SAELens' JumpReLUSAE.encode;
 * BatchTopK inference, Bussmann et al. 2024 §3).
 */
export async function selectAbove(pre: PreActivations, threshold?: Float32Array): Promise<SparseCode> {
  const full = await pre.full();
  const { rows, dSae: m } = pre;
  const ptr = new Int32Array(rows + 1);
  const idxs: number[] = [];
  const vals: number[] = [];
  const cut = new Float32Array(m);
  if (threshold !== undefined) for (let j = 0; j < m; j++) cut[j] = Math.max(0, threshold[j]);
  for (let b = 0; b < rows; b++) {
    for (let j = 0; j < m; j++) {
      const v = full[b * m + j];
      if (v > cut[j]) {
        idxs.push(j);
        vals.push(v);
      }
    }
    ptr[b + 1] = idxs.length;
  }
  return { rows, dSae: m, ptr, idx: Int32Array.from(idxs), val: Float32Array.from(vals) };
}

/**
 * The code restricted to latents < prefix: f'_i = f_i for i < p, else 0 (Matryoshka inference at
 * prefix p, docs/methods/msae.md §1.7). Cheaper than re-encoding when one code serves many prefixes.
 *
 * @example const c64 = sae.truncateCode(code, 64); // same rows, only latents 0..63
 */
export function truncateCode(code: SparseCode, prefix: number): SparseCode {
  checkInt('sae.truncateCode', 'prefix', prefix, 1, code.dSae);
  if (prefix === code.dSae) return code;
  const ptr = new Int32Array(code.rows + 1);
  const idxs: number[] = [];
  const vals: number[] = [];
  for (let b = 0; b < code.rows; b++) {
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) {
      if (code.idx[a] < prefix) {
        idxs.push(code.idx[a]);
        vals.push(code.val[a]);
      }
    }
    ptr[b + 1] = idxs.length;
  }
  return { rows: code.rows, dSae: code.dSae, ptr, idx: Int32Array.from(idxs), val: Float32Array.from(vals), ...(code.output ? { output: code.output } : {}) };
}

/**
 * A sparse code as a dense [rows, dSae] Matrix (zeros where a latent is inactive), for the
 * analyses that take matrices (rsa, similarity).
 *
 * @example const dense = sae.codeToDense(code); // dense.data[b * dense.cols + j] = activation of latent j on row b
 */
export function codeToDense(code: SparseCode): Matrix {
  const out = new Float32Array(code.rows * code.dSae);
  for (let b = 0; b < code.rows; b++) {
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) out[b * code.dSae + code.idx[a]] = code.val[a];
  }
  return { data: out, rows: code.rows, cols: code.dSae };
}

// ---------------------------------------------------------------------------------------------
// Inference

const INFER_CHUNK = 2048;

/** Options of `sae.encode` (`encodeSae`): prefix, output form, and BatchTopK's selection. */
export interface EncodeOptions {
  /** Keep only latents < prefix (Matryoshka inference at a prefix). Default: all. */
  prefix?: number;
  /** Return a dense [rows, dSae] Matrix instead of the sparse code. Default false. */
  dense?: boolean;
  /**
   * BatchTopK SAEs only. 'threshold' (default): the JumpReLU form with the estimated θ, each
   * row encoded on its own. 'batch': the training-time selection, the k·rows largest
   * activations over all rows of x, so that a row's code depends on the other rows.
   */
  selection?: 'threshold' | 'batch';
}

/**
 * Encodes rows of `x` with the inference activation, f = σ((x − b_dec)·W_enc + b_enc)
 * (docs/methods/msae.md §1.1–§1.4): TopK per row (Gao et al. eq. 2); BatchTopK and JumpReLU as
 * f = ReLU(pre)·[pre > θ] with the per-latent θ (Bussmann et al. 2024 §3; SAELens' JumpReLU SAE);
 * ReLU; an MP-SAE by k steps of matching pursuit over its decoder's atoms (sae/pursuit.ts). A
 * BatchTopK SAE whose θ was never estimated is refused unless `selection: 'batch'`. SAELens'
 * input conventions are honored (no b_dec subtraction when `applyBDecToInput` is false; per-row
 * `normalizeActivations`, which the code records so `decode` undoes it). With
 * `prefix`, latents ≥ prefix are zeroed (Matryoshka inference, msae.md §1.7,
 * bartbussmann/matryoshka_sae and dictionary_learning `encode`). The code is sparse (CSR) unless
 * `dense: true`.
 *
 * @example const code = await sae.encode(model, x, { prefix: 64 }); // CSR: row b's latents are code.idx[code.ptr[b] .. code.ptr[b+1])
 */
export async function encodeSae(sae: Sae, x: Matrix, options: EncodeOptions & { dense: true }): Promise<Matrix>;
export async function encodeSae(sae: Sae, x: Matrix, options?: EncodeOptions & { dense?: false }): Promise<SparseCode>;
export async function encodeSae(sae: Sae, x: Matrix, options?: EncodeOptions): Promise<SparseCode | Matrix>;
export async function encodeSae(sae: Sae, x: Matrix, options: EncodeOptions = {}): Promise<SparseCode | Matrix> {
  return encodeAs('sae.encode', sae, x, options);
}

/** The sparse code of x, for the library's own callers: errors name `where`, the public function the user called. */
export async function encodeCode(where: string, sae: Sae, x: Matrix, options: Omit<EncodeOptions, 'dense'> = {}): Promise<SparseCode> {
  return (await encodeAs(where, sae, x, options)) as SparseCode;
}

async function encodeAs(where: string, sae: Sae, x: Matrix, options: EncodeOptions): Promise<SparseCode | Matrix> {
  await initBackend(); // tensors belong on the chosen backend, not tfjs' default (cpu)
  checkKnownKeys(where, options, ['prefix', 'dense', 'selection']);
  const { dIn: d, dSae: m, activation } = sae.cfg;
  const xm = checkMatrix(where, 'x', x, 1, 1);
  if (xm.cols !== d) throw new NestlabArgumentError(where, 'x.cols', `dIn = ${d}`, xm.cols);
  const prefix = checkInt(where, 'options.prefix', options.prefix ?? m, 1, m);
  if (options.dense !== undefined && typeof options.dense !== 'boolean') throw new NestlabArgumentError(where, 'options.dense', 'true or false', options.dense);
  const selection = checkOneOf(where, 'options.selection', options.selection ?? 'threshold', ['threshold', 'batch'] as const);
  if (selection === 'batch' && activation !== 'batchtopk') {
    throw new NestlabArgumentError(where, 'options.selection', `'threshold' for a ${activation} SAE ('batch' is BatchTopK's training-time selection)`, selection);
  }
  const threshold = activation === 'batchtopk' || activation === 'jumprelu' ? checkThreshold(sae, where) : undefined;
  if (activation === 'batchtopk' && selection === 'threshold' && threshold === null) {
    throw new NestlabArgumentError(
      where, 'sae.threshold',
      "an estimated θ (sae.train estimates it from step training.thresholdStart on); pass { selection: 'batch' } to select the top k·rows over x instead",
      'null',
    );
  }
  if (activation === 'jumprelu' && threshold === null) throw new NestlabArgumentError(where, 'sae.threshold', `a Float32Array of ${m} per-latent thresholds (jumprelu)`, 'null');
  const normalized = normalizeInput(sae, xm.data, xm.rows);
  const input = normalized?.x ?? xm.data;
  const best = activation === 'mp' ? pursuitBestAtom(sae) : null;
  // One chunk for 'batch' (the selection spans all rows); rows are independent otherwise.
  const chunk = selection === 'batch' ? xm.rows : INFER_CHUNK;
  const parts: SparseCode[] = [];
  for (let s = 0; s < xm.rows; s += chunk) {
    const rows = Math.min(chunk, xm.rows - s);
    if (best !== null) {
      const x = input.subarray(s * d, (s + rows) * d);
      const xc = sae.cfg.applyBDecToInput ? centerRows(x, rows, sae.params.bDec) : x;
      parts.push({ rows, dSae: m, ...pursuitCode(await matchingPursuit(xc, rows, d, sae.params.wDec, sae.cfg.k, best)) });
      continue;
    }
    const { pre } = encoderPre(sae, input.subarray(s * d, (s + rows) * d), rows);
    try {
      if (activation === 'topk') parts.push(await selectTopK(pre, sae.cfg.k));
      else if (activation === 'relu') parts.push(await selectAbove(pre));
      else if (selection === 'batch') parts.push((await selectBatchTopK(pre, sae.cfg.k)).code);
      else parts.push(await selectAbove(pre, threshold ?? undefined));
    } finally {
      pre.dispose();
    }
  }
  const all = concatCodes(parts, m);
  if (normalized !== null) all.output = normalized.output;
  const code = truncateCode(all, prefix);
  return options.dense ? codeToDense(code) : code;
}

/**
 * The most correlated atom of each residual row for an MP-SAE's pursuit (sae/pursuit.ts): the
 * correlations r·W_decᵀ come from the tied encoder (W_enc = W_decᵀ, b_enc = 0) on the BLAS, tfjs
 * or plain loops, as any encoder product (`encoderPre`). `first`, when given, also sees step 0's
 * correlations ⟨x − b_dec, D_j⟩ (the trainer's AuxK selection).
 */
export function pursuitBestAtom(sae: Sae, first?: (pre: PreActivations) => Promise<void>): BestAtom {
  const { dIn: d, dSae: m } = sae.cfg;
  const wEnc = tiedEncoderWeights(sae.params.wDec, m, d);
  const tied: Sae = { cfg: { ...sae.cfg, applyBDecToInput: false }, params: { ...sae.params, wEnc, bEnc: new Float32Array(m) }, threshold: null };
  return async (residual, rows, step) => {
    const { pre } = encoderPre(tied, residual, rows);
    try {
      if (step === 0 && first !== undefined) await first(pre);
      const top = await pre.rowTopK(1);
      return { val: top.val, idx: top.idx };
    } finally {
      pre.dispose();
    }
  };
}

/** W_enc = W_decᵀ ([d, m] from [m, d]), into `out` when given: the tied encoder of createSae's initialization and of an MP-SAE. */
export function tiedEncoderWeights(wDec: Float32Array, m: number, d: number, out: Float32Array = new Float32Array(d * m)): Float32Array {
  for (let j = 0; j < m; j++) for (let i = 0; i < d; i++) out[i * m + j] = wDec[j * d + i];
  return out;
}

/** sae.threshold, checked: null or a Float32Array of dSae entries. */
function checkThreshold(sae: Sae, where: string): Float32Array | null {
  const t = sae.threshold;
  if (t === null || t === undefined) return null;
  if (!(t instanceof Float32Array) || t.length !== sae.cfg.dSae) {
    throw new NestlabArgumentError(where, 'sae.threshold', `null or a Float32Array of ${sae.cfg.dSae} per-latent thresholds`, t);
  }
  return t;
}

/** The codes of consecutive row blocks as one code (rows in order; the output scales too, when every part has them). */
export function concatCodes(parts: SparseCode[], m: number): SparseCode {
  if (parts.length === 1) return parts[0];
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const nnz = parts.reduce((a, p) => a + p.idx.length, 0);
  const ptr = new Int32Array(rows + 1);
  const idx = new Int32Array(nnz);
  const val = new Float32Array(nnz);
  let r = 0;
  let z = 0;
  for (const p of parts) {
    for (let b = 0; b < p.rows; b++) ptr[r + b + 1] = z + p.ptr[b + 1];
    idx.set(p.idx, z);
    val.set(p.val, z);
    r += p.rows;
    z += p.idx.length;
  }
  const code: SparseCode = { rows, dSae: m, ptr, idx, val };
  if (parts.every((p) => p.output !== undefined)) {
    const scale = new Float32Array(rows);
    const shift = new Float32Array(rows);
    let o = 0;
    for (const p of parts) {
      scale.set((p.output as NonNullable<SparseCode['output']>).scale, o);
      shift.set((p.output as NonNullable<SparseCode['output']>).shift, o);
      o += p.rows;
    }
    code.output = { scale, shift };
  }
  return code;
}

/**
 * x̂ = f_{0:p}·W_dec[0:p] + b_dec for a sparse code (only active rows of W_dec are read), with
 * p = `options.prefix` (default all latents); docs/methods/msae.md §1.1. For an SAE with
 * `normalizeActivations`, the code's recorded per-row scale is undone (x̂ = scale·x̂ + shift).
 *
 * @example const xHat = sae.decode(model, code, { prefix: 64 }); // Matrix [code.rows, dIn]
 */
export function decodeSae(sae: Sae, code: SparseCode, options: { prefix?: number } = {}): Matrix {
  const where = 'sae.decode';
  checkKnownKeys(where, options, ['prefix']);
  const d = sae.cfg.dIn;
  const prefix = checkInt(where, 'options.prefix', options.prefix ?? sae.cfg.dSae, 1, sae.cfg.dSae);
  if (code.dSae !== sae.cfg.dSae) throw new NestlabArgumentError(where, 'code.dSae', `dSae = ${sae.cfg.dSae}`, code.dSae);
  if (sae.cfg.normalizeActivations !== 'none' && code.output === undefined) {
    throw new NestlabArgumentError(where, 'code.output', `the per-row scale of the encoding (normalizeActivations '${sae.cfg.normalizeActivations}'): decode a code from sae.encode`, 'none');
  }
  const out = new Float32Array(code.rows * d);
  const w = sae.params.wDec;
  for (let b = 0; b < code.rows; b++) {
    const o = b * d;
    out.set(sae.params.bDec, o);
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) {
      const j = code.idx[a];
      if (j >= prefix) continue;
      const v = code.val[a];
      const wo = j * d;
      for (let i = 0; i < d; i++) out[o + i] += v * w[wo + i];
    }
    if (code.output !== undefined) {
      const sc = code.output.scale[b];
      const sh = code.output.shift[b];
      for (let i = 0; i < d; i++) out[o + i] = out[o + i] * sc + sh;
    }
  }
  return { data: out, rows: code.rows, cols: d };
}

/**
 * Reconstruction of `x` through the first `options.prefix` latents (default all):
 * x̂_p = decode(encode(x, p), p) = f_{0:p}·W_dec[0:p] + b_dec (docs/methods/msae.md §1.1, §1.7).
 *
 * @example const xHat = await sae.reconstruct(model, x, { prefix: 64 }); // Matrix [x.rows, dIn]
 */
export async function reconstructSae(sae: Sae, x: Matrix, options: { prefix?: number } = {}): Promise<Matrix> {
  checkKnownKeys('sae.reconstruct', options, ['prefix']);
  const prefix = options.prefix ?? sae.cfg.dSae;
  return decodeSae(sae, await encodeSae(sae, x, { prefix }), { prefix });
}

/**
 * A copy of `sae` whose latents are reordered: new latent i is old latent order[i]
 * (W_enc'[:, i] = W_enc[:, order[i]], b_enc'[i] = b_enc[order[i]], W_dec'[i] = W_dec[order[i]],
 * θ'[i] = θ[order[i]]),
 * so the function computed is unchanged. Used to read a flat SAE "by prefix", e.g. most
 * frequently firing latents first (docs/methods/msae.md §1.7; Nabeshima's latent permutation).
 *
 * @example const byFreq = sae.permuteLatents(model, await sae.latentsByFrequency(model, x)); // latent 0 fires most often
 */
export function permuteLatents(sae: Sae, order: ArrayLike<number>): Sae {
  const { dIn: d, dSae: m } = sae.cfg;
  if (order.length !== m) throw new NestlabArgumentError('sae.permuteLatents', 'order', `a permutation of ${m} latents`, `${order.length} entries`);
  const seen = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    const o = order[i];
    if (!Number.isInteger(o) || o < 0 || o >= m || seen[o]) throw new NestlabArgumentError('sae.permuteLatents', `order[${i}]`, `an unused latent index in [0, ${m})`, o);
    seen[o] = 1;
  }
  const out = cloneSae(sae);
  const p = sae.params;
  for (let i = 0; i < m; i++) {
    const o = order[i];
    out.params.bEnc[i] = p.bEnc[o];
    if (sae.threshold !== null && out.threshold !== null) out.threshold[i] = sae.threshold[o];
    out.params.wDec.set(p.wDec.subarray(o * d, (o + 1) * d), i * d);
    for (let j = 0; j < d; j++) out.params.wEnc[j * m + i] = p.wEnc[j * m + o];
  }
  return out;
}

/**
 * The SAE on raw activations x equivalent to `sae` trained on x·c (activations scaled by c, e.g.
 * to mean norm √d as SAELens's `normalize_activations: expected_average_only_in`): W_enc ← c·W_enc,
 * W_dec ← W_dec / c, b_dec ← b_dec / c, so encode(x) is the trained SAE's encode(x·c) and decode
 * gives its reconstruction / c. SAELens's `fold_activation_norm_scaling_factor` does the same.
 * An MP-SAE keeps its unit atoms and only b_dec ← b_dec / c (its pursuit picks the same atoms for
 * x and x·c, with coefficients ÷ c).
 *
 * @example const raw = sae.foldActivationScale(trainedOnScaled, c); // splice raw.reconstruct(x) into the model
 */
export function foldActivationScale(sae: Sae, c: number): Sae {
  if (typeof c !== 'number' || !Number.isFinite(c) || c <= 0) throw new NestlabArgumentError('sae.foldActivationScale', 'c', 'a positive finite number', c);
  const out = cloneSae(sae);
  const p = out.params;
  if (sae.cfg.activation === 'mp') {
    // A pursuit needs unit atoms and picks the same ones for x and x·c: only b_dec scales (the code comes out ÷ c).
    for (let i = 0; i < p.bDec.length; i++) p.bDec[i] /= c;
    return out;
  }
  for (let i = 0; i < p.wEnc.length; i++) p.wEnc[i] *= c;
  for (let i = 0; i < p.wDec.length; i++) p.wDec[i] /= c;
  for (let i = 0; i < p.bDec.length; i++) p.bDec[i] /= c;
  return out;
}
