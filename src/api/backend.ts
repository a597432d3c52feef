/**
 * `backend`: which compute backend runs nestlab's tensors (and why), progress reporting, the
 * seeded random numbers every random step uses, and two helpers for fast tensor code.
 *
 * @example
 * const info = await backend.initBackend(); // { name: 'wasm', how: 'auto', detail: '...', skipped: [...] }
 */
export { initBackend, selectBackend, BACKEND_NAMES, type BackendName, type BackendInfo, type BackendLoader, type BackendProbe } from '../backend/select.js';
export { blasStatus, type BlasStatus } from '../backend/blas.js';
export { matMulT } from '../backend/wasm-matmul.js';
export { withValues } from '../backend/read.js';
export { Rng } from '../backend/rng.js';
export { defaultProgress, lineProgress, barProgress, silentProgress, type LineProgressOptions, type Progress } from '../backend/progress.js';
