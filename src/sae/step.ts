/**
 * The training objective and its gradients, two ways:
 *
 * - `sparseLossAndGrads`: hand-written gradients that touch only active latents (a TopK code has
 *   k of m entries). Per row: the decoder forward sums k rows of W_dec group by group; the
 *   decoder and encoder gradients are k axpy/dot products of length d. Cost O(B·k·d) instead of
 *   the O(B·m·d) of the dense formulation.
 * - `denseLossAndGrads`: the same objective written densely in tfjs and differentiated by tfjs
 *   autograd. It is the reference the sparse path is tested against (to 1e-4), and the path for
 *   backends where the per-row loops would be slow.
 *
 * Objective (docs/methods/msae.md §2.1, §3, spec weights):
 *   L = Σ_p w_p · mean_b ‖x − (f_{0:p}·W_dec[0:p] + b_dec)‖²          (Matryoshka; one prefix = flat)
 *     + l1Coeff · Σ_p w_p · mean_b Σ_{i<p} f_i                         (relu only; = l1Coeff · mean_b Σ_i f_i when flat)
 *     + α · min(#dead/k_aux, 1) · mean_b ‖ê − e‖² / mean_b ‖e − ē‖²      (AuxK, DL normalization)
 * with f = ReLU(pre) on the selected set (the selection is a constant mask: no gradient flows
 * through TopK, Gao et al.), e = x − x̂_full (detached), ê = z·W_dec, z = ReLU(pre) on the aux set
 * (top k_aux among dead latents). The AuxK term is 0 when its normalizer is 0.
 */
import { tf } from '../backend/tf.js';
import type { SaeArchitecture, SaeTraining } from './config.js';
import type { SaeParams, SparseCode } from './model.js';
import { splitRanges, threadCount } from '../backend/threads.js';
import { zeroParams } from './model.js';
import { allShared, stepWorkspace, type StepLayout } from './kernels.js';

/** The loss terms of one batch. */
export interface StepLosses {
  /** Weighted total. */
  total: number;
  /** mean_b ‖x − x̂_p‖² for each prefix p (unweighted). */
  prefixMse: number[];
  /** AuxK term (already weighted by α and the dead-fraction scale); 0 without dead latents. */
  aux: number;
  /** l1Coeff · Σ_p w_p mean_b Σ_{i<p} f_i (relu only; Nabeshima's per-prefix L1, plain L1 for a flat SAE). */
  l1: number;
}

/** The AuxK inputs: the aux code (top k_aux among dead latents, ReLU) and its scale α·min(#dead/k_aux, 1). */
export interface AuxInput {
  code: SparseCode;
  scale: number;
}

/**
 * Loss and gradients touching only active latents. `x` is the batch [B, d], `xc` = x − b_dec,
 * `code` the selected latents (CSR, idx increasing), `aux` the AuxK code or null. The gradients
 * are written into `out` when given (the trainer passes the same buffers every step: a fresh
 * 8-50 MB array per step costs its page faults again each time). The row loops run on worker
 * threads where they are available (src/backend/threads.ts), with the same numbers as on one.
 */
export function sparseLossAndGrads(
  params: SaeParams,
  cfg: SaeArchitecture,
  training: Pick<SaeTraining, 'prefixWeights' | 'l1Coeff'>,
  x: Float32Array,
  xc: Float32Array,
  code: SparseCode,
  aux: AuxInput | null,
  out: SaeParams = zeroParams(cfg.dIn, cfg.dSae),
): { losses: StepLosses; grads: SaeParams } {
  const d = cfg.dIn;
  const m = cfg.dSae;
  const B = code.rows;
  const K = cfg.prefixes.length;
  const nnz = code.ptr[B];
  const threads = threadCount();
  // layout of H, in 4-byte elements (float64 regions at even offsets)
  let top = 0;
  const take = (n: number) => {
    const o = top;
    top += n + (n % 2);
    return o;
  };
  const L: StepLayout = {
    d,
    K,
    rows: B,
    prefixes: cfg.prefixes,
    coef: training.prefixWeights.map((w) => (2 * w) / B),
    l1w: [],
    l1g: cfg.activation === 'relu' ? training.l1Coeff / B : 0,
    wDec: take(m * d),
    gWdec: take(m * d),
    gWencT: take(m * d),
    x: take(B * d),
    xc: take(B * d),
    bDec: take(d),
    s: take(B * K * d),
    eFull: aux ? take(B * d) : -1,
    scratch: take(threads * (K + 1) * d),
    ptr: take(B + 1),
    idx: take(nnz),
    val: take(nnz),
    cscPtr: take(m + 1),
    cscRow: take(nnz),
    cscVal: take(nnz),
    gbEnc: take(m),
    rowSq: take(2 * B * K),
    rowL1: take(2 * B),
    gbDec: take(2 * d),
  };
  const oRecon = take(d); // AuxK: ê of the current row
  const oDe = take(d); // AuxK: ∂L/∂ê of the current row
  const ws = stepWorkspace(d, top * 4);
  // L1 weight of a latent in group g: the total weight of the prefixes that contain it.
  const l1w = new Array<number>(K).fill(0);
  for (let g = K - 1; g >= 0; g--) l1w[g] = training.prefixWeights[g] + (g + 1 < K ? l1w[g + 1] : 0);
  L.l1w = l1w;

  const c = ws.pool.context;
  c.refresh();
  const H = c.f32;
  H.set(params.wDec, L.wDec);
  H.fill(0, L.gWdec, L.x);
  H.set(x.subarray(0, B * d), L.x);
  H.set(xc.subarray(0, B * d), L.xc);
  H.set(params.bDec, L.bDec);
  c.i32.set(code.ptr, L.ptr);
  c.i32.set(code.idx.subarray(0, nnz), L.idx);
  H.set(code.val.subarray(0, nnz), L.val);
  H.fill(0, L.gbEnc, L.gbEnc + m);

  const pool = ws.pool;
  pool.run('decodeRows', splitRanges(B, pool.size), L);
  // the code by latent (a counting sort keeps each latent's rows in increasing order), and latents
  // split so that each thread gets about the same number of entries
  const I = c.i32;
  I.fill(0, L.cscPtr, L.cscPtr + m + 1);
  for (let a = 0; a < nnz; a++) I[L.cscPtr + code.idx[a] + 1]++;
  for (let j = 0; j < m; j++) I[L.cscPtr + j + 1] += I[L.cscPtr + j];
  const fill = Int32Array.from(I.subarray(L.cscPtr, L.cscPtr + m));
  for (let b = 0; b < B; b++) {
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) {
      const q = fill[code.idx[a]]++;
      I[L.cscRow + q] = b;
      H[L.cscVal + q] = code.val[a];
    }
  }
  pool.run('gradientLatents', splitRanges(m, pool.size, (j) => I[L.cscPtr + j + 1] - I[L.cscPtr + j] + 1), L);

  pool.run('sumSuffixColumns', splitRanges(d, pool.size), L);
  const F = c.f64;
  const prefixSq = new Float64Array(K);
  let l1sum = 0;
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < K; g++) prefixSq[g] += F[L.rowSq / 2 + b * K + g];
    l1sum += F[L.rowL1 / 2 + b];
  }

  let auxLoss = 0;
  if (aux && L.eFull >= 0 && aux.code.idx.length > 0 && aux.scale > 0) {
    const eFull = H.subarray(L.eFull, L.eFull + B * d);
    const mean = new Float64Array(d);
    for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) mean[i] += eFull[b * d + i] / B;
    let denom = 0;
    for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) denom += (eFull[b * d + i] - mean[i]) ** 2;
    denom /= B;
    if (denom > 0 && Number.isFinite(denom)) {
      const sc = aux.scale / denom;
      const cc = (2 * sc) / B;
      let sqSum = 0;
      const ac = aux.code;
      for (let b = 0; b < B; b++) {
        const xo = b * d;
        H.fill(0, oRecon, oRecon + d); // ê for this row
        for (let q = ac.ptr[b]; q < ac.ptr[b + 1]; q++) c.axpy(d, ac.val[q], L.wDec + ac.idx[q] * d, oRecon);
        for (let i = 0; i < d; i++) {
          const r = H[oRecon + i] - eFull[xo + i];
          sqSum += r * r;
          H[oDe + i] = cc * r;
        }
        for (let q = ac.ptr[b]; q < ac.ptr[b + 1]; q++) {
          const j = ac.idx[q];
          const gz = c.dotAxpy(d, ac.val[q], oDe, L.wDec + j * d, L.gWdec + j * d);
          H[L.gbEnc + j] += gz;
          c.axpy(d, gz, L.xc + xo, L.gWencT + j * d);
        }
      }
      auxLoss = (sc * sqSum) / B;
    }
  }

  out.bEnc.set(H.subarray(L.gbEnc, L.gbEnc + m));
  const sharedOut = allShared([out.wEnc, out.bDec, params.wEnc]) ? pool.size : 1;
  pool.run('bDecGradRows', splitRanges(d, sharedOut), { wEnc: params.wEnc, gbEnc: L.gbEnc, m, gbDec: L.gbDec, out: out.bDec });
  pool.run('transposeFromWorkspace', splitRanges(d, sharedOut), { src: L.gWencT, rows: m, cols: d, out: out.wEnc });
  out.wDec.set(H.subarray(L.gWdec, L.gWdec + m * d));

  const prefixMse = Array.from(prefixSq, (v) => v / B);
  let totalLoss = 0;
  prefixMse.forEach((v, g) => (totalLoss += training.prefixWeights[g] * v));
  const l1 = cfg.activation === 'relu' ? (training.l1Coeff * l1sum) / B : 0;
  totalLoss += auxLoss + l1;
  return { losses: { total: totalLoss, prefixMse, aux: auxLoss, l1 }, grads: out };
}

/** Dense [rows, m] 0/1 mask of a sparse code's support. */
function maskOf(code: SparseCode): Float32Array {
  const out = new Float32Array(code.rows * code.dSae);
  for (let b = 0; b < code.rows; b++) for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) out[b * code.dSae + code.idx[a]] = 1;
  return out;
}

/**
 * The same objective written densely in tfjs and differentiated by tfjs autograd (tf.valueAndGrads).
 * The selection masks are constants built from `code` / `aux.code`, so TopK never needs a gradient.
 * `eFull` (x − x̂_full, detached) is recomputed here without gradient.
 */
export async function denseLossAndGrads(
  params: SaeParams,
  cfg: SaeArchitecture,
  training: Pick<SaeTraining, 'prefixWeights' | 'l1Coeff'>,
  x: Float32Array,
  code: SparseCode,
  aux: AuxInput | null,
): Promise<{ losses: StepLosses; grads: SaeParams }> {
  const d = cfg.dIn;
  const m = cfg.dSae;
  const B = code.rows;
  const prefixMse: number[] = [];
  const xt = tf.tensor2d(x, [B, d]);
  const mask = tf.tensor2d(maskOf(code), [B, m]);
  const auxMask = aux ? tf.tensor2d(maskOf(aux.code), [B, m]) : null;
  const P = [tf.tensor2d(params.wEnc, [d, m]), tf.tensor1d(params.bEnc), tf.tensor2d(params.wDec, [m, d]), tf.tensor1d(params.bDec)];
  const forward = (wEnc: tf.Tensor, bEnc: tf.Tensor, bDec: tf.Tensor) => {
    const pre = tf.add(tf.matMul(tf.sub(xt, bDec), wEnc), bEnc);
    const r = tf.relu(pre);
    return { r, f: tf.mul(r, mask) };
  };
  // detached e = x − x̂_full and its normalizer mean_b ‖e − ē‖² (read with await data(): webgpu-safe)
  let auxScale = 0;
  let eConst: tf.Tensor | null = null;
  if (aux && auxMask && aux.code.idx.length > 0 && aux.scale > 0) {
    eConst = tf.tidy(() => {
      const { f } = forward(P[0], P[1], P[3]);
      return tf.sub(xt, tf.add(tf.matMul(f, P[2]), P[3]));
    });
    const denomT = tf.tidy(() => tf.mean(tf.sum(tf.square(tf.sub(eConst!, tf.mean(eConst!, 0))), 1)));
    const denom = (await denomT.data())[0];
    denomT.dispose();
    if (denom > 0 && Number.isFinite(denom)) auxScale = aux.scale / denom;
  }
  const lossTerms: tf.Tensor[] = [];
  const out = tf.tidy(() =>
    tf.valueAndGrads((wEnc: tf.Tensor, bEnc: tf.Tensor, wDec: tf.Tensor, bDec: tf.Tensor) => {
      const { r, f } = forward(wEnc, bEnc, bDec);
      let total: tf.Tensor = tf.scalar(0);
      cfg.prefixes.forEach((p, g) => {
        const xhat = tf.add(tf.matMul(tf.slice(f, [0, 0], [B, p]), tf.slice(wDec, [0, 0], [p, d])), bDec);
        const mse = tf.keep(tf.mean(tf.sum(tf.square(tf.sub(xhat, xt)), 1)));
        lossTerms.push(mse);
        total = tf.add(total, tf.mul(mse, training.prefixWeights[g]));
      });
      if (cfg.activation === 'relu') {
        let weighted: tf.Tensor = tf.scalar(0);
        cfg.prefixes.forEach((p, g) => (weighted = tf.add(weighted, tf.mul(tf.mean(tf.sum(tf.slice(f, [0, 0], [B, p]), 1)), training.prefixWeights[g]))));
        const l1 = tf.keep(tf.mul(weighted, training.l1Coeff));
        lossTerms.push(l1);
        total = tf.add(total, l1);
      }
      if (auxScale > 0 && eConst && auxMask) {
        const ehat = tf.matMul(tf.mul(r, auxMask), wDec);
        const a = tf.keep(tf.mul(tf.mean(tf.sum(tf.square(tf.sub(ehat, eConst)), 1)), auxScale));
        lossTerms.push(a);
        total = tf.add(total, a);
      }
      return total as tf.Scalar;
    })(P),
  );
  const hasAux = auxScale > 0;
  const inputs = [xt, mask, ...(auxMask ? [auxMask] : []), ...(eConst ? [eConst] : []), ...P];
  try {
    const [gWenc, gbEnc, gWdec, gbDec] = await Promise.all(out.grads.map((g) => g.data() as Promise<Float32Array>));
    const termValues = await Promise.all(lossTerms.map(async (t) => (await t.data())[0]));
    const total = (await out.value.data())[0];
    const K = cfg.prefixes.length;
    for (let g = 0; g < K; g++) prefixMse.push(termValues[g]);
    let q = K;
    const l1 = cfg.activation === 'relu' ? termValues[q++] : 0;
    const auxLoss = hasAux ? termValues[q++] : 0;
    return {
      losses: { total, prefixMse, aux: auxLoss, l1 },
      grads: { wEnc: Float32Array.from(gWenc), bEnc: Float32Array.from(gbEnc), wDec: Float32Array.from(gWdec), bDec: Float32Array.from(gbDec) },
    };
  } finally {
    out.value.dispose();
    out.grads.forEach((g) => g.dispose());
    lossTerms.forEach((t) => t.dispose());
    inputs.forEach((t) => t.dispose());
  }
}
