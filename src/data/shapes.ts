/**
 * Seeded point clouds on shapes whose Betti numbers are known: the ground truth for the
 * topology probes (figure `topology-sanity`, tests of src/topology).
 *
 * Hand-written because these are a few lines each and must draw every random number from the
 * project's seeded `Rng`, so the same seed gives the same cloud on every machine.
 */
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../errors.js';
import type { Matrix } from './matrix.js';

/** A point cloud and the Betti numbers (b0, b1, b2) of the shape it samples. */
export interface Shape {
  /** The sampled points [n, ambient dimension]. */
  points: Matrix;
  /** Betti numbers (b0, b1, b2) of the underlying shape: the answer a persistence diagram should give. */
  betti: [number, number, number];
}

/** Options of {@link noisyCircle} (and the base of {@link TwoCirclesOptions}). */
export interface CircleOptions {
  /** Number of points. Default 200. */
  n?: number;
  /** Radius. Default 1. */
  radius?: number;
  /** Standard deviation of isotropic Gaussian noise added to each coordinate. Default 0.05. */
  noise?: number;
  /** Seed of the Rng that draws every point. Default 0. */
  seed?: number;
}

/** Options of {@link twoCircles}. */
export interface TwoCirclesOptions extends CircleOptions {
  /** Distance between the two centers (> 2 * radius so the circles are disjoint). Default 3. */
  separation?: number;
}

/** Options of {@link torus}. */
export interface TorusOptions {
  /** Number of points. Default 400. */
  n?: number;
  /**
   * 'r3' (default): the torus of revolution in R³. 'clifford': the flat torus
   * (R cos u, R sin u, r cos v, r sin v) in R⁴, whose Rips barcodes separate the two H1 classes
   * and the H2 class from noise at much smaller n (docs/methods/topology.md §8).
   */
  embedding?: 'r3' | 'clifford';
  /** R³: distance from the tube's center line to the center (default 2); Clifford: R (default 1). */
  majorRadius?: number;
  /** R³: radius of the tube, < majorRadius (default 1); Clifford: r (default 1). */
  minorRadius?: number;
  /** Gaussian noise per coordinate. Default 0. */
  noise?: number;
  /** Seed of the Rng that draws every point. Default 0. */
  seed?: number;
}

/** Options of {@link sphere}. */
export interface SphereOptions {
  /** Number of points. Default 300. */
  n?: number;
  /** Radius. Default 1. */
  radius?: number;
  /** Gaussian noise per coordinate. Default 0. */
  noise?: number;
  /** Seed of the Rng that draws every point. Default 0. */
  seed?: number;
}

function common(where: string, o: { n?: number; noise?: number; seed?: number }, nDefault: number, noiseDefault: number) {
  const n = checkInt(where, 'options.n', o.n ?? nDefault, 3, 1e7);
  const noise = checkNumber(where, 'options.noise', o.noise ?? noiseDefault, 0);
  const seed = checkInt(where, 'options.seed', o.seed ?? 0, -(2 ** 53), 2 ** 53);
  return { n, noise, seed };
}

/**
 * Points on the circle of radius r in R²: angle θ ~ U[0, 2π), x = r(cos θ, sin θ) + N(0, σ²I).
 * Betti numbers (1, 1, 0).
 *
 * @example const { points, betti } = data.noisyCircle({ n: 200, noise: 0.05, seed: 0 }); // points: 200 x 2, betti [1, 1, 0]
 */
export function noisyCircle(options: CircleOptions = {}): Shape {
  const where = 'data.noisyCircle';
  checkKnownKeys(where, options, ['n', 'radius', 'noise', 'seed']);
  const { n, noise, seed } = common(where, options, 200, 0.05);
  const radius = checkNumber(where, 'options.radius', options.radius ?? 1, Number.MIN_VALUE);
  const rng = new Rng(seed);
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const t = rng.uniform() * 2 * Math.PI;
    x[2 * i] = radius * Math.cos(t) + noise * rng.normal();
    x[2 * i + 1] = radius * Math.sin(t) + noise * rng.normal();
  }
  return { points: { data: x, rows: n, cols: 2 }, betti: [1, 1, 0] };
}

/**
 * Two disjoint noisy circles of radius r in R², centers (0, 0) and (separation, 0); the n points
 * are split ⌈n/2⌉ / ⌊n/2⌋. Betti numbers (2, 2, 0).
 *
 * @example const { points } = data.twoCircles({ n: 400, separation: 3, seed: 0 }); // 400 x 2, betti [2, 2, 0]
 */
export function twoCircles(options: TwoCirclesOptions = {}): Shape {
  const where = 'data.twoCircles';
  checkKnownKeys(where, options, ['n', 'radius', 'noise', 'seed', 'separation']);
  const { n, noise, seed } = common(where, options, 400, 0.05);
  if (n < 6) throw new NestlabArgumentError(where, 'options.n', 'at least 6 (3 points per circle)', n);
  const radius = checkNumber(where, 'options.radius', options.radius ?? 1, Number.MIN_VALUE);
  const separation = checkNumber(where, 'options.separation', options.separation ?? 3, 0);
  if (separation <= 2 * radius) {
    throw new NestlabArgumentError(where, 'options.separation', `greater than 2 * radius = ${2 * radius} (disjoint circles)`, separation);
  }
  const rng = new Rng(seed);
  const x = new Float32Array(n * 2);
  const n0 = Math.ceil(n / 2);
  for (let i = 0; i < n; i++) {
    const t = rng.uniform() * 2 * Math.PI;
    const cx = i < n0 ? 0 : separation;
    x[2 * i] = cx + radius * Math.cos(t) + noise * rng.normal();
    x[2 * i + 1] = radius * Math.sin(t) + noise * rng.normal();
  }
  return { points: { data: x, rows: n, cols: 2 }, betti: [2, 2, 0] };
}

/**
 * A torus; Betti numbers (1, 2, 1). Default: points uniform by area on the torus of revolution in R³ (tube radius r around the circle of
 * radius R in the xy-plane): x = ((R + r cos v) cos u, (R + r cos v) sin u, r sin v), with u
 * uniform and v drawn by rejection with density ∝ R + r cos v (the area element), so the inner
 * rim is not oversampled. With `embedding: 'clifford'`, u and v uniform on the flat torus in R⁴.
 *
 * @example const { points } = data.torus({ n: 400, embedding: 'clifford', seed: 0 }); // 400 x 4, betti [1, 2, 1]
 */
export function torus(options: TorusOptions = {}): Shape {
  const where = 'data.torus';
  checkKnownKeys(where, options, ['n', 'embedding', 'majorRadius', 'minorRadius', 'noise', 'seed']);
  const { n, noise, seed } = common(where, options, 400, 0);
  const embedding = checkOneOf(where, 'options.embedding', options.embedding ?? 'r3', ['r3', 'clifford']);
  const clifford = embedding === 'clifford';
  const R = checkNumber(where, 'options.majorRadius', options.majorRadius ?? (clifford ? 1 : 2), Number.MIN_VALUE);
  const r = checkNumber(where, 'options.minorRadius', options.minorRadius ?? 1, Number.MIN_VALUE);
  if (!clifford && r >= R) throw new NestlabArgumentError(where, 'options.minorRadius', `less than majorRadius = ${R}`, r);
  const rng = new Rng(seed);
  const dim = clifford ? 4 : 3;
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform() * 2 * Math.PI;
    let v: number;
    if (clifford) v = rng.uniform() * 2 * Math.PI;
    else {
      for (;;) {
        v = rng.uniform() * 2 * Math.PI;
        if (rng.uniform() * (R + r) <= R + r * Math.cos(v)) break;
      }
    }
    if (clifford) {
      x[4 * i] = R * Math.cos(u) + noise * rng.normal();
      x[4 * i + 1] = R * Math.sin(u) + noise * rng.normal();
      x[4 * i + 2] = r * Math.cos(v) + noise * rng.normal();
      x[4 * i + 3] = r * Math.sin(v) + noise * rng.normal();
    } else {
      const w = R + r * Math.cos(v);
      x[3 * i] = w * Math.cos(u) + noise * rng.normal();
      x[3 * i + 1] = w * Math.sin(u) + noise * rng.normal();
      x[3 * i + 2] = r * Math.sin(v) + noise * rng.normal();
    }
  }
  return { points: { data: x, rows: n, cols: dim }, betti: [1, 2, 1] };
}

/**
 * Points uniform on the sphere of radius r in R³ (normalized Gaussian vectors, Muller 1959).
 * Betti numbers (1, 0, 1).
 *
 * @example const { points } = data.sphere({ n: 300, seed: 0 }); // 300 x 3, betti [1, 0, 1]
 */
export function sphere(options: SphereOptions = {}): Shape {
  const where = 'data.sphere';
  checkKnownKeys(where, options, ['n', 'radius', 'noise', 'seed']);
  const { n, noise, seed } = common(where, options, 300, 0);
  const radius = checkNumber(where, 'options.radius', options.radius ?? 1, Number.MIN_VALUE);
  const rng = new Rng(seed);
  const x = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = 0;
    let c = 0;
    let norm = 0;
    while (norm < 1e-12) {
      a = rng.normal();
      b = rng.normal();
      c = rng.normal();
      norm = Math.sqrt(a * a + b * b + c * c);
    }
    x[3 * i] = (radius * a) / norm + noise * rng.normal();
    x[3 * i + 1] = (radius * b) / norm + noise * rng.normal();
    x[3 * i + 2] = (radius * c) / norm + noise * rng.normal();
  }
  return { points: { data: x, rows: n, cols: 3 }, betti: [1, 0, 1] };
}
