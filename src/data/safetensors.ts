/**
 * safetensors reading and writing (the format of SAELens / Hugging Face checkpoints).
 *
 * Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}},
 * then the raw little-endian tensor bytes; offsets are relative to the end of the header.
 * Hand-written because it is ~100 lines and no npm package reads it without pulling in a
 * framework; every field is checked so a truncated or malformed file fails with a clear error.
 */
import { readFileSync } from 'node:fs';
import { NestlabArgumentError } from '../errors.js';
import { writeFileAtomic } from './files.js';

/** The safetensors dtypes read and written here (F32, F64, I32, U8, I64; others are rejected). */
export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'U8' | 'I64';
/** The typed array holding a tensor of each dtype (I64 as BigInt64Array). */
export type TensorData = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;

/** One named tensor: dtype, shape and row-major data. */
export interface NamedTensor {
  /** Element type; `data` must be the matching typed array (F32 -> Float32Array, ...). */
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first; the product is data.length. */
  shape: number[];
  /** The entries in row-major (C) order. */
  data: TensorData;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1, I64: 8 };
const CTOR = { F32: Float32Array, F64: Float64Array, I32: Int32Array, U8: Uint8Array, I64: BigInt64Array } as const;
const HEADER_LIMIT = 100 * 1024 * 1024; // the reference implementation's cap

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serializes tensors (+ optional string metadata) to safetensors bytes; names sorted, 8-byte aligned. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (!(t.dtype in BYTES)) throw new NestlabArgumentError('data.writeSafetensors', `tensors.${name}.dtype`, `one of ${Object.keys(BYTES).join(', ')}`, t.dtype);
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
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/** Parses safetensors bytes; throws a NestlabArgumentError naming what is wrong on bad input. */
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
    throw new NestlabArgumentError(where, source, 'a JSON object header', header);
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: string; shape?: unknown; data_offsets?: unknown };
    if (typeof e?.dtype !== 'string' || !(e.dtype in BYTES)) {
      throw new NestlabArgumentError(where, `${source}: tensor ${name}.dtype`, `one of ${Object.keys(BYTES).join(', ')}`, e?.dtype);
    }
    const dtype = e.dtype as SafetensorsDtype;
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
      throw new NestlabArgumentError(where, `${source}: tensor ${name}.shape`, 'an array of non-negative integers', shape);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new NestlabArgumentError(where, `${source}: tensor ${name}.data_offsets`, '[begin, end] with 0 <= begin <= end', off);
    }
    const [begin, end] = off as number[];
    const expected = product(shape) * BYTES[dtype];
    if (end - begin !== expected) {
      throw new NestlabArgumentError(where, `${source}: tensor ${name}`, `${expected} bytes for ${dtype}[${shape}]`, `${end - begin} bytes`);
    }
    if (end > dataLength) {
      throw new NestlabArgumentError(where, `${source}: tensor ${name}`, `data within the file (end ${end} <= ${dataLength})`, 'a truncated file');
    }
    // Copy so the typed array is aligned whatever the header length.
    const raw = bytes.slice(dataStart + begin, dataStart + end);
    tensors[name] = { dtype, shape: shape as number[], data: new CTOR[dtype](raw.buffer, 0, expected / BYTES[dtype]) };
  }
  return { tensors, metadata };
}

/**
 * Writes a safetensors file atomically.
 * The Hugging Face safetensors format (huggingface/safetensors): written to a temporary file, then renamed.
 *
 * @example data.writeSafetensors('w.safetensors', { W: { dtype: 'F32', shape: [x.rows, x.cols], data: x.data } }, { step: '100' });
 */
export function writeSafetensors(path: string, tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Reads a safetensors file.
 * The Hugging Face safetensors format (huggingface/safetensors), as written by
 * `safetensors.torch.save_file`; every header field is checked.
 *
 * @example const { tensors, metadata } = data.readSafetensors('sae.safetensors'); // tensors.W_enc.shape, metadata.step
 */
export function readSafetensors(path: string): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  return decodeSafetensors(new Uint8Array(readFileSync(path)), path);
}
