/**
 * Runs the wasm backend's float32 matrix products (BatchMatMul and _FusedMatMul) on the system
 * BLAS instead of XNNPACK, so every tfjs matMul in nestlab (SAE encoder, RDM Gram matrix, CKA,
 * MRL training and its gradients) uses all cores.
 *
 * Written by hand because no package does it: tfjs lets a program replace a backend's kernel
 * (registerKernel), and the wasm backend keeps every tensor in its WebAssembly heap, so the
 * kernel hands sgemm views of that heap and the product is written in place, with no copies.
 * A product of a tensor with its own transpose (matMul(x, x, true, false) or (x, x, false, true))
 * is a Gram matrix: ssyrk computes one triangle, half the work, as NumPy does for X.T @ X.
 * Cases outside the fast path (non-float32, general batch broadcasting, empty tensors, fused
 * activations other than relu, PReLU weights) go to the original XNNPACK kernel.
 */
import { tf } from './tf.js';
import { NO_TRANS, TRANS, UPPER, type Cblas } from './blas.js';
import { heapView, sizeOf, swapWasmKernels, type KernelFunc, type WasmBackendLike } from './wasm-kernels.js';

const KERNELS = [tf.BatchMatMul, tf._FusedMatMul] as const;

/** The XNNPACK kernels as registered by tfjs-backend-wasm, kept to fall back on and to restore. */
const originals = new Map<string, tf.KernelConfig>();
let active: 'blas' | 'xnnpack' = 'xnnpack';

/** Which library runs the wasm backend's matrix products now. */
export function wasmMatMulKernel(): 'blas' | 'xnnpack' {
  return active;
}

/**
 * Routes the wasm backend's matrix products to `blas` (or back to XNNPACK with null).
 * The wasm backend must be registered (import '@tensorflow/tfjs-backend-wasm') first.
 */
export function useBlasForWasmMatMul(blas: Cblas | null): void {
  swapWasmKernels(KERNELS, originals, blas === null ? null : (name, fallback) => (name === tf.BatchMatMul ? batchMatMul(blas, fallback) : fusedMatMul(blas, fallback)));
  active = blas === null ? 'xnnpack' : 'blas';
}

/** The layout of one (possibly batched, possibly transposed) product C = op(A) op(B). */
interface Plan {
  m: number;
  n: number;
  k: number;
  batchA: number;
  batchB: number;
  batch: number;
  outShape: number[];
}

/** The plan, or null when the product is not one the fast path takes (the fallback then decides, errors included). */
function planOf(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): Plan | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const kA = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (kA !== kB || m === 0 || n === 0 || kA === 0) return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  // Equal batches, or one operand shared by every batch; anything subtler is XNNPACK's.
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  if (sizeOf(outer) !== Math.max(batchA, batchB)) return null;
  return { m, n, k: kA, batchA, batchB, batch: Math.max(batchA, batchB), outShape: [...outer, m, n] };
}

/**
 * Runs the plan: out = op(A) op(B) (+ beta * out, which the fused kernel pre-fills with the bias).
 * Row-major sgemm: lda is A's stored row length (k, or m when transposed), likewise ldb.
 */
function runPlan(blas: Cblas, p: Plan, A: Float32Array, B: Float32Array, C: Float32Array, transposeA: boolean, transposeB: boolean, beta: number): void {
  const { m, n, k } = p;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const ta = transposeA ? TRANS : NO_TRANS;
  const tb = transposeB ? TRANS : NO_TRANS;
  for (let i = 0; i < p.batch; i++) {
    const a = p.batchA === 1 ? A : A.subarray(i * m * k, (i + 1) * m * k);
    const b = p.batchB === 1 ? B : B.subarray(i * k * n, (i + 1) * k * n);
    const c = p.batch === 1 ? C : C.subarray(i * m * n, (i + 1) * m * n);
    blas.sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, n);
  }
}

/**
 * C = A^T A (transposeA) or A A^T: ssyrk fills the upper triangle, which is then mirrored, so the
 * result is the same full symmetric matrix the general product gives.
 */
function gram(blas: Cblas, p: Plan, A: Float32Array, C: Float32Array, transposeA: boolean): void {
  const { n, k } = p;
  // Row-major A is k x n for A^T A (trans) and n x k for A A^T (no trans); lda is its row length.
  blas.ssyrk(UPPER, transposeA ? TRANS : NO_TRANS, n, k, 1, A, transposeA ? n : k, 0, C, n);
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) C[i * n + j] = C[j * n + i];
}

function batchMatMul(blas: Cblas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const transposeA = Boolean(args.attrs?.transposeA);
    const transposeB = Boolean(args.attrs?.transposeB);
    const plan = planOf(a, b, transposeA, transposeB);
    if (plan === null) return fallback(args);
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(plan.outShape, 'float32');
    // Views are taken after makeOutput: an allocation can grow (and so replace) the heap buffer.
    if (a.dataId === b.dataId && transposeA !== transposeB && plan.batch === 1) {
      gram(blas, plan, heapView(backend, a), heapView(backend, out), transposeA);
      return out;
    }
    runPlan(blas, plan, heapView(backend, a), heapView(backend, b), heapView(backend, out), transposeA, transposeB, 0);
    return out;
  };
}

function fusedMatMul(blas: Cblas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | null | undefined>;
    const transposeA = Boolean(args.attrs?.transposeA);
    const transposeB = Boolean(args.attrs?.transposeB);
    const activation = (args.attrs?.activation as string | undefined) ?? 'linear';
    if (a == null || b == null || preluActivationWeights != null) return fallback(args);
    if (activation !== 'linear' && activation !== 'relu') return fallback(args);
    const plan = planOf(a, b, transposeA, transposeB);
    if (plan === null) return fallback(args);
    // The bias must be one row of n values (any shape [1, ..., n]); it pre-fills the output.
    if (bias != null && (bias.dtype !== 'float32' || sizeOf(bias.shape) !== plan.n || bias.shape[bias.shape.length - 1] !== plan.n)) {
      return fallback(args);
    }
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(plan.outShape, 'float32');
    const C = heapView(backend, out);
    if (bias != null) {
      const row = heapView(backend, bias);
      for (let r = 0; r < plan.batch * plan.m; r++) C.set(row, r * plan.n);
    }
    runPlan(blas, plan, heapView(backend, a), heapView(backend, b), C, transposeA, transposeB, bias != null ? 1 : 0);
    if (activation === 'relu') {
      for (let i = 0; i < C.length; i++) if (C[i] < 0) C[i] = 0;
    }
    return out;
  };
}

/**
 * tf.matMul(a, b, transposeA, transposeB) with the transposes done the cheapest way for the
 * active backend. Every backend takes the flags for free, except wasm on XNNPACK, where a
 * transposed operand runs 10-30x slower than an explicit tf.transpose and a plain product
 * (measured here: 5.0 s vs 0.2 s for 512x5000 @ 5000x512). Passing the same tensor twice with one
 * flag set (`matMulT(x, x, true)`) lets the BLAS kernel compute a Gram matrix with ssyrk.
 *
 * @example const gram = tf.tidy(() => { const xt = data.toTensor(x); return backend.matMulT(xt, xt, true); }); // x^T x: one ssyrk on wasm with BLAS
 */
export function matMulT(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (!(transposeA || transposeB) || !(tf.getBackend() === 'wasm' && active === 'xnnpack')) {
    return tf.matMul(a, b, transposeA, transposeB);
  }
  return tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b));
}
