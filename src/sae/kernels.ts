/**
 * The SAE trainer's hot loops as tasks that worker threads can split (src/backend/threads.ts): the
 * TopK selection of the encoder's output and the sparse step's two phases (rows, then latents) on
 * shared WebAssembly memories, and the update (decoder-gradient projection, Adam, decoder
 * renormalization) on parameter arrays in SharedArrayBuffers. Every output element is written by one thread, in the order one thread
 * would write it, so the numbers do not depend on how many threads ran.
 *
 * Tasks travel to the workers as source text: each one uses only its arguments and the helpers
 * listed in HELPERS (shipped with them by source).
 */
import { createThreadPool, splitRanges, threadCount, type Task, type ThreadPool } from '../backend/threads.js';
import { normalizeRowsInPlace } from '../data/matrix.js';
import { quickselect } from '../math/order.js';
import { simdKernels, simdModuleBytes } from './simd.js';

// ---------------------------------------------------------------------------------------------
// The workspace and the two thread-splittable phases
//
// The step's arrays live in one workspace H (a WebAssembly memory, shared with worker threads when
// they run): W_dec, its gradient, W_encᵀ's gradient ([m, d], contiguous per latent), x, x − b_dec,
// the per-row suffix sums S, the code, and per-thread scratch. Phase 1 (rows split across threads)
// decodes each row and writes its S vectors; phase 2 (latents split across threads) accumulates
// every gradient row from the entries of its own latents, visiting rows in order. Each output
// element is written by one thread in a fixed order, so the numbers do not depend on the number of
// threads.

/** Offsets (in 4-byte elements of H) and constants the phase tasks read. */
export interface StepLayout {
  d: number;
  K: number;
  rows: number;
  prefixes: number[];
  /** 2·w_p / B per prefix. */
  coef: number[];
  /** L1 weight of a latent in group g (Σ of the weights of the prefixes containing it), and l1Coeff / B. */
  l1w: number[];
  l1g: number;
  wDec: number;
  gWdec: number;
  gWencT: number;
  x: number;
  xc: number;
  bDec: number;
  /** S[b, g] = Σ_{p ≥ g} (2 w_p / B)(x̂_p − x)_b, [B, K, d]. */
  s: number;
  /** e = x − x̂_full for AuxK, [B, d], or −1. */
  eFull: number;
  /** Per-thread scratch: the reconstruction [d] then the K prefix errors [K, d]. */
  scratch: number;
  /** The code by row (CSR: ptr [B + 1], idx, val) and by latent (CSC: cscPtr [m + 1], cscRow, cscVal). */
  ptr: number;
  idx: number;
  val: number;
  cscPtr: number;
  cscRow: number;
  cscVal: number;
  gbEnc: number;
  /** Per-row ‖x − x̂_p‖² [B, K] and L1 sums [B], and Σ_b S[b, 0] [d], as float64 (offsets in 4-byte units, even). */
  rowSq: number;
  rowL1: number;
  gbDec: number;
}

/** What the tasks run on: typed views of H and of the pre-activation memory P, and the SIMD kernels (element offsets). */
export interface StepContext {
  refresh(): void;
  f32: Float32Array;
  i32: Int32Array;
  f64: Float64Array;
  pre: Float32Array;
  preI32: Int32Array;
  /** P[dst + i] = max(P[src + 32i .. src + 32i + 32)) for i < groups (null without SIMD). */
  groupMax32: ((src: number, groups: number, dst: number) => void) | null;
  /** y[yo..] += a·x[xo..] over n elements. */
  axpy(n: number, a: number, xo: number, yo: number): void;
  /** Returns Σ w·s over n elements and adds v·s to g. */
  dotAxpy(n: number, v: number, so: number, wo: number, go: number): number;
}

/** How a context is made: the SIMD module's bytes, the step's memory H and the pre-activation memory P (null bytes: JS loops). */
interface StepInit {
  bytes: Uint8Array | null;
  memory: { buffer: ArrayBuffer | SharedArrayBuffer };
  preMemory: { buffer: ArrayBuffer | SharedArrayBuffer };
}

/** Builds a StepContext (self-contained: worker threads run its source). */
function makeStepContext(init: StepInit): StepContext {
  const mem = init.memory;
  const preMem = init.preMemory;
  const ctx = {
    f32: new Float32Array(0),
    i32: new Int32Array(0),
    f64: new Float64Array(0),
    pre: new Float32Array(0),
    preI32: new Int32Array(0),
    groupMax32: null as StepContext['groupMax32'],
    refresh() {
      const buf = mem.buffer;
      if (ctx.f32.buffer !== buf || ctx.f32.length * 4 !== buf.byteLength) {
        ctx.f32 = new Float32Array(buf);
        ctx.i32 = new Int32Array(buf);
        ctx.f64 = new Float64Array(buf, 0, Math.floor(buf.byteLength / 8));
      }
      const pbuf = preMem.buffer;
      if (ctx.pre.buffer !== pbuf || ctx.pre.length * 4 !== pbuf.byteLength) {
        ctx.pre = new Float32Array(pbuf);
        ctx.preI32 = new Int32Array(pbuf);
      }
    },
    axpy(n: number, a: number, xo: number, yo: number) {
      const y = ctx.f32;
      for (let i = 0; i < n; i++) y[yo + i] += a * y[xo + i];
    },
    dotAxpy(n: number, v: number, so: number, wo: number, go: number): number {
      const h = ctx.f32;
      let d0 = 0; // four partial sums, as the SIMD kernel's lanes
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      let i = 0;
      for (; i + 3 < n; i += 4) {
        d0 += h[wo + i] * h[so + i];
        d1 += h[wo + i + 1] * h[so + i + 1];
        d2 += h[wo + i + 2] * h[so + i + 2];
        d3 += h[wo + i + 3] * h[so + i + 3];
      }
      for (; i < n; i++) d0 += h[wo + i] * h[so + i];
      for (i = 0; i < n; i++) h[go + i] += v * h[so + i];
      return d0 + d1 + d2 + d3;
    },
  };
  if (init.bytes !== null) {
    const WA = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: Record<string, unknown> }; Module: new (b: Uint8Array) => object } }).WebAssembly;
    const ex = new WA.Instance(new WA.Module(init.bytes), { env: { mem } }).exports as { axpy(n: number, a: number, x: number, y: number): void; dotAxpy(n: number, v: number, s: number, w: number, g: number): number };
    ctx.axpy = (n, a, xo, yo) => ex.axpy(n, a, xo * 4, yo * 4);
    ctx.dotAxpy = (n, v, so, wo, go) => ex.dotAxpy(n, v, so * 4, wo * 4, go * 4);
    const exPre = new WA.Instance(new WA.Module(init.bytes), { env: { mem: preMem } }).exports as { groupMax32(src: number, groups: number, dst: number): void };
    ctx.groupMax32 = (src, groups, dst) => exPre.groupMax32(src * 4, groups, dst * 4);
  }
  ctx.refresh();
  return ctx;
}

/** Phase 1, rows [lo, hi): x̂_p per prefix, the squared errors, S[b, ·], e for AuxK, the row's L1 sum. */
function decodeRows(c: StepContext, lo: number, hi: number, L: StepLayout, thread: number): void {
  c.refresh();
  const H = c.f32;
  const I = c.i32;
  const F = c.f64;
  const { d, K } = L;
  const oRecon = L.scratch + thread * (K + 1) * d;
  const oErr = oRecon + d;
  for (let b = lo; b < hi; b++) {
    const xo = L.x + b * d;
    H.copyWithin(oRecon, L.bDec, L.bDec + d);
    const start = I[L.ptr + b];
    const end = I[L.ptr + b + 1];
    let a = start;
    let l1 = 0;
    for (let g = 0; g < K; g++) {
      const lim = L.prefixes[g];
      for (; a < end && I[L.idx + a] < lim; a++) {
        c.axpy(d, H[L.val + a], L.wDec + I[L.idx + a] * d, oRecon);
        l1 += H[L.val + a] * L.l1w[g];
      }
      const eo = oErr + g * d;
      let sq = 0;
      for (let i = 0; i < d; i++) {
        const e = H[oRecon + i] - H[xo + i];
        H[eo + i] = e;
        sq += e * e;
      }
      F[L.rowSq / 2 + b * K + g] = sq;
    }
    F[L.rowL1 / 2 + b] = l1;
    if (L.eFull >= 0) for (let i = 0; i < d; i++) H[L.eFull + b * d + i] = -H[oErr + (K - 1) * d + i];
    // suffix sums of the prefix-loss gradients: a latent in group g feeds every prefix p ≥ g
    for (let g = K - 1; g >= 0; g--) {
      const so = L.s + (b * K + g) * d;
      const eo = oErr + g * d;
      const cg = L.coef[g];
      if (g === K - 1) for (let i = 0; i < d; i++) H[so + i] = cg * H[eo + i];
      else for (let i = 0; i < d; i++) H[so + i] = H[so + d + i] + cg * H[eo + i];
    }
  }
}

/**
 * Phase 2, latents [lo, hi), from the code by latent (CSC: each latent's rows in increasing order):
 * ∂L/∂f_j = W_dec[j]·S_g (+ L1), ∂L/∂W_dec[j] += f_j S_g, and (∂f/∂pre = 1 on the active set)
 * ∂L/∂W_enc[:, j] += ∂L/∂f_j (x − b_dec). By latent, the rows a latent writes stay in cache while
 * its rows of S and x − b_dec stream by.
 */
function gradientLatents(c: StepContext, lo: number, hi: number, L: StepLayout): void {
  c.refresh();
  const H = c.f32;
  const I = c.i32;
  const { d, K } = L;
  let g = 0;
  for (let j = lo; j < hi; j++) {
    while (j >= L.prefixes[g]) g++;
    const end = I[L.cscPtr + j + 1];
    for (let q = I[L.cscPtr + j]; q < end; q++) {
      const b = I[L.cscRow + q];
      const gf = L.l1g * L.l1w[g] + c.dotAxpy(d, H[L.cscVal + q], L.s + (b * K + g) * d, L.wDec + j * d, L.gWdec + j * d);
      H[L.gbEnc + j] += gf;
      c.axpy(d, gf, L.xc + b * d, L.gWencT + j * d);
    }
  }
}

/** Shared-memory workspace with a thread pool (d % 4 === 0 and WebAssembly SIMD), or a single-thread one. */
export interface StepWorkspace {
  pool: ThreadPool<StepContext>;
  /** Grows H (false: beyond the memory's maximum). */
  ensure(bytes: number): boolean;
  /** Grows P, the pre-activation memory (SIMD workspace only). */
  ensurePre?(bytes: number): boolean;
}

// ---------------------------------------------------------------------------------------------
// The update (train.ts applyUpdate): arrays in KEYS order wEnc, bEnc, wDec, bDec

/** Arguments of the update tasks: parameters, gradients and Adam moments, in the order wEnc, bEnc, wDec, bDec. */
export interface UpdateArgs {
  p: Float32Array[];
  g: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
  /** Row length of W_dec (dIn). */
  d: number;
  lr: number;
  b1: number;
  b2: number;
  /** Bias corrections 1/(1 − β1^t), 1/(1 − β2^t). */
  c1: number;
  c2: number;
  eps: number;
  /** The global-norm clip factor applied to the gradients first (1: none). */
  scale: number;
  /**
   * Written by adamRange: slot 4·thread + k is 0 when every parameter of array k that the thread
   * updated is finite, else NaN (a shared array, zeroed by the caller; read after the run).
   */
  nonFinite: Float32Array;
}

/** Decoder rows [lo, hi): g_i ← g_i − (g_i·w_i / ‖w_i‖²) w_i, so the step keeps ‖w_i‖ to first order. */
function projectDecoderGrads(_c: unknown, lo: number, hi: number, A: UpdateArgs): void {
  const w = A.p[2];
  const g = A.g[2];
  const d = A.d;
  for (let i = lo; i < hi; i++) {
    const o = i * d;
    let dot = 0;
    let nn = 0;
    for (let j = 0; j < d; j++) {
      dot += g[o + j] * w[o + j];
      nn += w[o + j] * w[o + j];
    }
    if (nn <= 0) continue;
    const c = dot / nn;
    for (let j = 0; j < d; j++) g[o + j] -= c * w[o + j];
  }
}

/**
 * Adam (bias-corrected) on indices [lo, hi) of the four arrays laid end to end, after the clip
 * factor; notes in A.nonFinite whether a parameter it wrote is not finite (p·0 is 0 for finite p,
 * NaN otherwise: one multiply-add on values already in registers, so divergence is seen the step
 * it happens at no measurable cost).
 */
function adamRange(_c: unknown, lo: number, hi: number, A: UpdateArgs, thread: number): void {
  const { lr, b1, b2, c1, c2, eps, scale } = A;
  let base = 0;
  for (let k = 0; k < 4; k++) {
    const p = A.p[k];
    const gg = A.g[k];
    const mm = A.m[k];
    const vv = A.v[k];
    const from = Math.max(lo - base, 0);
    const to = Math.min(hi - base, p.length);
    base += p.length;
    if (scale !== 1) for (let i = from; i < to; i++) gg[i] *= scale;
    let bad = 0;
    for (let i = from; i < to; i++) {
      const gi = gg[i];
      const mi = b1 * mm[i] + (1 - b1) * gi;
      const vi = b2 * vv[i] + (1 - b2) * gi * gi;
      mm[i] = mi;
      vv[i] = vi;
      p[i] -= (lr * mi * c1) / (Math.sqrt(vi * c2) + eps);
      bad += p[i] * 0; // the stored float32: a value beyond its range became ±Infinity there
    }
    if (from < to) A.nonFinite[4 * thread + k] = bad;
  }
}

/** Decoder rows [lo, hi) scaled to unit norm (zero rows stay zero). */
function normalizeDecoderRows(_c: unknown, lo: number, hi: number, A: UpdateArgs): void {
  normalizeRowsInPlace(A.p[2].subarray(lo * A.d, hi * A.d), hi - lo, A.d);
}

// ---------------------------------------------------------------------------------------------
// TopK selection (model.ts): the run maxima and the selection, rows split across threads

/**
 * Inserts (v, j) into the slots [vo, vo + r) that hold `count` entries in descending order (an
 * equal value stays behind the earlier entry; when full, the smallest drops out). Returns the new count.
 */
export function insertDescending(val: Float32Array, idx: Int32Array, vo: number, r: number, count: number, v: number, j: number): number {
  let pos = count < r ? vo + count : vo + r - 1;
  while (pos > vo && val[pos - 1] < v) {
    val[pos] = val[pos - 1];
    idx[pos] = idx[pos - 1];
    pos--;
  }
  val[pos] = v;
  idx[pos] = j;
  return count < r ? count + 1 : r;
}

/**
 * Rows [lo, hi) of the top r of pre[po + b·m ..] into val/idx[vo + b·r ..] (descending, ties to the
 * lower index), reading gmax[go + b·m/32 + g] = the maximum of run g of 32 entries (m % 32 === 0,
 * m/32 ≥ r). The r-th largest run maximum t bounds the row's r-th largest entry from below (r
 * distinct runs reach it), so only runs whose maximum is ≥ t can hold a selected entry.
 */
export function selectByRuns(pre: Float32Array, po: number, gmax: Float32Array, go: number, m: number, r: number, lo: number, hi: number, val: Float32Array, idx: Int32Array, vo: number): void {
  const groups = m / 32;
  const scratch = new Float32Array(groups);
  for (let b = lo; b < hi; b++) {
    // t = the r-th largest run maximum
    const gb = go + b * groups;
    scratch.set(gmax.subarray(gb, gb + groups));
    const t = quickselect(scratch, groups - r);
    const o = po + b * m;
    const vb = vo + b * r;
    val.fill(-Infinity, vb, vb + r);
    idx.fill(-1, vb, vb + r);
    let count = 0;
    for (let g = 0; g < groups; g++) {
      if (!(gmax[gb + g] >= t)) continue;
      for (let j = g * 32, end = j + 32; j < end; j++) {
        const v = pre[o + j];
        if (v >= t && (count < r || v > val[vb + r - 1])) count = insertDescending(val, idx, vb, r, count, v, j);
      }
    }
  }
}

/** Layout of a selection in P: pre [rows, m] at 0, run maxima at gmax, the result at val / idx ([rows, r]). */
interface TopKArgs {
  m: number;
  r: number;
  gmax: number;
  val: number;
  idx: number;
  /** The same rows sorted by latent index (what a sparse code stores). */
  sortedVal: number;
  sortedIdx: number;
}

/** Rows [lo, hi): run maxima (SIMD), then the selection. */
function topKRows(c: StepContext, lo: number, hi: number, A: TopKArgs): void {
  c.refresh();
  const groups = A.m / 32;
  c.groupMax32!(lo * A.m, (hi - lo) * groups, A.gmax + lo * groups);
  // separate views, so that the compiled loop does not treat the output as aliasing its inputs
  const size = A.gmax;
  const val = c.pre.subarray(A.val, A.idx);
  const idx = c.preI32.subarray(A.idx, A.sortedVal);
  selectByRuns(c.pre.subarray(0, size), 0, c.pre.subarray(size, A.val), 0, A.m, A.r, lo, hi, val, idx, 0);
  const sv = c.pre.subarray(A.sortedVal, A.sortedIdx);
  const si = c.preI32.subarray(A.sortedIdx);
  const r = A.r;
  for (let b = lo; b < hi; b++) {
    // insertion sort of the row's r entries by index
    const o = b * r;
    for (let a = o; a < o + r; a++) {
      const j = idx[a];
      const v = val[a];
      let p = a - 1;
      while (p >= o && si[p] > j) {
        si[p + 1] = si[p];
        sv[p + 1] = sv[p];
        p--;
      }
      si[p + 1] = j;
      sv[p + 1] = v;
    }
  }
}

/** Rows [lo, hi) of out = srcᵀ, where src = H[src .. src + rows·cols) is [rows, cols] and out [cols, rows] (blocked for cache). */
function transposeFromWorkspace(c: StepContext, lo: number, hi: number, A: { src: number; rows: number; cols: number; out: Float32Array }): void {
  c.refresh();
  const H = c.f32;
  const { src, rows, cols, out } = A;
  const T = 32;
  for (let c0 = lo; c0 < hi; c0 += T) {
    const c1 = Math.min(hi, c0 + T);
    for (let r0 = 0; r0 < rows; r0 += T) {
      const r1 = Math.min(rows, r0 + T);
      // contiguous writes in the inner loop: 4x faster here than contiguous reads
      for (let cc = c0; cc < c1; cc++) {
        const o = cc * rows;
        for (let r = r0; r < r1; r++) out[o + r] = H[src + r * cols + cc];
      }
    }
  }
}

/** Columns [lo, hi) of the decoder-bias gradient's first part, Σ_b S[b, 0] (rows in order), into F[gbDec]. */
function sumSuffixColumns(c: StepContext, lo: number, hi: number, L: StepLayout): void {
  c.refresh();
  const H = c.f32;
  const F = c.f64;
  const stride = L.K * L.d;
  for (let i = lo; i < hi; i++) {
    let sum = 0;
    for (let b = 0, o = L.s + i; b < L.rows; b++, o += stride) sum += H[o];
    F[L.gbDec / 2 + i] = sum;
  }
}

/**
 * Rows [lo, hi) of b_dec's gradient: out[i] = Σ_b S[b, 0]_i − Σ_j W_enc[i, j]·gbEnc[j] (b_dec also
 * enters the encoder: pre = (x − b_dec)·W_enc + b_enc); gbEnc and the first sum are read from H.
 */
function bDecGradRows(c: StepContext, lo: number, hi: number, A: { wEnc: Float32Array; gbEnc: number; m: number; gbDec: number; out: Float32Array }): void {
  c.refresh();
  const H = c.f32;
  const F = c.f64;
  const { wEnc, gbEnc, m } = A;
  for (let i = lo; i < hi; i++) {
    let sum = 0;
    const wo = i * m;
    for (let j = 0; j < m; j++) sum += wEnc[wo + j] * H[gbEnc + j];
    A.out[i] = F[A.gbDec / 2 + i] - sum;
  }
}

const STEP_TASKS = { decodeRows, gradientLatents, sumSuffixColumns, bDecGradRows, topKRows, projectDecoderGrads, adamRange, normalizeDecoderRows, transposeFromWorkspace } as unknown as Record<string, Task<StepContext, never>>;

/** Functions the tasks call, shipped to the workers by source. */
const HELPERS = [normalizeRowsInPlace, quickselect, insertDescending, selectByRuns] as ((...args: never[]) => unknown)[];

/**
 * The pool the update runs on: the SIMD workspace's (its workers know every task here), or the
 * one-thread JS workspace's.
 */
export function updatePool(): ThreadPool<StepContext> {
  return stepWorkspace(4, 0).pool;
}

/** True when every array lives in a SharedArrayBuffer, so that worker threads can write it. */
export function allShared(arrays: Float32Array[]): boolean {
  return typeof SharedArrayBuffer === 'function' && arrays.every((a) => a.buffer instanceof SharedArrayBuffer);
}

let simdWorkspace: StepWorkspace | null | undefined;
let jsWorkspace: StepWorkspace | undefined;

/** Pages of the shared memory at most (4 GiB, the wasm32 limit; only address space is reserved). */
const SHARED_MAX_PAGES = 65536;

/** The workspace for rows of length d, grown to `bytes` (the JS one where SIMD is unavailable, d % 4 ≠ 0, or beyond 4 GiB). */
export function stepWorkspace(d: number, bytes: number): StepWorkspace {
  if (d % 4 === 0 && simdWorkspace === undefined) simdWorkspace = createSimdWorkspace();
  if (d % 4 === 0 && simdWorkspace && simdWorkspace.ensure(bytes)) return simdWorkspace;
  if (jsWorkspace === undefined) {
    const memory = { buffer: new ArrayBuffer(0) as ArrayBuffer | SharedArrayBuffer };
    jsWorkspace = {
      pool: createThreadPool({ init: { bytes: null, memory, preMemory: { buffer: new ArrayBuffer(0) } } as StepInit, makeContext: makeStepContext, tasks: STEP_TASKS, helpers: HELPERS, threads: 1 }),
      ensure(bytes: number) {
        if (memory.buffer.byteLength < bytes) memory.buffer = new ArrayBuffer(bytes);
        return true;
      },
    };
  }
  jsWorkspace.ensure(bytes);
  return jsWorkspace;
}

/** The SIMD workspace: a shared memory and worker threads where possible, else a private memory and one thread. */
function createSimdWorkspace(): StepWorkspace | null {
  const WA = (globalThis as unknown as { WebAssembly?: { Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => { buffer: ArrayBuffer; grow(p: number): number } } }).WebAssembly;
  if (simdKernels() === null || WA === undefined) return null;
  const threads = threadCount();
  const shared = threads > 1 && typeof SharedArrayBuffer === 'function';
  try {
    const memory = shared ? new WA.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true }) : new WA.Memory({ initial: 1 });
    const preMemory = shared ? new WA.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true }) : new WA.Memory({ initial: 1 });
    const bytes = simdModuleBytes(shared ? SHARED_MAX_PAGES : undefined);
    const pool = createThreadPool({ init: { bytes, memory, preMemory } as StepInit, makeContext: makeStepContext, tasks: STEP_TASKS, helpers: HELPERS, threads: shared ? threads : 1 });
    const grow = (mem: { buffer: ArrayBuffer; grow(p: number): number }, need: number) => {
      const have = mem.buffer.byteLength;
      if (need <= have) return true;
      if (need > SHARED_MAX_PAGES * 65536) return false;
      mem.grow(Math.ceil((need - have) / 65536));
      return true;
    };
    return { pool, ensure: (need) => grow(memory, need), ensurePre: (need) => grow(preMemory, need) };
  } catch {
    return null;
  }
}


// ---------------------------------------------------------------------------------------------
// The pre-activation buffer

let preLeased = false;

/**
 * The encoder's [rows, m] output buffer in the SIMD workspace's memory P, kept across steps (a
 * fresh 64-256 MB array per step pays its page faults every time), leased to one user at a time;
 * and its TopK on every thread. Null when it is leased, or without SIMD or threads support.
 */
export function leasePreBuffer(rows: number, m: number): { pre: Float32Array; topK(r: number): { val: Float32Array; idx: Int32Array; byIndex: { val: Float32Array; idx: Int32Array } } | null; release(): void } | null {
  if (preLeased) return null;
  const ws = stepWorkspace(4, 0);
  const size = rows * m;
  const groups = m % 32 === 0 ? size / 32 : 0;
  if (ws.ensurePre === undefined || !ws.ensurePre((size + groups) * 4)) return null;
  preLeased = true;
  let held = true;
  const pool = ws.pool;
  pool.context.refresh();
  return {
    pre: pool.context.pre.subarray(0, size),
    topK(r: number) {
      if (groups === 0 || r > m / 32) return null;
      const n = rows * r;
      const A: TopKArgs = { m, r, gmax: size, val: size + groups, idx: size + groups + n, sortedVal: size + groups + 2 * n, sortedIdx: size + groups + 3 * n };
      if (!ws.ensurePre!((A.sortedIdx + n) * 4)) return null;
      pool.run('topKRows', splitRanges(rows, pool.size), A);
      const c = pool.context;
      c.refresh();
      const slice = (f: Float32Array | Int32Array, o: number) => f.slice(o, o + n);
      return {
        val: slice(c.pre, A.val) as Float32Array,
        idx: slice(c.preI32, A.idx) as Int32Array,
        byIndex: { val: slice(c.pre, A.sortedVal) as Float32Array, idx: slice(c.preI32, A.sortedIdx) as Int32Array },
      };
    },
    release() {
      if (held) preLeased = false;
      held = false;
    },
  };
}
