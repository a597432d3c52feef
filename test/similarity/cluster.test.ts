import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { NestlabArgumentError, NestlabComputationError } from '../../src/errors.js';
import { adjustedMutualInformation, adjustedRandIndex, dbscan, gaussianMixture, kMeans, mutualInformation, spectralClustering, type CovarianceType } from '../../src/similarity/cluster.js';

// Cross-checks against scikit-learn (Debian's /usr/bin/python3); skipped when absent.
const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasSklearn = spawnSync(PY, ['-c', 'import numpy, sklearn.cluster, sklearn.metrics'], { encoding: 'utf8' }).status === 0;

/** Gaussian blobs: `perCluster` rows around each center (sd `sd`), in cluster order; with the true labels. */
function blobs(centers: number[][], perCluster: number, sd: number, seed: number): { x: Matrix; truth: Int32Array } {
  const rng = new Rng(seed);
  const d = centers[0].length;
  const n = centers.length * perCluster;
  const data = new Float32Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    truth[i] = Math.floor(i / perCluster);
    for (let j = 0; j < d; j++) data[i * d + j] = centers[truth[i]][j] + sd * rng.normal();
  }
  return { x: { data, rows: n, cols: d }, truth };
}

/** Whether two labelings are the same partition (equal up to renaming the clusters). */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

/** A symmetric n x n affinity with blocks of the given sizes: within a block U(0.5, 1), across U(0, 0.15). */
function blockAffinity(sizes: number[], seed: number): { affinity: Float64Array; n: number; truth: Int32Array } {
  const rng = new Rng(seed);
  const truth = Int32Array.from(sizes.flatMap((s, b) => Array<number>(s).fill(b)));
  const n = truth.length;
  const affinity = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = truth[i] === truth[j] ? 0.5 + 0.5 * rng.uniform() : 0.15 * rng.uniform();
      affinity[i * n + j] = v;
      affinity[j * n + i] = v;
    }
    affinity[i * n + i] = 1;
  }
  return { affinity, n, truth };
}

/** Twenty labelings pairs, n from 10 to 3000, 1 to 30 clusters a side, some correlated, labels not 0..k-1. */
const LABELINGS = Array.from({ length: 20 }, (_, t) => {
  const rng = new Rng(100 + t);
  const n = [10, 12, 20, 35, 50, 80, 100, 150, 200, 300, 400, 500, 700, 1000, 1200, 1500, 2000, 2500, 3000, 3000][t];
  const ka = t === 0 ? 1 : 1 + rng.int(30);
  const kb = t === 1 ? 1 : 1 + rng.int(30);
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = rng.int(ka);
    // Even cases: b mostly follows a; odd cases: independent.
    b[i] = t % 2 === 0 && rng.uniform() < 0.7 ? a[i] % kb : rng.int(kb);
  }
  if (t % 3 === 0) for (let i = 0; i < n; i++) a[i] = 3 * a[i] - 7; // negative, non-contiguous labels
  return { a, b };
});

const BLOB_CENTERS = [[0, 0, 0, 0, 0], [10, 0, 0, 0, 0], [0, 10, 0, 0, 0], [0, 0, 10, 10, 0]];

const SCRIPT = `
import json, sys
import numpy as np
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, mutual_info_score
inp = json.loads(sys.stdin.read())
X = np.array(inp['x'], dtype=np.float32).astype(np.float64).reshape(inp['n'], -1)
km = KMeans(n_clusters=inp['k'], n_init=10, random_state=0).fit(X)
n = inp['sn']
A = np.array(inp['affinity'], dtype=np.float64).reshape(n, n)
sc = SpectralClustering(n_clusters=inp['sk'], affinity='precomputed', assign_labels='kmeans', random_state=0).fit_predict(A)
print(json.dumps({
  'inertia': float(km.inertia_),
  'spectral': sc.tolist(),
  'spectral_ari_truth': float(adjusted_rand_score(inp['struth'], sc)),
  'ami': [float(adjusted_mutual_info_score(c['a'], c['b'])) for c in inp['labelings']],
  'mi': [float(mutual_info_score(c['a'], c['b'])) for c in inp['labelings']],
}))
`;

describe('kMeans', () => {
  it('recovers well-separated Gaussian blobs exactly, the same for a seed', () => {
    const { x, truth } = blobs(BLOB_CENTERS, 50, 1, 1);
    const r = kMeans(x, 4, { seed: 0 });
    expect(samePartition(r.labels, truth)).toBe(true);
    expect(r.centers.length).toBe(4 * 5);
    expect(kMeans(x, 4, { seed: 0 }).labels).toEqual(r.labels);
    expect(samePartition(kMeans(x, 4, { seed: 7, restarts: 1 }).labels, truth)).toBe(true);
    // Each center is the mean of its rows, and the inertia is their squared distances.
    let inertia = 0;
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < 5; j++) inertia += (x.data[i * 5 + j] - r.centers[r.labels[i] * 5 + j]) ** 2;
    expect(Math.abs(inertia - r.inertia) / r.inertia).toBeLessThan(1e-12);
  });

  it('re-seeds empty clusters: 12 rows that are 3 distinct points, 4 times each', () => {
    const rows = [[0, 0], [1, 0], [0, 5]];
    const x = { data: Float32Array.from(Array.from({ length: 12 }, (_, i) => rows[i % 3]).flat()), rows: 12, cols: 2 };
    const three = kMeans(x, 3, { seed: 3, restarts: 1 });
    expect(three.inertia).toBe(0);
    expect(new Set(three.labels).size).toBe(3);
    // k = 12: k-means++ runs out of distinct points after 3 centers, so 9 clusters start empty and
    // are re-seeded with rows taken from the crowded ones: every row ends up alone.
    const twelve = kMeans(x, 12, { restarts: 1 });
    expect(twelve.inertia).toBe(0);
    expect(new Set(twelve.labels).size).toBe(12);
  });

  it('names the bad argument', () => {
    const { x } = blobs(BLOB_CENTERS, 5, 1, 1);
    expect(() => kMeans(x, 21)).toThrow(/similarity\.kMeans: k must be an integer in \[1, 20\]/);
    expect(() => kMeans(x, 2, { restarts: 0 })).toThrow(NestlabArgumentError);
    expect(() => kMeans(x, 2, { sead: 1 } as never)).toThrow(/options\.sead/);
  });
});

describe('spectralClustering', () => {
  it('recovers the blocks of a noisy block-diagonal affinity', () => {
    const { affinity, n, truth } = blockAffinity([20, 30, 25], 5);
    const labels = spectralClustering(affinity, n, 3, { seed: 0 });
    expect(samePartition(labels, truth)).toBe(true);
  });

  it('separates disconnected components of a graph with more than 300 items (the Lanczos path)', () => {
    const n = 360;
    const rng = new Rng(11);
    const a = new Float64Array(n * n);
    const block = (i: number) => Math.floor(i / 90);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (block(i) === block(j)) a[i * n + j] = a[j * n + i] = rng.uniform();
    const labels = spectralClustering(a, n, 4, { seed: 0 });
    expect(adjustedMutualInformation(labels, Int32Array.from({ length: n }, (_, i) => block(i)))).toBe(1);
  });

  it('gives an item with zero affinity to all others a cluster, not NaN', () => {
    const { affinity, n } = blockAffinity([10, 12, 1], 6);
    for (let j = 0; j < n; j++) {
      affinity[22 * n + j] = 0;
      affinity[j * n + 22] = 0;
    }
    const labels = spectralClustering(affinity, n, 2);
    expect(labels.every((l) => l === 0 || l === 1)).toBe(true);
    expect(samePartition(labels.subarray(0, 22), Int32Array.from({ length: 22 }, (_, i) => (i < 10 ? 0 : 1)))).toBe(true);
  });

  it('rejects an asymmetric or negative affinity', () => {
    const { affinity, n } = blockAffinity([3, 3], 7);
    affinity[1] += 0.1;
    expect(() => spectralClustering(affinity, n, 2)).toThrow(/affinity must be a symmetric matrix/);
    affinity[1] = -1;
    expect(() => spectralClustering(affinity, n, 2)).toThrow(/affinity\[1\] must be a finite nonnegative number/);
    expect(() => spectralClustering(affinity, 5, 2)).toThrow(/affinity must be a Float64Array of n \* n = 25 entries/);
  });
});

describe('mutual information and AMI', () => {
  it('hand cases: the same partition, single clusters, two balanced halves, independent labels', () => {
    const a = Int32Array.from([0, 0, 1, 1, 2, 2]);
    expect(adjustedMutualInformation(a, Int32Array.from([5, 5, -1, -1, 9, 9]))).toBe(1);
    expect(adjustedMutualInformation(new Int32Array(6), new Int32Array(6).fill(3))).toBe(1);
    expect(adjustedMutualInformation(new Int32Array(4), Int32Array.from([0, 1, 2, 3]))).toBe(0);
    expect(mutualInformation(Int32Array.from([0, 0, 1, 1]), Int32Array.from([1, 1, 0, 0]))).toBeCloseTo(Math.LN2, 15);
    expect(mutualInformation(new Int32Array(5), Int32Array.from([0, 1, 2, 3, 4]))).toBe(0);
    const rng = new Rng(1);
    const x = Int32Array.from({ length: 3000 }, () => rng.int(10));
    const y = Int32Array.from({ length: 3000 }, () => rng.int(10));
    expect(Math.abs(adjustedMutualInformation(x, y))).toBeLessThan(0.005);
    expect(mutualInformation(x, y)).toBeGreaterThan(0.005); // plain MI is biased up by chance; AMI removes it
  });

  it('names the bad argument', () => {
    expect(() => adjustedMutualInformation(new Int32Array(3), new Int32Array(4))).toThrow(/similarity\.adjustedMutualInformation: b must be an Int32Array of 3 labels/);
    expect(() => mutualInformation([0, 1] as never, new Int32Array(2))).toThrow(/similarity\.mutualInformation: a must be a nonempty Int32Array/);
  });
});

describe.skipIf(!hasSklearn)('agreement with scikit-learn', () => {
  const { x, truth } = blobs(BLOB_CENTERS, 50, 1, 1);
  const spectral = blockAffinity([20, 30, 25], 5);
  let peer: { inertia: number; spectral: number[]; spectral_ari_truth: number; ami: number[]; mi: number[] };

  beforeAll(() => {
    const input = {
      x: Array.from(x.data), n: x.rows, k: 4,
      affinity: Array.from(spectral.affinity), sn: spectral.n, sk: 3, struth: Array.from(spectral.truth),
      labelings: LABELINGS.map(({ a, b }) => ({ a: Array.from(a), b: Array.from(b) })),
    };
    const res = spawnSync(PY, ['-c', SCRIPT], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    peer = JSON.parse(res.stdout);
  });

  it('kMeans inertia equals KMeans(n_init=10).inertia_ to 1e-6 relative', () => {
    const r = kMeans(x, 4, { seed: 0 });
    expect(samePartition(r.labels, truth)).toBe(true);
    expect(Math.abs(r.inertia - peer.inertia) / peer.inertia).toBeLessThan(1e-6);
  });

  it("spectralClustering gives SpectralClustering(affinity='precomputed')'s partition (adjusted Rand index 1)", () => {
    expect(peer.spectral_ari_truth).toBe(1);
    expect(samePartition(spectralClustering(spectral.affinity, spectral.n, 3), peer.spectral)).toBe(true);
  });

  it('AMI and MI equal adjusted_mutual_info_score and mutual_info_score to 1e-9 on 20 random labelings', () => {
    let worstAmi = 0;
    let worstMi = 0;
    LABELINGS.forEach(({ a, b }, t) => {
      worstAmi = Math.max(worstAmi, Math.abs(adjustedMutualInformation(a, b) - peer.ami[t]));
      worstMi = Math.max(worstMi, Math.abs(mutualInformation(a, b) - peer.mi[t]));
    });
    expect(worstAmi).toBeLessThan(1e-9);
    expect(worstMi).toBeLessThan(1e-9);
  });
});

/**
 * Gaussian clusters with their own shapes: `sizes[c]` rows x = centers[c] + M_c z, z standard
 * normal, M_c = scales[c] (I + 0.4 G_c) with G_c a seeded Gaussian matrix; rows in cluster order.
 */
function shapedBlobs(centers: number[][], sizes: number[], scales: number[], seed: number): { x: Matrix; truth: Int32Array } {
  const rng = new Rng(seed);
  const d = centers[0].length;
  const n = sizes.reduce((u, v) => u + v, 0);
  const data = new Float32Array(n * d);
  const truth = new Int32Array(n);
  const z = new Float64Array(d);
  let i = 0;
  centers.forEach((center, c) => {
    const mix = Array.from({ length: d * d }, (_, e) => scales[c] * ((e % (d + 1) === 0 ? 1 : 0) + 0.4 * rng.normal()));
    for (let r = 0; r < sizes[c]; r++, i++) {
      truth[i] = c;
      for (let t = 0; t < d; t++) z[t] = rng.normal();
      for (let t = 0; t < d; t++) {
        let v = center[t];
        for (let u = 0; u < d; u++) v += mix[t * d + u] * z[u];
        data[i * d + t] = v;
      }
    }
  });
  return { x: { data, rows: n, cols: d }, truth };
}

/** Seeded centers in d dimensions, uniform in [-spread, spread]. */
function randomCenters(k: number, d: number, spread: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: k }, () => Array.from({ length: d }, () => spread * (2 * rng.uniform() - 1)));
}

/** Rows uniform in [lo, hi]^d appended to a matrix (DBSCAN's noise). */
function withUniformRows(x: Matrix, count: number, lo: number, hi: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array((x.rows + count) * x.cols);
  data.set(x.data);
  for (let e = x.data.length; e < data.length; e++) data[e] = lo + (hi - lo) * rng.uniform();
  return { data, rows: x.rows + count, cols: x.cols };
}

/** The GMM cases compared with scikit-learn: 3-5 shaped blobs, n 300-1000, d 2-16, both covariance types. */
const GMM_CASES: { name: string; x: Matrix; truth: Int32Array; k: number; type: CovarianceType; restarts: number }[] = [
  { name: '3 blobs, d = 2, n = 300, full', ...shapedBlobs(randomCenters(3, 2, 8, 21), [120, 100, 80], [1, 0.6, 1.4], 31), k: 3, type: 'full', restarts: 1 },
  { name: '4 blobs, d = 5, n = 600, full', ...shapedBlobs(randomCenters(4, 5, 8, 22), [200, 150, 150, 100], [1, 1.5, 0.7, 1], 32), k: 4, type: 'full', restarts: 1 },
  { name: '5 blobs, d = 16, n = 1000, full, 3 starts', ...shapedBlobs(randomCenters(5, 16, 6, 23), [300, 250, 200, 150, 100], [1, 1, 1.3, 0.8, 1.1], 33), k: 5, type: 'full', restarts: 3 },
  { name: '4 blobs, d = 5, n = 600, diag', ...shapedBlobs(randomCenters(4, 5, 8, 22), [200, 150, 150, 100], [1, 1.5, 0.7, 1], 32), k: 4, type: 'diag', restarts: 1 },
  { name: '5 blobs, d = 16, n = 1000, diag', ...shapedBlobs(randomCenters(5, 16, 6, 23), [300, 250, 200, 150, 100], [1, 1, 1.3, 0.8, 1.1], 33), k: 5, type: 'diag', restarts: 2 },
];

/** Two blobs 100 apart (120 and 80 rows, d = 3): EM's responsibilities are exactly one-hot. */
const FAR = shapedBlobs([[0, 0, 0], [100, -100, 50]], [120, 80], [1, 2], 41);

/** The DBSCAN cases: blobs with uniform noise rows, and uniform rows only (many small clusters, shared border points). */
const DBSCAN_CASES: { name: string; x: Matrix; eps: number; minPoints?: number }[] = [
  { name: '3 blobs + 30 noise rows, d = 2', x: withUniformRows(blobs([[0, 0], [4, 0], [0, 4]], 100, 0.5, 51).x, 30, -3, 7, 52), eps: 0.4 },
  { name: '4 blobs + 50 noise rows, d = 5, minPoints 10', x: withUniformRows(blobs(BLOB_CENTERS, 100, 1, 53).x, 50, -5, 15, 54), eps: 1.8, minPoints: 10 },
  { name: '500 uniform rows in [0, 10]^2, minPoints 4', x: withUniformRows({ data: new Float32Array(0), rows: 0, cols: 2 }, 500, 0, 10, 55), eps: 0.55, minPoints: 4 },
];

/** ARI cases: the AMI labelings, the same with -1 (noise) on a fifth of the items, and degenerate ones. */
const ARI_LABELINGS = [
  ...LABELINGS,
  ...LABELINGS.map(({ a, b }, t) => {
    const rng = new Rng(200 + t);
    return { a, b: Int32Array.from(b, (v) => (rng.uniform() < 0.2 ? -1 : v)) };
  }),
  { a: new Int32Array(7), b: new Int32Array(7).fill(-1) },
  { a: new Int32Array(7), b: Int32Array.from({ length: 7 }, (_, i) => i) },
  { a: Int32Array.from({ length: 7 }, (_, i) => i - 1), b: Int32Array.from({ length: 7 }, (_, i) => 6 - i) },
  { a: Int32Array.from([-1, -1, 0, 0, 1]), b: Int32Array.from([0, 0, 1, 1, -1]) },
  { a: new Int32Array(1), b: new Int32Array(1) },
];

const MIXTURE_SCRIPT = `
import json, sys
import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
inp = json.loads(sys.stdin.read())
def mat(m):
    return np.array(m['data'], dtype=np.float32).astype(np.float64).reshape(m['rows'], m['cols'])
out = {'gmm': [], 'far': {}, 'dbscan': [], 'ari': []}
for g in inp['gmm']:
    X = mat(g['x'])
    gm = GaussianMixture(n_components=g['k'], covariance_type=g['type'], n_init=g['restarts'], random_state=0).fit(X)
    out['gmm'].append({'labels': gm.predict(X).tolist(), 'score': float(gm.score(X)), 'bic': float(gm.bic(X))})
X = mat(inp['far']['x'])
truth = np.array(inp['far']['truth'])
out['far']['means'] = [X[truth == c].mean(axis=0).tolist() for c in range(2)]
out['far']['cov'] = [(np.cov(X[truth == c].T, bias=True) + 1e-6 * np.eye(3)).ravel().tolist() for c in range(2)]
for t in ['full', 'diag']:
    gm = GaussianMixture(n_components=2, covariance_type=t, random_state=0).fit(X)
    out['far'][t] = {'score': float(gm.score(X)), 'bic': float(gm.bic(X))}
for e in inp['dbscan']:
    out['dbscan'].append(DBSCAN(eps=e['eps'], min_samples=e['minPoints']).fit(mat(e['x'])).labels_.tolist())
out['ari'] = [float(adjusted_rand_score(c['a'], c['b'])) for c in inp['labelings']]
print(json.dumps(out))
`;

describe('gaussianMixture', () => {
  it('two far-apart blobs: weights are the sizes / n, means and covariances those of each blob', () => {
    const n = FAR.x.rows;
    for (const covarianceType of ['full', 'diag'] as const) {
      const r = gaussianMixture(FAR.x, 2, { covarianceType });
      expect(samePartition(r.labels, FAR.truth)).toBe(true);
      expect(r.converged).toBe(true);
      const first = r.labels[0];
      expect(r.weights[first]).toBeCloseTo(120 / n, 12);
      expect(r.weights[1 - first]).toBeCloseTo(80 / n, 12);
      // The mean of each blob's rows and its biased covariance + regCovar, by hand in Float64.
      for (let c = 0; c < 2; c++) {
        const rows = Array.from({ length: n }, (_, i) => i).filter((i) => FAR.truth[i] === c);
        const comp = r.labels[rows[0]];
        const mean = [0, 1, 2].map((t) => rows.reduce((s, i) => s + FAR.x.data[i * 3 + t], 0) / rows.length);
        for (let t = 0; t < 3; t++) expect(Math.abs(r.means[comp * 3 + t] - mean[t])).toBeLessThan(1e-9);
        for (let s = 0; s < 3; s++) {
          for (let t = 0; t < 3; t++) {
            if (covarianceType === 'diag' && s !== t) continue;
            const cov = rows.reduce((acc, i) => acc + (FAR.x.data[i * 3 + s] - mean[s]) * (FAR.x.data[i * 3 + t] - mean[t]), 0) / rows.length + (s === t ? 1e-6 : 0);
            const got = covarianceType === 'full' ? r.covariances[comp * 9 + s * 3 + t] : r.covariances[comp * 3 + t];
            expect(Math.abs(got - cov)).toBeLessThan(1e-9);
          }
        }
      }
    }
  });

  it('diag fits fewer parameters: its BIC penalty is smaller, its likelihood no higher than full', () => {
    const { x } = GMM_CASES[1];
    const full = gaussianMixture(x, 4);
    const diag = gaussianMixture(x, 4, { covarianceType: 'diag' });
    expect(full.covariances.length).toBe(4 * 5 * 5);
    expect(diag.covariances.length).toBe(4 * 5);
    const n = x.rows;
    // p ln n: full k d + k − 1 + k d (d + 1)/2 = 20 + 3 + 60; diag 20 + 3 + 20.
    expect(full.bic + 2 * n * full.logLikelihood).toBeCloseTo(83 * Math.log(n), 8);
    expect(diag.bic + 2 * n * diag.logLikelihood).toBeCloseTo(43 * Math.log(n), 8);
    expect(diag.logLikelihood).toBeLessThan(full.logLikelihood);
    expect(gaussianMixture(x, 4, { seed: 0 }).labels).toEqual(full.labels);
  });

  it('stops at maxIterations without converging, and raises on a collapsed component', () => {
    const { x } = GMM_CASES[0];
    const r = gaussianMixture(x, 3, { maxIterations: 1, tol: 0 });
    expect(r.iterations).toBe(1);
    expect(r.converged).toBe(false);
    const same = { data: new Float32Array(20).fill(3), rows: 10, cols: 2 };
    expect(() => gaussianMixture(same, 1, { regCovar: 0 })).toThrow(NestlabComputationError);
    expect(() => gaussianMixture(same, 1, { regCovar: 0 })).toThrow(/similarity\.gaussianMixture: the covariance of component 0 is not positive definite/);
    expect(gaussianMixture(same, 1).covariances[0]).toBeCloseTo(1e-6, 15);
  });

  it('names the bad argument in one line', () => {
    const { x } = GMM_CASES[0];
    const one = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(NestlabArgumentError);
      expect(f).toThrow(re);
      try { f(); } catch (e) { expect((e as Error).message).not.toContain('\n'); }
    };
    one(() => gaussianMixture(x, 301), /^similarity\.gaussianMixture: k must be an integer in \[1, 300\], got 301$/);
    one(() => gaussianMixture(x, 2, { covarianceType: 'spherical' as never }), /options\.covarianceType must be one of "full", "diag", got spherical/);
    one(() => gaussianMixture(x, 2, { regCovar: -1 }), /options\.regCovar must be a finite number in \[0, Infinity\], got -1/);
    one(() => gaussianMixture(x, 2, { restarts: 0 }), /options\.restarts must be an integer in \[1, Infinity\]/);
    one(() => gaussianMixture(x, 2, { nInit: 2 } as never), /options\.nInit must be one of the known options/);
    one(() => gaussianMixture(x, 2, { memoryBudget: 1000 }), /options\.memoryBudget must be at least the memory the run needs/);
    one(() => gaussianMixture({ data: new Float32Array(2), rows: 1, cols: 2 }, 1), /x\.rows must be at least 2, got 1/);
  });
});

describe('dbscan', () => {
  it('hand case: a border point between two clusters joins the first discovered, an isolated row is noise', () => {
    // Cluster C (3..4), border point 2 (1 from both 1 and 3), cluster A (0..1), noise 10; eps 1, minPoints 4.
    const values = [3, 3.25, 3.5, 3.75, 4, 2, 0, 0.25, 0.5, 0.75, 1, 10];
    const x = { data: Float32Array.from(values), rows: values.length, cols: 1 };
    expect(Array.from(dbscan(x, { eps: 1, minPoints: 4 }))).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1]);
    // minPoints 3: the border point has 3 neighbors (itself included), becomes core and joins both.
    expect(Array.from(dbscan(x, { eps: 1, minPoints: 3 }))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1]);
    // minPoints 1: every row is core; isolated rows are clusters of their own.
    expect(Array.from(dbscan(x, { eps: 0.1, minPoints: 1 }))).toEqual(values.map((_, i) => i));
    expect(Array.from(dbscan(x, { eps: 100, minPoints: 13 }))).toEqual(values.map(() => -1));
  });

  it('names the bad argument in one line', () => {
    const x = { data: new Float32Array(8), rows: 4, cols: 2 };
    expect(() => dbscan(x, { eps: 0 })).toThrow(/^similarity\.dbscan: options\.eps must be a finite number > 0, got 0$/);
    expect(() => dbscan(x, { eps: NaN })).toThrow(/options\.eps must be a finite number > 0, got NaN/);
    expect(() => dbscan(x, { eps: 1, minPoints: 0 })).toThrow(/options\.minPoints must be an integer in \[1, Infinity\], got 0/);
    expect(() => dbscan(x, { eps: 1, minSamples: 3 } as never)).toThrow(/options\.minSamples must be one of the known options/);
    expect(() => dbscan(x, undefined as never)).toThrow(NestlabArgumentError);
  });
});

describe('adjustedRandIndex', () => {
  it('hand values: the same partition 1, a crossed 2 x 2 split −0.5, one cluster vs singletons 0', () => {
    expect(adjustedRandIndex(Int32Array.from([0, 0, 1, 1, 2, 2]), Int32Array.from([5, 5, -1, -1, 9, 9]))).toBe(1);
    expect(adjustedRandIndex(Int32Array.from([0, 0, 1, 1]), Int32Array.from([0, 1, 0, 1]))).toBe(-0.5);
    expect(adjustedRandIndex(new Int32Array(5), Int32Array.from([0, 1, 2, 3, 4]))).toBe(0);
    expect(adjustedRandIndex(new Int32Array(5), new Int32Array(5).fill(-1))).toBe(1);
    expect(adjustedRandIndex(Int32Array.from([0, 1, 2]), Int32Array.from([2, 1, 0]))).toBe(1);
    const rng = new Rng(2);
    const x = Int32Array.from({ length: 3000 }, () => rng.int(10));
    const y = Int32Array.from({ length: 3000 }, () => rng.int(10));
    expect(Math.abs(adjustedRandIndex(x, y))).toBeLessThan(0.005);
  });

  it('names the bad argument', () => {
    expect(() => adjustedRandIndex(new Int32Array(3), new Int32Array(4))).toThrow(/^similarity\.adjustedRandIndex: b must be an Int32Array of 3 labels/);
    expect(() => adjustedRandIndex(new Int32Array(0), new Int32Array(0))).toThrow(/similarity\.adjustedRandIndex: a must be a nonempty Int32Array/);
  });
});

describe.skipIf(!hasSklearn)('agreement with scikit-learn: GaussianMixture, DBSCAN, adjusted_rand_score', () => {
  type Peer = {
    gmm: { labels: number[]; score: number; bic: number }[];
    far: { means: number[][]; cov: number[][]; full: { score: number; bic: number }; diag: { score: number; bic: number } };
    dbscan: number[][];
    ari: number[];
  };
  let peer: Peer;
  const json = (m: Matrix) => ({ data: Array.from(m.data), rows: m.rows, cols: m.cols });

  beforeAll(() => {
    const input = {
      gmm: GMM_CASES.map((g) => ({ x: json(g.x), k: g.k, type: g.type, restarts: g.restarts })),
      far: { x: json(FAR.x), truth: Array.from(FAR.truth) },
      dbscan: DBSCAN_CASES.map((e) => ({ x: json(e.x), eps: e.eps, minPoints: e.minPoints ?? 5 })),
      labelings: ARI_LABELINGS.map(({ a, b }) => ({ a: Array.from(a), b: Array.from(b) })),
    };
    const res = spawnSync(PY, ['-c', MIXTURE_SCRIPT], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    peer = JSON.parse(res.stdout);
  });

  it('GaussianMixture: the same partition (ARI > 0.99) and mean log-likelihood to 1e-3 relative, full and diag', () => {
    GMM_CASES.forEach((g, t) => {
      const r = gaussianMixture(g.x, g.k, { covarianceType: g.type, restarts: g.restarts });
      const ari = adjustedRandIndex(r.labels, Int32Array.from(peer.gmm[t].labels));
      const rel = Math.abs(r.logLikelihood - peer.gmm[t].score) / Math.abs(peer.gmm[t].score);
      expect({ name: g.name, ari: ari > 0.99, rel: rel < 1e-3 }).toEqual({ name: g.name, ari: true, rel: true });
      expect(Math.abs(r.bic - peer.gmm[t].bic) / Math.abs(peer.gmm[t].bic)).toBeLessThan(1e-3);
      // The 2-D blobs overlap a little: the mixture's partition is close to, not equal to, the truth.
      expect(adjustedRandIndex(r.labels, g.truth)).toBeGreaterThan(0.95);
    });
  });

  it('GaussianMixture on two far-apart blobs: means to 1e-6 of numpy, score and BIC to 1e-9', () => {
    for (const covarianceType of ['full', 'diag'] as const) {
      const r = gaussianMixture(FAR.x, 2, { covarianceType });
      for (let c = 0; c < 2; c++) {
        const comp = r.labels[FAR.truth.indexOf(c)];
        for (let t = 0; t < 3; t++) expect(Math.abs(r.means[comp * 3 + t] - peer.far.means[c][t])).toBeLessThan(1e-6);
        for (let s = 0; s < 3; s++) {
          if (covarianceType === 'full') for (let t = 0; t < 3; t++) expect(Math.abs(r.covariances[comp * 9 + s * 3 + t] - peer.far.cov[c][s * 3 + t])).toBeLessThan(1e-6);
          else expect(Math.abs(r.covariances[comp * 3 + s] - peer.far.cov[c][s * 4])).toBeLessThan(1e-6);
        }
      }
      expect(Math.abs(r.logLikelihood - peer.far[covarianceType].score) / Math.abs(peer.far[covarianceType].score)).toBeLessThan(1e-9);
      expect(Math.abs(r.bic - peer.far[covarianceType].bic) / Math.abs(peer.far[covarianceType].bic)).toBeLessThan(1e-9);
    }
  });

  it('DBSCAN: exactly the same labels, noise and cluster numbers included, on three data sets', () => {
    DBSCAN_CASES.forEach((e, t) => {
      const labels = dbscan(e.x, { eps: e.eps, minPoints: e.minPoints });
      expect(peer.dbscan[t].filter((l) => l === -1).length).toBeGreaterThan(0);
      expect({ name: e.name, labels: Array.from(labels) }).toEqual({ name: e.name, labels: peer.dbscan[t] });
    });
  });

  it('adjusted_rand_score to 1e-12 on 45 labelings, with -1 and one-cluster cases', () => {
    let worst = 0;
    ARI_LABELINGS.forEach(({ a, b }, t) => {
      worst = Math.max(worst, Math.abs(adjustedRandIndex(a, b) - peer.ari[t]));
    });
    expect(worst).toBeLessThan(1e-12);
  });
});
