/**
 * WebAssembly SIMD kernels for a softmax over rows that live in the wasm backend's own memory, so
 * a language model's [tokens, vocabulary] logits are read and rewritten in place: `rowMax`,
 * `expSum` (x ← exp(x − shift), returns Σ) and `scaleAccumulate` (x ← s·x, acc += x).
 *
 * Why: the softmax cross-entropy over a vocabulary is the LM step's largest elementwise cost
 * (2048 × 8192 exponentials per step); V8's Math.exp and the wasm backend's scalar Exp kernel
 * both take ~8 ns per element here, f32x4 arithmetic ~1. The exponential is Cephes' expf:
 * k = round(u·log2 e), r = u − k·ln2 with ln 2 split in two parts (Cody & Waite) so r is exact
 * to float precision, e^r by its degree-7 Taylor polynomial on [−ln2/2, ln2/2] (truncation
 * < 1e-8), and 2^k added to the exponent bits. Inputs below −86.6 (k < −125) are clamped there,
 * giving ~1e-38 instead of a denormal; softmax sums never notice.
 */
import { tf } from './tf.js';
import {
  WA, type WasmMemory, moduleBytes, funcBody, get, set, addConst, f32Const, lane,
  I32, F32, V128, BLOCK, LOOP, BR, BR_IF, END, VOID, I32_CONST, I32_ADD, I32_SHL, I32_GE_U, F32_ADD, F32_MAX, LOCAL_TEE,
  V128_LOAD, V128_STORE, F32X4_SPLAT, F32X4_ADD, F32X4_SUB, F32X4_MUL, F32X4_MAX, F32X4_NEAREST, I32X4_SHL, I32X4_ADD, I32X4_TRUNC_SAT_F32X4_S,
} from './wasm-asm.js';

/** The kernels bound to one memory; pointers are byte offsets, n a multiple of 4. */
export interface SoftmaxKernels {
  /** max over x[0..n). */
  rowMax(n: number, x: number): number;
  /** x[i] ← exp(x[i] − shift) over [0, n); returns Σ of the new values. */
  expSum(n: number, shift: number, x: number): number;
  /** x[i] ← s·x[i] and acc[i] += x[i] over [0, n). */
  scaleAccumulate(n: number, s: number, x: number, acc: number): void;
}

const splat = (x: number) => [...f32Const(x), ...F32X4_SPLAT];
const endOf = (ptr: number, n: number, out: number) => [...get(ptr), ...get(n), I32_CONST, 2, I32_SHL, I32_ADD, ...set(out)];
const loopWhile = (ptr: number, end: number, body: number[]) => [BLOCK, VOID, LOOP, VOID, ...get(ptr), ...get(end), I32_GE_U, BR_IF, 1, ...body, BR, 0, END, END];
const hsum = (v: number) => [...get(v), ...lane(0), ...get(v), ...lane(1), F32_ADD, ...get(v), ...lane(2), ...get(v), ...lane(3), F32_ADD, F32_ADD];

/** rowMax(n i32, x i32) -> f32; locals 2 = end, 3 = running max. */
function rowMaxBody(): number[] {
  return funcBody([[1, I32], [1, V128]], [
    ...endOf(1, 0, 2),
    ...splat(-Infinity), ...set(3),
    ...loopWhile(1, 2, [...get(3), ...get(1), ...V128_LOAD, ...F32X4_MAX, ...set(3), ...addConst(1, 16)]),
    ...get(3), ...lane(0), ...get(3), ...lane(1), F32_MAX, ...get(3), ...lane(2), F32_MAX, ...get(3), ...lane(3), F32_MAX,
    END,
  ]);
}

/** 1/k! for k = 0..7: e^r = Σ r^k / k!. */
const COEFFS = Array.from({ length: 8 }, (_, k) => {
  let f = 1;
  for (let j = 2; j <= k; j++) f *= j;
  return 1 / f;
});
/** ln 2 = LN2_HI + LN2_LO, LN2_HI with few mantissa bits so k·LN2_HI is exact (Cephes). */
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;

/** expSum(n i32, shift f32, x i32) -> f32; locals 3 = end, 4 = splat(shift), 5 = acc, 6 = u / r, 7 = k, 8 = p. */
function expSumBody(): number[] {
  const horner: number[] = [...splat(COEFFS[7]), ...set(8)];
  for (let k = 6; k >= 0; k--) horner.push(...get(8), ...get(6), ...F32X4_MUL, ...splat(COEFFS[k]), ...F32X4_ADD, ...set(8));
  return funcBody([[1, I32], [5, V128]], [
    ...endOf(2, 0, 3),
    ...get(1), ...F32X4_SPLAT, ...set(4),
    ...splat(0), ...set(5),
    ...loopWhile(2, 3, [
      // u = max(x − shift, −125·ln 2); k = round(u·log2 e); r = u − k·LN2_HI − k·LN2_LO
      ...get(2), ...V128_LOAD, ...get(4), ...F32X4_SUB, ...splat(-125 * Math.LN2), ...F32X4_MAX, LOCAL_TEE, 6,
      ...splat(Math.LOG2E), ...F32X4_MUL, ...F32X4_NEAREST, ...set(7),
      ...get(6), ...get(7), ...splat(LN2_HI), ...F32X4_MUL, ...F32X4_SUB, ...get(7), ...splat(LN2_LO), ...F32X4_MUL, ...F32X4_SUB, ...set(6),
      ...horner,
      // e = e^r · 2^k by adding k to the exponent bits; store and accumulate
      ...get(2),
      ...get(8), ...get(7), ...I32X4_TRUNC_SAT_F32X4_S, I32_CONST, 23, ...I32X4_SHL, ...I32X4_ADD, LOCAL_TEE, 8,
      ...V128_STORE,
      ...get(5), ...get(8), ...F32X4_ADD, ...set(5),
      ...addConst(2, 16),
    ]),
    ...hsum(5),
    END,
  ]);
}

/** scaleAccumulate(n i32, s f32, x i32, acc i32); locals 4 = end, 5 = splat(s), 6 = s·x. */
function scaleAccumulateBody(): number[] {
  return funcBody([[1, I32], [2, V128]], [
    ...endOf(2, 0, 4),
    ...get(1), ...F32X4_SPLAT, ...set(5),
    ...loopWhile(2, 4, [
      ...get(2), ...get(2), ...V128_LOAD, ...get(5), ...F32X4_MUL, LOCAL_TEE, 6, ...V128_STORE,
      ...get(3), ...get(3), ...V128_LOAD, ...get(6), ...F32X4_ADD, ...V128_STORE,
      ...addConst(2, 16), ...addConst(3, 16),
    ]),
    END,
  ]);
}

/** The module's bytes (exported for the test that validates them). */
export function softmaxModuleBytes(): Uint8Array {
  return moduleBytes(
    [{ params: [I32, I32], results: [F32] }, { params: [I32, F32, I32], results: [F32] }, { params: [I32, F32, I32, I32], results: [] }],
    [0, 1, 2],
    ['rowMax', 'expSum', 'scaleAccumulate'],
    [rowMaxBody(), expSumBody(), scaleAccumulateBody()],
  );
}

const bound = new WeakMap<object, SoftmaxKernels | null>();

/** The kernels on `memory` (compiled once per memory); null where WebAssembly SIMD is unavailable. */
export function softmaxKernels(memory: WasmMemory): SoftmaxKernels | null {
  if (bound.has(memory)) return bound.get(memory) ?? null;
  let k: SoftmaxKernels | null = null;
  try {
    const bytes = softmaxModuleBytes();
    if (WA !== undefined && WA.validate(bytes) && process.env.NESTLAB_SIMD !== '0') {
      k = new WA.Instance(new WA.Module(bytes), { env: { mem: memory } }).exports as unknown as SoftmaxKernels;
    }
  } catch {
    k = null;
  }
  bound.set(memory, k);
  return k;
}

/** The wasm backend's parts used here (public on BackendWasm, used by its own kernels). */
interface HeapBackend {
  wasm: { asm?: { memory?: WasmMemory } };
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): Float32Array;
}

/**
 * The kernels bound to the wasm backend's heap and a function giving a tensor's byte offset in
 * it; null on other backends (or without SIMD): callers keep their JS loops.
 */
export function heapSoftmaxKernels(): { kernels: SoftmaxKernels; heap: Float32Array; offsetOf: (t: tf.Tensor) => number } | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as Partial<HeapBackend>;
  const memory = backend.wasm?.asm?.memory;
  if (memory === undefined || typeof backend.typedArrayFromHeap !== 'function') return null;
  const kernels = softmaxKernels(memory);
  if (kernels === null) return null;
  const view = (t: tf.Tensor) => (backend.typedArrayFromHeap as HeapBackend['typedArrayFromHeap'])(t as unknown as { shape: number[]; dtype: string; dataId: object });
  return { kernels, heap: new Float32Array(memory.buffer), offsetOf: (t) => view(t).byteOffset };
}
