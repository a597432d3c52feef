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
 * Cases `vr-persistence-h2-torus`, `vr-persistence-h2-sphere` and their sum `vr-persistence-h2`:
 * H0-H2 of 400 points on a torus in R³ and on a sphere at the enclosing radius, against
 * `ripser --dim 2` (see h2Cases).
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
import { noisyCircle, sphere, torus } from '../src/data/shapes.js';

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

/** ripser's printed bars per degree (degrees 0..maxDim; an empty degree has no header). */
function parseRipser(out: string, maxDim = 1): [number, number | null][][] {
  const bars: [number, number | null][][] = Array.from({ length: maxDim + 1 }, () => []);
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

/** Writes a lower-triangular matrix as ripser's `--format lower-distance` text (9 significant digits round-trip float32 exactly). */
function writeLowerText(file: string, lower: Float32Array, n: number): void {
  const lines: string[] = [];
  for (let i = 1, p = 0; i < n; i++) {
    const row: string[] = [];
    for (let j = 0; j < i; j++) row.push(lower[p++].toPrecision(9));
    lines.push(row.join(','));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

type Bars = [number, number | null][][];

/** bench/peers/vr-ours.ts in a child process (so its peak RSS is ours alone): {seconds, maxRssMiB, bars, stats}. */
function runOurs(args: string[]): { seconds: number; maxRssMiB: number; bars: Bars; stats: { columns: number[]; sweeps: number[]; keys: string[]; memory: { estimated: number; edges: number } } } {
  const ours = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'peers', 'vr-ours.ts'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (ours.status !== 0) throw new Error(`vr-ours failed: ${ours.stderr}`);
  return JSON.parse(ours.stdout.trim().split('\n').slice(-1)[0]);
}

/**
 * ripser with `args` (whole-process wall time, peak RSS by /usr/bin/time when installed), its bars
 * compared with `ours` in degrees 0..maxDim; nulls and a reason when ripser is not installed.
 */
function runRipser(args: string[], ours: Bars, maxDim: number): { peer: number | null; peerRss: number | null; diff: number | null; reason?: string } {
  if (!existsSync(RIPSER)) return { peer: null, peerRss: null, diff: null, reason: `${RIPSER} not installed` };
  const useTime = existsSync(TIME);
  const t0 = performance.now();
  const r = useTime ? spawnSync(TIME, ['-f', 'MAXRSS_KB=%M', RIPSER, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 }) : spawnSync(RIPSER, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const peer = (performance.now() - t0) / 1000;
  const m = (r.stderr ?? '').match(/MAXRSS_KB=(\d+)/);
  const rb = parseRipser(r.stdout, maxDim);
  let diff = 0;
  for (let d = 0; d <= maxDim; d++) diff = Math.max(diff, maxDiff(ours[d], rb[d]));
  return { peer, peerRss: m ? Number(m[1]) / 1024 : null, diff };
}

export const benchmark: Benchmark = {
  name: 'vr-persistence',
  description: 'H0+H1 Vietoris–Rips persistence of noisy circles (and a 3,600-point torus with a threshold), H0-H2 of 400 points on a torus and a sphere, nestlab vs the ripser binary',
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
        const text = join(dir, `circle-${n}.txt`);
        writeLowerText(text, lower, n);
        const o = runOurs([file, String(n)]);
        const { peer, peerRss, diff, reason } = runRipser(['--format', 'lower-distance', '--dim', '1', text], o.bars, 1);
        const identical = diff === null ? null : diff <= 1e-5;
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
      records.push(...h2Cases(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return records;
  },
};

/**
 * Cases `vr-persistence-h2-torus` / `-sphere`: H0 + H1 + H2 of 400 points on the torus of
 * revolution in R³ (R = 2, r = 1, seed 0) and on the unit sphere (seed 0) at the enclosing radius,
 * ours and ripser `--dim 2` from the same float32 matrix as the circle cases; and
 * `vr-persistence-h2`, the two together (issue #15's goal: ratio of the summed times >= 1).
 */
function h2Cases(dir: string): BenchRecord[] {
  const n = 400;
  const cases = [
    { shape: 'torus', pts: torus({ n, seed: 0 }).points, label: 'torus of revolution R=2 r=1 seed=0' },
    { shape: 'sphere', pts: sphere({ n, seed: 0 }).points, label: 'unit sphere seed=0' },
  ];
  const out: BenchRecord[] = [];
  for (const c of cases) {
    const lower = lowerF32(c.pts.data, n, 3);
    const file = join(dir, `${c.shape}-${n}.bin`);
    writeFileSync(file, lower);
    const text = join(dir, `${c.shape}-${n}.txt`);
    writeLowerText(text, lower, n);
    const o = runOurs([file, String(n), '2']);
    const { peer, peerRss, diff, reason } = runRipser(['--format', 'lower-distance', '--dim', '2', text], o.bars, 2);
    out.push({
      name: `vr-persistence-h2-${c.shape}`,
      unit: 's',
      ours: o.seconds,
      peer,
      peerName: 'ripser 1.2.1 (Debian binary)',
      ratio: peer === null ? null : peer / o.seconds,
      config: { n, shape: c.label, maxDim: 2, maxEdgeLength: 'enclosing radius' },
      backend: 'typed-array CPU code (no tfjs)',
      date: new Date().toISOString(),
      extra: {
        oursPeakRssMiB: o.maxRssMiB,
        peerPeakRssMiB: peerRss,
        barcodesIdentical: diff === null ? null : diff <= 1e-5,
        maxRelativeBarDifference: diff,
        bars: o.bars.map((b) => b.length),
        columns: o.stats.columns,
        sweeps: o.stats.sweeps,
        ...(reason ? { peerMissing: reason } : {}),
      },
    });
  }
  const [t, s] = out;
  const both = t.peer === null || s.peer === null ? null : t.peer + s.peer;
  out.push({
    name: 'vr-persistence-h2',
    unit: 's',
    ours: t.ours + s.ours,
    peer: both,
    peerName: 'ripser 1.2.1 (Debian binary)',
    ratio: both === null ? null : both / (t.ours + s.ours),
    config: { n, shapes: [t.config.shape, s.config.shape], maxDim: 2, maxEdgeLength: 'enclosing radius' },
    backend: 'typed-array CPU code (no tfjs)',
    date: new Date().toISOString(),
    extra: {
      torus: { ours: t.ours, peer: t.peer, ratio: t.ratio },
      sphere: { ours: s.ours, peer: s.peer, ratio: s.ratio },
      barcodesIdentical: t.extra?.barcodesIdentical === true && s.extra?.barcodesIdentical === true,
    },
  });
  return out;
}

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
  const o = runOurs([file, String(n), '1', String(cut)]);
  const { peer, peerRss, diff, reason } = runRipser(['--format', 'sparse', '--dim', '1', '--threshold', Math.fround(cut).toPrecision(9), sparse], o.bars, 1);
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

