/** Test helper: run Debian's `ripser` 1.2.1 binary on a distance matrix and parse its bars. */
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

/**
 * ripser's barcodes as [birth, death] lists per degree, and its wall time in seconds (writing the
 * input file not included). Without a threshold the input is `--format lower-distance` text; with
 * one it is `--format sparse`, the triplets "i j d" of the edges within the threshold only, which
 * ripser reads in a fraction of the time at n in the thousands (its `--format binary` reader of
 * 1.2.1 appends one value past the end of the file and aborts). Values are float32 printed with 9
 * significant digits, which ripser parses back to the same float32.
 */
export function ripserRun(D: Float32Array, n: number, maxDim: number, threshold?: number): { bars: [number, number][][]; seconds: number } {
  const dir = mkdtempSync(join(tmpdir(), 'nestlab-ripser-'));
  try {
    const lines: string[] = [];
    const file = join(dir, threshold === undefined ? 'lower.txt' : 'sparse.txt');
    const args = ['--dim', String(maxDim)];
    if (threshold === undefined) {
      for (let i = 1; i < n; i++) {
        const row: string[] = [];
        for (let j = 0; j < i; j++) row.push(D[i * n + j].toPrecision(9));
        lines.push(row.join(','));
      }
      args.push('--format', 'lower-distance');
    } else {
      const t = Math.fround(threshold);
      let last = false;
      for (let i = 1; i < n; i++) {
        for (let j = 0; j < i; j++) {
          if (D[i * n + j] > t) continue;
          lines.push(`${i} ${j} ${D[i * n + j].toPrecision(9)}`);
          if (i === n - 1) last = true;
        }
      }
      // ripser takes n = the largest vertex listed + 1
      if (!last) throw new Error(`ripserRun: vertex ${n - 1} has no edge within the threshold; the sparse format would drop it`);
      args.push('--format', 'sparse', '--threshold', t.toPrecision(9));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const t0 = performance.now();
    const out = execFileSync(RIPSER, [...args, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const seconds = (performance.now() - t0) / 1000;
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
    return { bars, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ripser's barcodes as [birth, death] lists per degree (see ripserRun). */
export function ripserBars(D: Float32Array, n: number, maxDim: number, threshold?: number): [number, number][][] {
  return ripserRun(D, n, maxDim, threshold).bars;
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
