/**
 * Benchmark `rdm`: Euclidean + correlation RDMs of a 2000 x 512 matrix and the Spearman
 * correlation between them, against scipy's pdist + spearmanr on the same data in the same run;
 * plus the authors' RGTM (l, u) grid (step 0.05, 229 cells of the 20 x 20 lattice) over the
 * 2000-stimulus RDM, and all-pairs geodesics of a 1000-stimulus RGTM graph, each against numpy /
 * scipy.sparse.csgraph. Times are medians of `repeats` runs after one warm-up (bench/lib.ts
 * timeIt); the peer times itself the same way (bench/peers/rdm_scipy.py).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.js';
import { Rng } from '../src/backend/rng.js';
import { computeRdm, computeRdms } from '../src/rsa/rdm.js';
import { compareRdms } from '../src/rsa/compare.js';
import { forEachRgtm, geoTopological, rgtmGrid } from '../src/rsa/topological.js';
import { geodesicDistances } from '../src/math/graph.js';
import { peakRssMiB, runPeer, timeIt, type Benchmark, type BenchRecord } from './lib.js';

const N = Number(process.env.NESTLAB_BENCH_RDM_N ?? 2000);
const P = 512;
const GN = 1000;
const REPEATS = Number(process.env.NESTLAB_BENCH_REPEATS ?? 5);

export const benchmark: Benchmark = {
  name: 'rdm',
  description: 'Euclidean + correlation RDM of 2000x512 and their Spearman vs scipy; RGTM grid; geodesics n=1000',
  async run(): Promise<BenchRecord[]> {
    const info = await initBackend();
    const date = new Date().toISOString();
    const rng = new Rng(0);
    const x = { data: rng.normalArray(N * P), rows: N, cols: P };

    // ours: both RDMs from one shared Gram product, then Spearman
    let rho = 0;
    const full = async () => {
      const [e, c] = await computeRdms(x, ['plain_euclidean', 'correlation']);
      rho = compareRdms(e, c, { method: 'spearman' });
    };
    const ours = await timeIt(full, REPEATS);
    const [e, c] = await computeRdms(x, ['plain_euclidean', 'correlation']);
    const parts = {
      bothRdmsSharedGram_s: await timeIt(() => computeRdms(x, ['plain_euclidean', 'correlation']), REPEATS),
      euclideanAlone_s: await timeIt(() => computeRdm(x, { method: 'plain_euclidean' }), REPEATS),
      correlationAlone_s: await timeIt(() => computeRdm(x, { method: 'correlation' }), REPEATS),
      spearman_s: await timeIt(() => compareRdms(e, c, { method: 'spearman' }), REPEATS),
    };

    // RGTM grid over the 2000-stimulus Euclidean RDM (rank mode, as the authors)
    const cells = rgtmGrid(0.05);
    const grid = await timeIt(() => {
      let acc = 0;
      forEachRgtm(e, cells, (_cell, g) => (acc += g[0]), 'rank');
      return acc;
    }, Math.max(1, Math.floor(REPEATS / 2)));

    // geodesics: threshold graph of RGTM(0.05, 0.3) over a 1000 x 64 random matrix
    const gx = { data: rng.normalArray(GN * 64), rows: GN, cols: 64 };
    const grdm = await computeRdm(gx);
    const g = geoTopological(grdm, { l: 0.05, u: 0.3, mode: 'rank' }).values;
    const w = new Float64Array(GN * GN).fill(Infinity);
    let edges = 0;
    for (let i = 0, k = 0; i < GN; i++) {
      w[i * GN + i] = 0;
      for (let j = i + 1; j < GN; j++, k++) {
        if (g[k] < 1) {
          w[i * GN + j] = g[k];
          w[j * GN + i] = g[k];
          edges++;
        }
      }
    }
    let checksum = 0;
    let unreachable = 0;
    const geo = await timeIt(() => {
      const d = geodesicDistances(GN, w);
      checksum = 0;
      unreachable = 0;
      for (const v of d) {
        if (Number.isFinite(v)) checksum += v;
        else unreachable++;
      }
    }, Math.max(1, Math.floor(REPEATS / 2)));

    // peer on the same numbers
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-rdm-'));
    let peer: Record<string, number | string> | null = null;
    let reason = '';
    try {
      writeFileSync(join(dir, 'x.f32'), Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength));
      writeFileSync(join(dir, 'w.f64'), Buffer.from(w.buffer));
      const res = runPeer('rdm_scipy.py', { data: join(dir, 'x.f32'), n: N, p: P, graph: join(dir, 'w.f64'), gn: GN, repeats: REPEATS, steps: 20 });
      if (res.ok) peer = res.result;
      else reason = res.reason;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const num = (k: string) => (peer === null ? null : Number(peer[k]));
    const base = { backend: info.name, date, peerName: 'scipy (pdist + spearmanr; numpy; scipy.sparse.csgraph)' };
    const ratio = (p: number | null, o: number) => (p === null ? null : p / o);
    return [
      {
        ...base,
        name: 'rdm',
        unit: 's',
        ours,
        peer: num('rdm_s'),
        ratio: ratio(num('rdm_s'), ours),
        config: { n: N, p: P, methods: ['plain_euclidean', 'correlation'], comparator: 'spearman', repeats: REPEATS, goal: '>= 3x' },
        extra: {
          ...parts,
          peerParts: peer === null ? null : { pdist_euclidean_s: num('pdist_euclidean_s'), pdist_correlation_s: num('pdist_correlation_s'), spearman_s: num('spearman_s') },
          spearmanOurs: rho,
          spearmanPeer: num('spearman'),
          peakRssMiB: peakRssMiB(),
          ...(peer === null ? { peerMissing: reason } : {}),
        },
      },
      {
        ...base,
        name: 'rdm-rgtm-grid',
        unit: 's',
        ours: grid,
        peer: num('rgtm_grid_s'),
        ratio: ratio(num('rgtm_grid_s'), grid),
        config: { n: N, pairs: e.values.length, cells: cells.length, step: 0.05, mode: 'rank' },
        extra: { peerCells: num('rgtm_cells'), ...(peer === null ? { peerMissing: reason } : {}) },
      },
      {
        ...base,
        name: 'rdm-geodesic',
        unit: 's',
        ours: geo,
        peer: num('geodesic_s'),
        ratio: ratio(num('geodesic_s'), geo),
        config: { n: GN, edges, graph: 'threshold graph of RGTM(0.05, 0.3) rank mode, 1000 x 64 normal data', implementation: 'src/topology/graph.ts geodesicDistances (Dijkstra from every source)' },
        extra: { checksumOurs: checksum, checksumPeer: num('geodesic_checksum'), unreachableOurs: unreachable, unreachablePeer: num('geodesic_unreachable'), ...(peer === null ? { peerMissing: reason } : {}) },
      },
    ];
  },
};
