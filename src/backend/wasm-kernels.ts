/**
 * What the wasm backend's kernel replacements share (wasm-matmul.ts, wasm-conv.ts): the backend
 * internals they read, the kernel signature, views of the wasm heap, and the swap of a set of
 * registered kernels for faster ones (tfjs' registerKernel) with the originals kept to fall back
 * on and to restore.
 */
import { tf } from './tf.js';
import { NestlabBackendError } from '../errors.js';

/** The wasm backend internals the replacements rely on (tfjs-backend-wasm 4.x). */
export interface WasmBackendLike {
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  wasm: { HEAPU8: Uint8Array };
}

/** A kernel's arguments as tfjs passes them. */
export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo | null | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

export type KernelFunc = (args: KernelArgs) => tf.TensorInfo;

/** Product of a shape's entries. */
export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const v of shape) s *= v;
  return s;
}

/** A float32 view of a tensor's data inside the wasm heap (valid until the heap grows). */
export function heapView(backend: WasmBackendLike, t: tf.TensorInfo): Float32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, sizeOf(t.shape));
}

/**
 * Replaces the wasm kernels `names` by `fast(name, original)` (or restores the originals when
 * `fast` is null). The originals are kept in `originals` the first time, so switching back and
 * forth always restores tfjs' own kernels.
 */
export function swapWasmKernels(names: readonly string[], originals: Map<string, tf.KernelConfig>, fast: ((name: string, original: KernelFunc) => KernelFunc) | null): void {
  for (const name of names) {
    if (!originals.has(name)) {
      const original = tf.getKernel(name, 'wasm');
      if (original === undefined) throw new NestlabBackendError('backend.initBackend', `the wasm backend has no ${name} kernel to replace (is tfjs-backend-wasm imported?)`);
      originals.set(name, original);
    }
    const original = originals.get(name)!;
    tf.unregisterKernel(name, 'wasm');
    if (fast === null) {
      tf.registerKernel(original);
      continue;
    }
    tf.registerKernel({ ...original, kernelFunc: fast(name, original.kernelFunc as unknown as KernelFunc) as unknown as tf.KernelFunc });
  }
}
