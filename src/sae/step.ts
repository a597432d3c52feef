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
import { simdKernels } from './simd.js';

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

/** y[yo + i] += a · x[xo + i] for i < n (unrolled by 4: V8 does not vectorize). */
function axpy(n: number, a: number, x: Float32Array, xo: number, y: Float32Array, yo: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    y[yo + i] += a * x[xo + i];
    y[yo + i + 1] += a * x[xo + i + 1];
    y[yo + i + 2] += a * x[xo + i + 2];
    y[yo + i + 3] += a * x[xo + i + 3];
  }
  for (; i < n; i++) y[yo + i] += a * x[xo + i];
}

/** Returns Σ_i w[wo + i]·s[so + i] and adds v·s[so + i] to g[go + i] (one pass over the row). */
function dotAxpy(n: number, v: number, s: Float32Array, so: number, w: Float32Array, g: Float32Array, wo: number, go: number): number {
  let d0 = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const s0 = s[so + i];
    const s1 = s[so + i + 1];
    const s2 = s[so + i + 2];
    const s3 = s[so + i + 3];
    d0 += w[wo + i] * s0;
    d1 += w[wo + i + 1] * s1;
    d2 += w[wo + i + 2] * s2;
    d3 += w[wo + i + 3] * s3;
    g[go + i] += v * s0;
    g[go + i + 1] += v * s1;
    g[go + i + 2] += v * s2;
    g[go + i + 3] += v * s3;
  }
  for (; i < n; i++) {
    d0 += w[wo + i] * s[so + i];
    g[go + i] += v * s[so + i];
  }
  return d0 + d1 + d2 + d3;
}

/**
 * Loss and gradients touching only active latents. `x` is the batch [B, d], `xc` = x − b_dec,
 * `code` the selected latents (CSR, idx increasing), `aux` the AuxK code or null.
 */
export function sparseLossAndGrads(
  params: SaeParams,
  cfg: SaeArchitecture,
  training: Pick<SaeTraining, 'prefixWeights' | 'l1Coeff'>,
  x: Float32Array,
  xc: Float32Array,
  code: SparseCode,
  aux: AuxInput | null,
): { losses: StepLosses; grads: SaeParams } {
  const d = cfg.dIn;
  const m = cfg.dSae;
  const B = code.rows;
  const K = cfg.prefixes.length;
  const prefixes = cfg.prefixes;
  const wEnc = params.wEnc;
  // One workspace H holding every row-operand: W_dec, its gradient, W_encᵀ's gradient ([m, d],
  // contiguous per latent), x − b_dec, and per-row scratch. The hot row operations run as
  // WebAssembly SIMD kernels on it when available (d % 4 === 0), else as JS loops.
  const oWdec = 0;
  const oGWdec = oWdec + m * d;
  const oGWencT = oGWdec + m * d;
  const oXc = oGWencT + m * d;
  const oSuffix = oXc + B * d; // S_g = Σ_{p ≥ g} (2 w_p / B) err_p, K rows
  const oRecon = oSuffix + K * d;
  const oDe = oRecon + d; // AuxK: ∂L/∂ê for the current row
  const total = oDe + d;
  const simd = d % 4 === 0 && total * 4 < 2 ** 31 ? simdKernels() : null;
  const H = simd ? simd.ensure(total * 4) : new Float32Array(total);
  H.set(params.wDec, oWdec);
  H.fill(0, oGWdec, oXc);
  H.set(xc, oXc);
  const axpyH = simd
    ? (a: number, xo: number, yo: number) => simd.axpy(d, a, xo * 4, yo * 4)
    : (a: number, xo: number, yo: number) => axpy(d, a, H, xo, H, yo);
  const dotAxpyH = simd
    ? (v: number, so: number, wo: number, go: number) => simd.dotAxpy(d, v, so * 4, wo * 4, go * 4)
    : (v: number, so: number, wo: number, go: number) => dotAxpy(d, v, H, so, H, H, wo, go);

  const gbEnc = new Float32Array(m);
  const gbDec = new Float64Array(d);
  const prefixSq = new Float64Array(K);
  const err = new Float32Array(K * d); // err_g = x̂_g − x for this row
  const eFull = aux ? new Float32Array(B * d) : null; // e = x − x̂_full
  const l1g = cfg.activation === 'relu' ? training.l1Coeff / B : 0;
  let l1sum = 0;
  const coef = training.prefixWeights.map((w) => (2 * w) / B);
  // L1 weight of a latent in group g: the total weight of the prefixes that contain it.
  const l1w = new Float64Array(K);
  for (let g = K - 1; g >= 0; g--) l1w[g] = training.prefixWeights[g] + (g + 1 < K ? l1w[g + 1] : 0);

  for (let b = 0; b < B; b++) {
    const xo = b * d;
    H.set(params.bDec, oRecon);
    const start = code.ptr[b];
    const end = code.ptr[b + 1];
    let a = start;
    for (let g = 0; g < K; g++) {
      const lim = prefixes[g];
      for (; a < end && code.idx[a] < lim; a++) axpyH(code.val[a], oWdec + code.idx[a] * d, oRecon);
      const eo = g * d;
      let sq = 0;
      for (let i = 0; i < d; i++) {
        const e = H[oRecon + i] - x[xo + i];
        err[eo + i] = e;
        sq += e * e;
      }
      prefixSq[g] += sq;
    }
    if (eFull) for (let i = 0; i < d; i++) eFull[xo + i] = -err[(K - 1) * d + i];
    // suffix sums of the prefix-loss gradients: a latent in group g feeds every prefix p ≥ g
    for (let g = K - 1; g >= 0; g--) {
      const so = oSuffix + g * d;
      const eo = g * d;
      const c = coef[g];
      if (g === K - 1) for (let i = 0; i < d; i++) H[so + i] = c * err[eo + i];
      else for (let i = 0; i < d; i++) H[so + i] = H[so + d + i] + c * err[eo + i];
    }
    for (let i = 0; i < d; i++) gbDec[i] += H[oSuffix + i];
    let g = 0;
    for (let q = start; q < end; q++) {
      const j = code.idx[q];
      while (j >= prefixes[g]) g++;
      const v = code.val[q];
      l1sum += v * l1w[g];
      // ∂L/∂f_j = W_dec[j]·S_g (+ L1);  ∂L/∂W_dec[j] += f_j S_g
      const gf = l1g * l1w[g] + dotAxpyH(v, oSuffix + g * d, oWdec + j * d, oGWdec + j * d);
      // f = ReLU(pre) with pre > 0 on the active set: ∂f/∂pre = 1;  ∂L/∂W_enc[:, j] += gf (x − b_dec)
      gbEnc[j] += gf;
      axpyH(gf, oXc + xo, oGWencT + j * d);
    }
  }

  let auxLoss = 0;
  if (aux && eFull && aux.code.idx.length > 0 && aux.scale > 0) {
    const mean = new Float64Array(d);
    for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) mean[i] += eFull[b * d + i] / B;
    let denom = 0;
    for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) denom += (eFull[b * d + i] - mean[i]) ** 2;
    denom /= B;
    if (denom > 0 && Number.isFinite(denom)) {
      const sc = aux.scale / denom;
      const c = (2 * sc) / B;
      let sqSum = 0;
      const ac = aux.code;
      for (let b = 0; b < B; b++) {
        const xo = b * d;
        H.fill(0, oRecon, oRecon + d); // ê for this row
        for (let q = ac.ptr[b]; q < ac.ptr[b + 1]; q++) axpyH(ac.val[q], oWdec + ac.idx[q] * d, oRecon);
        for (let i = 0; i < d; i++) {
          const r = H[oRecon + i] - eFull[xo + i];
          sqSum += r * r;
          H[oDe + i] = c * r;
        }
        for (let q = ac.ptr[b]; q < ac.ptr[b + 1]; q++) {
          const j = ac.idx[q];
          const gz = dotAxpyH(ac.val[q], oDe, oWdec + j * d, oGWdec + j * d);
          gbEnc[j] += gz;
          axpyH(gz, oXc + xo, oGWencT + j * d);
        }
      }
      auxLoss = (sc * sqSum) / B;
    }
  }

  // b_dec also enters the encoder: pre = (x − b_dec)·W_enc + b_enc ⇒ ∂L/∂b_dec −= W_enc·(Σ_b ∂L/∂pre_b) = W_enc·gbEnc
  const bDecOut = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    let sum = 0;
    const wo = i * m;
    for (let j = 0; j < m; j++) sum += wEnc[wo + j] * gbEnc[j];
    bDecOut[i] = gbDec[i] - sum;
  }
  const gWenc = new Float32Array(d * m);
  transposeInto(H.subarray(oGWencT, oGWencT + m * d), m, d, gWenc);
  const gWdec = H.slice(oGWdec, oGWdec + m * d);

  const prefixMse = Array.from(prefixSq, (v) => v / B);
  let totalLoss = 0;
  prefixMse.forEach((v, g) => (totalLoss += training.prefixWeights[g] * v));
  const l1 = cfg.activation === 'relu' ? (training.l1Coeff * l1sum) / B : 0;
  totalLoss += auxLoss + l1;
  return { losses: { total: totalLoss, prefixMse, aux: auxLoss, l1 }, grads: { wEnc: gWenc, bEnc: gbEnc, wDec: gWdec, bDec: bDecOut } };
}

/** out[c, r] = a[r, c] for a row-major [rows, cols] array (blocked for cache). */
export function transposeInto(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c];
    }
  }
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
