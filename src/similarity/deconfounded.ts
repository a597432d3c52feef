/**
 * Deconfounded CKA (Cui, Kumar, Marttinen & Kaski, "Deconfounded Representation Similarity for
 * Comparison of Neural Networks", NeurIPS 2022; co-author Kumar's code: ykumards/simtorch,
 * `similarity/delta_cka.py`). Two layers look alike under CKA partly because both inherit the
 * similarity structure of the inputs (a random network's layers score high). dCKA regresses the
 * input similarity out of each layer's similarity matrix before comparing:
 *
 *   K_X = X_c X_cᵀ, K_0 = X0_c X0_cᵀ (rows centered and scaled to unit Frobenius norm),
 *   R_X = K_X − β₀ − β₁ K_0 (OLS of vec K_X on [1, vec K_0] over all n² entries),
 *   dCKA = ⟨H R_X H, H R_Y H⟩_F / (‖H R_X H‖_F ‖H R_Y H‖_F).
 *
 * Centered Grams sum to zero, so β₀ = 0, H R_X H = R_X and β₁ = ⟨K_X, K_0⟩ / ‖K_0‖². Writing
 * c_AB = linear CKA(A, B) (the cosine of the two centered Grams), the residuals' cosine is the
 * partial correlation of the Grams given the input Gram:
 *
 *   dCKA = (c_XY − c_X0 c_Y0) / √((1 − c_X0²)(1 − c_Y0²)),
 *
 * and the share of K_X's variance the input explains (simtorch's `pve`) is c_X0². So dCKA costs
 * three linear CKAs, each in its cheaper form (docs/methods/similarity.md §15).
 */
import type { tf } from '../backend/tf.js';
import { NestlabArgumentError, checkKnownKeys } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { linearCka } from './cka.js';
import { checkPair } from './common.js';

/** Options of {@link deconfoundedCka}. */
export interface DeconfoundedCkaOptions {
  /** Bytes each of the three linear CKAs may use (as LinearCkaOptions.memoryBudget). */
  memoryBudget?: number;
}

/** What {@link deconfoundedCkaParts} returns: dCKA and the three CKAs it is made of. */
export interface DeconfoundedCka {
  /** The deconfounded CKA between X and Y, in [−1, 1]. */
  deconfoundedCka: number;
  /** Plain linear CKA between X and Y. */
  cka: number;
  /** Linear CKA between X and the input: its square is the share of K_X the input explains. */
  ckaXInput: number;
  /** Linear CKA between Y and the input. */
  ckaYInput: number;
}

/**
 * A residual that keeps less than this share of a Gram's variance is rounding noise of float32
 * inputs (X = 2·X0 in float32 leaves about 1e-7), so dCKA is undefined (0/0) there.
 */
const MIN_RESIDUAL_SHARE = 1e-6;

/**
 * Deconfounded linear CKA between representations X (n × p) and Y (n × q) of the same n
 * stimuli, given the stimuli's input representation `input` (n × p0, e.g. flattened pixels):
 * CKA of the Gram matrices after the input Gram is regressed out of each (Cui et al. 2022, see the
 * module comment). Random networks, whose layers share only the input's similarity structure,
 * score near 0 where plain CKA scores high. Invariant, like CKA, to orthogonal maps, isotropic
 * scaling and translations of any argument.
 *
 * @throws NestlabArgumentError when rows differ, n < 2, values are not finite, a representation
 *   is constant, or X or Y is (to float32 rounding) a linear image of the input's similarity
 *   (its residual is zero and dCKA is 0/0).
 *
 * @example const d = await similarity.deconfoundedCka(layer1, layer2, pixels); // near 0 for two layers of a random network
 */
export async function deconfoundedCka(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, input: Matrix | tf.Tensor2D, options: DeconfoundedCkaOptions = {}): Promise<number> {
  return (await ckaParts('similarity.deconfoundedCka', X, Y, input, options)).deconfoundedCka;
}

/**
 * {@link deconfoundedCka} with the three plain CKAs it is computed from: CKA(X, Y) and each
 * representation's CKA with the input (whose square is the share of its similarity structure the
 * input explains: simtorch's proportion of variance explained).
 *
 * @example const { deconfoundedCka, cka, ckaXInput } = await similarity.deconfoundedCkaParts(x, y, pixels);
 */
export async function deconfoundedCkaParts(X: Matrix | tf.Tensor2D, Y: Matrix | tf.Tensor2D, input: Matrix | tf.Tensor2D, options: DeconfoundedCkaOptions = {}): Promise<DeconfoundedCka> {
  return ckaParts('similarity.deconfoundedCkaParts', X, Y, input, options);
}

async function ckaParts(where: string, X: unknown, Y: unknown, input: unknown, options: DeconfoundedCkaOptions): Promise<DeconfoundedCka> {
  checkKnownKeys(where, options, ['memoryBudget']);
  const [x, y] = checkPair(where, X, Y, 2);
  const x0 = checkMatrix(where, 'input', input, 1);
  if (x0.rows !== x.rows) throw new NestlabArgumentError(where, 'input.rows', `equal to X.rows = ${x.rows} (rows are the same stimuli)`, x0.rows);
  const opts = options.memoryBudget === undefined ? {} : { memoryBudget: options.memoryBudget };
  const cka = await linearCka(x, y, opts);
  const ckaXInput = await linearCka(x, x0, opts);
  const ckaYInput = x === y ? ckaXInput : await linearCka(y, x0, opts);
  return { deconfoundedCka: partialCka(where, cka, ckaXInput, ckaYInput), cka, ckaXInput, ckaYInput };
}

/**
 * dCKA from the three linear CKAs (the module comment's closed form): the partial correlation of
 * the centered Grams of X and Y given the input's. Throws when X or Y has no residual.
 *
 * @internal shared with the figure that compares many layers (each CKA with the input computed once).
 */
export function partialCka(where: string, cka: number, ckaXInput: number, ckaYInput: number): number {
  for (const [name, c] of [['X', ckaXInput], ['Y', ckaYInput]] as const) {
    if (1 - c * c < MIN_RESIDUAL_SHARE) {
      throw new NestlabArgumentError(where, name, "a representation whose similarity structure is not a linear image of the input's (its residual after regressing out the input Gram is zero, so dCKA is 0/0)", `CKA with the input = ${c}`);
    }
  }
  const d = (cka - ckaXInput * ckaYInput) / Math.sqrt((1 - ckaXInput * ckaXInput) * (1 - ckaYInput * ckaYInput));
  return Math.max(-1, Math.min(1, d));
}
