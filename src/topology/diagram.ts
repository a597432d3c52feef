/**
 * Descriptors of a persistence diagram (one homology degree): Betti curves, total persistence,
 * persistence entropy, persistence landscapes and persistence images.
 *
 * Hand-written because each is a few loops over typed arrays with a formula from the literature
 * (cited per function), and no maintained JavaScript package computes them.
 */
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import { erf } from '../math/special.js';
import type { Barcode } from './persistence.js';

/** Validates a barcode argument: equal-length typed arrays, births finite, birth <= death. */
export function checkBarcode(where: string, argument: string, bars: unknown): Barcode {
  const b = bars as { births: unknown; deaths: unknown };
  if (
    b === null ||
    typeof b !== 'object' ||
    !(b.births instanceof Float64Array || b.births instanceof Float32Array) ||
    !(b.deaths instanceof Float64Array || b.deaths instanceof Float32Array)
  ) {
    throw new NestlabArgumentError(where, argument, 'a Barcode {births, deaths} of Float64Arrays', bars);
  }
  const c = bars as Barcode;
  if (c.births.length !== c.deaths.length) {
    throw new NestlabArgumentError(where, argument, 'births and deaths of equal length', `${c.births.length} vs ${c.deaths.length}`);
  }
  for (let i = 0; i < c.births.length; i++) {
    const x = c.births[i];
    const y = c.deaths[i];
    if (!Number.isFinite(x) || Number.isNaN(y) || y < x || y === -Infinity) {
      throw new NestlabArgumentError(where, argument, 'bars with finite births and death >= birth', `[${x}, ${y}) at index ${i}`);
    }
  }
  return c;
}

/**
 * Makes a Barcode from [birth, death] pairs (death may be Infinity), the (birth, death) diagram
 * points that ripser and gudhi print; checked as every function here checks its input.
 *
 * @example const bars = topology.barcode([[0, 2], [1, 3], [0, Infinity]]);
 */
export function barcode(pairs: ArrayLike<readonly [number, number]>): Barcode {
  const out = { births: new Float64Array(pairs.length), deaths: new Float64Array(pairs.length) };
  for (let i = 0; i < pairs.length; i++) {
    out.births[i] = pairs[i][0];
    out.deaths[i] = pairs[i][1];
  }
  return checkBarcode('topology.barcode', 'pairs', out);
}

/**
 * Lifetimes d − b of the finite bars (infinite bars are skipped); docs/methods/topology.md §4.
 *
 * @example const l = topology.lifetimes(res.bars[1]); // d - b of the finite H1 bars
 */
export function lifetimes(bars: Barcode): Float64Array {
  checkBarcode('topology.lifetimes', 'bars', bars);
  const out: number[] = [];
  for (let i = 0; i < bars.births.length; i++) if (Number.isFinite(bars.deaths[i])) out.push(bars.deaths[i] - bars.births[i]);
  return Float64Array.from(out);
}

/**
 * The bars with the `k` longest lifetimes d − b (infinite first), longest first; equal lifetimes
 * by earlier birth (docs/methods/topology.md §4).
 *
 * @example const top = topology.longestBars(res.bars[1], 2); // the two most persistent H1 bars
 */
export function longestBars(bars: Barcode, k: number): Barcode {
  checkBarcode('topology.longestBars', 'bars', bars);
  checkInt('topology.longestBars', 'k', k, 0);
  const idx = Array.from(bars.births, (_, i) => i).sort(
    (i, j) => bars.deaths[j] - bars.births[j] - (bars.deaths[i] - bars.births[i]) || bars.births[i] - bars.births[j],
  );
  const pick = idx.slice(0, k);
  return { births: Float64Array.from(pick, (i) => bars.births[i]), deaths: Float64Array.from(pick, (i) => bars.deaths[i]) };
}

/**
 * The number of long bars among one degree's lifetimes, by the largest gap (docs/methods/topology.md §4):
 * infinite lifetimes (essential classes) always count; the finite ones, sorted descending
 * ℓ_1 ≥ … ≥ ℓ_m with ℓ_{m+1} = 0 (the diagonal), are cut at the largest gap ℓ_k − ℓ_{k+1} over
 * k = 1..⌈m/2⌉ (the long bars are the minority), and the k bars above the cut count as long when
 * the gap is wider than the longest bar below it (ℓ_k > 2ℓ_{k+1}: the features stand clear of the
 * noise ceiling); otherwise none does. So no bars give 0 and a lone finite bar gives 1 (its only
 * gap is the one to the diagonal). The largest-gap reading of a barcode is the rule of thumb of
 * topological data analysis, the gap idea that Mapper (Singh, Mémoli & Carlsson 2007) and
 * giotto-tda's `FirstSimpleGap` apply to single-linkage merge heights (H0 deaths); the
 * top-half range and the noise-ceiling check are ours. A heuristic, not a test: it miscounts
 * diagrams of a few similar noise bars (no noise level to compare with).
 *
 * @example topology.countLongBars([1.4, 0.05, 0.03, 0.02]) // 1: one bar stands clear of the others
 */
export function countLongBars(lifetimes: ArrayLike<number>): number {
  const where = 'topology.countLongBars';
  if (lifetimes === null || typeof lifetimes !== 'object' || typeof lifetimes.length !== 'number') {
    throw new NestlabArgumentError(where, 'lifetimes', 'an array of lifetimes (numbers >= 0, or Infinity)', lifetimes);
  }
  let essential = 0;
  const finite: number[] = [];
  for (let i = 0; i < lifetimes.length; i++) {
    const v = lifetimes[i];
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
      throw new NestlabArgumentError(where, `lifetimes[${i}]`, 'a number >= 0 (or Infinity)', v);
    }
    if (v === Infinity) essential++;
    else finite.push(v);
  }
  const m = finite.length;
  if (m === 0) return essential;
  finite.sort((a, b) => b - a);
  finite.push(0);
  let cut = 0;
  let gap = -1;
  for (let k = 1; k <= Math.ceil(m / 2); k++) {
    const g = finite[k - 1] - finite[k];
    if (g > gap) {
      gap = g;
      cut = k;
    }
  }
  return essential + (gap > finite[cut] ? cut : 0);
}

/**
 * Betti curve β(t) = #{bars with b <= t < d} at each scale t (giotto-tda's BettiCurve
 * convention: a bar counts from its birth, inclusive, to its death, exclusive); docs/methods/topology.md §4.
 *
 * @example const betti1 = topology.bettiCurve(res.bars[1], [0, 0.25, 0.5, 1]); // β_1 at each scale
 */
export function bettiCurve(bars: Barcode, scales: ArrayLike<number>): Float64Array {
  checkBarcode('topology.bettiCurve', 'bars', bars);
  const out = new Float64Array(scales.length);
  for (let s = 0; s < scales.length; s++) {
    const t = scales[s];
    if (typeof t !== 'number' || Number.isNaN(t)) throw new NestlabArgumentError('topology.bettiCurve', `scales[${s}]`, 'a number', t);
    let c = 0;
    for (let i = 0; i < bars.births.length; i++) if (bars.births[i] <= t && t < bars.deaths[i]) c++;
    out[s] = c;
  }
  return out;
}

/** `count` evenly spaced scales from `lo` to `hi` inclusive. */
export function linspace(lo: number, hi: number, count: number): Float64Array {
  checkNumber('topology.bettiCurve', 'lo', lo);
  checkNumber('topology.bettiCurve', 'hi', hi, lo);
  checkInt('topology.bettiCurve', 'count', count, 1);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = count === 1 ? lo : lo + ((hi - lo) * i) / (count - 1);
  return out;
}

/**
 * Total persistence Σ (d − b)^p over the finite bars (p = 1: the total lifetime);
 * docs/methods/topology.md §4.
 *
 * @example topology.totalPersistence(res.bars[1], 2) // sum of squared H1 lifetimes
 */
export function totalPersistence(bars: Barcode, p = 1): number {
  checkNumber('topology.totalPersistence', 'p', p, Number.MIN_VALUE);
  let s = 0;
  for (const l of lifetimes(bars)) s += l ** p;
  return s;
}

/**
 * Persistence entropy −Σ (ℓ_i / L) log(ℓ_i / L) over the finite lifetimes ℓ_i, L = Σ ℓ_i
 * (Chintakunta et al. 2015; natural log). 0 for an empty or all-zero diagram.
 *
 * @example topology.persistenceEntropy(topology.barcode([[0, 2], [1, 3]])) // ln 2
 */
export function persistenceEntropy(bars: Barcode): number {
  const l = lifetimes(bars);
  let L = 0;
  for (const x of l) L += x;
  if (L <= 0) return 0;
  let h = 0;
  for (const x of l) if (x > 0) h -= (x / L) * Math.log(x / L);
  return h;
}

/** Options of `topology.persistenceLandscape`. */
export interface LandscapeOptions {
  /** Number of landscape functions λ_1..λ_k. Default 5 (gudhi's default). */
  layers?: number;
  /** Scales t at which to evaluate. Default: 100 points from the smallest birth to the largest finite death. */
  grid?: ArrayLike<number>;
}

/** Persistence landscape values: `values[k * grid.length + i]` = λ_{k+1}(grid[i]). */
export interface Landscape {
  /** λ_{k+1}(grid[i]) at index k * grid.length + i. */
  values: Float64Array;
  /** Number of landscape functions λ_1..λ_layers. */
  layers: number;
  /** The scales t the landscapes are evaluated at. */
  grid: Float64Array;
}

/**
 * Persistence landscape (Bubenik 2015): λ_k(t) = the k-th largest of max(0, min(t − b, d − t))
 * over the bars (infinite deaths are clipped at the grid's end); docs/methods/topology.md §4.
 *
 * @example const land = topology.persistenceLandscape(res.bars[1], { layers: 3 }); // land.values[k * land.grid.length + i]
 */
export function persistenceLandscape(bars: Barcode, options: LandscapeOptions = {}): Landscape {
  const where = 'topology.persistenceLandscape';
  checkKnownKeys(where, options, ['layers', 'grid']);
  checkBarcode(where, 'bars', bars);
  const layers = checkInt(where, 'options.layers', options.layers ?? 5, 1);
  const grid = options.grid ? Float64Array.from(options.grid) : defaultGrid(bars, 100);
  for (let i = 0; i < grid.length; i++) if (!Number.isFinite(grid[i])) throw new NestlabArgumentError(where, `options.grid[${i}]`, 'a finite number', grid[i]);
  const values = new Float64Array(layers * grid.length);
  const tents = new Float64Array(bars.births.length);
  for (let i = 0; i < grid.length; i++) {
    const t = grid[i];
    let m = 0;
    for (let j = 0; j < bars.births.length; j++) {
      const v = Math.min(t - bars.births[j], bars.deaths[j] - t);
      if (v > 0) tents[m++] = v;
    }
    const sorted = tents.subarray(0, m).sort().reverse();
    for (let k = 0; k < layers && k < m; k++) values[k * grid.length + i] = sorted[k];
  }
  return { values, layers, grid };
}

/**
 * L^p norm of a landscape over its grid, (Σ_k ∫ λ_k(t)^p dt)^(1/p), with the trapezoid rule.
 * Default p = 2. The landscape norm of Bubenik (2015); docs/methods/topology.md §4.
 *
 * @example topology.landscapeNorm(topology.persistenceLandscape(res.bars[1]), 2)
 */
export function landscapeNorm(landscape: Landscape, p = 2): number {
  checkNumber('topology.landscapeNorm', 'p', p, 1);
  const { values, layers, grid } = landscape;
  const g = grid.length;
  let s = 0;
  for (let k = 0; k < layers; k++) {
    for (let i = 0; i + 1 < g; i++) {
      const a = Math.abs(values[k * g + i]) ** p;
      const b = Math.abs(values[k * g + i + 1]) ** p;
      s += ((a + b) / 2) * (grid[i + 1] - grid[i]);
    }
  }
  return s ** (1 / p);
}

function defaultGrid(bars: Barcode, count: number): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < bars.births.length; i++) {
    lo = Math.min(lo, bars.births[i]);
    if (Number.isFinite(bars.deaths[i])) hi = Math.max(hi, bars.deaths[i]);
    else hi = Math.max(hi, bars.births[i]);
  }
  if (!Number.isFinite(lo)) return linspace(0, 1, count);
  if (hi <= lo) hi = lo + 1;
  return linspace(lo, hi, count);
}

/** Options of `topology.persistenceImage`. */
export interface PersistenceImageOptions {
  /** Pixels along [birth, persistence]. Default [20, 20]. */
  resolution?: [number, number];
  /** Gaussian standard deviation, in diagram units. Default: 1/20 of the larger range. */
  sigma?: number;
  /** Birth range [lo, hi]. Default: the data's range (with a margin of sigma). */
  birthRange?: [number, number];
  /** Persistence range [lo, hi]. Default: [0, max persistence + sigma]. */
  persistenceRange?: [number, number];
  /** 'linear': weight = persistence / max persistence (Adams et al.'s ramp); 'constant': 1. Default 'linear'. */
  weight?: 'linear' | 'constant';
}

/** A persistence image: `pixels[i * resolution[0] + j]`, row i = persistence bin, column j = birth bin. */
export interface PersistenceImage {
  /** Weighted Gaussian mass per pixel, row-major: persistence bins x birth bins. */
  pixels: Float64Array;
  /** Pixels along [birth, persistence]. */
  resolution: [number, number];
  /** The birth range [lo, hi] the columns cover. */
  birthRange: [number, number];
  /** The persistence range [lo, hi] the rows cover. */
  persistenceRange: [number, number];
}

/**
 * Persistence image (Adams et al. 2017, JMLR 18:8): each finite bar (b, d) maps to (b, d − b),
 * carries a weight, and spreads as an isotropic Gaussian of standard deviation σ; each pixel holds
 * the Gaussian mass integrated over it (products of erf differences); docs/methods/topology.md §4.
 *
 * @example const img = topology.persistenceImage(res.bars[1], { resolution: [20, 20] }); // img.pixels
 */
export function persistenceImage(bars: Barcode, options: PersistenceImageOptions = {}): PersistenceImage {
  const where = 'topology.persistenceImage';
  checkKnownKeys(where, options, ['resolution', 'sigma', 'birthRange', 'persistenceRange', 'weight']);
  checkBarcode(where, 'bars', bars);
  const [rx, ry] = options.resolution ?? [20, 20];
  checkInt(where, 'options.resolution[0]', rx, 1);
  checkInt(where, 'options.resolution[1]', ry, 1);
  const pts: [number, number][] = [];
  let maxP = 0;
  let bLo = Infinity;
  let bHi = -Infinity;
  for (let i = 0; i < bars.births.length; i++) {
    if (!Number.isFinite(bars.deaths[i])) continue;
    const p = bars.deaths[i] - bars.births[i];
    pts.push([bars.births[i], p]);
    maxP = Math.max(maxP, p);
    bLo = Math.min(bLo, bars.births[i]);
    bHi = Math.max(bHi, bars.births[i]);
  }
  if (!Number.isFinite(bLo)) {
    bLo = 0;
    bHi = 1;
  }
  const span = Math.max(bHi - bLo, maxP, 1e-12);
  const sigma = checkNumber(where, 'options.sigma', options.sigma ?? span / 20, Number.MIN_VALUE);
  const birthRange = options.birthRange ?? [bLo - sigma, bHi + sigma];
  const persistenceRange = options.persistenceRange ?? [0, maxP + sigma];
  for (const [name, r] of [['birthRange', birthRange], ['persistenceRange', persistenceRange]] as const) {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isFinite(r[0]) || !Number.isFinite(r[1]) || !(r[1] > r[0])) {
      throw new NestlabArgumentError(where, `options.${name}`, 'a [lo, hi] pair with lo < hi', r);
    }
  }
  const weight = options.weight ?? 'linear';
  if (weight !== 'linear' && weight !== 'constant') throw new NestlabArgumentError(where, 'options.weight', '"linear" or "constant"', weight);
  const pixels = new Float64Array(rx * ry);
  const bx = new Float64Array(rx + 1);
  const by = new Float64Array(ry + 1);
  for (let j = 0; j <= rx; j++) bx[j] = birthRange[0] + ((birthRange[1] - birthRange[0]) * j) / rx;
  for (let i = 0; i <= ry; i++) by[i] = persistenceRange[0] + ((persistenceRange[1] - persistenceRange[0]) * i) / ry;
  const s2 = sigma * Math.SQRT2;
  const cx = new Float64Array(rx + 1);
  const cy = new Float64Array(ry + 1);
  for (const [b, p] of pts) {
    const w = weight === 'constant' ? 1 : maxP > 0 ? p / maxP : 0;
    if (w === 0) continue;
    for (let j = 0; j <= rx; j++) cx[j] = erf((bx[j] - b) / s2);
    for (let i = 0; i <= ry; i++) cy[i] = erf((by[i] - p) / s2);
    for (let i = 0; i < ry; i++) {
      const my = (cy[i + 1] - cy[i]) / 2;
      if (my === 0) continue;
      for (let j = 0; j < rx; j++) pixels[i * rx + j] += w * my * ((cx[j + 1] - cx[j]) / 2);
    }
  }
  return { pixels, resolution: [rx, ry], birthRange: [birthRange[0], birthRange[1]], persistenceRange: [persistenceRange[0], persistenceRange[1]] };
}
