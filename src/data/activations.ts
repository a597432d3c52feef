/**
 * Activation matrices on disk: .npy (one 2-D array) or .safetensors (a named 2-D tensor),
 * chosen by file extension. Rows = samples, columns = units.
 */
import { extname } from 'node:path';
import { NestlabArgumentError } from '../errors.js';
import type { Matrix } from './matrix.js';
import { readNpy, writeNpy } from './npy.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

function toMatrix(where: string, shape: number[], data: ArrayLike<number> | BigInt64Array, path: string): Matrix {
  if (shape.length !== 2) throw new NestlabArgumentError(where, path, 'a 2-D array [samples, units]', `shape [${shape}]`);
  if (data instanceof BigInt64Array) throw new NestlabArgumentError(where, path, 'a float or int32 array', 'int64 data');
  const f = data instanceof Float32Array ? data : Float32Array.from(data);
  return { data: f, rows: shape[0], cols: shape[1] };
}

/**
 * Reads an activation matrix from .npy or .safetensors (`tensorName` picks the tensor; default:
 * the only tensor in the file, or 'activations').
 *
 * @example const acts = data.readActivations('acts/layer3.npy'); // Matrix [samples, units]
 */
export function readActivations(path: string, tensorName?: string): Matrix {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const a = readNpy(path);
    return toMatrix('readActivations', a.shape, a.data, path);
  }
  if (ext === '.safetensors') {
    const { tensors } = readSafetensors(path);
    const names = Object.keys(tensors);
    const name = tensorName ?? (names.length === 1 ? names[0] : 'activations');
    const t = tensors[name];
    if (!t) throw new NestlabArgumentError('data.readActivations', 'tensorName', `one of ${names.join(', ')}`, name);
    return toMatrix('readActivations', t.shape, t.data, path);
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
