/**
 * plot.umap (umap-js's method on typed arrays, seeded, exact kNN graph) on 5000 x 50: wall time
 * and trustworthiness (k = 5) of the 2-D embedding. No peer: umap-learn cannot be installed here
 * (numba/llvmlite wheels need the network), so peer and ratio are null. `extra` splits the time
 * into phases: the exact kNN search (timed alone, same call as umapEmbed's), the fuzzy simplicial
 * set with the edge schedule and random init (up to the progress start, less the kNN; umap-js's
 * initializeFit before), and the SGD layout epochs (progress start to stop).
 */
import { initBackend } from '../src/backend/select.js';
import { Rng } from '../src/backend/rng.js';
import { trustworthiness, umapEmbed } from '../src/plot/umap.js';
import { knnSearch } from '../src/similarity/knn.js';
import { loadBlas } from '../src/backend/blas.js';
import { peakRssMiB, type Benchmark } from './lib.js';

const N = 5000;
const D = 50;
const CLUSTERS = 10;

export const benchmark: Benchmark = {
  name: 'umap',
  description: `UMAP (umap-js method, typed arrays) 2-D embedding of ${N}x${D} (10 Gaussian clusters): seconds and trustworthiness`,
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
    let layoutStart = 0;
    let layoutStop = 0;
    const progress = { start: () => (layoutStart = performance.now()), update: () => {}, stop: () => (layoutStop = performance.now()) };
    const t0 = performance.now();
    const emb = await umapEmbed(x, { seed: 0, progress });
    const seconds = (performance.now() - t0) / 1000;
    const k0 = performance.now(); // after umapEmbed, so that its time stays a cold run as before
    await knnSearch(x, null, 14, 'euclidean'); // nNeighbors 15 counts the point itself
    const knnSeconds = (performance.now() - k0) / 1000;
    const phases = {
      knnSeconds,
      graphAndInitSeconds: Math.max(0, (layoutStart - t0) / 1000 - knnSeconds),
      layoutSeconds: (layoutStop - layoutStart) / 1000,
      blas: loadBlas() !== null,
    };
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
        config: { n: N, d: D, clusters: CLUSTERS, nNeighbors: 15, minDist: 0.1, nEpochs: 'umap-js default (400 for 2500 < n <= 5000)', knn: 'exact', layout: 'umap-js on typed arrays, d^b as exp(b ln d)', seed: 0, runs: 1 },
        backend: backend.name,
        date: new Date().toISOString(),
        extra: { ...phases, trustworthinessK5: trust, trustworthinessSeconds: trustSeconds, peakRssMiB: peakRssMiB(), peerMissing: 'umap-learn is not installable offline (numba/llvmlite); no peer ratio' },
      },
    ];
  },
};
