/**
 * The trainer's state besides the parameters: what a resumed run needs to continue exactly
 * (step, Adam moments, samples since each latent last fired, the running θ estimate). Saved in
 * checkpoints.
 */
import { zeroParams, type Sae, type SaeParams } from './model.js';

/** Everything besides the parameters that a resumed run needs. */
export interface TrainerState {
  /** Steps completed. */
  step: number;
  /** Adam first and second moments, in the parameters' layouts. */
  adamM: SaeParams;
  adamV: SaeParams;
  /** Samples since each latent last fired (AuxK dead detection). */
  tokensSinceFired: Float64Array;
  /**
   * BatchTopK θ estimate as a zero-started EMA of each step's smallest kept activation, s ← β·s + (1 − β)·a;
   * θ = s / (1 − β^n) after n updates (Adam's bias correction: a weighted mean of all n values, even when n ≪ 1/(1 − β)).
   */
  thresholdEma: number;
  /** Number of updates n of `thresholdEma`. */
  thresholdUpdates: number;
  /** The sparsity controller's current λ (training.l1TargetL0); 0 until its warm-up ends. */
  l1Scale: number;
  /** Running mean of mean_b (f_i‖W_dec,i‖)² per latent, for latent re-sorting (training.latentOrderEma). */
  latentEma: Float64Array;
}

/** A fresh trainer state for `sae` (zero moments, no latent dead yet). */
export function createTrainerState(sae: Sae): TrainerState {
  const { dIn: d, dSae: m } = sae.cfg;
  return { step: 0, adamM: zeroParams(d, m), adamV: zeroParams(d, m), tokensSinceFired: new Float64Array(m), thresholdEma: 0, thresholdUpdates: 0, l1Scale: 0, latentEma: new Float64Array(m) };
}
