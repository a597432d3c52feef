// Small activation sets with known structure for the train-sae / report tests: each row is a
// positive mix of two of `features` random unit directions (the first one is the row's label),
// plus a little noise, so a few-epoch SAE learns them and larger prefixes reconstruct better.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { writeNpy } from '../../src/data/npy.js';

/** Rows × d activations from `features` sparse directions, and the label (dominant feature) of each row. */
export function sparseActivations(rows = 600, d = 16, features = 12, seed = 5): { x: Matrix; y: Int32Array } {
  const rng = new Rng(seed);
  const dirs: Float64Array[] = [];
  for (let f = 0; f < features; f++) {
    const v = Float64Array.from(rng.normalArray(d));
    const n = Math.hypot(...v);
    dirs.push(v.map((a) => a / n));
  }
  const x = new Float32Array(rows * d);
  const y = new Int32Array(rows);
  const noise = rng.normalArray(rows * d);
  for (let i = 0; i < rows; i++) {
    y[i] = rng.int(features);
    for (const [f, s] of [[y[i], 2 + rng.uniform()], [rng.int(features), 0.5 + rng.uniform()]]) {
      for (let j = 0; j < d; j++) x[i * d + j] += s * dirs[f][j];
    }
    for (let j = 0; j < d; j++) x[i * d + j] += 0.05 * noise[i * d + j];
  }
  return { x: { data: x, rows, cols: d }, y };
}

/**
 * Writes the set into `dir`: x.npy (all rows), y.npy (labels), img.npy (each row as a 4x4
 * uint8 picture), shards/part-{1,2,10}.npy (three 200-row shards, so "10" sorts last only
 * numerically), ab.npy (the first two shards) and c.npy (the last).
 */
export function writeSynthetic(dir: string): { x: Matrix; y: Int32Array } {
  const { x, y } = sparseActivations();
  const d = x.cols;
  const rows = (lo: number, hi: number) => ({ shape: [hi - lo, d], data: x.data.slice(lo * d, hi * d) });
  writeNpy(join(dir, 'x.npy'), rows(0, 600));
  writeNpy(join(dir, 'y.npy'), { shape: [600], data: y });
  writeNpy(join(dir, 'img.npy'), { shape: [600, 4, 4], data: Uint8Array.from(x.data, (v) => Math.max(0, Math.min(255, Math.round(128 + 40 * v)))) });
  mkdirSync(join(dir, 'shards'), { recursive: true });
  writeNpy(join(dir, 'shards', 'part-1.npy'), rows(0, 200));
  writeNpy(join(dir, 'shards', 'part-2.npy'), rows(200, 400));
  writeNpy(join(dir, 'shards', 'part-10.npy'), rows(400, 600));
  writeNpy(join(dir, 'ab.npy'), rows(0, 400));
  writeNpy(join(dir, 'c.npy'), rows(400, 600));
  return { x, y };
}
