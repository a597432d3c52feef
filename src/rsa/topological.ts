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
import { WA, addConst, funcBody, get, leb, moduleBytes, set, BLOCK, BR, BR_IF, END, I32, I32_ADD, LOOP, V128, V128_LOAD, V128_STORE, VOID } from '../backend/wasm-asm.js';
import { quantileSorted, rankdata, sortedCopy } from '../math/order.js';
import { checkMemory, resolveMemoryBudget, type MemoryBudget } from '../backend/memory.js';

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
  // Branch-free: the values come in stimulus-pair order, so a branch on x < a or x > b is
  // mispredicted for a large share of the entries (3.4x slower over the 229-cell grid of a 2M-entry
  // RDM, measured). Comparisons used as numbers compile to flag reads, not jumps.
  if (a === b) {
    for (let i = 0; i < values.length; i++) out[i] = +(values[i] > a);
    return out;
  }
  // t = (x - a)/(b - a) is < 0 exactly when x < a; t·[0 <= t <= 1] + [t > 1] is then 0, t or 1
  // exactly (t·0 = ±0, and ±0 + 0 = +0)
  const r = 1 / (b - a);
  for (let i = 0; i < values.length; i++) {
    const t = (values[i] - a) * r;
    out[i] = t * (+(t >= 0) & +(t <= 1)) + +(t > 1);
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
  if (mode !== 'rank') {
    const values = Float64Array.from(v);
    return { mode, values, sorted: sortedCopy(values) };
  }
  const ranks = rankdata(v);
  const values = minMaxNormalize(ranks);
  // The sorted copy without a second O(m log m) sort: a tie group at 0-based sorted positions
  // p0..p1 has average rank (p0 + p1 + 2)/2, so its doubled rank R gives p1 = R - 2 - p0. Walking
  // the doubled ranks upward, each group fills the positions after the previous one. (Float32-exact
  // RDMs, as from a float32 Gram product, have many ties.)
  const m = values.length;
  const member = new Int32Array(2 * m + 2);
  for (let i = 0; i < m; i++) member[(2 * ranks[i]) | 0] = i + 1; // int32 indices: a double index takes V8's slow generic path
  const sorted = new Float64Array(m);
  let pos = 0;
  for (let r2 = 2; r2 <= 2 * m; r2++) {
    if (member[r2] === 0) continue;
    const x = values[member[r2] - 1];
    const p1 = r2 - 2 - pos;
    for (; pos <= p1; pos++) sorted[pos] = x;
  }
  return { mode, values, sorted };
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
 * Each cell is one branch-free pass, in WebAssembly SIMD where available (docs/methods/rsa.md §7).
 */
export function forEachRgtm(rdm: RdmLike, cells: readonly { l: number; u: number }[], fn: (cell: { l: number; u: number }, rgtm: Float64Array, index: number) => void, mode: GtMode = 'quantile'): void {
  const p = prepareGt(rdm, mode);
  const m = p.values.length;
  const simd = gtKernel(m);
  let buf: Float64Array;
  if (simd !== null) {
    simd.values.set(p.values);
    buf = simd.out;
  } else buf = new Float64Array(m);
  cells.forEach((c, i) => {
    const [a, b] = gtThresholds(p, c.l, c.u);
    if (simd === null) applyGt(p.values, a, b, buf);
    else {
      // pairs of entries in WebAssembly, an odd last one here (same operations, same values)
      if (a === b) simd.step(0, simd.outOffset, (m >> 1) * 16, a);
      else simd.clamp(0, simd.outOffset, (m >> 1) * 16, a, 1 / (b - a));
      if (m & 1) applyGt(p.values.subarray(m - 1), a, b, buf.subarray(m - 1));
    }
    fn(c, buf, i);
  });
}

/** The compiled GT kernels (shared by every call), or null where WebAssembly SIMD is unavailable. */
let gtModule: object | null | undefined;

/**
 * GT_{a,b} over a whole RDM in WebAssembly SIMD, two entries per instruction: f64x2.pmax/pmin are
 * one maxpd/minpd each, a branch-free clamp (WebAssembly core spec §4.3.3, "fpmin"/"fpmax":
 * pmax(0, t) = 0 < t ? t : 0, pmin(1, x) = x < 1 ? x : 1, the exact values of `applyGt`).
 * The 229-cell grid over a 2000-stimulus RDM writes 458M entries; in plain JS the clamp alone costs
 * ~2x the arithmetic (measured). Memory: the values, then the output buffer handed to callers.
 */
function gtKernel(m: number): { values: Float64Array; out: Float64Array; outOffset: number; clamp: (src: number, dst: number, bytes: number, a: number, r: number) => void; step: (src: number, dst: number, bytes: number, a: number) => void } | null {
  if (WA === undefined || m < 2) return null;
  if (gtModule === undefined) {
    try {
      const bytes = gtModuleBytes();
      gtModule = WA.validate(bytes) ? new WA.Module(bytes) : null;
    } catch {
      gtModule = null;
    }
  }
  if (gtModule === null) return null;
  const outOffset = Math.ceil(m / 2) * 16;
  const pages = Math.ceil((2 * outOffset) / 65536);
  if (pages > 65536) return null;
  try {
    const memory = new WA.Memory({ initial: pages });
    const inst = new WA.Instance(gtModule, { env: { mem: memory } });
    const e = inst.exports as { clamp: (src: number, dst: number, bytes: number, a: number, r: number) => void; step: (src: number, dst: number, bytes: number, a: number) => void };
    return { values: new Float64Array(memory.buffer, 0, m), out: new Float64Array(memory.buffer, outOffset, m), outOffset, clamp: e.clamp, step: e.step };
  } catch {
    return null;
  }
}

const F64 = 0x7c;
const SIMD = 0xfd;
const F64X2_SPLAT = [SIMD, 0x14];
const F64X2_GT = [SIMD, ...leb(0x4a)];
const V128_AND = [SIMD, ...leb(0x4e)];
const F64X2_SUB = [SIMD, ...leb(0xf1)];
const F64X2_MUL = [SIMD, ...leb(0xf2)];
const F64X2_PMIN = [SIMD, ...leb(0xf6)];
const F64X2_PMAX = [SIMD, ...leb(0xf7)];
const I32_LT_U = 0x49;
const f64Const = (x: number): number[] => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)];

/**
 * clamp(src, dst, bytes, a, r): dst[i] = min(max((src[i] - a)·r, 0), 1) for the f64 pairs in
 * src..src+bytes; step(src, dst, bytes, a): dst[i] = src[i] > a ? 1 : 0.
 */
function gtModuleBytes(): Uint8Array {
  // locals: 0 src, 1 dst, 2 bytes (then the end), 3 a, [4 r]; then v128 splats
  const loop = (body: number[]): number[] => [
    ...get(2), ...get(0), I32_ADD, ...set(2),
    BLOCK, VOID, LOOP, VOID,
    ...get(0), ...get(2), I32_LT_U, 0x45 /* i32.eqz */, BR_IF, 1,
    ...get(1), ...body, ...V128_STORE,
    ...addConst(0, 16), ...addConst(1, 16), BR, 0,
    END, END, END,
  ];
  // clamp: locals 5 A, 6 R, 7 zero, 8 one
  const clamp = loop([...get(8), ...get(7), ...get(0), ...V128_LOAD, ...get(5), ...F64X2_SUB, ...get(6), ...F64X2_MUL, ...F64X2_PMAX, ...F64X2_PMIN]);
  const clampInit = [...get(3), ...F64X2_SPLAT, ...set(5), ...get(4), ...F64X2_SPLAT, ...set(6), ...f64Const(0), ...F64X2_SPLAT, ...set(7), ...f64Const(1), ...F64X2_SPLAT, ...set(8)];
  // step: locals 4 A, 5 one
  const step = loop([...get(0), ...V128_LOAD, ...get(4), ...F64X2_GT, ...get(5), ...V128_AND]);
  const stepInit = [...get(3), ...F64X2_SPLAT, ...set(4), ...f64Const(1), ...F64X2_SPLAT, ...set(5)];
  return moduleBytes(
    [{ params: [I32, I32, I32, F64, F64], results: [] }, { params: [I32, I32, I32, F64], results: [] }],
    [0, 1],
    ['clamp', 'step'],
    [funcBody([[4, V128]], [...clampInit, ...clamp]), funcBody([[2, V128]], [...stepInit, ...step])],
  );
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
  /**
   * Bytes the call may use (a positive number, or Infinity for no check), checked against
   * `geodesicMemoryEstimate` before the n × n matrices are made and again once the graph's edges
   * are counted. Default: NESTLAB_MEMORY_BUDGET if set, else half of the memory available at
   * the call (docs/methods/compute.md §3b).
   */
  memoryBudget?: number;
}

/**
 * The peak bytes of `geodesicRdm` for n stimuli (m = n(n − 1)/2 pairs), `edges` graph edges and
 * `contracted` whether zero-weight edges are merged first (docs/methods/compute.md §3b): the
 * normalized values and the edge mask (9m) and the dense n × n Float64 weights (8n²) live
 * throughout; on them the largest of: all-pairs Dijkstra (its adjacency lists and heap, 24 bytes
 * per arc, 2 arcs per edge, and the n × n Float64 result; with contraction the contracted weights
 * too, at most 8n²), the expansion of a contracted result (three n × n Float64 matrices), and the
 * end (the n × n result and the condensed output, 8m, ranked once more with rankAfter: 8m and
 * 24m of radix-sort buffers). Before the edges are counted, `edges` = 0 gives a lower bound.
 *
 * @internal exported for the tests.
 */
export function geodesicMemoryEstimate(n: number, edges: number, contracted: boolean, rankAfter: boolean): number {
  const m = (n * (n - 1)) / 2;
  const base = 9 * m + 8 * n * n;
  const dijkstra = 48 * edges + 8 * n * n + (contracted ? 8 * n * n : 0);
  const expand = contracted ? 24 * n * n : 0;
  const end = 8 * n * n + 8 * m + (rankAfter ? 32 * m : 0);
  return base + Math.max(dijkstra, expand, end);
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
  return geodesicWith('rsa.geodesicRdm', rdm, options);
}

/** geodesicRdm, its errors naming `where` (the public function called). */
function geodesicWith(where: string, rdm: RdmLike, options: GeodesicOptions): Rdm {
  checkKnownKeys(where, options, ['graph', 'p', 'k', 'knnRule', 'normalize', 'compat', 'rankAfter', 'memoryBudget']);
  const budget = resolveMemoryBudget(where, options.memoryBudget);
  const graph = checkOneOf(where, 'options.graph', options.graph ?? 'threshold', ['threshold', 'epsilon', 'knn'] as const);
  const normalize = checkOneOf(where, 'options.normalize', options.normalize ?? (graph === 'threshold' ? 'minmax' : 'rank'), ['minmax', 'rank', 'none'] as const);
  const compat = checkOneOf(where, 'options.compat', options.compat ?? 'canonical', ['canonical', 'networkx'] as const);
  const knnRule = checkOneOf(where, 'options.knnRule', options.knnRule ?? 'union', ['union', 'authors'] as const);
  const v = checkVector(where, rdm);
  const n = rdmSize(v.length);
  const rankAfter = options.rankAfter === true;
  checkGeodesicMemory(where, budget, n, 0, false, rankAfter);
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
  let edges = 0;
  let zero = false;
  for (let i = 0; i < x.length; i++) {
    if (keep[i]) {
      edges++;
      if (x[i] === 0) zero = true;
    }
  }
  checkGeodesicMemory(where, budget, n, edges, zero, rankAfter);
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

function checkGeodesicMemory(where: string, budget: MemoryBudget, n: number, edges: number, contracted: boolean, rankAfter: boolean): void {
  const detail = edges === 0 ? `for n = ${n} stimuli (before counting the graph's edges)` : `for n = ${n} stimuli and ${edges} graph edges`;
  checkMemory(where, geodesicMemoryEstimate(n, edges, contracted, rankAfter), budget, 'the number of stimuli', detail);
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
 * `compat`, `rankAfter` and `memoryBudget` as in GeodesicOptions.
 *
 * @example const gd = rsa.rgdm(r, { l: 0.05, u: 0.5 }); // = geodesicRdm(geoTopological(r, { l, u }), threshold graph)
 */
export function rgdm(rdm: RdmLike, options: GtOptions & { compat?: 'canonical' | 'networkx'; rankAfter?: boolean; memoryBudget?: number }): Rdm {
  checkKnownKeys('rsa.rgdm', options, ['l', 'u', 'mode', 'compat', 'rankAfter', 'memoryBudget']);
  const g = geoTopological(rdm, { l: options.l, u: options.u, mode: options.mode });
  return geodesicWith('rsa.rgdm', g, { graph: 'threshold', normalize: 'none', compat: options.compat, rankAfter: options.rankAfter, memoryBudget: options.memoryBudget });
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
