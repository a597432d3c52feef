/**
 * Matching pursuit, the encoder of an MP-SAE (Costa, Fel, Lubana, Tolooshams & Ba 2025, "From Flat
 * to Hierarchical: Extracting Sparse Representations with Matching Pursuit"; SAELens'
 * `MatchingPursuitSAE` with `max_iterations` = k and both early stops off; overcomplete's `MpSAE`),
 * and the exact gradient of its reconstruction loss through the unrolled pursuit
 * (docs/methods/mp-sae.md). Per row, with unit atoms D_j (the rows of W_dec) and r_0 = x − b_dec:
 *
 *   for t = 1..k:  j_t = argmax_j ⟨r_{t−1}, D_j⟩,  c_t = ReLU(⟨r_{t−1}, D_{j_t}⟩),  r_t = r_{t−1} − c_t·D_{j_t}
 *   f_j = Σ_{t: j_t = j} c_t,   x̂ = f·W_dec + b_dec = x − r_k.
 *
 * An atom may be chosen twice (its coefficients add), so a row has at most k active latents.
 *
 * Why hand-written: no npm package runs a pursuit over an SAE dictionary, and the backward pass
 * through k data-dependent steps is a short loop per row (k·d work), while autograd would keep k
 * [rows, dSae] correlation matrices. The one dense product per step, the correlations, is the
 * caller's (`BestAtom`: the tied encoder on the BLAS or tfjs, sae/model.ts), so this file needs no
 * tensors and stays below the model.
 */

/** The best atom of each residual row: the largest correlation ⟨r, D_j⟩ and its j (ties: lower j). */
export type BestAtom = (residual: Float32Array, rows: number, step: number) => Promise<{ val: Float32Array; idx: Int32Array }>;

/** What a pursuit did, row by row: enough to rebuild every residual and differentiate the loss. */
export interface PursuitTrace {
  rows: number;
  /** Steps per row. */
  k: number;
  /** [rows, k]: the atom of step t of row b at b·k + t; −1 where no atom correlated positively (the step added nothing). */
  atom: Int32Array;
  /** [rows, k]: the coefficient c_t ≥ 0 of that step. */
  coef: Float32Array;
  /** [rows, d]: the final residual r_k = x − x̂. */
  residual: Float32Array;
}

/**
 * k steps of matching pursuit from the centered rows `xc` ([rows, d]) over the unit rows of
 * `wDec` ([m, d]); `best` returns each residual's most correlated atom.
 */
export async function matchingPursuit(xc: Float32Array, rows: number, d: number, wDec: Float32Array, k: number, best: BestAtom): Promise<PursuitTrace> {
  const residual = xc.slice(0, rows * d);
  const atom = new Int32Array(rows * k).fill(-1);
  const coef = new Float32Array(rows * k);
  for (let t = 0; t < k; t++) {
    const { val, idx } = await best(residual, rows, t);
    for (let b = 0; b < rows; b++) {
      const c = val[b];
      if (!(c > 0)) continue; // ReLU: a residual with no positively correlated atom stays as it is
      const j = idx[b];
      atom[b * k + t] = j;
      coef[b * k + t] = c;
      const ro = b * d;
      const wo = j * d;
      for (let i = 0; i < d; i++) residual[ro + i] -= c * wDec[wo + i];
    }
  }
  return { rows, k, atom, coef, residual };
}

/** The trace's code in CSR form (per row the atoms in increasing order with their summed coefficients). */
export function pursuitCode(trace: PursuitTrace): { ptr: Int32Array; idx: Int32Array; val: Float32Array } {
  const { rows, k, atom, coef } = trace;
  const ptr = new Int32Array(rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  const order = new Array<number>(k);
  for (let b = 0; b < rows; b++) {
    let n = 0;
    for (let t = 0; t < k; t++) if (atom[b * k + t] >= 0) order[n++] = t;
    const steps = order.slice(0, n).sort((s, u) => atom[b * k + s] - atom[b * k + u] || s - u);
    for (let q = 0; q < n; q++) {
      const j = atom[b * k + steps[q]];
      if (q > 0 && j === atom[b * k + steps[q - 1]]) val[val.length - 1] += coef[b * k + steps[q]];
      else {
        idx.push(j);
        val.push(coef[b * k + steps[q]]);
      }
    }
    ptr[b + 1] = idx.length;
  }
  return { ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

/** The AuxK code of a pursuit (top k_aux dead latents of ⟨x − b_dec, D_j⟩, ReLU) and its weight α·min(#dead/k_aux, 1). */
export interface PursuitAux {
  ptr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
  scale: number;
}

/**
 * Loss and gradients of an MP-SAE batch, written into `out` (zeroed here): L = mean_b ‖r_k‖², the
 * reconstruction error, differentiated through every step (the atom choices are constants, as
 * SAELens picks them under no_grad). Backwards from g_k = ∂L/∂r_k = 2r_k/B, each step
 * r_t = (I − D_j D_jᵀ) r_{t−1} (with c_t = ⟨r_{t−1}, D_j⟩ > 0) gives
 *   ∂L/∂D_j += −(c_t·g_t + ⟨D_j, g_t⟩·r_{t−1}),   g_{t−1} = g_t − ⟨D_j, g_t⟩·D_j,
 * with r_{t−1} = r_t + c_t·D_j rebuilt on the way back, and ∂L/∂b_dec = −g_0.
 *
 * With `aux` (AuxK, Gao et al. 2024, through the tied encoder: ê = Σ z_j D_j, z_j = ReLU(⟨x − b_dec, D_j⟩)
 * over the aux latents), α·min(#dead/k_aux, 1)·mean_b ‖ê − e‖² / mean_b ‖e − ē‖² with e = r_k
 * held constant, as the other SAEs' AuxK (sae/step.ts).
 */
export function pursuitLossAndGrads(
  trace: PursuitTrace,
  xc: Float32Array,
  wDec: Float32Array,
  d: number,
  aux: PursuitAux | null,
  out: { wDec: Float32Array; bDec: Float32Array },
): { mse: number; aux: number } {
  const { rows: B, k, atom, coef, residual } = trace;
  out.wDec.fill(0);
  out.bDec.fill(0);
  const g = new Float64Array(d);
  const r = new Float64Array(d);
  let sq = 0;
  for (let b = 0; b < B; b++) {
    const ro = b * d;
    for (let i = 0; i < d; i++) {
      r[i] = residual[ro + i];
      sq += r[i] * r[i];
      g[i] = (2 / B) * r[i];
    }
    for (let t = k - 1; t >= 0; t--) {
      const j = atom[b * k + t];
      if (j < 0) continue;
      const c = coef[b * k + t];
      const wo = j * d;
      let s = 0;
      for (let i = 0; i < d; i++) {
        r[i] += c * wDec[wo + i]; // now r_{t−1}
        s += wDec[wo + i] * g[i];
      }
      for (let i = 0; i < d; i++) {
        out.wDec[wo + i] -= c * g[i] + s * r[i];
        g[i] -= s * wDec[wo + i];
      }
    }
    for (let i = 0; i < d; i++) out.bDec[i] -= g[i];
  }
  return { mse: sq / B, aux: aux === null ? 0 : auxLossAndGrads(trace, xc, wDec, d, aux, out) };
}

/** The AuxK term of {@link pursuitLossAndGrads}; its gradients are added to `out`. 0 when the residuals do not vary. */
function auxLossAndGrads(trace: PursuitTrace, xc: Float32Array, wDec: Float32Array, d: number, aux: PursuitAux, out: { wDec: Float32Array; bDec: Float32Array }): number {
  const { rows: B, residual: e } = trace;
  if (aux.idx.length === 0 || aux.scale <= 0) return 0;
  const mean = new Float64Array(d);
  for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) mean[i] += e[b * d + i] / B;
  let denom = 0;
  for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) denom += (e[b * d + i] - mean[i]) ** 2;
  denom /= B;
  if (!(denom > 0) || !Number.isFinite(denom)) return 0;
  const sc = aux.scale / denom;
  const eHat = new Float64Array(d);
  const gHat = new Float64Array(d);
  let sq = 0;
  for (let b = 0; b < B; b++) {
    const ro = b * d;
    eHat.fill(0);
    for (let q = aux.ptr[b]; q < aux.ptr[b + 1]; q++) {
      const wo = aux.idx[q] * d;
      for (let i = 0; i < d; i++) eHat[i] += aux.val[q] * wDec[wo + i];
    }
    for (let i = 0; i < d; i++) {
      const diff = eHat[i] - e[ro + i];
      sq += diff * diff;
      gHat[i] = ((2 * sc) / B) * diff;
    }
    for (let q = aux.ptr[b]; q < aux.ptr[b + 1]; q++) {
      const z = aux.val[q];
      const wo = aux.idx[q] * d;
      let s = 0; // ∂L/∂z_j = ⟨D_j, gHat⟩, which reaches D_j and b_dec through z_j = ⟨x − b_dec, D_j⟩
      for (let i = 0; i < d; i++) s += wDec[wo + i] * gHat[i];
      for (let i = 0; i < d; i++) {
        out.wDec[wo + i] += z * gHat[i] + s * xc[ro + i];
        out.bDec[i] -= s * wDec[wo + i];
      }
    }
  }
  return (sc * sq) / B;
}
