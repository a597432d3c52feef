/**
 * Activation matrices on disk: .npy (one 2-D array) or .safetensors (a named 2-D tensor),
 * chosen by file extension. Rows = samples, columns = units. Half-precision files (float16 .npy,
 * F16 / BF16 safetensors) are read widened exactly to float32 by readNpy / readSafetensors.
 * Also the companions of a matrix that the CLI reads: a folder of .npy shards in name order,
 * per-row integer labels and per-row pictures.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { NestlabArgumentError, NestlabError } from '../errors.js';
import type { Matrix } from './matrix.js';
import { readNpy, writeNpy } from './npy.js';
import { fileText, readSafetensors, writeSafetensors } from './safetensors.js';

function toMatrix(where: string, shape: number[], data: ArrayLike<number> | BigInt64Array, path: string): Matrix {
  if (shape.length !== 2) throw new NestlabArgumentError(where, path, 'a 2-D array [samples, units]', `shape [${shape}]`);
  // Without a unit the row count is not bounded by the file's bytes (and means nothing).
  if (shape[1] < 1) throw new NestlabArgumentError(where, path, 'a 2-D array [samples, units] with at least one unit', `shape [${shape}]`);
  if (data instanceof BigInt64Array) throw new NestlabArgumentError(where, path, 'a float (F32, F64, F16, BF16) or int32 array', 'int64 data');
  const f = data instanceof Float32Array ? data : Float32Array.from(data);
  return { data: f, rows: shape[0], cols: shape[1] };
}

/**
 * Reads an activation matrix from .npy or .safetensors (`tensorName` picks the tensor; default:
 * the only tensor in the file, or 'activations'). float16 .npy and F16 / BF16 tensors (as
 * PyTorch often saves activations) come back as float32, exactly.
 *
 * @example const acts = data.readActivations('acts/layer3.npy'); // Matrix [samples, units]
 */
export function readActivations(path: string, tensorName?: string): Matrix {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const a = readNpy(path);
    return toMatrix('data.readActivations', a.shape, a.data, path);
  }
  if (ext === '.safetensors') {
    const { tensors } = readSafetensors(path);
    const names = Object.keys(tensors);
    const name = tensorName ?? (names.length === 1 ? names[0] : 'activations');
    const t = tensors[name];
    if (!t) throw new NestlabArgumentError('data.readActivations', 'tensorName', `one of ${names.join(', ')}`, name);
    return toMatrix('data.readActivations', t.shape, t.data, path);
  }
  throw new NestlabArgumentError('data.readActivations', 'path', 'a .npy or .safetensors file', path);
}

/**
 * Writes an activation matrix as float32 .npy or .safetensors (tensor 'activations'), atomically.
 *
 * @example data.writeActivations('acts/layer3.safetensors', acts); // readable by safetensors.numpy.load_file
 */
export function writeActivations(path: string, m: Matrix): void {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return writeNpy(path, { shape: [m.rows, m.cols], data: m.data });
  if (ext === '.safetensors') return writeSafetensors(path, { activations: { dtype: 'F32', shape: [m.rows, m.cols], data: m.data } });
  throw new NestlabArgumentError('data.writeActivations', 'path', 'a path ending in .npy or .safetensors', path);
}

// ---------------------------------------------------------------------------------------------
// Folders of shards, per-row labels and pictures (what `nestlab train-sae` / `report` read)

/**
 * The .npy files of a folder, in name order with runs of digits compared as numbers
 * (part-2 before part-10), as the shards of one matrix. Throws when there are none.
 *
 * @example const paths = data.npyShardFiles('acts/'); // ['acts/part-0.npy', 'acts/part-1.npy', ...]
 */
export function npyShardFiles(folder: string): string[] {
  const where = 'data.npyShardFiles';
  if (typeof folder !== 'string' || !existsSync(folder) || !statSync(folder).isDirectory()) throw new NestlabArgumentError(where, 'folder', 'an existing folder', folder);
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch (e) {
    throw new NestlabArgumentError(where, 'folder', 'a readable folder', fileText((e as Error).message.split('\n')[0], 200));
  }
  // A dangling link or an unreadable entry is not a shard (statSync would throw on it).
  const isFile = (n: string) => {
    try {
      return statSync(join(folder, n), { throwIfNoEntry: false })?.isFile() === true;
    } catch {
      return false;
    }
  };
  const names = entries.filter((n) => n.toLowerCase().endsWith('.npy') && isFile(n));
  if (names.length === 0) throw new NestlabArgumentError(where, folder, 'a folder holding .npy shards', 'no .npy file');
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return names.map((n) => join(folder, n));
}

/**
 * The rows of several activation files stacked into one Matrix (the shards of a folder read
 * whole), stopping once `maxRows` rows are in (default all). Every file must have the first's width.
 *
 * @example const x = data.readActivationRows(data.npyShardFiles('acts/'), 10000); // the first 10,000 rows of the shards
 */
export function readActivationRows(paths: string[], maxRows = Infinity): Matrix {
  const where = 'data.readActivationRows';
  if (!Array.isArray(paths) || paths.length === 0) throw new NestlabArgumentError(where, 'paths', 'a non-empty array of activation files', paths);
  if (maxRows !== Infinity && !(Number.isSafeInteger(maxRows) && maxRows >= 1)) throw new NestlabArgumentError(where, 'maxRows', 'a positive integer (or Infinity)', maxRows);
  const parts: Matrix[] = [];
  let rows = 0;
  for (const path of paths) {
    if (rows >= maxRows) break;
    const m = readActivations(path);
    if (parts.length > 0 && m.cols !== parts[0].cols) throw new NestlabArgumentError(where, path, `${parts[0].cols} columns like ${paths[0]}`, `${m.cols} columns`);
    parts.push(m);
    rows += m.rows;
  }
  const n = Math.min(rows, maxRows);
  if (parts.length === 1 && n === parts[0].rows) return parts[0];
  const cols = parts[0].cols;
  const data = new Float32Array(n * cols);
  let r = 0;
  for (const m of parts) {
    const take = Math.min(m.rows, n - r);
    data.set(m.data.subarray(0, take * cols), r * cols);
    r += take;
  }
  return { data, rows: n, cols };
}

/**
 * Per-row integer class labels from a .npy file: shape [rows] or [rows, 1], any integer dtype
 * (int64, NumPy's default, included) or floats holding whole numbers; every label in [0, 2^31).
 *
 * @example const y = data.readLabels('acts/labels.npy'); // Int32Array, one label per row of the activations
 */
export function readLabels(path: string): Int32Array {
  const where = 'data.readLabels';
  if (extname(path).toLowerCase() !== '.npy') throw new NestlabArgumentError(where, 'path', 'a .npy file', path);
  const a = readNpy(path);
  if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1))) {
    throw new NestlabArgumentError(where, path, 'a 1-D array of labels [rows] (or [rows, 1])', `shape [${a.shape}]`);
  }
  const y = new Int32Array(a.shape[0]);
  for (let i = 0; i < y.length; i++) {
    const v = a.data[i];
    if (!Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw new NestlabArgumentError(where, path, 'integer labels ≥ 0', `${v} at row ${i}`);
    y[i] = v;
  }
  return y;
}

/**
 * Per-row pictures from a .npy file: [rows, height·width] (shape unknown: null) or
 * [rows, height, width] (shape from the file), any numeric dtype, as a float32 Matrix
 * [rows, height·width].
 *
 * @example const { images, shape } = data.readImages('acts/digits.npy'); // images.rows pictures, shape [28, 28] for a [n, 28, 28] file
 */
export function readImages(path: string): { images: Matrix; shape: [number, number] | null } {
  const where = 'data.readImages';
  if (extname(path).toLowerCase() !== '.npy') throw new NestlabArgumentError(where, 'path', 'a .npy file', path);
  const a = readNpy(path);
  if (a.shape.length !== 2 && a.shape.length !== 3) {
    throw new NestlabArgumentError(where, path, 'an array of pictures [rows, height·width] or [rows, height, width]', `shape [${a.shape}]`);
  }
  const cols = a.shape.slice(1).reduce((p, q) => p * q, 1);
  // Without a pixel the row count is not bounded by the file's bytes (and means nothing).
  if (cols < 1) throw new NestlabArgumentError(where, path, 'pictures of at least one pixel', `shape [${a.shape}]`);
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  return { images: { data, rows: a.shape[0], cols }, shape: a.shape.length === 3 ? [a.shape[1], a.shape[2]] : null };
}

/**
 * The tensor names of a .safetensors file, from its header alone (8-byte length + JSON; the
 * tensors are not read), in file order.
 *
 * @example const names = data.safetensorsTensorNames('acts.safetensors'); // e.g. ['blocks.3.hook_resid_post']
 */
export function safetensorsTensorNames(path: string): string[] {
  const where = 'data.safetensorsTensorNames';
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new NestlabArgumentError(where, path, 'a readable file', fileText((e as Error).message.split('\n')[0], 200));
  }
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) throw new NestlabArgumentError(where, path, 'a safetensors file (8-byte header length)', 'a shorter file');
    const n = Number(len.readBigUInt64LE(0));
    if (!(n > 1 && n <= 100_000_000 && n <= fstatSync(fd).size - 8)) throw new NestlabArgumentError(where, path, 'a safetensors file (a header length within the file)', n);
    const json = Buffer.alloc(n);
    if (readSync(fd, json, 0, n, 8) !== n) throw new NestlabArgumentError(where, path, 'a safetensors file (a header length within the file)', n);
    let header: unknown;
    try {
      header = JSON.parse(json.toString('utf8'));
    } catch {
      throw new NestlabArgumentError(where, path, 'a safetensors file (a JSON header)', 'unparsable JSON');
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new NestlabArgumentError(where, path, 'a safetensors file (a JSON object header)', header);
    return Object.keys(header).filter((k) => k !== '__metadata__');
  } catch (e) {
    if (e instanceof NestlabError) throw e;
    throw new NestlabArgumentError(where, path, 'a readable file', fileText((e as Error).message.split('\n')[0], 200)); // e.g. a folder
  } finally {
    closeSync(fd);
  }
}
