import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { cca, linearCka, nearestNeighbors, participationRatio, pca, rbfCka, shapeDistance, twoNn } from '../../src/api/similarity.js';
import { gaussian, hcat } from './fixtures.js';

// Cross-checks against numpy / scikit-learn (Debian's /usr/bin/python3); skipped when absent.
const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasSklearn = spawnSync(PY, ['-c', 'import numpy, sklearn.neighbors, sklearn.decomposition'], { encoding: 'utf8' }).status === 0;

// Reference implementations: Kornblith's CKA code, netrep's LinearMetric, skdim's TwoNN fit,
// sklearn's NearestNeighbors and PCA, all in float64 on the same float32 inputs.
const SCRIPT = `
import json, sys
import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.decomposition import PCA
inp = json.loads(sys.stdin.read())
n = inp['n']
X = np.array(inp['x'], dtype=np.float32).astype(np.float64).reshape(n, -1)
Y = np.array(inp['y'], dtype=np.float32).astype(np.float64).reshape(n, -1)

def gram_rbf(x, threshold):
    dp = x.dot(x.T); sq = np.diag(dp)
    d2 = -2 * dp + sq[:, None] + sq[None, :]
    return np.exp(-d2 / (2 * threshold ** 2 * np.median(d2)))

def center_gram(g, unbiased):
    g = g.copy()
    if unbiased:
        m = g.shape[0]; np.fill_diagonal(g, 0)
        means = np.sum(g, 0) / (m - 2); means -= np.sum(means) / (2 * (m - 1))
        g -= means[:, None]; g -= means[None, :]; np.fill_diagonal(g, 0)
    else:
        means = np.mean(g, 0); means -= np.mean(means) / 2
        g -= means[:, None]; g -= means[None, :]
    return g

def cka(gx, gy, unbiased=False):
    gx = center_gram(gx, unbiased); gy = center_gram(gy, unbiased)
    return gx.ravel().dot(gy.ravel()) / (np.linalg.norm(gx) * np.linalg.norm(gy))

def feature_cka(x, y):
    x = x - x.mean(0); y = y - y.mean(0)
    return np.linalg.norm(x.T @ y) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))

def whiten(x, alpha):
    lam, V = np.linalg.eigh(x.T @ x); lam = np.maximum(lam, 1e-7)
    d = alpha + (1 - alpha) * lam ** -0.5
    new_var = np.sum(alpha ** 2 * lam + 2 * alpha * (1 - alpha) * lam ** 0.5 + (1 - alpha) ** 2)
    d *= np.sqrt(np.sum(lam) / new_var)
    return x @ ((V * d[None, :]) @ V.T)

def shape(x, y, alpha):
    d = max(x.shape[1], y.shape[1])
    x = np.pad(x, ((0, 0), (0, d - x.shape[1]))); y = np.pad(y, ((0, 0), (0, d - y.shape[1])))
    xw = whiten(x - x.mean(0), alpha); yw = whiten(y - y.mean(0), alpha)
    U, _, Vt = np.linalg.svd(xw.T @ yw)
    a, b = xw @ U, yw @ Vt.T
    return float(np.arccos(np.clip(np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b)), -1, 1)))

def twonn(x, discard=0.1):
    dist, _ = NearestNeighbors(n_neighbors=3).fit(x).kneighbors(x)
    mu = np.sort(dist[:, 2] / dist[:, 1]); N = len(mu); k = int(N * (1 - discard))
    xs = np.log(mu[:k]); ys = -np.log(1 - np.arange(k) / N)
    return float(xs @ ys / (xs @ xs))

def cca_rho(x, y):
    qx, _ = np.linalg.qr(x - x.mean(0)); qy, _ = np.linalg.qr(y - y.mean(0))
    return np.linalg.svd(qx.T @ qy, compute_uv=False).tolist()

k = inp['k']
ind = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(return_distance=False)
p = PCA(n_components=5).fit(X)
C = np.cov(X.T)
out = {
  'linear': feature_cka(X, Y),
  'linear_gram': cka(X @ X.T, Y @ Y.T),
  'debiased': cka(X @ X.T, Y @ Y.T, True),
  'rbf': cka(gram_rbf(X, 0.5), gram_rbf(Y, 0.5)),
  'rbf_debiased': cka(gram_rbf(X, 1.0), gram_rbf(Y, 1.0), True),
  'knn': ind.ravel().tolist(),
  'pca_components': p.components_.ravel().tolist(),
  'pca_var': p.explained_variance_.tolist(),
  'pca_scores': p.transform(X).ravel().tolist(),
  'pr': float(np.trace(C) ** 2 / np.sum(C * C)),
  'shape_half': shape(X, Y, 0.5),
  'shape_zero': shape(X, Y, 0.0),
  'shape_one': shape(X, Y, 1.0),
  'twonn': twonn(X),
  'cca': cca_rho(X, Y),
}
print(json.dumps(out))
`;

describe.skipIf(!hasSklearn)('agreement with numpy / scikit-learn on random data (1e-5)', () => {
  const n = 300;
  const k = 7;
  // X: 20 correlated units; Y: a noisy non-linear function of X's first 12 units plus 3 of its own.
  const x = gaussian(n, 20, 21);
  for (let i = 0; i < n; i++) for (let j = 1; j < 20; j++) x.data[i * 20 + j] += 0.5 * x.data[i * 20 + j - 1];
  const yOwn = gaussian(n, 3, 22);
  const y = hcat({ data: Float32Array.from({ length: n * 12 }, (_, t) => Math.tanh(x.data[Math.floor(t / 12) * 20 + (t % 12)]) + 0.3 * yOwn.data[t % (n * 3)]), rows: n, cols: 12 }, yOwn);
  let peer: Record<string, number & number[]>;

  beforeAll(async () => {
    await initBackend();
    const res = spawnSync(PY, ['-c', SCRIPT], { input: JSON.stringify({ x: Array.from(x.data), y: Array.from(y.data), n, k }), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    peer = JSON.parse(res.stdout);
  });

  it('linear CKA (feature and Gram forms) and debiased CKA equal Kornblith numpy code', async () => {
    expect(Math.abs((await linearCka(x, y)) - peer.linear)).toBeLessThan(1e-5);
    expect(Math.abs((await linearCka(x, y, { form: 'gram' })) - peer.linear_gram)).toBeLessThan(1e-5);
    expect(Math.abs((await linearCka(x, y, { debiased: true })) - peer.debiased)).toBeLessThan(1e-5);
  });

  it('RBF CKA equals gram_rbf + cka (threshold 0.5, and 1.0 debiased)', async () => {
    expect(Math.abs((await rbfCka(x, y)) - peer.rbf)).toBeLessThan(1e-5);
    expect(Math.abs((await rbfCka(x, y, { bandwidthFraction: 1, debiased: true })) - peer.rbf_debiased)).toBeLessThan(1e-5);
  });

  it('kNN indices equal sklearn NearestNeighbors exactly', async () => {
    const { indices } = await nearestNeighbors(x, k);
    expect(Array.from(indices)).toEqual(peer.knn);
  });

  it('PCA equals sklearn PCA up to component signs; participation ratio equals numpy', async () => {
    const r = await pca(x, { components: 5 });
    for (let c = 0; c < 5; c++) {
      expect(Math.abs(r.explainedVariance[c] - peer.pca_var[c]) / peer.pca_var[c]).toBeLessThan(1e-5);
      let dot = 0;
      for (let j = 0; j < 20; j++) dot += r.components.data[c * 20 + j] * peer.pca_components[c * 20 + j];
      const sign = Math.sign(dot);
      for (let j = 0; j < 20; j++) expect(Math.abs(r.components.data[c * 20 + j] - sign * peer.pca_components[c * 20 + j])).toBeLessThan(1e-5);
      for (let i = 0; i < n; i++) expect(Math.abs(r.scores.data[i * 5 + c] - sign * peer.pca_scores[i * 5 + c])).toBeLessThan(1e-4);
    }
    expect(Math.abs((await participationRatio(x)) - peer.pr) / peer.pr).toBeLessThan(1e-5);
  });

  it('shape distance equals netrep LinearMetric for alpha = 1, 0.5, 0 (zero-padded)', async () => {
    expect(Math.abs((await shapeDistance(x, y, { alpha: 1 })) - peer.shape_one)).toBeLessThan(1e-5);
    expect(Math.abs((await shapeDistance(x, y, { alpha: 0.5 })) - peer.shape_half)).toBeLessThan(1e-5);
    expect(Math.abs((await shapeDistance(x, y, { alpha: 0 })) - peer.shape_zero)).toBeLessThan(1e-4);
  });

  it("TwoNN equals skdim's fit; canonical correlations equal the QR/SVD definition", async () => {
    expect(Math.abs((await twoNn(x)).dimension - peer.twonn)).toBeLessThan(1e-5);
    const r = await cca(x, y);
    for (let i = 0; i < 15; i++) expect(Math.abs(r.rho[i] - peer.cca[i])).toBeLessThan(1e-4);
  });
});
