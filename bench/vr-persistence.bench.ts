/**
 * Benchmark `vr-persistence`: H0 + H1 Vietoris–Rips persistence of noisy circles (n = 500, 1000,
 * 2000; radius 1, noise 0.05, seed 0) by nestlab and by Debian's `ripser` 1.2.1 binary in the same
 * run, from the same float32 distance matrix (ours from a binary file, ripser from
 * `--format lower-distance` text with 9 significant digits, which round-trips float32 exactly).
 * Time: ours = the persistence call inside a child process (distance matrix already in memory);
 * ripser = its whole process wall time, parsing included (about 0.5 s of text at n = 2000). Peak memory: the peak
 * RSS of each process (ours includes Node and tsx). The barcodes are compared bar by bar.
 * NESTLAB_BENCH_VR_SKIP_2000=1 skips n = 2000 (ripser needs about 85 s there).
 *
 * Case `vr-persistence-n3600-h1`: H0 + H1 of 3,600 points on the torus of revolution in R³
 * (R = 2, r = 1, seed 4) cut at maxEdgeLength 0.6, above the n at which the engine's old packed
 * keys overflowed (docs/methods/topology.md §3 item 2). Ours by bench/peers/vr-ours.ts from the
 * binary matrix; ripser reads `--format sparse` triplets of the edges within 0.6 with `--threshold 0.6`
 * (the same float32 values, 9 significant digits), which spares it parsing 6.5 million numbers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, type Benchmark, type BenchRecord } from './lib.js';
import { noisyCircle, torus } from '../src/data/shapes.js';

const RIPSER = '/usr/bin/ripser';
const TIME = '/usr/bin/time';

function lowerF32(x: Float32Array, n: number, d: number): Float32Array {
  const fr = Math.fround;
  const out = new Float32Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) {
    let acc = 0;
    for (let k = 0; k < d; k++) {
      const t = fr(x[i * d + k] - x[j * d + k]);
      acc = fr(acc + fr(t * t));
    }
    out[p++] = fr(Math.sqrt(acc));
  }
  return out;
}

/** The edges within `cut` of a lower-triangular matrix as ripser's sparse triplets "i j d". */
function sparseTriplets(lower: Float32Array, n: number, cut: number): string {
  const t = Math.fround(cut);
  const lines: string[] = [];
  for (let i = 1, p = 0; i < n; i++) for (let j = 0; j < i; j++, p++) if (lower[p] <= t) lines.push(`${i} ${j} ${lower[p].toPrecision(9)}`);
  return `${lines.join('\n')}\n`;
}

function parseRipser(out: string): [number, number | null][][] {
  const bars: [number, number | null][][] = [[], []];
  let cur = -1;
  for (const line of out.split('\n')) {
    const m = line.match(/persistence intervals in dim (\d+)/);
    if (m) cur = Number(m[1]);
    const b = line.match(/^\s*\[([^,]+),\s*([^)]*)\)/);
    if (b && cur >= 0) bars[cur].push([Number(b[1]), b[2].trim() === '' ? null : Number(b[2])]);
  }
  return bars;
}

function maxDiff(a: [number, number | null][], b: [number, number | null][]): number {
  if (a.length !== b.length) return Infinity;
  // ripser prints 6 significant digits: round ours the same way before sorting, so near-equal
  // births cannot pair different bars
  const r6 = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(6)));
  const s = (x: [number, number | null][]) => x.map(([u, v]) => [r6(u) as number, r6(v)] as [number, number | null]).sort((p, q) => p[0] - q[0] || (p[1] ?? 1e300) - (q[1] ?? 1e300));
  const A = s(a);
  const B = s(b);
  let m = 0;
  for (let i = 0; i < A.length; i++) {
    if ((A[i][1] === null) !== (B[i][1] === null)) return Infinity;
    m = Math.max(m, Math.abs(A[i][0] - B[i][0]) / Math.max(1, Math.abs(B[i][0])));
    if (A[i][1] !== null) m = Math.max(m, Math.abs((A[i][1] as number) - (B[i][1] as number)) / Math.max(1, Math.abs(B[i][1] as number)));
  }
  return m;
}

export const benchmark: Benchmark = {
  name: 'vr-persistence',
  description: 'H0+H1 Vietoris–Rips persistence of noisy circles (and a 3,600-point torus with a threshold), nestlab vs the ripser binary',
  async run(): Promise<BenchRecord[]> {
    const sizes = process.env.NESTLAB_BENCH_VR_SKIP_2000 === '1' ? [500, 1000] : [500, 1000, 2000];
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-vr-'));
    const records: BenchRecord[] = [];
    try {
      for (const n of sizes) {
        const pts = noisyCircle({ n, radius: 1, noise: 0.05, seed: 0 }).points;
        const file = join(dir, `circle-${n}.bin`);
        const lower = lowerF32(pts.data, n, 2);
        writeFileSync(file, lower);
        // ripser reads the same float32 values from text (9 significant digits round-trip exactly)
        const text = join(dir, `circle-${n}.txt`);
        const lines: string[] = [];
        for (let i = 1, p = 0; i < n; i++) {
          const row: string[] = [];
          for (let j = 0; j < i; j++) row.push(lower[p++].toPrecision(9));
          lines.push(row.join(','));
        }
        writeFileSync(text, `${lines.join('\n')}\n`);
        const ours = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'peers', 'vr-ours.ts'), file, String(n)], {
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        });
        if (ours.status !== 0) throw new Error(`vr-ours failed: ${ours.stderr}`);
        const o = JSON.parse(ours.stdout.trim().split('\n').slice(-1)[0]);
        let peer: number | null = null;
        let peerRss: number | null = null;
        let identical: boolean | null = null;
        let diff: number | null = null;
        let reason: string | undefined;
        if (existsSync(RIPSER)) {
          const useTime = existsSync(TIME);
          const t0 = performance.now();
          const r = useTime
            ? spawnSync(TIME, ['-f', 'MAXRSS_KB=%M', RIPSER, '--format', 'lower-distance', '--dim', '1', text], { encoding: 'utf8', maxBuffer: 1 << 28 })
            : spawnSync(RIPSER, ['--format', 'lower-distance', '--dim', '1', text], { encoding: 'utf8', maxBuffer: 1 << 28 });
          peer = (performance.now() - t0) / 1000;
          const m = (r.stderr ?? '').match(/MAXRSS_KB=(\d+)/);
          peerRss = m ? Number(m[1]) / 1024 : null;
          const rb = parseRipser(r.stdout);
          diff = Math.max(maxDiff(o.bars[0], rb[0]), maxDiff(o.bars[1], rb[1]));
          identical = diff <= 1e-5;
        } else reason = `${RIPSER} not installed`;
        records.push({
          name: `vr-persistence-n${n}`,
          unit: 's',
          ours: o.seconds,
          peer,
          peerName: 'ripser 1.2.1 (Debian binary)',
          ratio: peer === null ? null : peer / o.seconds,
          config: { n, shape: 'noisy circle r=1 noise=0.05 seed=0', maxDim: 1, maxEdgeLength: 'enclosing radius' },
          backend: 'typed-array CPU code (no tfjs)',
          date: new Date().toISOString(),
          extra: {
            oursPeakRssMiB: o.maxRssMiB,
            peerPeakRssMiB: peerRss,
            memoryRatio: peerRss === null ? null : peerRss / o.maxRssMiB,
            barcodesIdentical: identical,
            maxRelativeBarDifference: diff,
            h1Bars: o.bars[1].length,
            ...(reason ? { peerMissing: reason } : {}),
          },
        });
      }
      records.push(thresholdCase(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return records;
  },
};

/** The n = 3600 torus, H1, cut at 0.6 (see the file comment). */
function thresholdCase(dir: string): BenchRecord {
  const n = 3600;
  const cut = 0.6;
  const pts = torus({ n, seed: 4 }).points;
  const lower = lowerF32(pts.data, n, 3);
  const file = join(dir, `torus-${n}.bin`);
  writeFileSync(file, lower);
  const sparse = join(dir, `torus-${n}.sparse.txt`);
  writeFileSync(sparse, sparseTriplets(lower, n, cut));
  const ours = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'peers', 'vr-ours.ts'), file, String(n), '1', String(cut)], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (ours.status !== 0) throw new Error(`vr-ours failed: ${ours.stderr}`);
  const o = JSON.parse(ours.stdout.trim().split('\n').slice(-1)[0]);
  let peer: number | null = null;
  let peerRss: number | null = null;
  let diff: number | null = null;
  let reason: string | undefined;
  if (existsSync(RIPSER)) {
    const args = ['--format', 'sparse', '--dim', '1', '--threshold', Math.fround(cut).toPrecision(9), sparse];
    const useTime = existsSync(TIME);
    const t0 = performance.now();
    const r = useTime ? spawnSync(TIME, ['-f', 'MAXRSS_KB=%M', RIPSER, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 }) : spawnSync(RIPSER, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    peer = (performance.now() - t0) / 1000;
    const m = (r.stderr ?? '').match(/MAXRSS_KB=(\d+)/);
    peerRss = m ? Number(m[1]) / 1024 : null;
    const rb = parseRipser(r.stdout);
    diff = Math.max(maxDiff(o.bars[0], rb[0]), maxDiff(o.bars[1], rb[1]));
  } else reason = `${RIPSER} not installed`;
  return {
    name: `vr-persistence-n${n}-h1`,
    unit: 's',
    ours: o.seconds,
    peer,
    peerName: 'ripser 1.2.1 (Debian binary, sparse input)',
    ratio: peer === null ? null : peer / o.seconds,
    config: { n, shape: 'torus of revolution R=2 r=1 seed=4', maxDim: 1, maxEdgeLength: cut },
    backend: 'typed-array CPU code (no tfjs)',
    date: new Date().toISOString(),
    extra: {
      oursPeakRssMiB: o.maxRssMiB,
      peerPeakRssMiB: peerRss,
      barcodesIdentical: diff === null ? null : diff <= 1e-5,
      maxRelativeBarDifference: diff,
      h1Bars: o.bars[1].length,
      h1Essential: o.bars[1].filter((b: [number, number | null]) => b[1] === null).length,
      edgesWithinCut: o.stats.memory.edges,
      memoryEstimateMiB: o.stats.memory.estimated / 1048576,
      heapKeys: o.stats.keys[1],
      ...(reason ? { peerMissing: reason } : {}),
    },
  };
}

