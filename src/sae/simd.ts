/**
 * WebAssembly SIMD kernels for the SAE (f32x4): `axpy` (y += a·x) and `dotAxpy` (returns w·s and
 * does g += v·s in the same pass), on rows of length n (a multiple of 4), for the sparse step; and
 * `groupMax32` (the maximum of each run of 32 floats), which lets the TopK selection skip most of
 * a row (kernels.ts selectByRuns). All work on one WebAssembly.Memory.
 *
 * Why hand-written, and as bytes: the sparse step is k length-d row operations per sample
 * (B·k·d multiply-adds per pass), which V8 runs as scalar code; 128-bit SIMD does 4 lanes per
 * instruction. Node has no WebAssembly compiler and the repo no build step for one, so the two
 * loops are assembled here from their opcodes (WebAssembly core spec §5 binary format, SIMD
 * proposal opcodes 0xFD …); each function is ~20 instructions. Tests check them against the
 * plain JS loops. When WebAssembly SIMD is unavailable, `simdKernels()` returns null and callers
 * keep their JS loops.
 */

import { WA, type WasmMemory, vec, leb, moduleBytes, get, set, addConst, F32_CONST, F32_ADD, I32_CONST, I32_ADD, I32_SHL, I32_GE_U, BLOCK, LOOP, BR, BR_IF, END, VOID, I32, F32, V128, V128_LOAD, V128_STORE, F32X4_SPLAT, F32X4_ADD, F32X4_MUL, F32X4_MAX, F32_MAX, F32_STORE, lane } from '../backend/wasm-asm.js';

/** The compiled kernels bound to a growable memory. */
export interface SimdKernels {
  memory: WasmMemory;
  /** y[0..n) += a · x[0..n); x, y are byte offsets; n % 4 === 0. */
  axpy(n: number, a: number, x: number, y: number): void;
  /** Returns Σ w·s over [0, n) and adds v·s to g; byte offsets; n % 4 === 0. */
  dotAxpy(n: number, v: number, s: number, w: number, g: number): number;
  /** dst[i] = max(src[32i .. 32i + 32)) for i < groups; byte offsets; NaN propagates. */
  groupMax32(src: number, groups: number, dst: number): void;
  /** Grows the memory to at least `bytes` and returns a Float32Array view of all of it. */
  ensure(bytes: number): Float32Array;
}

/** axpy(n i32, a f32, x i32, y i32): locals 4 = end (i32), 5 = splat(a) (v128). */
function axpyBody(): number[] {
  const code = [
    ...get(1), ...F32X4_SPLAT, ...set(5),
    ...get(2), ...get(0), I32_CONST, 2, I32_SHL, I32_ADD, ...set(4),
    BLOCK, VOID, LOOP, VOID,
    ...get(2), ...get(4), I32_GE_U, BR_IF, 1,
    ...get(3),
    ...get(3), ...V128_LOAD,
    ...get(2), ...V128_LOAD, ...get(5), ...F32X4_MUL,
    ...F32X4_ADD,
    ...V128_STORE,
    ...addConst(2, 16), ...addConst(3, 16),
    BR, 0, END, END,
    END,
  ];
  const locals = vec([[1, I32], [1, V128]]);
  const body = [...locals, ...code];
  return [...leb(body.length), ...body];
}

/**
 * dotAxpy(n i32, v f32, s i32, w i32, g i32) -> f32: locals 5 = end, 6 = splat(v), 7 = acc,
 * 8 = the loaded s vector.
 */
function dotAxpyBody(): number[] {
  const code = [
    ...get(1), ...F32X4_SPLAT, ...set(6),
    F32_CONST, 0, 0, 0, 0, ...F32X4_SPLAT, ...set(7),
    ...get(2), ...get(0), I32_CONST, 2, I32_SHL, I32_ADD, ...set(5),
    BLOCK, VOID, LOOP, VOID,
    ...get(2), ...get(5), I32_GE_U, BR_IF, 1,
    ...get(2), ...V128_LOAD, ...set(8),
    ...get(7), ...get(3), ...V128_LOAD, ...get(8), ...F32X4_MUL, ...F32X4_ADD, ...set(7),
    ...get(4),
    ...get(4), ...V128_LOAD, ...get(6), ...get(8), ...F32X4_MUL, ...F32X4_ADD,
    ...V128_STORE,
    ...addConst(2, 16), ...addConst(3, 16), ...addConst(4, 16),
    BR, 0, END, END,
    ...get(7), ...lane(0), ...get(7), ...lane(1), F32_ADD, ...get(7), ...lane(2), ...get(7), ...lane(3), F32_ADD, F32_ADD,
    END,
  ];
  const locals = vec([[1, I32], [3, V128]]);
  const body = [...locals, ...code];
  return [...leb(body.length), ...body];
}

/** v128.load at a constant byte offset from the address on the stack. */
const loadAt = (offset: number): number[] => [...V128_LOAD.slice(0, 3), ...leb(offset)];

/** groupMax32(src i32, groups i32, dst i32): local 3 = end of dst. A max tree over the 8 vectors of a group, then over its 4 lanes. */
function groupMaxBody(): number[] {
  const ld = (i: number) => [...get(0), ...loadAt(16 * i)];
  const code = [
    ...get(2), ...get(1), I32_CONST, 2, I32_SHL, I32_ADD, ...set(3),
    BLOCK, VOID, LOOP, VOID,
    ...get(2), ...get(3), I32_GE_U, BR_IF, 1,
    ...get(2),
    ...ld(0), ...ld(1), ...F32X4_MAX, ...ld(2), ...ld(3), ...F32X4_MAX, ...F32X4_MAX,
    ...ld(4), ...ld(5), ...F32X4_MAX, ...ld(6), ...ld(7), ...F32X4_MAX, ...F32X4_MAX,
    ...F32X4_MAX, ...set(4),
    ...get(4), ...lane(0), ...get(4), ...lane(1), F32_MAX, ...get(4), ...lane(2), ...get(4), ...lane(3), F32_MAX, F32_MAX,
    ...F32_STORE,
    ...addConst(0, 128), ...addConst(2, 4),
    BR, 0, END, END,
    END,
  ];
  const locals = vec([[1, I32], [1, V128]]);
  const body = [...locals, ...code];
  return [...leb(body.length), ...body];
}

/** The module's bytes (importing a shared memory of at most `sharedMaxPages` pages when given). */
export function simdModuleBytes(sharedMaxPages?: number): Uint8Array {
  return moduleBytes(
    [{ params: [I32, F32, I32, I32], results: [] }, { params: [I32, F32, I32, I32, I32], results: [F32] }, { params: [I32, I32, I32], results: [] }],
    [0, 1, 2],
    ['axpy', 'dotAxpy', 'groupMax32'],
    [axpyBody(), dotAxpyBody(), groupMaxBody()],
    sharedMaxPages,
  );
}

/** The kernels on a memory of their own, or null where WebAssembly SIMD is unavailable or NESTLAB_SAE_SIMD=0. */
function createSimdKernels(): SimdKernels | null {
  if (process.env.NESTLAB_SAE_SIMD === '0' || WA === undefined) return null;
  try {
    const bytes = simdModuleBytes();
    if (!WA.validate(bytes)) return null;
    const memory = new WA.Memory({ initial: 1 });
    const inst = new WA.Instance(new WA.Module(bytes), { env: { mem: memory } });
    const ex = inst.exports as unknown as Pick<SimdKernels, 'axpy' | 'dotAxpy' | 'groupMax32'>;
    let view = new Float32Array(memory.buffer);
    return {
      memory,
      axpy: ex.axpy,
      dotAxpy: ex.dotAxpy,
      groupMax32: ex.groupMax32,
      ensure(bytesNeeded: number) {
        const have = memory.buffer.byteLength;
        if (bytesNeeded > have) memory.grow(Math.ceil((bytesNeeded - have) / 65536));
        if (view.buffer !== memory.buffer || view.length * 4 !== memory.buffer.byteLength) view = new Float32Array(memory.buffer);
        return view;
      },
    };
  } catch {
    return null;
  }
}

let cached: SimdKernels | null | undefined;

/** The sparse step's kernels, compiled once per process (see createSimdKernels). */
export function simdKernels(): SimdKernels | null {
  if (cached === undefined) cached = createSimdKernels();
  return cached;
}
