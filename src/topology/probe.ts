/**
 * The topology probe: Rips persistence of an activation matrix summarized as tidy rows (Betti
 * numbers at scales, longest bars, landscape norms, total persistence, entropy), with max–min
 * landmark subsampling for large n. Meant to be run on each nested prefix of a representation.
 *
 * Hand-written glue over src/topology (no library offers this summary).
 */
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import { checkMatrix, selectRows, type Matrix } from '../data/matrix.js';
import { ripsPersistence } from './persistence.js';
import { bettiCurve, countLongBars, landscapeNorm, lifetimes, persistenceEntropy, persistenceLandscape, totalPersistence } from './diagram.js';

/**
 * Max–min (farthest-point) landmarks: start from a seeded random row, then repeatedly add the row
 * farthest (Euclidean) from the landmarks chosen so far (de Silva & Carlsson 2004). O(n · m · d).
 *
 * @example const idx = topology.maxminLandmarks(points, 100, 0); // row indices of 100 landmarks
 */
export function maxminLandmarks(points: Matrix, m: number, seed = 0): Int32Array {
  const x = checkMatrix('topology.maxminLandmarks', 'points', points, 1, 1);
  checkInt('topology.maxminLandmarks', 'm', m, 1, x.rows);
  const n = x.rows;
  const d = x.cols;
  const rng = new Rng(seed);
  const out = new Int32Array(m);
  const minDist = new Float64Array(n).fill(Infinity);
  let cur = rng.int(n);
  for (let l = 0; l < m; l++) {
    out[l] = cur;
    let best = -1;
    let bestD = -1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = x.data[i * d + k] - x.data[cur * d + k];
        s += t * t;
      }
      if (s < minDist[i]) minDist[i] = s;
      if (minDist[i] > bestD) {
        bestD = minDist[i];
        best = i;
      }
    }
    cur = best;
  }
  return out;
}

/** Options of `topology.topologyProbe`. */
export interface ProbeOptions {
  /** Highest homology degree (0..2). Default 1. */
  maxDim?: number;
  /** Subsample to at most this many points (max–min landmarks) before computing. Default 300. */
  maxPoints?: number;
  /** 'maxmin' (default) or 'random' subsampling. */
  subsample?: 'maxmin' | 'random';
  /** Scales at which Betti numbers are reported: a list, or a count of even steps from 0 to the maximal edge length. Default 10. */
  scales?: number[] | number;
  /** Label copied into every row (e.g. the nested prefix size). */
  prefix?: number | string;
  /** Seed of the subsampling (the first landmark, or the random subset). Default 0. */
  seed?: number;
}

/** One probe measurement: a measure of one homology degree (at one scale, for `betti`). */
export type ProbeRow = {
  /** The `prefix` option (null when not given). */
  prefix: number | string | null;
  /** Rows of the input. */
  nPoints: number;
  /** Rows used after subsampling. */
  nUsed: number;
  /** The Rips cut-off (enclosing radius of the used points). */
  maxEdgeLength: number;
  /** Homology degree. */
  dim: number;
  /** Which summary `value` holds (see topologyProbe). */
  measure: 'betti' | 'nBars' | 'nLong' | 'maxPersistence' | 'secondPersistence' | 'totalPersistence' | 'entropy' | 'landscapeL2';
  /** The scale of a `betti` row; null for the other measures. */
  scale: number | null;
  /** The measured value. */
  value: number;
};

/**
 * Rips persistence of `activations` (rows = stimuli) summarized as long-format tidy rows
 * {prefix, dim, measure, scale, value, nPoints, nUsed}. Measures per degree: `betti` at each
 * scale; `nBars`; `nLong` (the long bars by the largest-gap rule of `topology.countLongBars`,
 * infinite bars included: the Betti number the barcode suggests); `maxPersistence`,
 * `secondPersistence` (the two longest finite lifetimes); `totalPersistence` (Σ lifetimes);
 * `entropy` (persistence entropy); `landscapeL2` (L² norm of the first 5 landscapes).
 * `nUsed` is the subsample size actually used, `maxEdgeLength` the Rips cut-off (enclosing radius).
 * Persistence by `topology.ripsPersistence` (ripser 1.2.1); docs/methods/topology.md §7.
 *
 * @example const rows = topology.topologyProbe(acts, { prefix: 64, maxDim: 1 }); // tidy rows for plot.showTable
 */
export function topologyProbe(activations: Matrix, options: ProbeOptions = {}): ProbeRow[] {
  const where = 'topology.topologyProbe';
  checkKnownKeys(where, options, ['maxDim', 'maxPoints', 'subsample', 'scales', 'prefix', 'seed']);
  const x = checkMatrix(where, 'activations', activations, 2, 1);
  const maxDim = checkInt(where, 'options.maxDim', options.maxDim ?? 1, 0, 2);
  const maxPoints = checkInt(where, 'options.maxPoints', options.maxPoints ?? 300, 2);
  const subsample = checkOneOf(where, 'options.subsample', options.subsample ?? 'maxmin', ['maxmin', 'random']);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53);
  const prefix = options.prefix ?? null;
  if (prefix !== null && typeof prefix !== 'number' && typeof prefix !== 'string') {
    throw new NestlabArgumentError(where, 'options.prefix', 'a number or a string', prefix);
  }
  let used = x;
  if (x.rows > maxPoints) {
    const idx = subsample === 'maxmin' ? maxminLandmarks(x, maxPoints, seed) : new Rng(seed).permutation(x.rows).subarray(0, maxPoints);
    used = selectRows(x, idx);
  }
  const res = ripsPersistence(used, { maxDim });
  let scales: number[];
  const sc = options.scales ?? 10;
  if (typeof sc === 'number') {
    checkInt(where, 'options.scales', sc, 1);
    scales = Array.from({ length: sc }, (_, i) => (res.maxEdgeLength * i) / Math.max(1, sc - 1));
  } else if (Array.isArray(sc)) {
    sc.forEach((s, i) => checkNumber(where, `options.scales[${i}]`, s, 0));
    scales = sc.slice();
  } else throw new NestlabArgumentError(where, 'options.scales', 'a list of scales or a count', sc);
  const rows: ProbeRow[] = [];
  const base = { prefix, nPoints: x.rows, nUsed: used.rows, maxEdgeLength: res.maxEdgeLength };
  for (let d = 0; d <= maxDim; d++) {
    const bars = res.bars[d];
    const betti = bettiCurve(bars, scales);
    scales.forEach((s, i) => rows.push({ ...base, dim: d, measure: 'betti', scale: s, value: betti[i] }));
    const life = Array.from(lifetimes(bars)).sort((a, b) => b - a);
    const land = persistenceLandscape(
      { births: bars.births, deaths: bars.deaths.map((v) => (Number.isFinite(v) ? v : res.maxEdgeLength)) },
      { layers: 5, grid: Array.from({ length: 101 }, (_, i) => (res.maxEdgeLength * i) / 100) },
    );
    const summary: [ProbeRow['measure'], number][] = [
      ['nBars', bars.births.length],
      ['nLong', countLongBars(Array.from(bars.deaths, (death, i) => death - bars.births[i]))],
      ['maxPersistence', life[0] ?? 0],
      ['secondPersistence', life[1] ?? 0],
      ['totalPersistence', totalPersistence(bars)],
      ['entropy', persistenceEntropy(bars)],
      ['landscapeL2', landscapeNorm(land, 2)],
    ];
    for (const [measure, value] of summary) rows.push({ ...base, dim: d, measure, scale: null, value });
  }
  return rows;
}
