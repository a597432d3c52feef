/**
 * Reading tensor values without a copy where the backend allows it.
 *
 * Why: `await t.data()` copies into a fresh ArrayBuffer, and fresh memory costs page faults (here
 * about 3 ms per MB, more than the arithmetic of a sum over it). The wasm backend keeps tensors in
 * its WebAssembly memory, so a reduction on the host can read them in place.
 */
import { tf } from './tf.js';
import { NestlabArgumentError } from '../errors.js';

/** The one method of tfjs-backend-wasm's BackendWasm used here (public on the class, used by its kernels). */
interface HeapBackend {
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): Float32Array;
}

/**
 * Calls `fn` with the float32 values of `t` and returns what it returns. On wasm, `fn` sees a view
 * of the tensor's WebAssembly memory: valid only while `fn` runs, so `fn` must neither keep it nor
 * run tfjs ops. On other backends the values come from `await t.data()`. `t` is not disposed.
 *
 * @example const total = await backend.withValues(t, (v) => v.reduce((s, x) => s + x, 0)); // reads t in place on wasm, t stays alive
 */
export async function withValues<T>(t: tf.Tensor, fn: (values: Float32Array) => T): Promise<T> {
  if (t.dtype !== 'float32') throw new NestlabArgumentError('backend.withValues', 't', 'a float32 tensor', `an ${t.dtype} tensor`);
  const backend = tf.backend() as unknown as Partial<HeapBackend>;
  if (tf.getBackend() === 'wasm' && typeof backend.typedArrayFromHeap === 'function') {
    return fn(backend.typedArrayFromHeap(t as unknown as { shape: number[]; dtype: string; dataId: object }));
  }
  return fn((await t.data()) as Float32Array);
}

/**
 * The float32 values of `t`, synchronously (for custom gradients, which cannot await). On wasm
 * `values` is a view of the tensor's WebAssembly memory (`inPlace`: valid until the next tfjs op,
 * and writable only by a caller that made `t` and holds its only reference); elsewhere a copy from
 * `dataSync()`.
 *
 * @example const { values, inPlace } = valuesSync(logits); // on wasm, no 64 MB copy of a [2048, 8192] tensor
 */
export function valuesSync(t: tf.Tensor): { values: Float32Array; inPlace: boolean } {
  if (t.dtype !== 'float32') throw new NestlabArgumentError('backend.valuesSync', 't', 'a float32 tensor', `an ${t.dtype} tensor`);
  const backend = tf.backend() as unknown as Partial<HeapBackend>;
  if (tf.getBackend() === 'wasm' && typeof backend.typedArrayFromHeap === 'function') {
    return { values: backend.typedArrayFromHeap(t as unknown as { shape: number[]; dtype: string; dataId: object }), inPlace: true };
  }
  return { values: t.dataSync() as Float32Array, inPlace: false };
}
