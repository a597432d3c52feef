/**
 * Deconfounded RSA (Cui, Kumar, Marttinen & Kaski, NeurIPS 2022): the RDM of a representation
 * minus what the RDM of the inputs predicts of it, by ordinary least squares with an intercept
 * over the stimulus pairs, so that comparing two such residual RDMs no longer credits the
 * similarity both inherit from the inputs. With the 'corr' (or 'cosine': the residuals have mean
 * 0) comparator, dRSA is the partial correlation of the two RDMs given the input RDM
 * (docs/methods/rsa.md §16).
 */
import { NestlabArgumentError } from '../errors.js';
import { compareRdms, type CompareOptions } from './compare.js';
import { descriptorsOf, isRdm, makeRdm, measureOf, rdmSize, type Rdm, type RdmLike } from './condensed.js';

/**
 * A residual that keeps less than this share of the RDM's variance is rounding noise: the RDM is
 * an affine function of the input RDM and nothing is left to compare.
 */
const MIN_RESIDUAL_SHARE = 1e-10;

function vectorOf(where: string, argument: string, x: unknown): ArrayLike<number> {
  const v = isRdm(x) ? x.values : x;
  if (v == null || typeof (v as ArrayLike<number>).length !== 'number' || typeof v === 'string') {
    throw new NestlabArgumentError(where, argument, 'a condensed RDM (an Rdm, Float64Array or number[])', v);
  }
  rdmSize((v as ArrayLike<number>).length, where, argument, 3);
  return v as ArrayLike<number>;
}

/**
 * The RDM `rdm` with the input RDM `confound` regressed out: residuals r = d − β₀ − β₁ d₀ of the
 * least-squares line of the dissimilarities d on the input's d₀ over the stimulus pairs (pairs
 * NaN in either are skipped and stay NaN). The result's measure says what was removed; it keeps
 * `rdm`'s pattern descriptors. Its values have mean 0, so they are no longer dissimilarities:
 * compare them with 'corr', 'cosine' or a rank comparator.
 *
 * @throws NestlabArgumentError when the two differ in size, have fewer than 3 stimuli, hold
 *   infinities, when `confound` is constant over the pairs, or when `rdm` is an affine function of
 *   `confound` (nothing is left).
 *
 * @example const r = rsa.deconfoundRdm(await rsa.computeRdm(layer), await rsa.computeRdm(pixels));
 */
export function deconfoundRdm(rdm: RdmLike, confound: RdmLike): Rdm {
  return residualRdm('rsa.deconfoundRdm', rdm, confound, 'rdm');
}

function residualRdm(where: string, rdm: unknown, confound: unknown, name: string): Rdm {
  const d = vectorOf(where, name, rdm);
  const d0 = vectorOf(where, 'confound', confound);
  if (d.length !== d0.length) throw new NestlabArgumentError(where, name, `an RDM of the same size as confound (length ${d0.length})`, `length ${d.length}`);
  // Means and (co)variances over the pairs present in both, in two passes for accuracy.
  let m = 0;
  let mean = 0;
  let mean0 = 0;
  for (let i = 0; i < d.length; i++) {
    const a = d[i];
    const b = d0[i];
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    if (!Number.isFinite(a)) throw new NestlabArgumentError(where, name, 'finite dissimilarities (NaN marks a missing pair)', `${a} at index ${i}`);
    if (!Number.isFinite(b)) throw new NestlabArgumentError(where, 'confound', 'finite dissimilarities (NaN marks a missing pair)', `${b} at index ${i}`);
    m++;
    mean += a;
    mean0 += b;
  }
  if (m < 3) throw new NestlabArgumentError(where, name, 'at least 3 pairs present (not NaN) in both RDMs', m);
  mean /= m;
  mean0 /= m;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < d.length; i++) {
    if (Number.isNaN(d[i]) || Number.isNaN(d0[i])) continue;
    const a = d[i] - mean;
    const b = d0[i] - mean0;
    sxy += a * b;
    sxx += b * b;
    syy += a * a;
  }
  if (!(sxx > 0)) throw new NestlabArgumentError(where, 'confound', 'dissimilarities that vary over the pairs (a constant confound explains nothing)', 'constant');
  const slope = sxy / sxx;
  const residualShare = 1 - (sxy * sxy) / (sxx * syy);
  if (!(syy > 0) || !(residualShare >= MIN_RESIDUAL_SHARE)) {
    throw new NestlabArgumentError(where, name, 'an RDM that is not an affine function of confound (its residual is zero)', `a residual share of ${syy > 0 ? residualShare : 0}`);
  }
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number.isNaN(d[i]) || Number.isNaN(d0[i]) ? NaN : d[i] - mean - slope * (d0[i] - mean0);
  return makeRdm(out, `${measureOf(rdm as RdmLike)} deconfounded by ${measureOf(confound as RdmLike)}`, descriptorsOf(rdm as RdmLike));
}

/**
 * Deconfounded RSA: `compareRdms` of the two RDMs after the input RDM `confound` is regressed out
 * of each ({@link deconfoundRdm}). Default method 'corr', which makes it the partial correlation
 * of x and y given the confound (Cui et al. 2022's dRSA); any comparator may be named.
 *
 * @example const s = rsa.deconfoundedRsa(rdmLayer1, rdmLayer2, rdmPixels); // near 0 for a random network's layers
 */
export function deconfoundedRsa(x: RdmLike, y: RdmLike, confound: RdmLike, options: CompareOptions = {}): number {
  const where = 'rsa.deconfoundedRsa';
  const rx = residualRdm(where, x, confound, 'x');
  const ry = residualRdm(where, y, confound, 'y');
  return compareRdms(rx, ry, { method: 'corr', ...options });
}
