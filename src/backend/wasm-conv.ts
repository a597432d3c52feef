/**
 * Runs the wasm backend's 2-D convolutions (Conv2D, FusedConv2D, Conv2DBackpropInput) on the
 * system BLAS instead of XNNPACK, and gives the backend the filter gradient
 * (Conv2DBackpropFilter) that tfjs-backend-wasm 4.x lacks, so a CNN trains on it at all.
 *
 * Written by hand because no package does it: tfjs lets a program replace (or add) a backend's
 * kernel (registerKernel), and the wasm backend keeps every tensor in its WebAssembly heap, so
 * the kernels hand sgemm views of that heap (as wasm-matmul.ts does for matMul).
 * The formulas (docs/methods/conv.md §2): a convolution is a matrix product over "im2col" rows
 * (Chellapilla, Puri & Simard 2006; Caffe's im2col.cpp), out[N·OH·OW, cout] =
 * cols[N·OH·OW, kh·kw·cin] · W[kh·kw·cin, cout]; the filter gradient is dW = colsᵀ · dy; the
 * input gradient is dcols = dy · Wᵀ added back (col2im). A stride-1 convolution skips the im2col
 * copy: in the zero-padded input, flattened to rows of cin values, the rows a tap (a, b) reads
 * are the output rows shifted by the constant a·Wp + b, so the product is kh·kw sgemm calls on
 * contiguous windows of the padded array, accumulated with beta = 1, into a "wide" output with
 * the padded width that is then cropped; its input gradient is the same with dy and the flipped
 * filter. 1x1 stride-1 unpadded convolutions are one sgemm. Which form runs where was measured
 * (docs/methods/conv.md §3). The copies (im2col, col2im, padding, cropping, bias rows, ReLU) run
 * in a small hand-assembled WebAssembly module on the same heap (bulk memory and SIMD, two
 * levels of strided runs per call), and batches are split into chunks of images so the scratch
 * buffers, kept on the heap, stay bounded.
 * Cases outside the fast path (non-NHWC, dilation, non-float32, empty tensors, activations other
 * than linear and relu, PReLU weights, biases that are not one value per output channel) go to
 * the original XNNPACK kernel; without a BLAS, the filter gradient runs on a plain JavaScript
 * matrix product.
 */
import { tf } from './tf.js';
import { NestlabBackendError } from '../errors.js';
import { NO_TRANS, TRANS, type Cblas } from './blas.js';
import { heapView, sizeOf, swapWasmKernels, type KernelFunc, type WasmBackendLike as SharedBackend } from './wasm-kernels.js';
import {
  WA, type WasmMemory, moduleBytes, funcBody, get, set, addConst, f32Const,
  I32, V128, BLOCK, LOOP, BR, BR_IF, END, VOID, I32_CONST, I32_ADD, I32_GE_U, F32_ADD, F32_MAX, V128_LOAD, V128_STORE, F32X4_ADD, F32X4_MAX, F32X4_SPLAT,
} from './wasm-asm.js';

/** The wasm backend internals this module relies on, beyond the shared ones: its allocator and memory. */
interface WasmBackendLike extends SharedBackend {
  wasm: SharedBackend['wasm'] & { _malloc(bytes: number): number; _free(ptr: number): void; asm?: { memory?: WasmMemory } };
}

/** The kernels tfjs-backend-wasm registers, replaced when a BLAS is given. */
const REPLACED = [tf.Conv2D, tf.FusedConv2D, tf.Conv2DBackpropInput] as const;

/** The XNNPACK kernels as registered by tfjs-backend-wasm, kept to fall back on and to restore. */
const originals = new Map<string, tf.KernelConfig>();
let active: 'blas' | 'xnnpack' = 'xnnpack';

/**
 * Which library runs the wasm backend's convolutions now: 'blas' (all four kernels here), or
 * 'xnnpack' (tfjs' own Conv2D, FusedConv2D and Conv2DBackpropInput; the filter gradient, which
 * tfjs-backend-wasm lacks, then runs here on a JavaScript matrix product).
 */
export function wasmConvKernel(): 'blas' | 'xnnpack' {
  return active;
}

/**
 * Routes the wasm backend's convolutions to `blas` (or back to XNNPACK with null), and registers
 * the filter gradient either way. The wasm backend must be registered first.
 */
export function useBlasForWasmConv(blas: Cblas | null): void {
  swapWasmKernels(REPLACED, originals, blas === null ? null : (name, fallback) => (name === tf.Conv2DBackpropInput ? backpropInputKernel(blas, fallback) : forwardKernel(blas, fallback)));
  // A later tfjs-backend-wasm may bring its own filter gradient: kept, and restored without a BLAS.
  if (!originals.has(tf.Conv2DBackpropFilter)) {
    const own = tf.getKernel(tf.Conv2DBackpropFilter, 'wasm');
    originals.set(tf.Conv2DBackpropFilter, own ?? { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: backpropFilterKernel(null) as unknown as tf.KernelFunc });
  }
  if (tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') !== undefined) tf.unregisterKernel(tf.Conv2DBackpropFilter, 'wasm');
  const filter = originals.get(tf.Conv2DBackpropFilter)!;
  tf.registerKernel(blas === null ? filter : { ...filter, kernelFunc: backpropFilterKernel(blas) as unknown as tf.KernelFunc });
  active = blas === null ? 'xnnpack' : 'blas';
}

// ---------------------------------------------------------------------------------------------
// Geometry, plans, timing

/** One convolution's sizes: input [n, h, w, cin], filter [kh, kw, cin, cout], output [n, oh, ow, cout]. */
interface ConvGeometry {
  n: number; h: number; w: number; cin: number;
  kh: number; kw: number; cout: number;
  oh: number; ow: number;
  sh: number; sw: number;
  /** Zero padding above and left of the input, as tfjs computes it (below and right it is implied by oh, ow). */
  pt: number; pl: number;
  /** Zero padding below and right. */
  pb: number; pr: number;
}

/** The geometry tfjs' own kernels use (backend_util.computeConv2DInfo), or null outside the fast path. */
function geometryOf(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): ConvGeometry | null {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return null;
  const dilations = (attrs.dilations ?? 1) as number | [number, number];
  if (!(dilations === 1 || (Array.isArray(dilations) && dilations[0] === 1 && dilations[1] === 1))) return null;
  if (xShape.length !== 4 || filterShape.length !== 4) return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const g: ConvGeometry = {
    n: info.batchSize, h: info.inHeight, w: info.inWidth, cin: info.inChannels,
    kh: info.filterHeight, kw: info.filterWidth, cout: info.outChannels,
    oh: info.outHeight, ow: info.outWidth, sh: info.strideHeight, sw: info.strideWidth,
    pt: info.padInfo.top, pl: info.padInfo.left, pb: info.padInfo.bottom, pr: info.padInfo.right,
  };
  if (g.n * g.h * g.w * g.cin === 0 || g.kh * g.kw * g.cout === 0 || g.oh <= 0 || g.ow <= 0) return null;
  return g;
}

/** How one convolution is computed (docs/methods/conv.md §2). */
type Method = 'pointwise' | 'im2col' | 'shifted' | 'col2im';
type Op = 'forward' | 'input' | 'filter';

/** A method, the images per chunk, and the floats of the two scratch buffers it needs. */
interface Plan {
  method: Method;
  chunk: number;
  a: number;
  b: number;
}

/** Floats one chunk's scratch may hold before the batch is split further (tuneConv). */
let scratchFloats = 1 << 20;
/** 'auto' picks per operation (docs/methods/conv.md §3); the others force one method where it applies. */
let strategy: 'auto' | 'im2col' | 'shifted' = 'auto';

/**
 * Sets how convolutions are computed (for tests and benchmarks): `strategy` 'im2col' or 'shifted'
 * forces that method wherever it applies, 'auto' picks the measured fastest; `scratchFloats`
 * bounds each scratch buffer (the batch is split into chunks of images to fit). Returns the
 * previous settings.
 */
export function tuneConv(options: { strategy?: 'auto' | 'im2col' | 'shifted'; scratchFloats?: number }): { strategy: 'auto' | 'im2col' | 'shifted'; scratchFloats: number } {
  const before = { strategy, scratchFloats };
  if (options.strategy !== undefined) strategy = options.strategy;
  if (options.scratchFloats !== undefined) scratchFloats = Math.max(1, Math.floor(options.scratchFloats));
  return before;
}

/** A 1x1 stride-1 unpadded convolution: one product of the input rows with W. */
function pointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && g.oh === g.h && g.ow === g.w;
}

/** Whether the shifted-window form applies: stride 1, padding within the filter's reach, more than one tap. */
function shiftable(g: ConvGeometry): boolean {
  return g.sh === 1 && g.sw === 1 && g.pt < g.kh && g.pb < g.kh && g.pl < g.kw && g.pr < g.kw && g.kh * g.kw > 1;
}

/** Images per chunk so that `floatsPerImage` fit the scratch budget (at least one). */
function chunkOf(floatsPerImage: number, n: number): number {
  return Math.max(1, Math.min(n, Math.floor(scratchFloats / Math.max(1, floatsPerImage))));
}

/** The method and scratch of one operation on g. */
function planOf(g: ConvGeometry, op: Op): Plan {
  const { n, h, w, cin, kh, kw, cout, oh, ow } = g;
  if (pointwise(g)) return { method: 'pointwise', chunk: n, a: 0, b: 0 };
  // 'auto': shifted windows for the forward pass and the input gradient when each tap's product
  // has at least 8 input channels (K = cin, or cout for dx); im2col for the filter gradient and
  // for thin inputs such as a grayscale image (docs/methods/conv.md §3).
  const depth = op === 'input' ? cout : cin;
  const shifted = shiftable(g) && (strategy === 'shifted' || (strategy === 'auto' && op !== 'filter' && depth >= 8));
  if (shifted) {
    // forward and filter: x padded to [Hp, Wp] and a wide output / wide dy; input: dy padded to [Hq, Wq] and a wide dx.
    const [H, W, cA, cB] = op === 'input' ? [h + kh - 1, w + kw - 1, cout, cin] : [h + g.pt + g.pb, w + g.pl + g.pr, cin, cout];
    const chunk = chunkOf(H * W * Math.max(cA, cB), n);
    return { method: 'shifted', chunk, a: chunk * H * W * cA, b: chunk * H * W * cB };
  }
  if (op === 'input' && g.sh === 1 && g.sw === 1) {
    // dx as the stride-1 convolution of dy with the flipped filter: im2col of dy, one product.
    const chunk = chunkOf(h * w * kh * kw * cout, n);
    return { method: 'im2col', chunk, a: chunk * h * w * kh * kw * cout, b: 0 };
  }
  const chunk = chunkOf(oh * ow * kh * kw * cin, n);
  return { method: op === 'input' ? 'col2im' : 'im2col', chunk, a: chunk * oh * ow * kh * kw * cin, b: 0 };
}

/** Milliseconds spent per phase since the last reset (bench/conv-train.bench.ts reads them). */
export interface ConvTimings {
  /** Conv2D and FusedConv2D kernels. */
  forward: number;
  /** Conv2DBackpropInput kernels. */
  backpropInput: number;
  /** Conv2DBackpropFilter kernels. */
  backpropFilter: number;
  /** Of the three above: the copies (im2col, col2im, padding, cropping). */
  copies: number;
  /** Kernel calls counted. */
  calls: number;
}
const timings: ConvTimings = { forward: 0, backpropInput: 0, backpropFilter: 0, copies: 0, calls: 0 };

/** The time spent in this module's kernels since the last resetConvTimings. */
export function convTimings(): ConvTimings {
  return { ...timings };
}

/** Zeroes convTimings. */
export function resetConvTimings(): void {
  timings.forward = timings.backpropInput = timings.backpropFilter = timings.copies = timings.calls = 0;
}

// ---------------------------------------------------------------------------------------------
// Strided runs: the copies, on the wasm heap in WebAssembly (bulk memory and SIMD)

/**
 * Blocks of runs: for r1 < c1 and r2 < c2, the run of `len` floats at dst[d + r1·ds1 + r2·ds2]
 * (and src[s + r1·ss1 + r2·ss2]) is copied, zero-filled, or added (dst += src). Indices in
 * floats. Runs are processed in order, so overlapping destination runs (col2im at stride 1)
 * accumulate correctly. Two levels let one call cover a whole image (rows × columns).
 */
export interface Runs {
  copy(dst: Float32Array, d: number, src: Float32Array, s: number, c1: number, ds1: number, ss1: number, c2: number, ds2: number, ss2: number, len: number): void;
  fill(dst: Float32Array, d: number, c1: number, ds1: number, c2: number, ds2: number, len: number): void;
  add(dst: Float32Array, d: number, src: Float32Array, s: number, c1: number, ds1: number, ss1: number, c2: number, ds2: number, ss2: number, len: number): void;
  /** dst[d + t] = max(dst[d + t], 0) for t < len. */
  relu(dst: Float32Array, d: number, len: number): void;
}

/** The same runs in plain JavaScript (arrays off the heap, or no WebAssembly); exported for its test. */
export const jsRuns: Runs = {
  copy(dst, d, src, s, c1, ds1, ss1, c2, ds2, ss2, len) {
    for (let r1 = 0; r1 < c1; r1++) {
      for (let r2 = 0, dd = d + r1 * ds1, sd = s + r1 * ss1; r2 < c2; r2++, dd += ds2, sd += ss2) for (let t = 0; t < len; t++) dst[dd + t] = src[sd + t];
    }
  },
  fill(dst, d, c1, ds1, c2, ds2, len) {
    for (let r1 = 0; r1 < c1; r1++) for (let r2 = 0, dd = d + r1 * ds1; r2 < c2; r2++, dd += ds2) dst.fill(0, dd, dd + len);
  },
  add(dst, d, src, s, c1, ds1, ss1, c2, ds2, ss2, len) {
    for (let r1 = 0; r1 < c1; r1++) {
      for (let r2 = 0, dd = d + r1 * ds1, sd = s + r1 * ss1; r2 < c2; r2++, dd += ds2, sd += ss2) for (let t = 0; t < len; t++) dst[dd + t] += src[sd + t];
    }
  },
  relu(dst, d, len) {
    for (let t = d; t < d + len; t++) if (dst[t] < 0) dst[t] = 0;
  },
};

// WebAssembly opcodes beyond wasm-asm.ts' (core spec §5.4): bulk memory (0xFC prefix), scalar f32 memory, if/else.
const MEMORY_COPY = [0xfc, 0x0a, 0x00, 0x00];
const MEMORY_FILL = [0xfc, 0x0b, 0x00];
const F32_LOAD = [0x2a, 0x02, 0x00];
const F32_STORE = [0x38, 0x02, 0x00];
const I32_SUB = 0x6b;
const I32_AND = 0x71;
const I32_EQZ = 0x45;
const IF = 0x04;
const ELSE = 0x05;

/** while (local[counter] != 0) { body; local[counter] -= 1 } */
const countDown = (counter: number, body: number[]) => [BLOCK, VOID, LOOP, VOID, ...get(counter), I32_EQZ, BR_IF, 1, ...body, ...get(counter), I32_CONST, 1, I32_SUB, ...set(counter), BR, 0, END, END];
/** while (local[ptr] < local[end]) { body } */
const loopBelow = (ptr: number, end: number, body: number[]) => [BLOCK, VOID, LOOP, VOID, ...get(ptr), ...get(end), I32_GE_U, BR_IF, 1, ...body, BR, 0, END, END];
/** local[i] += local[by] */
const advance = (i: number, by: number) => [...get(i), ...get(by), I32_ADD, ...set(i)];
/** local[to] = local[from] */
const copyLocal = (from: number, to: number) => [...get(from), ...set(to)];

/**
 * Two nested count-downs over blocks of runs: locals `dst`, `src` advance by ds1/ss1 per outer
 * step; `d`, `s` by ds2/ss2 per inner step; `run` is the code for one run at (d, s).
 */
function blocks(L: { dst: number; src: number | null; c1: number; ds1: number; ss1: number | null; c2: number; ds2: number; ss2: number | null; d: number; s: number | null; k: number }, run: number[]): number[] {
  const inner = [...run, ...advance(L.d, L.ds2), ...(L.s === null ? [] : advance(L.s, L.ss2!))];
  return countDown(L.c1, [
    ...copyLocal(L.dst, L.d), ...(L.s === null ? [] : copyLocal(L.src!, L.s)), ...copyLocal(L.c2, L.k),
    ...countDown(L.k, inner),
    ...advance(L.dst, L.ds1), ...(L.src === null ? [] : advance(L.src, L.ss1!)),
  ]);
}

/** Pointer setup for one run of `len` bytes at local p (and q): vector end and end. */
const runBounds = (p: number, q: number | null, d: number, s: number | null, len: number, vecEnd: number, end: number) => [
  ...copyLocal(d, p), ...(q === null ? [] : copyLocal(s!, q)),
  ...get(d), ...get(len), I32_ADD, ...set(end),
  ...get(d), ...get(len), I32_CONST, ...sleb(-16), I32_AND, I32_ADD, ...set(vecEnd),
];

// Parameters of copy2 / add2: 0 dst, 1 src, 2 c1, 3 ds1, 4 ss1, 5 c2, 6 ds2, 7 ss2, 8 len (bytes);
// locals 9 d, 10 s, 11 k, 12 p, 13 q, 14 vector end, 15 end.
const TWO_LEVEL = { dst: 0, src: 1, c1: 2, ds1: 3, ss1: 4, c2: 5, ds2: 6, ss2: 7, d: 9, s: 10, k: 11 };

/**
 * copy2: runs of 256 bytes or more go to memory.copy; shorter ones (im2col's kw·cin floats) are
 * copied inline, f32x4 then scalar, since memory.copy is an out-of-line call in V8.
 */
function copy2Body(): number[] {
  return funcBody([[7, I32]], [
    ...blocks(TWO_LEVEL, [
      ...get(8), I32_CONST, ...sleb(256), I32_GE_U, IF, VOID,
      ...get(9), ...get(10), ...get(8), ...MEMORY_COPY,
      ELSE,
      ...runBounds(12, 13, 9, 10, 8, 14, 15),
      ...loopBelow(12, 14, [...get(12), ...get(13), ...V128_LOAD, ...V128_STORE, ...addConst(12, 16), ...addConst(13, 16)]),
      ...loopBelow(12, 15, [...get(12), ...get(13), ...F32_LOAD, ...F32_STORE, ...addConst(12, 4), ...addConst(13, 4)]),
      END,
    ]),
    END,
  ]);
}

/** add2: dst += src per run, f32x4 then scalar. */
function add2Body(): number[] {
  return funcBody([[7, I32]], [
    ...blocks(TWO_LEVEL, [
      ...runBounds(12, 13, 9, 10, 8, 14, 15),
      ...loopBelow(12, 14, [...get(12), ...get(12), ...V128_LOAD, ...get(13), ...V128_LOAD, ...F32X4_ADD, ...V128_STORE, ...addConst(12, 16), ...addConst(13, 16)]),
      ...loopBelow(12, 15, [...get(12), ...get(12), ...F32_LOAD, ...get(13), ...F32_LOAD, F32_ADD, ...F32_STORE, ...addConst(12, 4), ...addConst(13, 4)]),
    ]),
    END,
  ]);
}

/** fill2(dst, c1, ds1, c2, ds2, len): zeros per run, memory.fill from 256 bytes, inline stores below; locals 6 d, 7 k, 8 p, 9 vector end, 10 end, 11 zeros. */
function fill2Body(): number[] {
  const L = { dst: 0, src: null, c1: 1, ds1: 2, ss1: null, c2: 3, ds2: 4, ss2: null, d: 6, s: null, k: 7 };
  return funcBody([[5, I32], [1, V128]], [
    ...f32Const(0), ...F32X4_SPLAT, ...set(11),
    ...blocks(L, [
      ...get(5), I32_CONST, ...sleb(256), I32_GE_U, IF, VOID,
      ...get(6), I32_CONST, 0, ...get(5), ...MEMORY_FILL,
      ELSE,
      ...runBounds(8, null, 6, null, 5, 9, 10),
      ...loopBelow(8, 9, [...get(8), ...get(11), ...V128_STORE, ...addConst(8, 16)]),
      ...loopBelow(8, 10, [...get(8), ...f32Const(0), ...F32_STORE, ...addConst(8, 4)]),
      END,
    ]),
    END,
  ]);
}

/** relu(dst, len): x = max(x, 0) by f32x4, then scalar for len mod 16 bytes; locals 2 vector end, 3 end, 4 zeros. */
function reluBody(): number[] {
  return funcBody([[2, I32], [1, V128]], [
    ...get(0), ...get(1), I32_ADD, ...set(3),
    ...get(0), ...get(1), I32_CONST, ...sleb(-16), I32_AND, I32_ADD, ...set(2),
    ...f32Const(0), ...F32X4_SPLAT, ...set(4),
    ...loopBelow(0, 2, [...get(0), ...get(0), ...V128_LOAD, ...get(4), ...F32X4_MAX, ...V128_STORE, ...addConst(0, 16)]),
    ...loopBelow(0, 3, [...get(0), ...get(0), ...F32_LOAD, ...f32Const(0), F32_MAX, ...F32_STORE, ...addConst(0, 4)]),
    END,
  ]);
}

/** Signed LEB128 (i32.const takes a signed immediate). */
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** The module's bytes (exported for the test that validates them): copy2, fill2, add2, relu. */
export function convRunsModuleBytes(): Uint8Array {
  const nine = { params: Array<number>(9).fill(I32), results: [] };
  return moduleBytes(
    [nine, { params: Array<number>(6).fill(I32), results: [] }, { params: [I32, I32], results: [] }],
    [0, 1, 0, 2],
    ['copy2', 'fill2', 'add2', 'relu'],
    [copy2Body(), fill2Body(), add2Body(), reluBody()],
  );
}

interface RunsExports {
  copy2(dst: number, src: number, c1: number, ds1: number, ss1: number, c2: number, ds2: number, ss2: number, len: number): void;
  fill2(dst: number, c1: number, ds1: number, c2: number, ds2: number, len: number): void;
  add2(dst: number, src: number, c1: number, ds1: number, ss1: number, c2: number, ds2: number, ss2: number, len: number): void;
  relu(dst: number, len: number): void;
}

const runsOfMemory = new WeakMap<object, Runs>();

/** Runs on `memory`'s buffer by the WebAssembly module (JS for arrays elsewhere); jsRuns where it cannot be built. */
function heapRuns(memory: WasmMemory | undefined): Runs {
  if (memory === undefined || WA === undefined) return jsRuns;
  const known = runsOfMemory.get(memory);
  if (known !== undefined) return known;
  let runs = jsRuns;
  try {
    const bytes = convRunsModuleBytes();
    if (WA.validate(bytes) && process.env.NESTLAB_SIMD !== '0') {
      const k = new WA.Instance(new WA.Module(bytes), { env: { mem: memory } }).exports as unknown as RunsExports;
      runs = {
        copy: (dst, d, src, s, c1, ds1, ss1, c2, ds2, ss2, len) => {
          if (dst.buffer !== memory.buffer || src.buffer !== memory.buffer) return jsRuns.copy(dst, d, src, s, c1, ds1, ss1, c2, ds2, ss2, len);
          k.copy2(dst.byteOffset + 4 * d, src.byteOffset + 4 * s, c1, 4 * ds1, 4 * ss1, c2, 4 * ds2, 4 * ss2, 4 * len);
        },
        fill: (dst, d, c1, ds1, c2, ds2, len) => {
          if (dst.buffer !== memory.buffer) return jsRuns.fill(dst, d, c1, ds1, c2, ds2, len);
          k.fill2(dst.byteOffset + 4 * d, c1, 4 * ds1, c2, 4 * ds2, 4 * len);
        },
        add: (dst, d, src, s, c1, ds1, ss1, c2, ds2, ss2, len) => {
          if (dst.buffer !== memory.buffer || src.buffer !== memory.buffer) return jsRuns.add(dst, d, src, s, c1, ds1, ss1, c2, ds2, ss2, len);
          k.add2(dst.byteOffset + 4 * d, src.byteOffset + 4 * s, c1, 4 * ds1, 4 * ss1, c2, 4 * ds2, 4 * ss2, 4 * len);
        },
        relu: (dst, d, len) => (dst.buffer === memory.buffer ? k.relu(dst.byteOffset + 4 * d, 4 * len) : jsRuns.relu(dst, d, len)),
      };
    }
  } catch {
    runs = jsRuns;
  }
  runsOfMemory.set(memory, runs);
  return runs;
}

// ---------------------------------------------------------------------------------------------
// Copies between NHWC tensors and the scratch layouts

/** Output columns j whose whole window [j·sw − pl, j·sw − pl + kw) lies inside [0, w): [lo, hi). */
function interior(g: ConvGeometry): [number, number] {
  const lo = Math.min(g.ow, Math.max(0, Math.ceil(g.pl / g.sw)));
  const hi = Math.max(lo, Math.min(g.ow, Math.floor((g.w - g.kw + g.pl) / g.sw) + 1));
  return [lo, hi];
}

/**
 * im2col for images [n0, n1): row (n, i, j) of `cols` holds the kh·kw·cin input values under
 * output pixel (i, j), tap-major (a, b, ci) like the filter's rows, zeros where the window
 * leaves the input. For one image and filter row a, the windows of the interior columns over
 * the rows i whose input row i·sh − pt + a exists are runs of kw·cin contiguous input values:
 * one two-level block (rows i, columns j); the border columns and missing rows are a few more.
 * With `add`, the transpose (col2im): each row of `cols` is added back onto its input pixels.
 */
function im2col(runs: Runs, g: ConvGeometry, x: Float32Array, n0: number, n1: number, cols: Float32Array, add = false): void {
  const { h, w, cin, kh, kw, oh, ow, sh, sw, pt, pl } = g;
  const K = kh * kw * cin;
  const run = kw * cin;
  const rowStride = ow * K; // cols: from output row i to i + 1
  const inStride = sh * w * cin; // x: from input row i·sh − pt + a to the next output row's
  const [lo, hi] = interior(g);
  for (let a = 0; a < kh; a++) {
    // Output rows i with 0 <= i·sh − pt + a < h: [iLo, iHi).
    const iLo = Math.min(oh, Math.max(0, Math.ceil((pt - a) / sh)));
    const iHi = Math.max(iLo, Math.min(oh, Math.floor((h - 1 + pt - a) / sh) + 1));
    const rows = iHi - iLo;
    for (let n = n0; n < n1; n++) {
      const seg = (n - n0) * oh * rowStride + a * run; // cols: image n, row 0, column 0, tap row a
      const xRow = n * h * w * cin + (iLo * sh - pt + a) * w * cin; // x: the input row of output row iLo
      if (!add) {
        if (iLo > 0) runs.fill(cols, seg, iLo, rowStride, ow, K, run);
        if (iHi < oh) runs.fill(cols, seg + iHi * rowStride, oh - iHi, rowStride, ow, K, run);
      }
      if (rows === 0) continue;
      const first = seg + iLo * rowStride;
      if (hi > lo) {
        const s = xRow + (lo * sw - pl) * cin;
        if (add) runs.add(x, s, cols, first + lo * K, rows, inStride, rowStride, hi - lo, sw * cin, K, run);
        else runs.copy(cols, first + lo * K, x, s, rows, rowStride, inStride, hi - lo, K, sw * cin, run);
      }
      // Border columns: the part of each window inside the input, zeros for the rest.
      for (let j = 0; j < ow; j++) {
        if (j === lo && hi > lo) j = hi;
        if (j >= ow) break;
        const iw0 = j * sw - pl;
        const b0 = Math.max(0, -iw0);
        const b1 = Math.min(kw, w - iw0);
        const d = first + j * K;
        if (b1 <= b0) {
          if (!add) runs.fill(cols, d, rows, rowStride, 1, 0, run);
          continue;
        }
        const s = xRow + (iw0 + b0) * cin;
        if (add) {
          runs.add(x, s, cols, d + b0 * cin, rows, inStride, rowStride, 1, 0, 0, (b1 - b0) * cin);
          continue;
        }
        if (b0 > 0) runs.fill(cols, d, rows, rowStride, 1, 0, b0 * cin);
        runs.copy(cols, d + b0 * cin, x, s, rows, rowStride, inStride, 1, 0, 0, (b1 - b0) * cin);
        if (b1 < kw) runs.fill(cols, d + b1 * cin, rows, rowStride, 1, 0, (kw - b1) * cin);
      }
    }
  }
}

/**
 * Copies images [n0, n1) of `src` ([., sH, sW, c]) into `dst` as [n1 − n0, dH, dW, c] at row
 * offset `top` and column offset `left` (each ≥ 0, the copy fitting inside), zeros around.
 */
function embed(runs: Runs, src: Float32Array, n0: number, n1: number, sH: number, sW: number, c: number, dst: Float32Array, dH: number, dW: number, top: number, left: number): void {
  const count = n1 - n0;
  const rowOut = dW * c;
  const image = dH * rowOut;
  const right = (dW - left - sW) * c;
  const bottom = dH - top - sH;
  const first = top * rowOut;
  if (top > 0) runs.fill(dst, 0, count, image, 1, 0, top * rowOut);
  if (left > 0) runs.fill(dst, first, count, image, sH, rowOut, left * c);
  runs.copy(dst, first + left * c, src, n0 * sH * sW * c, count, image, sH * sW * c, sH, rowOut, sW * c, sW * c);
  if (right > 0) runs.fill(dst, first + (left + sW) * c, count, image, sH, rowOut, right);
  if (bottom > 0) runs.fill(dst, first + sH * rowOut, count, image, 1, 0, bottom * rowOut);
}

/** Crops the wide result [count, wH, wW, c] (valid rows and columns first) into images [n0, n0 + count) of `out` ([., oH, oW, c]). */
function crop(runs: Runs, wide: Float32Array, count: number, wH: number, wW: number, c: number, out: Float32Array, n0: number, oH: number, oW: number): void {
  const len = oW * c;
  runs.copy(out, n0 * oH * len, wide, 0, count, oH * len, wH * wW * c, oH, len, wW * c, len);
}

/** Fills `rows` rows of c floats from out[d] with the bias (a copy whose source does not advance), or leaves them. */
function fillBias(runs: Runs, out: Float32Array, d: number, rows: number, bias: Float32Array | null): void {
  if (bias !== null) runs.copy(out, d, bias, 0, 1, 0, 0, rows, bias.length, 0, bias.length);
}

/** Times `f` into timings.copies. */
function copying(f: () => void): void {
  const t0 = performance.now();
  f();
  timings.copies += performance.now() - t0;
}

// ---------------------------------------------------------------------------------------------
// The three computations

/** What one computation works with: the BLAS (or a JS product for the filter gradient), the runs, scratch. */
interface Tools {
  blas: Cblas | null;
  runs: Runs;
  a: Float32Array;
  b: Float32Array;
}

/**
 * out = conv(x, W) (+ bias, ReLU): x [n, h, w, cin], W [kh, kw, cin, cout] read as
 * [kh·kw·cin, cout], out [n, oh, ow, cout]; `bias` one value per output channel, or null.
 */
function convForward(t: Tools & { blas: Cblas }, g: ConvGeometry, plan: Plan, x: Float32Array, W: Float32Array, out: Float32Array, bias: Float32Array | null, relu: boolean): void {
  const { n, h, w, cin, kh, kw, cout, oh, ow } = g;
  const { blas, runs } = t;
  const K = kh * kw * cin;
  // The bias pre-fills each product's output, which then accumulates (beta = 1).
  const beta = bias === null ? 0 : 1;
  if (plan.method === 'pointwise') {
    fillBias(runs, out, 0, n * h * w, bias);
    blas.sgemm(NO_TRANS, NO_TRANS, n * h * w, cout, cin, 1, x, cin, W, cout, beta, out, cout);
    if (relu) runs.relu(out, 0, out.length);
    return;
  }
  for (let n0 = 0; n0 < n; n0 += plan.chunk) {
    const n1 = Math.min(n, n0 + plan.chunk);
    if (plan.method === 'shifted') {
      // Row q of the wide output needs padded rows q + a·Wp + b; the first M rows cover every valid q.
      const Hp = h + g.pt + g.pb;
      const Wp = w + g.pl + g.pr;
      const M = shiftedRows(n1 - n0, Hp, Wp, kh, kw);
      copying(() => {
        embed(runs, x, n0, n1, h, w, cin, t.a, Hp, Wp, g.pt, g.pl);
        fillBias(runs, t.b, 0, M, bias);
      });
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const tap = a * kw + b;
          blas.sgemm(NO_TRANS, NO_TRANS, M, cout, cin, 1, t.a.subarray((a * Wp + b) * cin), cin, W.subarray(tap * cin * cout), cout, tap === 0 ? beta : 1, t.b, cout);
        }
      }
      copying(() => crop(runs, t.b, n1 - n0, Hp, Wp, cout, out, n0, oh, ow));
    } else {
      const rows = (n1 - n0) * oh * ow;
      copying(() => {
        im2col(runs, g, x, n0, n1, t.a);
        fillBias(runs, out, n0 * oh * ow * cout, rows, bias);
      });
      blas.sgemm(NO_TRANS, NO_TRANS, rows, cout, K, 1, t.a, K, W, cout, beta, out.subarray(n0 * oh * ow * cout), cout);
    }
    if (relu) runs.relu(out, n0 * oh * ow * cout, (n1 - n0) * oh * ow * cout);
  }
}

/**
 * dx = ∂/∂x Σ dy ⊙ conv(x, W), given dy [n, oh, ow, cout]; dx [n, h, w, cin]. At stride 1 it is
 * the convolution of dy, padded by kh − 1 − pt above and kw − 1 − pl on the left, with the
 * filter flipped in space and transposed in channels: Wf[a, b, co, ci] = W[kh−1−a, kw−1−b, ci, co].
 */
function convBackpropInput(t: Tools & { blas: Cblas }, g: ConvGeometry, plan: Plan, dy: Float32Array, W: Float32Array, dx: Float32Array): void {
  const { n, h, w, cin, kh, kw, cout, oh, ow } = g;
  const { blas, runs } = t;
  const K = kh * kw * cin;
  if (plan.method === 'pointwise') {
    blas.sgemm(NO_TRANS, TRANS, n * h * w, cin, cout, 1, dy, cout, W, cout, 0, dx, cin);
    return;
  }
  // The flipped filter as [kh·kw·cout, cin] (tiny: built per call).
  const flipped = plan.method === 'im2col' ? new Float32Array(K * cout) : null;
  if (flipped !== null) {
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) {
      flipped[((a * kw + b) * cout + co) * cin + ci] = W[(((kh - 1 - a) * kw + (kw - 1 - b)) * cin + ci) * cout + co];
    }
  }
  // dy seen as the input of that stride-1 convolution: [n, oh, ow, cout] -> [n, h, w, cin].
  const gd: ConvGeometry = { n, h: oh, w: ow, cin: cout, kh, kw, cout: cin, oh: h, ow: w, sh: 1, sw: 1, pt: kh - 1 - g.pt, pl: kw - 1 - g.pl, pb: kh - 1 - g.pb, pr: kw - 1 - g.pr };
  if (plan.method === 'col2im') dx.fill(0);
  for (let n0 = 0; n0 < n; n0 += plan.chunk) {
    const n1 = Math.min(n, n0 + plan.chunk);
    if (plan.method === 'shifted') {
      // dx[i, j] = Σ_{a,b} dyP[i + a, j + b] · Wf[a, b] on the wide layout of the padded dy.
      const Hq = h + kh - 1;
      const Wq = w + kw - 1;
      const M = shiftedRows(n1 - n0, Hq, Wq, kh, kw);
      copying(() => embed(runs, dy, n0, n1, oh, ow, cout, t.a, Hq, Wq, gd.pt, gd.pl));
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const tap = (kh - 1 - a) * kw + (kw - 1 - b);
          blas.sgemm(NO_TRANS, TRANS, M, cin, cout, 1, t.a.subarray((a * Wq + b) * cout), cout, W.subarray(tap * cin * cout), cout, a === 0 && b === 0 ? 0 : 1, t.b, cin);
        }
      }
      copying(() => crop(runs, t.b, n1 - n0, Hq, Wq, cin, dx, n0, h, w));
    } else if (plan.method === 'im2col') {
      const rows = (n1 - n0) * h * w;
      copying(() => im2col(runs, gd, dy, n0, n1, t.a));
      blas.sgemm(NO_TRANS, NO_TRANS, rows, cin, K / cin * cout, 1, t.a, K / cin * cout, flipped!, cin, 0, dx.subarray(n0 * h * w * cin), cin);
    } else {
      // col2im: dcols = dy · Wᵀ, each row added back onto the input pixels it came from.
      const rows = (n1 - n0) * oh * ow;
      blas.sgemm(NO_TRANS, TRANS, rows, K, cout, 1, dy.subarray(n0 * oh * ow * cout), cout, W, cout, 0, t.a, K);
      copying(() => im2col(runs, g, dx, n0, n1, t.a, true));
    }
  }
}

/** C[m, n] = Aᵀ B + beta C with A [k, m] (row length lda) and B [k, n] (row length ldb), row-major. */
type GemmTN = (m: number, n: number, k: number, A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number) => void;

/** GemmTN in plain JavaScript (the filter gradient without a BLAS): rank-1 updates, row by row. */
const jsGemmTN: GemmTN = (m, n, k, A, lda, B, ldb, beta, C, ldc) => {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) C[i * ldc + j] = beta === 0 ? 0 : beta * C[i * ldc + j];
  for (let p = 0; p < k; p++) {
    const ar = p * lda;
    const br = p * ldb;
    for (let i = 0; i < m; i++) {
      const a = A[ar + i];
      if (a === 0) continue;
      const cr = i * ldc;
      for (let j = 0; j < n; j++) C[cr + j] += a * B[br + j];
    }
  }
};

/** dW = ∂/∂W Σ dy ⊙ conv(x, W) = colsᵀ · dy, given dy; dW [kh, kw, cin, cout] read as [kh·kw·cin, cout]. */
function convBackpropFilter(t: Tools, g: ConvGeometry, plan: Plan, x: Float32Array, dy: Float32Array, dW: Float32Array): void {
  const { n, h, w, cin, kh, kw, cout, oh, ow } = g;
  const { blas, runs } = t;
  const gemm: GemmTN = blas === null ? jsGemmTN : (m, nn, k, A, lda, B, ldb, beta, C, ldc) => blas.sgemm(TRANS, NO_TRANS, m, nn, k, 1, A, lda, B, ldb, beta, C, ldc);
  const K = kh * kw * cin;
  if (plan.method === 'pointwise') {
    gemm(cin, cout, n * h * w, x, cin, dy, cout, 0, dW, cout);
    return;
  }
  for (let n0 = 0; n0 < n; n0 += plan.chunk) {
    const n1 = Math.min(n, n0 + plan.chunk);
    const beta = n0 === 0 ? 0 : 1;
    if (plan.method === 'shifted') {
      // dW[a, b] = Σ_q P[q + a·Wp + b]ᵀ dyWide[q]: dy laid out with the padded width, zeros in the
      // extra rows and columns, so each tap is one product over contiguous rows.
      const Hp = h + g.pt + g.pb;
      const Wp = w + g.pl + g.pr;
      const M = shiftedRows(n1 - n0, Hp, Wp, kh, kw);
      copying(() => {
        embed(runs, x, n0, n1, h, w, cin, t.a, Hp, Wp, g.pt, g.pl);
        embed(runs, dy, n0, n1, oh, ow, cout, t.b, Hp, Wp, 0, 0);
      });
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const tap = a * kw + b;
          gemm(cin, cout, M, t.a.subarray((a * Wp + b) * cin), cin, t.b, cout, beta, dW.subarray(tap * cin * cout, (tap + 1) * cin * cout), cout);
        }
      }
      continue;
    }
    const rows = (n1 - n0) * oh * ow;
    copying(() => im2col(runs, g, x, n0, n1, t.a));
    gemm(K, cout, rows, t.a, K, dy.subarray(n0 * oh * ow * cout), cout, beta, dW, cout);
  }
}

// ---------------------------------------------------------------------------------------------
// The kernels

/**
 * Rows of the wide (padded-grid) output a shifted-window product computes for `images` images of
 * Hp x Wp padded pixels: every row whose last tap (kh − 1, kw − 1) still lies inside the buffer.
 */
function shiftedRows(images: number, Hp: number, Wp: number, kh: number, kw: number): number {
  return images * Hp * Wp - ((kh - 1) * Wp + (kw - 1));
}

/** The scratch buffers on one backend's heap: [byte offset, floats] of each, grown as plans need. */
const heapScratch = new WeakMap<object, [number, number][]>();

/**
 * Makes the backend's two scratch buffers hold at least `a` and `b` floats. It allocates on the
 * wasm heap, which can grow it (replacing its buffer), so call it before taking any views.
 */
function reserve(backend: WasmBackendLike, a: number, b: number): void {
  let slots = heapScratch.get(backend);
  if (slots === undefined) {
    slots = [[0, 0], [0, 0]];
    heapScratch.set(backend, slots);
  }
  [a, b].forEach((need, i) => {
    if (slots![i][1] >= need) return;
    if (slots![i][1] > 0) backend.wasm._free(slots![i][0]);
    const floats = Math.ceil(need * 1.25);
    const ptr = backend.wasm._malloc(floats * 4) >>> 0;
    if (ptr === 0) throw new NestlabBackendError('tf.conv2d (wasm backend)', `cannot allocate ${((floats * 4) / 2 ** 20).toFixed(0)} MB of convolution scratch on the WebAssembly heap`);
    slots![i] = [ptr, floats];
  });
}

/** The tools over the backend's heap: runs by WebAssembly, scratch views (take after every allocation). */
function toolsOf(backend: WasmBackendLike, blas: Cblas | null): Tools {
  const slots = heapScratch.get(backend)!;
  const buffer = backend.wasm.HEAPU8.buffer;
  return {
    blas,
    runs: heapRuns(backend.wasm.asm?.memory),
    a: new Float32Array(buffer, slots[0][0], slots[0][1]),
    b: new Float32Array(buffer, slots[1][0], slots[1][1]),
  };
}

/** Conv2D and FusedConv2D (bias and linear/relu; anything else falls back). */
function forwardKernel(blas: Cblas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | null | undefined>;
    const attrs = args.attrs ?? {};
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    if (x == null || filter == null || preluActivationWeights != null) return fallback(args);
    if (activation !== 'linear' && activation !== 'relu') return fallback(args);
    if (x.dtype !== 'float32' || filter.dtype !== 'float32') return fallback(args);
    const g = geometryOf(x.shape, filter.shape, attrs);
    if (g === null) return fallback(args);
    if (bias != null && (bias.dtype !== 'float32' || sizeOf(bias.shape) !== g.cout || bias.shape[bias.shape.length - 1] !== g.cout)) return fallback(args);
    const t0 = performance.now();
    const backend = args.backend as WasmBackendLike;
    const plan = planOf(g, 'forward');
    const out = backend.makeOutput([g.n, g.oh, g.ow, g.cout], 'float32');
    reserve(backend, plan.a, plan.b);
    // Views are taken after every allocation: an allocation can grow (and so replace) the heap buffer.
    const tools = { ...toolsOf(backend, blas), blas };
    convForward(tools, g, plan, heapView(backend, x), heapView(backend, filter), heapView(backend, out), bias == null ? null : heapView(backend, bias), activation === 'relu');
    timings.forward += performance.now() - t0;
    timings.calls++;
    return out;
  };
}

function backpropInputKernel(blas: Cblas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return fallback(args);
    const g = geometryOf(attrs.inputShape as number[], filter.shape, attrs);
    if (g === null || g.oh !== dy.shape[1] || g.ow !== dy.shape[2]) return fallback(args);
    const t0 = performance.now();
    const backend = args.backend as WasmBackendLike;
    const plan = planOf(g, 'input');
    const out = backend.makeOutput([g.n, g.h, g.w, g.cin], 'float32');
    reserve(backend, plan.a, plan.b);
    const tools = { ...toolsOf(backend, blas), blas };
    convBackpropInput(tools, g, plan, heapView(backend, dy), heapView(backend, filter), heapView(backend, out));
    timings.backpropInput += performance.now() - t0;
    timings.calls++;
    return out;
  };
}

/** Conv2DBackpropFilter, which tfjs-backend-wasm 4.x does not have: no fallback, so it refuses what it cannot do. */
function backpropFilterKernel(blas: Cblas | null): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    const where = 'tf.conv2d (filter gradient on the wasm backend)';
    if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new NestlabBackendError(where, `takes float32 tensors, got ${x.dtype} and ${dy.dtype}`);
    if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') throw new NestlabBackendError(where, `takes NHWC tensors, got dataFormat ${String(attrs.dataFormat)}`);
    const filterShape = attrs.filterShape as number[];
    const backend = args.backend as WasmBackendLike;
    const g = geometryOf(x.shape, filterShape, { ...attrs, dilations: 1 });
    const t0 = performance.now();
    const plan = g === null ? null : planOf(g, 'filter');
    const out = backend.makeOutput(filterShape, 'float32');
    if (g === null || plan === null) {
      heapView(backend, out).fill(0); // an empty input or output: no term contributes
      return out;
    }
    reserve(backend, plan.a, plan.b);
    convBackpropFilter(toolsOf(backend, blas), g, plan, heapView(backend, x), heapView(backend, dy), heapView(backend, out));
    timings.backpropFilter += performance.now() - t0;
    timings.calls++;
    return out;
  };
}
