import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { adjustedMutualInformation, kMeans, mutualInformation, spectralClustering } from '../../src/similarity/cluster.js';

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
