import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { gaussianEntropy, knnEntropy, ldaProjection, projectRows } from '../../src/similarity/lda.js';

// Cross-checks against scikit-learn and scipy (Debian's /usr/bin/python3); skipped when absent.
const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasSklearn = spawnSync(PY, ['-c', 'import numpy, scipy.stats, scipy.spatial, sklearn.discriminant_analysis'], { encoding: 'utf8' }).status === 0;

/** `perClass` rows per class: class mean (normal, scale `spread`) plus L z with one shared random mixing L. */
function classes(count: number, perClass: number, d: number, spread: number, seed: number): { x: Matrix; labels: Int32Array } {
  const rng = new Rng(seed);
  const means = Array.from({ length: count }, () => Array.from({ length: d }, () => spread * rng.normal()));
  const mix = Array.from({ length: d * d }, () => rng.normal() / Math.sqrt(d));
  for (let j = 0; j < d; j++) mix[j * d + j] += 1;
  const n = count * perClass;
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const c = i % count;
    labels[i] = 10 * c - 5; // any integers name the classes
    for (let j = 0; j < d; j++) z[j] = rng.normal();
    for (let j = 0; j < d; j++) {
      let s = means[c][j];
      for (let t = 0; t < d; t++) s += mix[j * d + t] * z[t];
      data[i * d + j] = s;
    }
  }
  return { x: { data, rows: n, cols: d }, labels };
}

/** n rows of L z with z standard normal in 3-D, L lower triangular; ½ ln det(2πe L Lᵀ) is its entropy. */
const L = [1, 0, 0, 0.5, 2, 0, -0.3, 0.4, 0.7];
function correlatedGaussian(n: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const z = [rng.normal(), rng.normal(), rng.normal()];
    for (let j = 0; j < 3; j++) data[i * 3 + j] = L[j * 3] * z[0] + L[j * 3 + 1] * z[1] + L[j * 3 + 2] * z[2];
  }
  return { data, rows: n, cols: 3 };
}
const GAUSSIAN_ENTROPY = 0.5 * (3 * Math.log(2 * Math.PI * Math.E) + 2 * Math.log(1 * 2 * 0.7));

/** Largest |ours − sign · peer| over a component's rows, relative to the largest |peer|, with the sign that fits. */
function componentDeviation(ours: Matrix, peer: number[], c: number): number {
  const k = ours.cols;
  let dot = 0;
  let scale = 0;
  for (let i = 0; i < ours.rows; i++) {
    dot += ours.data[i * k + c] * peer[i * k + c];
    scale = Math.max(scale, Math.abs(peer[i * k + c]));
  }
  const sign = Math.sign(dot);
  let worst = 0;
  for (let i = 0; i < ours.rows; i++) worst = Math.max(worst, Math.abs(ours.data[i * k + c] - sign * peer[i * k + c]));
  return worst / scale;
}

describe('ldaProjection', () => {
  it('finds the direction that separates two classes, with unit within-class variance', () => {
    // Two classes apart along (1, 1); the within-class noise is large along (1, -1) as well.
    const rng = new Rng(2);
    const rows: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 400; i++) {
      const c = i % 2;
      const along = rng.normal() * 0.3 + (c === 0 ? -1 : 1);
      const across = rng.normal() * 3;
      rows.push(along + across, along - across);
      labels.push(c);
    }
    const x = { data: Float32Array.from(rows), rows: 400, cols: 2 };
    const lda = ldaProjection(x, Int32Array.from(labels));
    expect(lda.components).toBe(1);
    const [v0, v1] = lda.directions;
    expect(Math.abs(v0 - v1) / Math.abs(v0 + v1)).toBeLessThan(0.05); // ∝ (1, 1)
    // Projected: each class has variance 1 around its own mean (weighted by the priors, over n).
    const z = projectRows(x, lda);
    const mean = [0, 0];
    for (let i = 0; i < 400; i++) mean[labels[i]] += z.data[i] / 200;
    let within = 0;
    for (let i = 0; i < 400; i++) within += (z.data[i] - mean[labels[i]]) ** 2 / 400;
    expect(within).toBeCloseTo(1, 5);
    expect(lda.ratios[0]).toBeGreaterThan(5);
  });

  it('asks for shrinkage when d > n − classes, and names bad arguments', () => {
    const { x, labels } = classes(3, 5, 20, 1, 3);
    expect(() => ldaProjection(x, labels)).toThrow(/similarity\.ldaProjection: options\.shrinkage must be greater than 0 when x has more columns \(d = 20\) than n − classes = 12/);
    expect(ldaProjection(x, labels, { shrinkage: 0.5 }).components).toBe(2);
    expect(() => ldaProjection(x, labels, { shrinkage: 0.5, components: 3 })).toThrow(/options\.components must be an integer in \[1, 2\]/);
    expect(() => ldaProjection(x, new Int32Array(15))).toThrow(/labels must be labels of at least two classes/);
    expect(() => ldaProjection(x, new Int32Array(3))).toThrow(NestlabArgumentError);
  });
});

describe('entropy estimators', () => {
  it('knnEntropy of 4000 correlated 3-D Gaussian samples is within 0.05 nats of ½ ln det(2πe Σ)', async () => {
    const h = await knnEntropy(correlatedGaussian(4000, 11), { k: 3 });
    expect(Math.abs(h - GAUSSIAN_ENTROPY)).toBeLessThan(0.05);
  });

  it('knnEntropy of the uniform distribution on the unit square is about 0', async () => {
    const rng = new Rng(12);
    const x = { data: Float32Array.from({ length: 8000 }, () => rng.uniform()), rows: 4000, cols: 2 };
    expect(Math.abs(await knnEntropy(x))).toBeLessThan(0.05);
  });

  it('knnEntropy rejects duplicate rows, naming x', async () => {
    const x = { data: Float32Array.from([0, 0, 0, 0, 1, 1, 2, 0]), rows: 4, cols: 2 };
    await expect(knnEntropy(x, { k: 1 })).rejects.toThrow(/similarity\.knnEntropy: x must be rows with at most k − 1 = 0 exact duplicates/);
    expect(await knnEntropy(x, { k: 2 })).toBeTypeOf('number');
  });

  it('gaussianEntropy is ½ ln det(2πe Σ) of the sample covariance; singular input is an error', () => {
    expect(Math.abs(gaussianEntropy(correlatedGaussian(20000, 13)) - GAUSSIAN_ENTROPY)).toBeLessThan(0.02);
    const x = correlatedGaussian(50, 14);
    for (let i = 0; i < 50; i++) x.data[i * 3 + 2] = x.data[i * 3]; // a repeated column
    expect(() => gaussianEntropy(x)).toThrow(/similarity\.gaussianEntropy: x must be rows whose sample covariance is nonsingular/);
  });
});

const SCRIPT = `
import json, sys
import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln
from scipy.stats import multivariate_normal
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
inp = json.loads(sys.stdin.read())
def mat(m):
    return np.array(m['data'], dtype=np.float32).astype(np.float64).reshape(m['rows'], m['cols'])
def lda(m, y, s):
    Z = LDA(solver='eigen', shrinkage=s).fit(mat(m), y).transform(mat(m))
    # sklearn's transform projects X, not X - mean: center it to compare.
    return (Z - Z.mean(0)).ravel().tolist()
def kl(X, k):
    n, d = X.shape
    eps = cKDTree(X).query(X, k=k + 1)[0][:, k]
    return float(digamma(n) - digamma(k) + d / 2 * np.log(np.pi) - gammaln(d / 2 + 1) + d * np.mean(np.log(eps)))
narrow, wide = inp['narrow'], inp['wide']
print(json.dumps({
  'narrow0': lda(narrow, narrow['y'], None),
  'narrow0_ratio': LDA(solver='eigen').fit(mat(narrow), narrow['y']).explained_variance_ratio_.tolist(),
  'narrow3': lda(narrow, narrow['y'], 0.3),
  'wide3': lda(wide, wide['y'], 0.3),
  'kl': kl(mat(inp['gauss']), 3),
  'kl5': kl(mat(narrow), 5),
  'gaussian': float(multivariate_normal(cov=np.cov(mat(inp['gauss']).T)).entropy()),
  'gaussian_narrow': float(multivariate_normal(cov=np.cov(mat(narrow).T)).entropy()),
}))
`;

describe.skipIf(!hasSklearn)('agreement with scikit-learn and scipy', () => {
  const narrow = classes(4, 150, 5, 1.5, 21); // n = 600 >> d = 5
  const wide = classes(3, 15, 60, 1.5, 22); // d = 60 > n − classes = 42: needs shrinkage
  const gauss = correlatedGaussian(2000, 23);
  let peer: Record<string, number & number[]>;

  beforeAll(() => {
    const asJson = (m: Matrix, y?: Int32Array) => ({ data: Array.from(m.data), rows: m.rows, cols: m.cols, y: y ? Array.from(y) : undefined });
    const input = { narrow: asJson(narrow.x, narrow.labels), wide: asJson(wide.x, wide.labels), gauss: asJson(gauss) };
    const res = spawnSync(PY, ['-c', SCRIPT], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    peer = JSON.parse(res.stdout);
  });

  it("projections equal LinearDiscriminantAnalysis(solver='eigen').transform up to sign (1e-6), shrinkage 0 and 0.3", () => {
    const cases: [Matrix, Int32Array, number, number[]][] = [
      [narrow.x, narrow.labels, 0, peer.narrow0],
      [narrow.x, narrow.labels, 0.3, peer.narrow3],
      [wide.x, wide.labels, 0.3, peer.wide3],
    ];
    for (const [x, labels, shrinkage, z] of cases) {
      const lda = ldaProjection(x, labels, { shrinkage });
      const ours = projectRows(x, lda);
      expect(ours.cols * ours.rows).toBe(z.length);
      for (let c = 0; c < ours.cols; c++) expect(componentDeviation(ours, z, c)).toBeLessThan(1e-6);
    }
    // Without shrinkage the other eigenvalues are 0, so the kept ones give explained_variance_ratio_.
    const ratios = ldaProjection(narrow.x, narrow.labels).ratios;
    const total = ratios.reduce((s, r) => s + r, 0);
    ratios.forEach((r, c) => expect(Math.abs(r / total - peer.narrow0_ratio[c])).toBeLessThan(1e-9));
  });

  it('knnEntropy equals the estimator on a scipy cKDTree, and gaussianEntropy scipy multivariate_normal.entropy (1e-9)', async () => {
    expect(Math.abs((await knnEntropy(gauss)) - peer.kl)).toBeLessThan(1e-9);
    expect(Math.abs((await knnEntropy(narrow.x, { k: 5 })) - peer.kl5)).toBeLessThan(1e-9);
    expect(Math.abs(gaussianEntropy(gauss) - peer.gaussian)).toBeLessThan(1e-9);
    expect(Math.abs(gaussianEntropy(narrow.x) - peer.gaussian_narrow)).toBeLessThan(1e-9);
  });
});
