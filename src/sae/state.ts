/**
 * The trainer's state besides the parameters: what a resumed run needs to continue exactly
 * (step, Adam moments, samples since each latent last fired). Saved in checkpoints.
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
}

/** A fresh trainer state for `sae` (zero moments, no latent dead yet). */
export function createTrainerState(sae: Sae): TrainerState {
  const { dIn: d, dSae: m } = sae.cfg;
  return { step: 0, adamM: zeroParams(d, m), adamV: zeroParams(d, m), tokensSinceFired: new Float64Array(m) };
}
