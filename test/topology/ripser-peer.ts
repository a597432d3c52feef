/** Test helper: run Debian's `ripser` binary on a lower-distance matrix and parse its bars. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Barcode } from '../../src/topology/persistence.js';

export const RIPSER = '/usr/bin/ripser';
export const hasRipser = existsSync(RIPSER);

/** Euclidean distances in float32, as ripser computes them for a point cloud. */
export function f32Distances(x: Float32Array, n: number, d: number): Float32Array {
  const fr = Math.fround;
  const out = new Float32Array(n * n);
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) {
    let acc = 0;
    for (let k = 0; k < d; k++) {
      const t = fr(x[i * d + k] - x[j * d + k]);
      acc = fr(acc + fr(t * t));
    }
    out[i * n + j] = out[j * n + i] = fr(Math.sqrt(acc));
  }
  return out;
}

/** ripser's barcodes (`--format lower-distance --dim maxDim`) as [birth, death] lists per degree. */
export function ripserBars(D: Float32Array, n: number, maxDim: number, threshold?: number): [number, number][][] {
  const dir = mkdtempSync(join(tmpdir(), 'nestlab-ripser-'));
  try {
    const lines: string[] = [];
    for (let i = 1; i < n; i++) {
      const row: string[] = [];
      for (let j = 0; j < i; j++) row.push(D[i * n + j].toPrecision(9));
      lines.push(row.join(','));
    }
    const file = join(dir, 'lower.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const args = ['--format', 'lower-distance', '--dim', String(maxDim)];
    if (threshold !== undefined) args.push('--threshold', String(threshold));
    const out = execFileSync(RIPSER, [...args, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const bars: [number, number][][] = Array.from({ length: maxDim + 1 }, () => []);
    let cur = -1;
    for (const line of out.split('\n')) {
      const m = line.match(/persistence intervals in dim (\d+)/);
      if (m) {
        cur = Number(m[1]);
        continue;
      }
      const b = line.match(/^\s*\[([^,]+),\s*([^)]*)\)/);
      if (b && cur >= 0) bars[cur].push([Number(b[1]), b[2].trim() === '' ? Infinity : Number(b[2])]);
    }
    return bars;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sorted [birth, death] pairs of a barcode. */
export function pairs(b: Barcode): [number, number][] {
  // rounded to ripser's 6 printed digits so near-equal births sort the same way on both sides
  const r6 = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : v);
  return Array.from(b.births, (x, i) => [r6(x), r6(b.deaths[i])] as [number, number]).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}

/** Largest relative difference between two bar multisets (ripser prints 6 significant digits); Infinity on a count mismatch. */
export function barsDifference(ours: Barcode, theirs: [number, number][]): number {
  const a = pairs(ours);
  const b = theirs.slice().sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    for (const k of [0, 1]) {
      if (a[i][k] === Infinity || b[i][k] === Infinity) {
        if (a[i][k] !== b[i][k]) return Infinity;
        continue;
      }
      m = Math.max(m, Math.abs(a[i][k] - b[i][k]) / Math.max(1, Math.abs(b[i][k])));
    }
  }
  return m;
}
