/**
 * safetensors reading and writing (the format of SAELens / Hugging Face checkpoints).
 *
 * Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}},
 * then the raw little-endian tensor bytes; offsets are relative to the end of the header.
 * Hand-written because it is ~100 lines and no npm package reads it without pulling in a
 * framework; every field is checked so a truncated or malformed file fails with a clear error.
 *
 * Half precision. One rule: a tensor's `dtype` is always its dtype on disk, and F16 / BF16
 * tensors live in memory as a Float32Array. Reading widens them exactly (every binary16 and
 * bfloat16 value is a float32); writing rounds the Float32Array to nearest, ties to even. So
 * code that wants float32 accepts `dtype` F32, F16 or BF16 (`isFloat32Tensor`), and a tensor
 * read from a file is written back with its original dtype and bits.
 * The conversions are hand-written (~40 lines) because the well-kept npm package for binary16
 * (@petamoriken/float16) has no bfloat16, and both are a few bit operations on float32 bits.
 */
import { readFileSync } from 'node:fs';
import { NestlabArgumentError } from '../errors.js';
import { writeFileAtomic } from './files.js';

/**
 * The safetensors dtypes read and written here (F32, F64, I32, U8, I64, and the half-precision
 * F16 = IEEE binary16 and BF16 = bfloat16, both held in memory as Float32Array); others are rejected.
 */
export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'U8' | 'I64' | 'F16' | 'BF16';
/** The typed array holding a tensor of each dtype (F16 and BF16 as Float32Array, I64 as BigInt64Array). */
export type TensorData = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;

/** One named tensor: dtype, shape and row-major data. */
export interface NamedTensor {
  /**
   * Element type on disk; `data` must be the matching typed array: F32, F16 and BF16 ->
   * Float32Array (F16 / BF16 are widened on reading and rounded to nearest-even on writing),
   * F64 -> Float64Array, I32 -> Int32Array, U8 -> Uint8Array, I64 -> BigInt64Array.
   */
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first; the product is data.length. */
  shape: number[];
  /** The entries in row-major (C) order. */
  data: TensorData;
}

/** Bytes per element on disk. */
const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1, I64: 8, F16: 2, BF16: 2 };
/** The typed array in memory. */
const CTOR = { F32: Float32Array, F64: Float64Array, I32: Int32Array, U8: Uint8Array, I64: BigInt64Array, F16: Float32Array, BF16: Float32Array } as const;
const DTYPES = Object.keys(BYTES) as SafetensorsDtype[];

function isDtype(d: unknown): d is SafetensorsDtype {
  return typeof d === 'string' && (DTYPES as string[]).includes(d);
}

/**
 * Whether a tensor holds float32 values in memory: dtype F32, or F16 / BF16 widened on reading.
 *
 * @example const w = isFloat32Tensor(t) ? (t.data as Float32Array) : Float32Array.from(t.data as Float64Array); // t from readSafetensors: F32, F16 or BF16 need no copy
 */
export function isFloat32Tensor(t: NamedTensor): boolean {
  return t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16';
}

// --- half-precision conversions -------------------------------------------------------------
// Scratch views to reinterpret a float32 as its bits (the platform is little-endian, as every
// typed-array read in this module assumes).
const SCRATCH_F32 = new Float32Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_F32.buffer);

/** binary32 bits -> binary16 bits, round to nearest, ties to even (IEEE 754-2008 binary16). */
function f32BitsToF16Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // Inf; NaN stays a (quiet) NaN
  const e = exp - 127 + 15; // the binary16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> ±Inf
  if (e <= 0) {
    // binary16 subnormal (or zero): value = m24 * 2^(e - 38), in units of 2^-24 drop 14 - e bits.
    if (e < -10) return sign; // below half the smallest subnormal 2^-24: ±0
    const m = mant | 0x800000;
    const shift = 14 - e;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let r = m >>> shift;
    if (rem > halfway || (rem === halfway && (r & 1) === 1)) r += 1; // may carry into the smallest normal: still right
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1)) r += 1; // a carry into the exponent is right, up to Inf
  return sign | r;
}

/**
 * Rounds a number to float32, then to IEEE 754-2008 binary16 (round to nearest, ties to even;
 * subnormals kept, overflow to ±Inf, NaN stays NaN) and returns the 16 bits.
 *
 * @example float32ToF16Bits(1) // 0x3c00; float32ToF16Bits(65520) // 0x7c00 (Inf)
 */
export function float32ToF16Bits(x: number): number {
  SCRATCH_F32[0] = x;
  return f32BitsToF16Bits(SCRATCH_U32[0]);
}

/**
 * The value of IEEE 754-2008 binary16 bits (exact as a float32 / number).
 *
 * @example f16BitsToFloat32(0x3c00) // 1; f16BitsToFloat32(0x0001) // 2 ** -24
 */
export function f16BitsToFloat32(h: number): number {
  const s = (h & 0x8000) !== 0 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

/** binary32 bits -> bfloat16 bits: the upper half, rounded to nearest, ties to even. */
function f32BitsToBf16Bits(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return (b >>> 16) | 0x40; // NaN stays a (quiet) NaN
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // below 2^32, so exact; a carry into the exponent is right, up to Inf
}

/**
 * Rounds a number to float32, then to bfloat16 (the upper 16 bits of binary32, round to nearest,
 * ties to even; overflow to ±Inf, NaN stays NaN) and returns the 16 bits.
 *
 * @example float32ToBf16Bits(1) // 0x3f80; float32ToBf16Bits(1 + 2 ** -8) // 0x3f80 (a tie, to even)
 */
export function float32ToBf16Bits(x: number): number {
  SCRATCH_F32[0] = x;
  return f32BitsToBf16Bits(SCRATCH_U32[0]);
}

/**
 * The value of bfloat16 bits: they are the upper half of a binary32, the lower half zero.
 *
 * @example bf16BitsToFloat32(0x3f80) // 1
 */
export function bf16BitsToFloat32(h: number): number {
  SCRATCH_U32[0] = (h & 0xffff) << 16;
  return SCRATCH_F32[0];
}

/**
 * Float32 values -> F16 or BF16 bits, element by element (`float32ToF16Bits` / `float32ToBf16Bits`).
 *
 * @example const bits = float32ToHalfBits(new Float32Array([1, 2]), 'BF16'); // Uint16Array [0x3f80, 0x4000]
 */
export function float32ToHalfBits(data: Float32Array, dtype: 'F16' | 'BF16'): Uint16Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const convert = dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
  const out = new Uint16Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = convert(bits[i]);
  return out;
}

/**
 * F16 or BF16 bits -> their float32 values, exactly (`f16BitsToFloat32` / `bf16BitsToFloat32`).
 *
 * @example const x = halfBitsToFloat32(new Uint16Array([0x3c00, 0xc000]), 'F16'); // Float32Array [1, -2]
 */
export function halfBitsToFloat32(bits: Uint16Array, dtype: 'F16' | 'BF16'): Float32Array {
  const out = new Float32Array(bits.length);
  if (dtype === 'BF16') {
    const outBits = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  } else {
    for (let i = 0; i < bits.length; i++) out[i] = f16BitsToFloat32(bits[i]);
  }
  return out;
}
const HEADER_LIMIT = 100 * 1024 * 1024; // the reference implementation's cap

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Serializes tensors (+ optional string metadata) to safetensors bytes; names sorted, 8-byte
 * aligned. F16 / BF16 tensors (Float32Array data) are rounded to nearest, ties to even.
 */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (!isDtype(t.dtype)) throw new NestlabArgumentError('data.writeSafetensors', `tensors.${name}.dtype`, `one of ${DTYPES.join(', ')}`, t.dtype);
    if (!(t.data instanceof CTOR[t.dtype])) {
      throw new NestlabArgumentError('data.writeSafetensors', `tensors.${name}.data`, `a ${CTOR[t.dtype].name} for dtype ${t.dtype}`, t.data);
    }
    if (t.data.length !== product(t.shape)) {
      throw new NestlabArgumentError('data.writeSafetensors', `tensors.${name}.data`, `${product(t.shape)} entries for shape [${t.shape}]`, `${t.data.length} entries`);
    }
    const nbytes = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data section
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name];
    const d = t.dtype === 'F16' || t.dtype === 'BF16' ? float32ToHalfBits(t.data as Float32Array, t.dtype) : t.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/**
 * A piece of text read from a file, fit for a one-line error message: as it is when short and
 * printable, else JSON-quoted (control characters escaped) and cut to `max` characters.
 */
export function fileText(text: string, max = 80): string {
  if (text.length <= max && !/[\u0000-\u001f\u007f\u2028\u2029]/.test(text)) return text;
  return `${JSON.stringify(text.slice(0, max))}${text.length > max ? ` (${text.length} characters)` : ''}`;
}

/** A header value for an error message: a string on one short line, anything else as it is. */
function got(value: unknown): unknown {
  return typeof value === 'string' ? fileText(value) : value;
}

/** Whether `v` is a JSON number that is a dimension or byte offset: an integer in [0, 2^53). */
function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses safetensors bytes; throws a NestlabArgumentError naming what is wrong on bad input.
 * F16 / BF16 tensors come back as Float32Array with their dtype kept.
 *
 * The checks are the reference implementation's (huggingface/safetensors `validate`), all made
 * on the header before any tensor is allocated: a header length within the file, a JSON object
 * header, `__metadata__` a map of strings to strings, per tensor a known dtype, a shape of
 * integers in [0, 2^53), offsets [begin, end] spanning exactly shape·dtype bytes inside the data
 * section, and the tensors laid end to end from byte 0 to the end of the file (no overlap, no hole).
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'bytes'): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  const where = 'data.readSafetensors';
  if (bytes.length < 8) throw new NestlabArgumentError(where, source, 'a safetensors file (at least 8 bytes)', `${bytes.length} bytes`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n < 2 || n > HEADER_LIMIT || 8 + n > bytes.length) {
    throw new NestlabArgumentError(where, source, `a header length within the file (8 + ${n} <= ${bytes.length})`, 'a truncated or non-safetensors file');
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch {
    throw new NestlabArgumentError(where, source, 'a JSON header', 'unparseable header bytes');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new NestlabArgumentError(where, source, 'a JSON object header', got(header));
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new NestlabArgumentError(where, `${source}: __metadata__`, 'an object of strings', got(entry));
      for (const [key, value] of Object.entries(entry)) {
        if (typeof value !== 'string') throw new NestlabArgumentError(where, `${source}: __metadata__.${fileText(key)}`, 'a string', got(value));
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    const tensor = `${source}: tensor ${fileText(name)}`;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new NestlabArgumentError(where, tensor, 'an object {dtype, shape, data_offsets}', got(e));
    if (!isDtype(e.dtype)) {
      throw new NestlabArgumentError(where, `${tensor}.dtype`, `one of ${DTYPES.join(', ')}`, got(e.dtype));
    }
    const dtype = e.dtype;
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every(isSize)) {
      throw new NestlabArgumentError(where, `${tensor}.shape`, 'an array of integers in [0, 2^53)', got(shape));
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isSize) || off[0] > off[1]) {
      throw new NestlabArgumentError(where, `${tensor}.data_offsets`, '[begin, end] with 0 <= begin <= end', got(off));
    }
    const [begin, end] = off as number[];
    // Any zero dimension makes the tensor empty; else a product beyond 2^53 is beyond any file.
    const expected = shape.includes(0) ? 0 : product(shape) * BYTES[dtype];
    if (end - begin !== expected) {
      throw new NestlabArgumentError(where, tensor, `${expected} bytes for ${dtype}[${shape}]`, `${end - begin} bytes`);
    }
    if (end > dataLength) {
      throw new NestlabArgumentError(where, tensor, `data within the file (end ${end} <= ${dataLength})`, 'a truncated file');
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // End to end: sorted by offset, each tensor begins where the previous one ended, the last ends the file.
  const order = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of order) {
    if (t.begin !== at) {
      throw new NestlabArgumentError(where, `${source}: tensor ${fileText(t.name)}.data_offsets`, `to begin at byte ${at}, where the previous tensor ends (no overlap, no gap)`, `[${t.begin}, ${t.end}]`);
    }
    at = t.end;
  }
  if (at !== dataLength) throw new NestlabArgumentError(where, source, `${at} data bytes after the header (the end of the last tensor)`, `${dataLength} bytes`);
  const tensors: Record<string, NamedTensor> = {};
  for (const { name, dtype, shape, begin, end } of entries) {
    // Copy so the typed array is aligned whatever the header length.
    const raw = bytes.slice(dataStart + begin, dataStart + end);
    const count = (end - begin) / BYTES[dtype];
    const data = dtype === 'F16' || dtype === 'BF16' ? halfBitsToFloat32(new Uint16Array(raw.buffer, 0, count), dtype) : new CTOR[dtype](raw.buffer, 0, count);
    // defineProperty: a tensor named "__proto__" is a tensor, not the object's prototype.
    Object.defineProperty(tensors, name, { value: { dtype, shape, data }, enumerable: true, writable: true, configurable: true });
  }
  return { tensors, metadata };
}

/**
 * Writes a safetensors file atomically.
 * The Hugging Face safetensors format (huggingface/safetensors): written to a temporary file, then renamed.
 * A tensor of dtype F16 or BF16 takes Float32Array data, rounded to nearest, ties to even
 * (IEEE 754-2008 binary16; bfloat16 = the upper half of binary32), overflow to ±Inf.
 *
 * @example data.writeSafetensors('w.safetensors', { W: { dtype: 'F32', shape: [x.rows, x.cols], data: x.data } }, { step: '100' });
 * @example data.writeSafetensors('w16.safetensors', { W: { dtype: 'F16', shape: [x.rows, x.cols], data: x.data } }); // half the bytes
 */
export function writeSafetensors(path: string, tensors: Record<string, NamedTensor>, metadata?: Record<string, string>, where = 'data.writeSafetensors'): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata), where);
}

/**
 * Reads a safetensors file.
 * The Hugging Face safetensors format (huggingface/safetensors), as written by
 * `safetensors.torch.save_file`; every header field is checked. F16 and BF16 tensors are
 * widened exactly to Float32Array and keep their dtype (`isFloat32Tensor` accepts F32, F16, BF16).
 *
 * @example const { tensors, metadata } = data.readSafetensors('sae.safetensors'); // tensors.W_enc.shape, metadata.step
 */
export function readSafetensors(path: string): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileBytes('data.readSafetensors', path), path);
}

/** The bytes of a file, or a NestlabArgumentError naming it when it cannot be read (missing, a folder, no permission). */
export function readFileBytes(where: string, path: string): Uint8Array {
  if (typeof path !== 'string' || path === '') throw new NestlabArgumentError(where, 'path', 'a file path', path);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new NestlabArgumentError(where, path, 'a readable file', fileText(((e as Error).message ?? String(e)).split('\n')[0], 200));
  }
}
