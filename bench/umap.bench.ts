/**
 * umap-js (seeded, exact tfjs kNN graph) on 5000 x 50: wall time and trustworthiness (k = 5) of
 * the 2-D embedding. No peer: umap-learn cannot be installed here (numba/llvmlite wheels need the
 * network), so peer and ratio are null.
 */
import { initBackend } from '../src/backend/select.js';
import { Rng } from '../src/backend/rng.js';
import { trustworthiness, umapEmbed } from '../src/plot/umap.js';
import { peakRssMiB, type Benchmark } from './lib.js';

const N = 5000;
const D = 50;
const CLUSTERS = 10;

export const benchmark: Benchmark = {
  name: 'umap',
  description: `umap-js 2-D embedding of ${N}x${D} (10 Gaussian clusters): seconds and trustworthiness`,
  async run() {
    const backend = await initBackend();
    const rng = new Rng(0);
    const centers = rng.normalArray(CLUSTERS * D, 4);
    const data = new Float32Array(N * D);
    for (let i = 0; i < N; i++) {
      const c = i % CLUSTERS;
      for (let j = 0; j < D; j++) data[i * D + j] = centers[c * D + j] + rng.normal();
    }
    const x = { data, rows: N, cols: D };
    const t0 = performance.now();
    const emb = await umapEmbed(x, { seed: 0 });
    const seconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const trust = await trustworthiness(x, emb, { k: 5 });
    const trustSeconds = (performance.now() - t1) / 1000;
    return [
      {
        name: 'umap',
        unit: 's',
        ours: seconds,
        peer: null,
        peerName: 'umap-learn',
        ratio: null,
        config: { n: N, d: D, clusters: CLUSTERS, nNeighbors: 15, minDist: 0.1, nEpochs: 'umap-js default (500 for n <= 10000)', knn: 'exact', seed: 0, runs: 1 },
        backend: backend.name,
        date: new Date().toISOString(),
        extra: { trustworthinessK5: trust, trustworthinessSeconds: trustSeconds, peakRssMiB: peakRssMiB(), peerMissing: 'umap-learn is not installable offline (numba/llvmlite); no peer ratio' },
      },
    ];
  },
};
