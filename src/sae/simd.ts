/**
 * Two WebAssembly SIMD kernels for the sparse SAE step (f32x4): `axpy` (y += a·x) and `dotAxpy`
 * (returns w·s and does g += v·s in the same pass), on rows of length n (a multiple of 4) that
 * live in one WebAssembly.Memory.
 *
 * Why hand-written, and as bytes: the sparse step is k length-d row operations per sample
 * (B·k·d multiply-adds per pass), which V8 runs as scalar code; 128-bit SIMD does 4 lanes per
 * instruction. Node has no WebAssembly compiler and the repo no build step for one, so the two
 * loops are assembled here from their opcodes (WebAssembly core spec §5 binary format, SIMD
 * proposal opcodes 0xFD …); each function is ~20 instructions. Tests check them against the
 * plain JS loops. When WebAssembly SIMD is unavailable, `simdKernels()` returns null and callers
 * keep their JS loops.
 */

import { WA, type WasmMemory, vec, leb, moduleBytes, get, set, addConst, F32_CONST, F32_ADD, I32_CONST, I32_ADD, I32_SHL, I32_GE_U, BLOCK, LOOP, BR, BR_IF, END, VOID, I32, F32, V128, V128_LOAD, V128_STORE, F32X4_SPLAT, F32X4_ADD, F32X4_MUL, lane } from '../backend/wasm-asm.js';

/** The compiled kernels bound to a growable memory. */
export interface SimdKernels {
  memory: WasmMemory;
  /** y[0..n) += a · x[0..n); x, y are byte offsets; n % 4 === 0. */
  axpy(n: number, a: number, x: number, y: number): void;
  /** Returns Σ w·s over [0, n) and adds v·s to g; byte offsets; n % 4 === 0. */
  dotAxpy(n: number, v: number, s: number, w: number, g: number): number;
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

/** The module's bytes. */
export function simdModuleBytes(): Uint8Array {
  return moduleBytes(
    [{ params: [I32, F32, I32, I32], results: [] }, { params: [I32, F32, I32, I32, I32], results: [F32] }],
    [0, 1],
    ['axpy', 'dotAxpy'],
    [axpyBody(), dotAxpyBody()],
  );
}

let cached: SimdKernels | null | undefined;

/** The kernels, compiled once per process; null where WebAssembly SIMD is unavailable or NESTLAB_SAE_SIMD=0. */
export function simdKernels(): SimdKernels | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.env.NESTLAB_SAE_SIMD === '0') return cached;
  if (WA === undefined) return cached;
  try {
    const bytes = simdModuleBytes();
    if (!WA.validate(bytes)) return cached;
    const memory = new WA.Memory({ initial: 1 });
    const inst = new WA.Instance(new WA.Module(bytes), { env: { mem: memory } });
    const ex = inst.exports as unknown as { axpy: SimdKernels['axpy']; dotAxpy: SimdKernels['dotAxpy'] };
    let view = new Float32Array(memory.buffer);
    cached = {
      memory,
      axpy: ex.axpy,
      dotAxpy: ex.dotAxpy,
      ensure(bytesNeeded: number) {
        const have = memory.buffer.byteLength;
        if (bytesNeeded > have) memory.grow(Math.ceil((bytesNeeded - have) / 65536));
        if (view.buffer !== memory.buffer || view.length * 4 !== memory.buffer.byteLength) view = new Float32Array(memory.buffer);
        return view;
      },
    };
  } catch {
    cached = null;
  }
  return cached;
}
