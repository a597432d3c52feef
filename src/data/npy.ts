/**
 * NumPy .npy reading and writing (format versions 1.0-3.0, C order, little-endian).
 *
 * Layout: magic "\x93NUMPY", major, minor, header length (uint16 in v1, uint32 in v2/3), an
 * ASCII Python dict {'descr': '<f4', 'fortran_order': False, 'shape': (r, c), } padded to a
 * multiple of 64 bytes, then the raw data. Hand-written: the npm readers either drop 64-bit
 * types, ignore fortran_order or do not check truncation.
 *
 * float16 ('<f2', IEEE 754-2008 binary16, how PyTorch activations are often saved) is read
 * only, widened exactly to a Float32Array; 64-bit integers ('<i8', NumPy's default integer, and
 * '<u8') are read only, as a Float64Array of the same values (refused from 2^53 in magnitude, where a
 * double is no longer exact). The writer writes the typed array's own dtype.
 */
import { NestlabArgumentError } from '../errors.js';
import { writeFileAtomic } from './files.js';
import { fileText, halfBitsToFloat32, readFileBytes } from './safetensors.js';

/**
 * An n-D array as .npy holds it: `shape` (C order, last axis fastest) and the flat typed `data`
 * (its dtype is the file's, except float16 '<f2', which is read as a Float32Array).
 */
export type NpyArray = { shape: number[]; data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array };

// Read-only types: `half` (binary16 bits, widened to float32) and `wide` (64-bit integers, read as doubles).
type Ctor = new (b: ArrayBuffer, o: number, n: number) => NpyArray['data'] | BigInt64Array | BigUint64Array;
const DESCR: Record<string, { ctor: Ctor; bytes: number; half?: true; wide?: true }> = {
  '<f4': { ctor: Float32Array, bytes: 4 },
  '<f8': { ctor: Float64Array, bytes: 8 },
  '<i4': { ctor: Int32Array, bytes: 4 },
  '<u4': { ctor: Uint32Array, bytes: 4 },
  '<i2': { ctor: Int16Array, bytes: 2 },
  '<u2': { ctor: Uint16Array, bytes: 2 },
  '|u1': { ctor: Uint8Array, bytes: 1 },
  '|i1': { ctor: Int8Array, bytes: 1 },
  '<f2': { ctor: Uint16Array, bytes: 2, half: true },
  '<i8': { ctor: BigInt64Array, bytes: 8, wide: true },
  '<u8': { ctor: BigUint64Array, bytes: 8, wide: true },
};

function descrOf(data: NpyArray['data']): string {
  for (const [k, v] of Object.entries(DESCR)) if (!v.half && !v.wide && (data as object).constructor === v.ctor) return k;
  throw new NestlabArgumentError('data.writeNpy', 'data', 'a Float32/Float64/Int32/Uint32/Int16/Uint16/Uint8/Int8 array', data);
}

/** Serializes an array to .npy bytes (v1.0 header, C order). */
export function encodeNpy(arr: NpyArray): Uint8Array {
  const n = arr.shape.reduce((a, b) => a * b, 1);
  if (arr.data.length !== n) throw new NestlabArgumentError('data.writeNpy', 'data', `${n} entries for shape [${arr.shape}]`, `${arr.data.length} entries`);
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${descrOf(arr.data)}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + arr.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength), 10 + header.length);
  return out;
}

/** A parsed .npy header: dtype, shape, where the data begin and how many bytes they take. */
export interface NpyHeader {
  descr: string;
  shape: number[];
  dataStart: number;
  dataBytes: number;
}

/**
 * Parses the header of a .npy file from its first bytes (the whole file or just its start, for
 * reading shards row by row); throws a NestlabArgumentError naming the problem.
 */
export function parseNpyHeader(bytes: Uint8Array, source = 'bytes'): NpyHeader {
  const where = 'data.readNpy';
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || !magic.every((b, i) => bytes[i] === b)) {
    throw new NestlabArgumentError(where, source, 'a .npy file (magic \\x93NUMPY)', 'other bytes');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NestlabArgumentError(where, source, 'a complete v2 header', 'a truncated file');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new NestlabArgumentError(where, `${source}: format version`, '1, 2 or 3', major);
  }
  if (start + headerLen > bytes.length) throw new NestlabArgumentError(where, source, 'a complete header', 'a truncated file');
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NestlabArgumentError(where, `${source}: header`, "a dict with 'descr', 'fortran_order' and 'shape'", fileText(header.trim()));
  }
  const key = descr === '<u1' ? '|u1' : descr === '<i1' ? '|i1' : descr;
  const type = Object.hasOwn(DESCR, key) ? DESCR[key] : undefined;
  if (!type) throw new NestlabArgumentError(where, `${source}: dtype`, `one of ${Object.keys(DESCR).join(', ')} (little-endian)`, fileText(descr));
  if (fortran === 'True') throw new NestlabArgumentError(where, `${source}: fortran_order`, 'False (C order; save with np.ascontiguousarray)', 'True');
  const dims = shapeText.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  const shape = dims.map((t) => (/^\d+$/.test(t) ? Number(t) : NaN));
  // Each dimension below 2^53; any zero makes the array empty, else the product (beyond 2^53 only
  // for arrays no file holds, which the caller's size check then refuses) gives the bytes.
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new NestlabArgumentError(where, `${source}: shape`, 'non-negative integers below 2^53', fileText(shapeText));
  const dataBytes = shape.includes(0) ? 0 : shape.reduce((a, b) => a * b, 1) * type.bytes;
  return { descr: key, shape, dataStart: start + headerLen, dataBytes };
}

/** Parses .npy bytes (float16 widened to Float32Array, 64-bit integers as Float64Array); throws a NestlabArgumentError naming the problem on malformed input. */
export function decodeNpy(bytes: Uint8Array, source = 'bytes'): NpyArray {
  const h = parseNpyHeader(bytes, source);
  const type = DESCR[h.descr];
  if (bytes.length - h.dataStart < h.dataBytes) {
    throw new NestlabArgumentError('data.readNpy', source, `${h.dataBytes} data bytes for ${h.descr}[${h.shape}]`, `${bytes.length - h.dataStart} bytes (truncated)`);
  }
  const raw = bytes.slice(h.dataStart, h.dataStart + h.dataBytes); // copy: aligned
  const data = new type.ctor(raw.buffer, 0, h.dataBytes / type.bytes);
  if (type.half) return { shape: h.shape, data: halfBitsToFloat32(data as Uint16Array, 'F16') };
  if (type.wide) {
    const ints = data as BigInt64Array | BigUint64Array;
    const out = new Float64Array(ints.length);
    for (let i = 0; i < ints.length; i++) {
      const v = Number(ints[i]);
      if (!Number.isSafeInteger(v)) throw new NestlabArgumentError('data.readNpy', source, `${h.descr} values below 2^53 in magnitude (exact as doubles)`, `${ints[i]} at index ${i}`);
      out[i] = v;
    }
    return { shape: h.shape, data: out };
  }
  return { shape: h.shape, data: data as NpyArray['data'] };
}

/**
 * Writes a .npy file atomically.
 * The .npy format of NumPy's `np.save` (v1.0 header, C order, little-endian); written to a temporary file, then renamed.
 *
 * @example data.writeNpy('x.npy', { shape: [x.rows, x.cols], data: x.data }); // np.load('x.npy') reads it back
 */
export function writeNpy(path: string, arr: NpyArray): void {
  writeFileAtomic(path, encodeNpy(arr), 'data.writeNpy');
}

/**
 * Reads a .npy file.
 * Reads what NumPy's `np.save` writes (format 1.0-3.0, little-endian, C order); float16 ('<f2')
 * comes back widened exactly to a Float32Array. Other dtypes, big-endian or Fortran-order files
 * fail with a NestlabArgumentError naming the file and the problem.
 *
 * @example const { shape, data: values } = data.readNpy('x.npy'); // a file from np.save
 * @example const acts = data.readNpy('acts_fp16.npy'); // np.save of a float16 array: acts.data is a Float32Array
 */
export function readNpy(path: string): NpyArray {
  return decodeNpy(readFileBytes('data.readNpy', path), path);
}
