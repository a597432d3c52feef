/**
 * A tiny WebAssembly assembler: LEB128 integers, sections, vectors and the opcodes nestlab's
 * hand-written SIMD kernels use (WebAssembly core spec §5, binary format; the fixed-width SIMD
 * opcodes 0xFD …). Why by hand: Node has no WebAssembly compiler and the repo no build step for
 * one, and each kernel is a few dozen instructions (`sae/simd.ts`, `backend/simd-softmax.ts`).
 */

/** The slice of the WebAssembly JS API used here (the tsconfig's ES2023 lib has no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
/** WebAssembly's constructors as used by the kernels. */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
/** `globalThis.WebAssembly`, or undefined where the runtime has none. */
export const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Unsigned LEB128. */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** A name: its length, then its bytes. */
export function str(s: string): number[] {
  return [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** A section: id, byte length, body. */
export function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

/** A vector: count, then the items. */
export function vec(items: number[][]): number[] {
  return [...leb(items.length), ...items.flat()];
}

/** A function body: its local declarations then its code, prefixed by the byte length. */
export function funcBody(locals: [count: number, type: number][], code: number[]): number[] {
  const body = [...vec(locals.map(([n, t]) => [...leb(n), t])), ...code];
  return [...leb(body.length), ...body];
}

/**
 * A module that imports `env.mem` (one memory; a shared one of at most `sharedMaxPages` pages when
 * given, for worker threads) and exports `names[i]` as function i of type `types[typeOf[i]]`.
 */
export function moduleBytes(types: { params: number[]; results: number[] }[], typeOf: number[], names: string[], bodies: number[][], sharedMaxPages?: number): Uint8Array {
  const typeSec = section(1, vec(types.map((t) => [0x60, ...vec(t.params.map((p) => [p])), ...vec(t.results.map((r) => [r]))])));
  const limits = sharedMaxPages === undefined ? [0x00, 0x01] : [0x03, 0x01, ...leb(sharedMaxPages)];
  const imports = section(2, vec([[...str('env'), ...str('mem'), 0x02, ...limits]]));
  const funcs = section(3, vec(typeOf.map((t) => [t])));
  const exports = section(7, vec(names.map((n, i) => [...str(n), 0x00, ...leb(i)])));
  const code = section(10, [...leb(bodies.length), ...bodies.flat()]);
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSec, ...imports, ...funcs, ...exports, ...code]);
}

// value types and control
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export const VOID = 0x40;
export const BLOCK = 0x02;
export const LOOP = 0x03;
export const BR = 0x0c;
export const BR_IF = 0x0d;
export const END = 0x0b;
// scalar
export const LOCAL_GET = 0x20;
export const LOCAL_SET = 0x21;
export const LOCAL_TEE = 0x22;
export const I32_CONST = 0x41;
export const F32_CONST = 0x43;
export const I32_ADD = 0x6a;
export const I32_SHL = 0x74;
export const I32_GE_U = 0x4f;
export const F32_ADD = 0x92;
export const F32_MAX = 0x97;
export const F32_STORE = [0x38, 0x02, 0x00]; // align 2^2, offset 0
// SIMD (prefix 0xFD, then the LEB128 opcode)
const SIMD = 0xfd;
export const V128_LOAD = [SIMD, 0x00, 0x02, 0x00]; // align 2^2, offset 0
export const V128_STORE = [SIMD, 0x0b, 0x02, 0x00];
export const F32X4_SPLAT = [SIMD, 0x13];
export const F32X4_NEAREST = [SIMD, 0x6a];
export const I32X4_SHL = [SIMD, ...leb(0xab)];
export const I32X4_ADD = [SIMD, ...leb(0xae)];
export const F32X4_ADD = [SIMD, ...leb(0xe4)];
export const F32X4_SUB = [SIMD, ...leb(0xe5)];
export const F32X4_MUL = [SIMD, ...leb(0xe6)];
export const F32X4_MAX = [SIMD, ...leb(0xe9)];
export const I32X4_TRUNC_SAT_F32X4_S = [SIMD, ...leb(0xf8)];
/** f32x4.extract_lane i */
export const lane = (i: number): number[] => [SIMD, 0x1f, i];

/** f32.const as little-endian bytes. */
export function f32Const(x: number): number[] {
  const b = new Uint8Array(new Float32Array([x]).buffer);
  return [F32_CONST, ...b];
}
export function get(i: number): number[] {
  return [LOCAL_GET, i];
}
export function set(i: number): number[] {
  return [LOCAL_SET, i];
}
/** local[i] += c (i32). */
export function addConst(i: number, c: number): number[] {
  return [...get(i), I32_CONST, ...leb(c), I32_ADD, ...set(i)];
}
