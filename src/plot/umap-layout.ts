/**
 * What umap-js (the JavaScript port of umap-learn; McInnes, Healy & Melville 2018) does after the
 * k-nearest-neighbor graph, on typed arrays: the fuzzy simplicial set, the epochs-per-sample
 * schedule, the random initial layout and the SGD layout epochs.
 *
 * Written by hand rather than called from umap-js because umap-js keeps its sparse matrices in
 * Maps keyed by "row:col" strings and its embedding in arrays of arrays: on 5000 points its
 * graph step alone took seconds, and it also builds a search graph that only its transform()
 * needs. Each step below follows umap-js 1.4 operation by operation (the same formulas in the
 * same order, Float64 throughout, the same calls to `random`), so for the same kNN graph and the
 * same random stream the embedding is bit-identical to umap-js's with `exactPow` (checked against
 * umap-js itself by test/plot/umap-layout.test.ts); without it only d^b is computed otherwise. The a, b curve parameters come from umap-js's own
 * `findABParams` (a Levenberg–Marquardt fit, as umap-learn's `find_ab_params`).
 */
import { findABParams } from 'umap-js/dist/umap.js';

/** umap-js's tolerances of the smooth-kNN binary search (umap-learn's SMOOTH_K_TOLERANCE, MIN_K_DIST_SCALE). */
const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;

/** A kNN graph as umap-js takes it: row i lists k neighbors (itself first, at distance 0); index -1 = missing. */
export interface KnnGraph {
  /** n x k neighbor indices, row-major. */
  indices: Int32Array;
  /** n x k distances, row-major. */
  distances: Float64Array;
  n: number;
  k: number;
}

/** A sparse n x n matrix in CSR form, columns ascending within each row. */
export interface Csr {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
  n: number;
}

/**
 * Per-point rho (distance to the nearest nonzero neighbor) and sigma (the scale at which the
 * memberships sum to log2 k), as umap-js's smoothKNNDistance / umap-learn's smooth_knn_dist
 * (64 bisection steps, localConnectivity 1, bandwidth 1).
 */
export function smoothKnnDistance(g: KnnGraph, localConnectivity = 1): { sigmas: Float64Array; rhos: Float64Array } {
  const { distances, n, k } = g;
  const target = (Math.log(k) / Math.log(2)) * 1.0;
  const rhos = new Float64Array(n);
  const sigmas = new Float64Array(n);
  const nonZero = new Float64Array(k);
  const rowMean = (i: number) => {
    let s = distances[i * k]; // Array.prototype.reduce without an initial value, as umap-js's mean
    for (let j = 1; j < k; j++) s += distances[i * k + j];
    return s / k;
  };
  let meanDistances = NaN; // the mean of the row means, computed once if some rho is 0
  for (let i = 0; i < n; i++) {
    const off = i * k;
    let nz = 0;
    for (let j = 0; j < k; j++) if (distances[off + j] > 0.0) nonZero[nz++] = distances[off + j];
    if (nz >= localConnectivity) {
      const index = Math.floor(localConnectivity);
      const interpolation = localConnectivity - index;
      if (index > 0) {
        rhos[i] = nonZero[index - 1];
        if (interpolation > SMOOTH_K_TOLERANCE) rhos[i] += interpolation * (nonZero[index] - nonZero[index - 1]);
      } else {
        rhos[i] = interpolation * nonZero[0];
      }
    } else if (nz > 0) {
      let max = 0;
      for (let j = 0; j < nz; j++) max = nonZero[j] > max ? nonZero[j] : max;
      rhos[i] = max;
    }
    const rho = rhos[i];
    let lo = 0.0;
    let hi = Infinity;
    let mid = 1.0;
    for (let it = 0; it < 64; it++) {
      let psum = 0.0;
      for (let j = 1; j < k; j++) {
        const d = distances[off + j] - rho;
        psum += d > 0 ? Math.exp(-(d / mid)) : 1.0;
      }
      if (Math.abs(psum - target) < SMOOTH_K_TOLERANCE) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2.0;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2.0;
      }
    }
    sigmas[i] = mid;
    if (rho > 0.0) {
      const m = rowMean(i);
      if (sigmas[i] < MIN_K_DIST_SCALE * m) sigmas[i] = MIN_K_DIST_SCALE * m;
    } else {
      if (Number.isNaN(meanDistances)) {
        let s = rowMean(0);
        for (let r = 1; r < n; r++) s += rowMean(r);
        meanDistances = s / n;
      }
      if (sigmas[i] < MIN_K_DIST_SCALE * meanDistances) sigmas[i] = MIN_K_DIST_SCALE * meanDistances;
    }
  }
  return { sigmas, rhos };
}

/**
 * The fuzzy simplicial set of a kNN graph (umap-js's fuzzySimplicialSet with setOpMixRatio 1):
 * memberships w_ij = exp(-(d_ij - rho_i) / sigma_i) (1 up to rho_i, 0 to itself), symmetrized by
 * the fuzzy union A + Aᵀ - A∘Aᵀ. Returns its nonzero entries in CSR form.
 */
export function fuzzySimplicialSet(g: KnnGraph): Csr {
  const { indices, distances, n, k } = g;
  const { sigmas, rhos } = smoothKnnDistance(g);
  // A's rows, columns ascending; a column listed twice keeps its last value (umap-js's Map.set).
  const aPtr = new Int32Array(n + 1);
  const aCol = new Int32Array(n * k);
  const aVal = new Float64Array(n * k);
  const order = new Int32Array(k);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const off = i * k;
    let m = 0;
    for (let j = 0; j < k; j++) if (indices[off + j] !== -1) order[m++] = j;
    const row = order.subarray(0, m).sort((p, q) => indices[off + p] - indices[off + q] || p - q);
    for (let t = 0; t < m; t++) {
      const j = row[t];
      const col = indices[off + j];
      if (t + 1 < m && indices[off + row[t + 1]] === col) continue; // a later duplicate wins
      const d = distances[off + j];
      let val: number;
      if (col === i) val = 0.0;
      else if (d - rhos[i] <= 0.0) val = 1.0;
      else val = Math.exp(-((d - rhos[i]) / sigmas[i]));
      if (val === 0) continue; // a zero entry adds nothing to the union: (0 + y) - 0 * y = y
      aCol[nnz] = col;
      aVal[nnz++] = val;
    }
    aPtr[i + 1] = nnz;
  }
  // Aᵀ by counting sort: its rows come out with columns ascending.
  const tPtr = new Int32Array(n + 1);
  for (let e = 0; e < nnz; e++) tPtr[aCol[e] + 1]++;
  for (let i = 0; i < n; i++) tPtr[i + 1] += tPtr[i];
  const tCol = new Int32Array(nnz);
  const tVal = new Float64Array(nnz);
  const fill = tPtr.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let e = aPtr[i]; e < aPtr[i + 1]; e++) {
      const p = fill[aCol[e]]++;
      tCol[p] = i;
      tVal[p] = aVal[e];
    }
  }
  // Merge row by row: (x + y) - x * y, as umap-js's subtract(add(A, Aᵀ), pairwiseMultiply(A, Aᵀ)).
  const indptr = new Int32Array(n + 1);
  const cols = new Int32Array(2 * nnz);
  const values = new Float64Array(2 * nnz);
  let out = 0;
  for (let i = 0; i < n; i++) {
    let p = aPtr[i];
    let q = tPtr[i];
    const pe = aPtr[i + 1];
    const qe = tPtr[i + 1];
    while (p < pe || q < qe) {
      let x = 0;
      let y = 0;
      let col: number;
      if (q >= qe || (p < pe && aCol[p] < tCol[q])) {
        col = aCol[p];
        x = aVal[p++];
      } else if (p >= pe || tCol[q] < aCol[p]) {
        col = tCol[q];
        y = tVal[q++];
      } else {
        col = aCol[p];
        x = aVal[p++];
        y = tVal[q++];
      }
      cols[out] = col;
      values[out++] = x + y - x * y;
    }
    indptr[i + 1] = out;
  }
  return { indptr, indices: cols.slice(0, out), values: values.slice(0, out), n };
}

/** umap-js's default epoch count for n points (it differs from umap-learn's). */
export function defaultEpochs(n: number): number {
  return n <= 2500 ? 500 : n <= 5000 ? 400 : n <= 7500 ? 300 : 200;
}

/** The edges UMAP samples: graph entries of at least max / nEpochs, in (row, col) order, with their epochs per sample. */
export interface LayoutEdges {
  /** Moved point (umap-js's head: the column). */
  head: Int32Array;
  /** Its neighbor (umap-js's tail: the row). */
  tail: Int32Array;
  /** An edge of weight w is sampled every max(w) / w epochs. */
  epochsPerSample: Float64Array;
}

/** Edges and epochs per sample, as umap-js's initializeSimplicialSetEmbedding and makeEpochsPerSample. */
export function layoutEdges(graph: Csr, nEpochs: number): LayoutEdges {
  const { indptr, indices, values, n } = graph;
  let graphMax = 0;
  for (let e = 0; e < values.length; e++) if (graphMax < values[e]) graphMax = values[e];
  const cut = graphMax / nEpochs;
  let m = 0;
  for (let e = 0; e < values.length; e++) if (!(values[e] < cut) && values[e]) m++;
  const head = new Int32Array(m);
  const tail = new Int32Array(m);
  const weights = new Float64Array(m);
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let e = indptr[i]; e < indptr[i + 1]; e++) {
      const v = values[e];
      if (v < cut || !v) continue;
      weights[t] = v;
      tail[t] = i;
      head[t++] = indices[e];
    }
  }
  let max = 0;
  for (let e = 0; e < m; e++) max = weights[e] > max ? weights[e] : max;
  const epochsPerSample = new Float64Array(m).fill(-1.0);
  for (let e = 0; e < m; e++) {
    const nSamples = (weights[e] / max) * nEpochs;
    if (nSamples > 0) epochsPerSample[e] = nEpochs / nSamples;
  }
  return { head, tail, epochsPerSample };
}

/** Options of {@link UmapLayout}. */
export interface UmapLayoutOptions {
  nComponents: number;
  nEpochs: number;
  minDist: number;
  spread: number;
  /** umap-js's `random`: draws in [0, 1). */
  random: () => number;
  /**
   * true: Math.pow as umap-js, so the layout is bit-identical to umap-js's. false: d^b as
   * exp(b ln d) (and d^b as d^(b-1) d where both are needed), within a few ulps of Math.pow but
   * about half the cost of V8's (fdlibm's), which was most of the layout's time; the SGD then
   * takes another path to an equally good layout.
   */
  exactPow: boolean;
}

/**
 * The SGD layout of umap-js (optimizeLayoutStep; umap-learn's optimize_layout_euclidean): a random
 * start in [-10, 10)^d, then per epoch every due edge pulls its two ends together and pushes its
 * head away from `negativeSampleRate` (5) random points per sample, gradients clipped to ±4, the
 * learning rate falling linearly from 1.
 */
export class UmapLayout {
  /** n x nComponents, row-major, Float64 as umap-js's arrays. */
  readonly embedding: Float64Array;
  readonly nEpochs: number;
  private epoch = 0;
  private alpha = 1.0;
  private readonly a: number;
  private readonly b: number;
  private readonly epochOfNextSample: Float64Array;
  private readonly epochOfNextNegativeSample: Float64Array;
  private readonly epochsPerNegativeSample: Float64Array;

  constructor(
    private readonly edges: LayoutEdges,
    private readonly n: number,
    private readonly options: UmapLayoutOptions,
  ) {
    const { nComponents, random } = options;
    this.nEpochs = options.nEpochs;
    this.embedding = new Float64Array(n * nComponents);
    for (let e = 0; e < this.embedding.length; e++) this.embedding[e] = random() * 20 + -10;
    ({ a: this.a, b: this.b } = findABParams(options.spread, options.minDist));
    const eps = edges.epochsPerSample;
    this.epochsPerNegativeSample = eps.map((e) => e / 5);
    this.epochOfNextNegativeSample = this.epochsPerNegativeSample.slice();
    this.epochOfNextSample = eps.slice();
  }

  /** Runs one epoch; returns the number of epochs done. */
  step(): number {
    if (this.epoch >= this.nEpochs) return this.epoch;
    if (this.options.nComponents === 2) this.step2();
    else this.stepAny();
    this.alpha = 1.0 * (1.0 - this.epoch / this.nEpochs);
    return ++this.epoch;
  }

  /** The general step, umap-js's loop over dimensions. */
  private stepAny(): void {
    const { head, tail, epochsPerSample } = this.edges;
    const { epochOfNextSample, epochOfNextNegativeSample, epochsPerNegativeSample, a, b, alpha, n, embedding: y } = this;
    const dim = this.options.nComponents;
    const random = this.options.random;
    const pow = this.options.exactPow ? Math.pow : fastPow;
    const epoch = this.epoch;
    const gamma = 1.0;
    for (let i = 0; i < epochsPerSample.length; i++) {
      if (epochOfNextSample[i] > epoch) continue;
      const j = head[i] * dim;
      const k = tail[i] * dim;
      let distSquared = 0.0;
      for (let d = 0; d < dim; d++) distSquared += sq(y[j + d] - y[k + d]);
      let gradCoeff = 0;
      if (distSquared > 0) {
        gradCoeff = -2.0 * a * b * pow(distSquared, b - 1.0);
        gradCoeff /= a * pow(distSquared, b) + 1.0;
      }
      for (let d = 0; d < dim; d++) {
        const gradD = clip(gradCoeff * (y[j + d] - y[k + d]));
        y[j + d] += gradD * alpha;
        y[k + d] += -gradD * alpha;
      }
      epochOfNextSample[i] += epochsPerSample[i];
      const nNegSamples = Math.floor((epoch - epochOfNextNegativeSample[i]) / epochsPerNegativeSample[i]);
      for (let p = 0; p < nNegSamples; p++) {
        const kk = Math.floor(random() * n);
        const o = kk * dim;
        let dist2 = 0.0;
        for (let d = 0; d < dim; d++) dist2 += sq(y[j + d] - y[o + d]);
        let coeff = 0.0;
        if (dist2 > 0.0) {
          coeff = 2.0 * gamma * b;
          coeff /= (0.001 + dist2) * (a * pow(dist2, b) + 1);
        } else if (head[i] === kk) {
          continue;
        }
        for (let d = 0; d < dim; d++) {
          let gradD = 4.0;
          if (coeff > 0.0) gradD = clip(coeff * (y[j + d] - y[o + d]));
          y[j + d] += gradD * alpha;
        }
      }
      epochOfNextNegativeSample[i] += nNegSamples * epochsPerNegativeSample[i];
    }
  }

  /** {@link stepAny} unrolled for 2-D: the same operations in the same order. */
  private step2(): void {
    const { head, tail, epochsPerSample } = this.edges;
    const { epochOfNextSample, epochOfNextNegativeSample, epochsPerNegativeSample, a, b, alpha, n, embedding: y } = this;
    const random = this.options.random;
    const exactPow = this.options.exactPow;
    const epoch = this.epoch;
    const gamma = 1.0;
    const posScale = -2.0 * a * b;
    const bm1 = b - 1.0;
    const negScale = 2.0 * gamma * b;
    for (let i = 0; i < epochsPerSample.length; i++) {
      if (epochOfNextSample[i] > epoch) continue;
      const hj = head[i];
      const j = hj * 2;
      const k = tail[i] * 2;
      // Positive edges never join a point to itself (its own membership is 0), so j !== k.
      let c0 = y[j];
      let c1 = y[j + 1];
      let dx = c0 - y[k];
      const dy = c1 - y[k + 1];
      const distSquared = 0.0 + dx * dx + dy * dy;
      let gradCoeff = 0;
      if (distSquared > 0) {
        if (exactPow) {
          gradCoeff = posScale * Math.pow(distSquared, bm1);
          gradCoeff /= a * Math.pow(distSquared, b) + 1.0;
        } else {
          const powBm1 = Math.exp(bm1 * Math.log(distSquared)); // d^(b-1), and d^b = d^(b-1) d
          gradCoeff = posScale * powBm1;
          gradCoeff /= a * (powBm1 * distSquared) + 1.0;
        }
      }
      let g = clip(gradCoeff * dx);
      c0 += g * alpha;
      y[k] += -g * alpha;
      g = clip(gradCoeff * dy);
      c1 += g * alpha;
      y[k + 1] += -g * alpha;
      epochOfNextSample[i] += epochsPerSample[i];
      const nNegSamples = Math.floor((epoch - epochOfNextNegativeSample[i]) / epochsPerNegativeSample[i]);
      for (let p = 0; p < nNegSamples; p++) {
        const kk = Math.floor(random() * n);
        if (kk === hj) {
          // The point itself: distance 0, so umap-js skips it.
          continue;
        }
        const o = kk * 2;
        dx = c0 - y[o];
        const ey = c1 - y[o + 1];
        const dist2 = 0.0 + dx * dx + ey * ey;
        if (dist2 > 0.0) {
          let coeff = negScale;
          coeff /= (0.001 + dist2) * (a * (exactPow ? Math.pow(dist2, b) : Math.exp(b * Math.log(dist2))) + 1);
          // coeff > 0 unless it underflows, then umap-js pushes by the full clip value.
          c0 += (coeff > 0.0 ? clip(coeff * dx) : 4.0) * alpha;
          c1 += (coeff > 0.0 ? clip(coeff * ey) : 4.0) * alpha;
        } else {
          c0 += 4.0 * alpha;
          c1 += 4.0 * alpha;
        }
      }
      y[j] = c0;
      y[j + 1] = c1;
      epochOfNextNegativeSample[i] += nNegSamples * epochsPerNegativeSample[i];
    }
  }
}

/** Math.pow(x, 2), as umap-js writes it, is x * x in V8 (it returns x * x for y = 2 whether it uses fdlibm or std::pow). */
function sq(x: number): number {
  return x * x;
}

/** x^y as exp(y ln x), for x > 0 (see UmapLayoutOptions.exactPow). */
function fastPow(x: number, y: number): number {
  return Math.exp(y * Math.log(x));
}

function clip(x: number): number {
  return x > 4.0 ? 4.0 : x < -4.0 ? -4.0 : x;
}
