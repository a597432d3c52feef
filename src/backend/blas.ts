/**
 * The system BLAS (OpenBLAS on Debian), reached through the `nblas` package's CBLAS bindings.
 *
 * Why: tfjs-wasm runs a matMul on one thread at ~30 GFLOP/s here, while OpenBLAS uses every core
 * with AVX-512 (~180 GFLOP/s on this 2-core machine). `nblas` is an optional dependency: its
 * install script compiles a small addon with node-gyp against `-lblas` (Debian: libopenblas-dev).
 * Where it did not build, or `NESTLAB_BLAS=off`, everything runs on tfjs alone.
 */
import { createRequire } from 'node:module';

/** CBLAS transpose flags as nblas passes them to cblas_* (CblasNoTrans = 111, CblasTrans = 112). */
export const NO_TRANS = 111;
/** CblasTrans: use the operand transposed. */
export const TRANS = 112;
/** CBLAS triangle flags (CblasUpper = 121, CblasLower = 122). */
export const UPPER = 121;

/** The row-major CBLAS routines nestlab uses, as nblas exposes them (float32 only). */
export interface Cblas {
  /** C = alpha op(A) op(B) + beta C; A is m x k after op, B k x n, C m x n (row-major). */
  sgemm(transA: number, transB: number, m: number, n: number, k: number, alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void;
  /** C = alpha op(A)^T op(A) + beta C on one triangle; with TRANS, A is k x n and C n x n. */
  ssyrk(uplo: number, trans: number, n: number, k: number, alpha: number, a: Float32Array, lda: number, beta: number, c: Float32Array, ldc: number): void;
}

/** Whether the BLAS loaded, and why not when it did not (for `nestlab doctor`). */
export interface BlasStatus {
  /** True when nblas loaded and passed its self-check product. */
  loaded: boolean;
  /** The library in use, or why none is (e.g. 'turned off by NESTLAB_BLAS'). */
  detail: string;
}

let cached: { blas: Cblas | null; status: BlasStatus } | null = null;

/**
 * The system BLAS, or null when nblas is not installed, failed to load, or `NESTLAB_BLAS=off`.
 * Loaded once per process.
 */
export function loadBlas(): Cblas | null {
  return probe().blas;
}

/**
 * Why loadBlas returned what it did.
 *
 * @example const { loaded, detail } = backend.blasStatus(); // e.g. true, 'nblas 2.1.13 on the system libblas'
 */
export function blasStatus(): BlasStatus {
  return probe().status;
}

function probe(): { blas: Cblas | null; status: BlasStatus } {
  if (cached !== null) return cached;
  const setting = (process.env.NESTLAB_BLAS ?? '').toLowerCase();
  if (setting === 'off' || setting === '0') {
    cached = { blas: null, status: { loaded: false, detail: 'turned off by NESTLAB_BLAS' } };
    return cached;
  }
  try {
    const blas = createRequire(import.meta.url)('nblas') as Cblas;
    // One tiny product proves the addon and the library behind it work before anything relies on them.
    const c = new Float32Array(1);
    blas.sgemm(NO_TRANS, NO_TRANS, 1, 1, 2, 1, Float32Array.of(1, 2), 2, Float32Array.of(3, 4), 1, 0, c, 1);
    if (c[0] !== 11) throw new Error(`self-check 1*3 + 2*4 gave ${c[0]}, expected 11`);
    cached = { blas, status: { loaded: true, detail: `nblas ${nblasVersion()} on the system libblas` } };
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);
    cached = { blas: null, status: { loaded: false, detail: `nblas unavailable (${reason})` } };
  }
  return cached;
}

function nblasVersion(): string {
  try {
    return (createRequire(import.meta.url)('nblas/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}
