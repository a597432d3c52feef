/**
 * Topological RSA (Lin & Kriegeskorte 2023, "The topology and geometry of neural
 * representations", PNAS 2024): geo-topological transforms of RDMs (RGTM, representational
 * geo-topological matrix), the RGTM family over an (l, u) grid with the paper's five named regions,
 * and graph-geodesic RDMs (RGDM). Definitions and test vectors: docs/methods/rsa.md §6-8.
 *
 * Canonical semantics (docs/methods/rsa.md §6.1, §8): per RDM, masks evaluated on the input values (not
 * rsatoolbox's buggy re-masking of rescaled values), zero-weight edges kept as free edges in the
 * geodesic graph (networkx drops them; `compat: 'networkx'` reproduces that artifact).
 *
 * Hand-written: the transforms are O(m) passes over condensed vectors after one sort; nothing on
 * npm implements them.
 */
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { condensedLength, descriptorsOf, isRdm, makeRdm, measureOf, rdmSize, type Rdm, type RdmLike } from './condensed.js';
import { geodesicDistances } from '../math/graph.js';
import { quantileSorted, rankdata, sortedCopy } from '../math/order.js';

/**
 * How l and u are read:
 * - 'quantile' (default): quantiles of the RDM's dissimilarities (numpy type 7);
 * - 'rank': the authors' released code (TopologicalRSA `gt_transform`): dissimilarities are first
 *   replaced by their min-max-normalized average ranks, then l, u are quantiles of those (without
 *   ties the thresholds are exactly l and u, and RGTM = clip((r~ - l)/(u - l), 0, 1));
 * - 'absolute': l, u in dissimilarity units.
 */
export type GtMode = 'quantile' | 'rank' | 'absolute';
/** The threshold modes of `geoTopological`. */
export const GT_MODES: readonly GtMode[] = ['quantile', 'rank', 'absolute'];

/** Options of `rsa.geoTopological`, `rsa.geoTopologicalJoint` and `rsa.rgdm`: the thresholds (l, u) and how they are read. */
export interface GtOptions {
  /** Lower threshold: below it a pair counts as neighbors (0). */
  l: number;
  /** Upper threshold: above it a pair counts as far (1). l <= u; l = u gives 1 - adjacency. */
  u: number;
  /** How l and u are read (see GtMode). Default 'quantile'. */
  mode?: GtMode;
}

function checkVector(where: string, x: unknown, minStimuli = 3): ArrayLike<number> {
  const v = isRdm(x) ? x.values : x;
  if (v == null || typeof (v as ArrayLike<number>).length !== 'number' || typeof v === 'string') {
    throw new NestlabArgumentError(where, 'rdm', 'a condensed RDM (Float64Array or number[])', v);
  }
  const a = v as ArrayLike<number>;
  rdmSize(a.length, where, 'rdm', minStimuli);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new NestlabArgumentError(where, 'rdm', 'finite dissimilarities', `${a[i]} at index ${i}`);
  }
  return a;
}

function checkLu(where: string, l: unknown, u: unknown, mode: GtMode): void {
  const [lo, hi] = mode === 'absolute' ? [-Infinity, Infinity] : [0, 1];
  checkNumber(where, 'l', l, lo, hi);
  checkNumber(where, 'u', u, lo, hi);
  if ((l as number) > (u as number)) throw new NestlabArgumentError(where, 'l', `at most u (${u})`, l);
}

/** Min-max normalization (x - min)/(max - min); a constant vector maps to zeros. */
export function minMaxNormalize(v: ArrayLike<number>): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  const out = new Float64Array(v.length);
  const r = hi > lo ? 1 / (hi - lo) : 0;
  for (let i = 0; i < v.length; i++) out[i] = (v[i] - lo) * r;
  return out;
}

/** Ranks (average ties) min-max normalized to [0, 1]: the authors' `minmax(rankdata(d))`. */
export function rankNormalize(v: ArrayLike<number>): Float64Array {
  return minMaxNormalize(rankdata(v));
}

/**
 * GT_{a,b}(x) = 0 if x < a, (x - a)/(b - a) if a <= x <= b, 1 if x > b; for a = b,
 * 0 if x <= a else 1 (docs/methods/rsa.md §6.1). Writes into `out`.
 */
export function applyGt(values: ArrayLike<number>, a: number, b: number, out = new Float64Array(values.length)): Float64Array {
  if (a === b) {
    for (let i = 0; i < values.length; i++) out[i] = values[i] <= a ? 0 : 1;
    return out;
  }
  // clamp form: (x - a)/(b - a) is < 0 exactly when x < a and > 1 when x > b (25% faster than
  // branching on x, measured on 2M-entry RDMs)
  const r = 1 / (b - a);
  for (let i = 0; i < values.length; i++) {
    const t = (values[i] - a) * r;
    out[i] = t < 0 ? 0 : t > 1 ? 1 : t;
  }
  return out;
}

/** An RDM prepared once for many (l, u): the values GT acts on and their sorted copy. */
export interface GtPrepared {
  mode: GtMode;
  values: Float64Array;
  sorted: Float64Array;
}

/** Prepares an RDM for repeated geo-topological transforms (one sort / rank for the whole grid). */
export function prepareGt(rdm: RdmLike, mode: GtMode = 'quantile', where = 'rsa.geoTopological'): GtPrepared {
  checkOneOf(where, 'mode', mode, GT_MODES);
  return prepareGtVector(checkVector(where, rdm), mode);
}

/**
 * As prepareGt for any vector of dissimilarities (at least 2, finite), e.g. an RDM whose pairs
 * between copies of one bootstrapped stimulus were dropped, so not of length n(n-1)/2.
 */
export function prepareGtVector(v: ArrayLike<number>, mode: GtMode = 'quantile'): GtPrepared {
  const where = 'rsa.geoTopological';
  checkOneOf(where, 'mode', mode, GT_MODES);
  if (v == null || typeof v.length !== 'number' || v.length < 2) throw new NestlabArgumentError(where, 'v', 'a vector of at least 2 dissimilarities', v);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new NestlabArgumentError(where, 'v', 'finite dissimilarities', `${v[i]} at index ${i}`);
  }
  const values = mode === 'rank' ? rankNormalize(v) : Float64Array.from(v);
  return { mode, values, sorted: sortedCopy(values) };
}

/** The thresholds (a, b) in the units GT acts on for (l, u) under the prepared mode. */
export function gtThresholds(p: GtPrepared, l: number, u: number): [number, number] {
  checkLu('gtThresholds', l, u, p.mode);
  if (p.mode === 'absolute') return [l, u];
  return [quantileSorted(p.sorted, l), quantileSorted(p.sorted, u)];
}

/**
 * The representational geo-topological matrix RGTM_{l,u} of a condensed RDM (Lin & Kriegeskorte):
 * GT_{a,b} applied to every dissimilarity, with (a, b) from (l, u) by `mode` (default 'quantile').
 * (l, u) = (0, 1) in 'quantile' mode is the min-max-normalized RDM; l = u is 1 - the adjacency
 * matrix of the graph joining the pairs at or below the l-quantile.
 *
 * Definition: docs/methods/rsa.md §6.
 *
 * Example (rank mode): [1, 2, 4, 8, 16, 32] at (0.2, 0.8) -> [0, 0, 1/3, 2/3, 1, 1].
 *
 * @example const g = rsa.geoTopological(r, { l: 0.4, u: 0.6 }); // topology-sensitive RGTM, values in [0, 1]
 */
export function geoTopological(rdm: RdmLike, options: GtOptions): Rdm {
  const where = 'rsa.geoTopological';
  checkKnownKeys(where, options, ['l', 'u', 'mode']);
  const mode = checkOneOf(where, 'options.mode', options.mode ?? 'quantile', GT_MODES);
  checkLu(where, options.l, options.u, mode);
  const p = prepareGt(rdm, mode, where);
  const [a, b] = gtThresholds(p, options.l, options.u);
  return makeRdm(applyGt(p.values, a, b), gtMeasure(options.l, options.u, mode, measureOf(rdm)), descriptorsOf(rdm));
}

/** The measure of a transformed RDM, e.g. "GT(l=0.4, u=0.6) of euclidean". */
function gtMeasure(l: number, u: number, mode: GtMode, of: string): string {
  return `GT(l=${l}, u=${u}${mode === 'quantile' ? '' : `, ${mode}`}) of ${of}`;
}

/**
 * GT with thresholds pooled over several RDMs (rsatoolbox's `geotopological_transform` on an RDMs
 * object: quantiles of all their dissimilarities jointly), masks on the input values (without
 * rsatoolbox's re-masking bug, docs/methods/rsa.md §6.3). Mode 'quantile' or 'absolute'.
 * With (a, b) the l- and u-quantiles of all the RDMs' values together, each output is GT_{a,b}(rdm_k).
 *
 * @example const [ga, gb] = rsa.geoTopologicalJoint([rdmA, rdmB], { l: 0.1, u: 0.9 }); // one shared (a, b)
 */
export function geoTopologicalJoint(rdms: RdmLike[], options: GtOptions): Rdm[] {
  const where = 'rsa.geoTopologicalJoint';
  checkKnownKeys(where, options, ['l', 'u', 'mode']);
  const mode = checkOneOf(where, 'options.mode', options.mode ?? 'quantile', ['quantile', 'absolute'] as const);
  checkLu(where, options.l, options.u, mode);
  if (!Array.isArray(rdms) || rdms.length === 0) throw new NestlabArgumentError(where, 'rdms', 'a non-empty array of condensed RDMs', rdms);
  const vs = rdms.map((r) => checkVector(where, r));
  vs.forEach((v, i) => {
    if (v.length !== vs[0].length) throw new NestlabArgumentError(where, `rdms[${i}]`, `an RDM of the same size as rdms[0] (length ${vs[0].length})`, `length ${v.length}`);
  });
  let a = options.l;
  let b = options.u;
  if (mode === 'quantile') {
    const all = new Float64Array(vs.length * vs[0].length);
    vs.forEach((v, i) => all.set(Float64Array.from(v), i * v.length));
    all.sort();
    a = quantileSorted(all, options.l);
    b = quantileSorted(all, options.u);
  }
  return vs.map((v, i) => makeRdm(applyGt(v, a, b), gtMeasure(options.l, options.u, mode, `${measureOf(rdms[i])}, thresholds pooled`), descriptorsOf(rdms[i])));
}

/** The paper's five named regions of the (l, u) plane (authors' `get_rgtm_type`). */
export type RgtmRegion = 'local extractor' | 'global extractor' | 'geometry sensitive' | 'topology sensitive' | 'intermediate';
/** The five named regions, in the authors' test order. */
export const RGTM_REGIONS: readonly RgtmRegion[] = ['local extractor', 'global extractor', 'geometry sensitive', 'topology sensitive', 'intermediate'];

/**
 * Region of (l, u), tests in the authors' order with tolerance 1e-3 (docs/methods/rsa.md §7):
 * (l+u)/2 <= 0.2 local extractor; (l+u)/2 >= 0.8 global extractor; u - l >= 0.8 geometry
 * sensitive; l >= 0.4 and u <= 0.6 topology sensitive; otherwise intermediate.
 *
 * @example rsa.rgtmRegion(0.4, 0.6) // 'topology sensitive'
 */
export function rgtmRegion(l: number, u: number): RgtmRegion {
  checkLu('rgtmRegion', l, u, 'quantile');
  const tol = 1e-3;
  const mid = (l + u) / 2;
  if (mid <= 0.2 + tol) return 'local extractor';
  if (mid >= 0.8 - tol) return 'global extractor';
  if (u - l >= 0.8 - tol) return 'geometry sensitive';
  if (l >= 0.4 - tol && u <= 0.6 + tol) return 'topology sensitive';
  return 'intermediate';
}

/** One cell of the (l, u) grid of `rsa.rgtmGrid`, with its named region (docs/methods/rsa.md §7). */
export interface RgtmCell {
  /** Lower threshold (a quantile in [0, 1]). */
  l: number;
  /** Upper threshold (a quantile in [l, 1]). */
  u: number;
  /** The paper's region of (l, u), by `rsa.rgtmRegion`. */
  region: RgtmRegion;
}

/**
 * The authors' (l, u) grid (`run_rgtm_grid_search`): l in {0, step, ..., 1 - step}, u from 1 down
 * to l in the same steps, skipping l + u <= 0.01 (the all-zero matrix). With step 0.05: 229 cells
 * of a 20 x 20 lattice (docs/methods/rsa.md §7).
 *
 * @example const cells = rsa.rgtmGrid(0.05); // 229 cells {l, u, region}
 */
export function rgtmGrid(step = 0.05): RgtmCell[] {
  checkNumber('rsa.rgtmGrid', 'step', step, 1e-3, 0.5);
  const k = Math.round(1 / step);
  if (Math.abs(k * step - 1) > 1e-9) throw new NestlabArgumentError('rsa.rgtmGrid', 'step', 'a number whose inverse is an integer (0.05, 0.1, 0.25...)', step);
  const cells: RgtmCell[] = [];
  for (let i = 0; i < k; i++) {
    const l = Math.round(i * step * 1e6) / 1e6;
    for (let j = k; j >= i; j--) {
      const u = Math.round(j * step * 1e6) / 1e6;
      if (l + u <= 0.01 || l + u >= 1.99) continue;
      cells.push({ l, u, region: rgtmRegion(l, u) });
    }
  }
  return cells;
}

/**
 * Calls `fn(cell, rgtm, index)` for every cell with the RGTM of `rdm`, sorting/ranking once. The
 * `rgtm` buffer is reused between calls: copy it (`Float64Array.from`) to keep it. For grids over
 * large RDMs (2000 stimuli: 2M pairs x 229 cells) this avoids holding every member in memory.
 */
export function forEachRgtm(rdm: RdmLike, cells: readonly { l: number; u: number }[], fn: (cell: { l: number; u: number }, rgtm: Float64Array, index: number) => void, mode: GtMode = 'quantile'): void {
  const p = prepareGt(rdm, mode);
  const buf = new Float64Array(p.values.length);
  cells.forEach((c, i) => {
    const [a, b] = gtThresholds(p, c.l, c.u);
    fn(c, applyGt(p.values, a, b, buf), i);
  });
}

/**
 * Every RGTM of `rdm` over `cells` (small RDMs; see forEachRgtm for large ones): member k is
 * geoTopological(rdm, { l: cells[k].l, u: cells[k].u, mode }), the family the authors' grid search
 * (`run_rgtm_grid_search`) scans, with one sort for the whole grid (docs/methods/rsa.md §6-7).
 *
 * @example const family = rsa.rgtmFamily(r, rsa.rgtmGrid(0.1)); // one Rdm per (l, u) cell
 */
export function rgtmFamily(rdm: RdmLike, cells: readonly { l: number; u: number }[], options: { mode?: GtMode } = {}): Rdm[] {
  checkKnownKeys('rsa.rgtmFamily', options, ['mode']);
  const mode = checkOneOf('rsa.rgtmFamily', 'options.mode', options.mode ?? 'quantile', GT_MODES);
  const out: Rdm[] = [];
  forEachRgtm(rdm, cells, (c, g) => out.push(makeRdm(Float64Array.from(g), gtMeasure(c.l, c.u, mode, measureOf(rdm)), descriptorsOf(rdm))), mode);
  return out;
}

/**
 * Graph over which geodesics run:
 * - 'threshold' (default): edge (i, j) iff the (normalized) value is < 1; meant for an RGTM, where
 *   it removes the pairs at or above u (the authors' 'twostep', rsatoolbox's geodesic_transform);
 * - 'epsilon': keep the pairs at or below the p-quantile (authors' 'p_shortest');
 * - 'knn': keep (i, j) if j is among the k nearest neighbors of i or i among those of j
 *   (`knnRule: 'union'`, default), or the authors' asymmetric rule (`knnRule: 'authors'`: tested
 *   once from the lower index only).
 */
export type GeodesicGraph = 'threshold' | 'epsilon' | 'knn';

/** Options of `rsa.geodesicRdm`: the graph the geodesics run on and the normalization before it. */
export interface GeodesicOptions {
  /** The graph (see GeodesicGraph). Default 'threshold'. */
  graph?: GeodesicGraph;
  /** Quantile for 'epsilon' (default 0.05, the authors' default). */
  p?: number;
  /** Neighbors for 'knn' (default 1, the authors' default). */
  k?: number;
  /** How the 'knn' graph is symmetrized: 'union' (default) or the authors' asymmetric rule (see GeodesicGraph). */
  knnRule?: 'union' | 'authors';
  /**
   * Normalization before building the graph: 'minmax' (default for 'threshold', as rsatoolbox and
   * the authors' twostep), 'rank' (min-max of average ranks; default for 'epsilon'/'knn', as the
   * authors), 'none'.
   */
  normalize?: 'minmax' | 'rank' | 'none';
  /** 'canonical' (default): zero weights are free edges. 'networkx': zero weights are no edge (as both Python codes). */
  compat?: 'canonical' | 'networkx';
  /** Replace the geodesic distances by their average ranks (Infinity ties at the top), as the authors' default. Default false. */
  rankAfter?: boolean;
}

/**
 * The representational geodesic-distance matrix (RGDM): all-pairs shortest-path lengths on the
 * graph of a (normalized) RDM, edge weights = the normalized dissimilarities, as a condensed
 * vector; unreachable pairs are Infinity (see `finiteMaxReplace`). RGDM_ij = min over paths
 * i -> j of the sum of edge weights (Lin & Kriegeskorte; rsatoolbox `geodesic_transform` for the
 * threshold graph; docs/methods/rsa.md §8).
 *
 * Example: g = [0, 0, 1/3, 2/3, 1, 1] (threshold graph) -> [0, 0, 1/3, 0, 1/3, 1/3].
 *
 * @example const gd = rsa.geodesicRdm(r, { graph: 'knn', k: 5 }); // shortest-path lengths, Infinity if unreachable
 */
export function geodesicRdm(rdm: RdmLike, options: GeodesicOptions = {}): Rdm {
  const where = 'rsa.geodesicRdm';
  checkKnownKeys(where, options, ['graph', 'p', 'k', 'knnRule', 'normalize', 'compat', 'rankAfter']);
  const graph = checkOneOf(where, 'options.graph', options.graph ?? 'threshold', ['threshold', 'epsilon', 'knn'] as const);
  const normalize = checkOneOf(where, 'options.normalize', options.normalize ?? (graph === 'threshold' ? 'minmax' : 'rank'), ['minmax', 'rank', 'none'] as const);
  const compat = checkOneOf(where, 'options.compat', options.compat ?? 'canonical', ['canonical', 'networkx'] as const);
  const knnRule = checkOneOf(where, 'options.knnRule', options.knnRule ?? 'union', ['union', 'authors'] as const);
  const v = checkVector(where, rdm);
  const n = rdmSize(v.length);
  const x = normalize === 'minmax' ? minMaxNormalize(v) : normalize === 'rank' ? rankNormalize(v) : Float64Array.from(v);
  for (let i = 0; i < x.length; i++) {
    if (x[i] < 0) throw new NestlabArgumentError(where, 'rdm', "non-negative dissimilarities (edge weights) with normalize 'none'", `${x[i]} at index ${i}`);
  }
  const keep = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) keep[i] = compat === 'networkx' && x[i] === 0 ? 0 : 1;
  if (graph === 'threshold') {
    for (let i = 0; i < x.length; i++) if (x[i] >= 1) keep[i] = 0;
  } else if (graph === 'epsilon') {
    const p = checkNumber(where, 'options.p', options.p ?? 0.05, 0, 1);
    const q = quantileSorted(sortedCopy(x), p);
    for (let i = 0; i < x.length; i++) if (x[i] > q) keep[i] = 0;
  } else {
    const k = checkInt(where, 'options.k', options.k ?? 1, 1, n - 1);
    const near = knnSets(x, keep, n, k);
    let idx = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, idx++) {
        if (!keep[idx]) continue;
        const ij = near[i].has(j);
        keep[idx] = (knnRule === 'authors' ? ij : ij || near[j].has(i)) ? 1 : 0;
      }
    }
  }
  const w = new Float64Array(n * n).fill(Infinity);
  let idx = 0;
  for (let i = 0; i < n; i++) {
    w[i * n + i] = 0;
    for (let j = i + 1; j < n; j++, idx++) {
      if (keep[idx]) {
        w[i * n + j] = x[idx];
        w[j * n + i] = x[idx];
      }
    }
  }
  const d = geodesicDistances(n, w);
  const out = new Float64Array(condensedLength(n));
  idx = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++, idx++) out[idx] = d[i * n + j];
  return makeRdm(options.rankAfter ? rankdata(out) : out, `geodesic (${graph} graph${options.rankAfter ? ', ranked' : ''}) of ${measureOf(rdm)}`, descriptorsOf(rdm));
}

/** For each node, its k nearest neighbors among its existing edges (ties by index). */
function knnSets(x: Float64Array, keep: Uint8Array, n: number, k: number): Set<number>[] {
  const sets: Set<number>[] = [];
  for (let i = 0; i < n; i++) {
    const cand: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const a = Math.min(i, j);
      const b = Math.max(i, j);
      const idx = a * n - (a * (a + 1)) / 2 + (b - a - 1);
      if (keep[idx]) cand.push([x[idx], j]);
    }
    cand.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    sets.push(new Set(cand.slice(0, k).map((c) => c[1])));
  }
  return sets;
}

/**
 * The two-step RGDM (authors' `gd_after_gt`): the geodesic RDM of RGTM_{l,u} on the threshold
 * graph (pairs at or above u cut, pairs below l free edges in canonical mode); docs/methods/rsa.md §8.
 *
 * @example const gd = rsa.rgdm(r, { l: 0.05, u: 0.5 }); // = geodesicRdm(geoTopological(r, { l, u }), threshold graph)
 */
export function rgdm(rdm: RdmLike, options: GtOptions & { compat?: 'canonical' | 'networkx'; rankAfter?: boolean }): Rdm {
  checkKnownKeys('rsa.rgdm', options, ['l', 'u', 'mode', 'compat', 'rankAfter']);
  const g = geoTopological(rdm, { l: options.l, u: options.u, mode: options.mode });
  return geodesicRdm(g, { graph: 'threshold', normalize: 'none', compat: options.compat, rankAfter: options.rankAfter });
}

/** Replaces Infinity (unreachable pairs) by the largest finite value (what the authors meant `nan_to_num(posinf=...)` to do). */
export function finiteMaxReplace(v: ArrayLike<number>): Float64Array {
  let mx = -Infinity;
  for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i]) && v[i] > mx) mx = v[i];
  const out = Float64Array.from(v);
  if (mx === -Infinity) mx = 0;
  for (let i = 0; i < out.length; i++) if (out[i] === Infinity) out[i] = mx;
  return out;
}
