/**
 * SAEBench's per-row absorption score (`FeatureAbsorptionCalculator.calculate_absorption` in
 * sae_bench/evals/absorption/feature_absorption_calculator.py, github.com/adamkarvonen/SAEBench),
 * shared by the probe-based metric (probing.ts) and the toy's (metrics.ts `absorption`);
 * docs/methods/msae.md §5.5. Hand-written: a few sums over one row of a sparse code.
 */
import type { SparseCode } from './model.js';

/**
 * SAEBench's absorption constants (`sae_bench/evals/absorption/feature_absorption.py` and
 * `feature_absorption_calculator.py`), used by `sae.probeAbsorption` and by `sae.absorption`'s
 * projection score.
 */
export const ABSORPTION_CONSTANTS = {
  /** A potential absorber needs cos(W_dec,i, p) ≥ this (ABSORPTION_FRACTION_PROBE_COS_THRESHOLD). */
  absorberCos: 0.1,
  /** Full absorption needs the top projecting latent's cos ≥ this (FULL_ABSORPTION_PROBE_COS_THRESHOLD). */
  fullAbsorptionCos: 0.025,
  /** Absorbers must carry at least this share of ⟨x, p⟩ (ABSORPTION_PROBE_PROJECTION_PROPORTION_THRESHOLD). */
  projectionShare: 0.4,
  /** At most this many absorbers are summed (ABSORPTION_FRACTION_MAX_ABSORBING_LATENTS). */
  maxAbsorbers: 3,
  /** A main latent is silent when its activation is below this (EPS of the calculator). */
  silentBelow: 1e-8,
} as const;

/** SAEBench's score of one row: its absorption fraction and whether it is a full absorption. */
export interface AbsorptionScore {
  /** Absorption fraction in [0, 1]. */
  fraction: number;
  /** Full absorption: main latents silent, one latent carries ≥ 40 % of ⟨x, p⟩. */
  full: boolean;
}

/**
 * The absorption score of row `b` of a code (SAEBench `FeatureAbsorptionCalculator.calculate_absorption`),
 * with a = ⟨x_b, p⟩ for the unit probe direction p, proj_i = f_i·cos_i where cos_i = cos(W_dec,i, p),
 * S the main latents (isMain[i] = 1) and only latents < prefix read:
 *   main = Σ_{i∈S} proj_i;  A = Σ of the (≤ 3) largest proj_i over i ∉ S with cos_i ≥ 0.1 and proj_i > 0;
 *   fraction = 0 if a ≤ 0, main ≥ a or A/a < 0.4; else 1 if main ≤ 0; else min(A, a − main)/(min(A, a − main) + main).
 *   full = every f_i (i ∈ S) < 1e-8, a > 0, and the latent with the largest proj has cos ≥ 0.025 and proj/a ≥ 0.4.
 * (SAEBench divides by a, so a = 0 raises there; here it scores 0 and not full. For a < 0 its rule gives 0 too.)
 *
 */
export function absorptionScore(code: SparseCode, b: number, cos: Float64Array, isMain: Uint8Array, a: number, prefix: number = code.dSae): AbsorptionScore {
  const T = ABSORPTION_CONSTANTS;
  let main = 0;
  let mainSilent = true;
  const top: number[] = []; // largest absorber projections, descending, at most maxAbsorbers
  let bestProj = -Infinity;
  let bestCos = 0;
  for (let t = code.ptr[b]; t < code.ptr[b + 1]; t++) {
    const i = code.idx[t];
    if (i >= prefix) continue;
    const f = code.val[t];
    const proj = f * cos[i];
    if (isMain[i]) {
      main += proj;
      if (f >= T.silentBelow) mainSilent = false;
      continue;
    }
    if (proj > bestProj) {
      bestProj = proj;
      bestCos = cos[i];
    }
    if (cos[i] >= T.absorberCos && proj > 0) {
      let pos = top.length;
      while (pos > 0 && top[pos - 1] < proj) pos--;
      if (pos < T.maxAbsorbers) {
        top.splice(pos, 0, proj);
        if (top.length > T.maxAbsorbers) top.pop();
      }
    }
  }
  if (!(a > 0)) return { fraction: 0, full: false };
  // SAEBench takes the top projecting latent over all latents; main latents only matter when silent (proj 0)
  const full = mainSilent && bestProj > 0 && bestCos >= T.fullAbsorptionCos && bestProj / a >= T.projectionShare;
  const absorbed = top.reduce((s, v) => s + v, 0);
  let fraction: number;
  if (main >= a || absorbed / a < T.projectionShare) fraction = 0;
  else if (main <= 0) fraction = 1;
  else {
    const part = Math.min(absorbed, a - main);
    fraction = Math.min(1, Math.max(0, part / (part + main)));
  }
  return { fraction, full };
}
