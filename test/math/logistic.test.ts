import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { balancedWeights, csrDesign, denseDesign, fitLogisticL1, fitLogisticL2, logisticScores } from '../../src/math/logistic.js';

describe('logistic regression by hand', () => {
  it('two mirrored points: w = b = 0 is never optimal, the fit is symmetric and matches the closed form', () => {
    // x = ±1, y = (x > 0). F(w) = log(1 + e^{-w}) + w²/(2C·2) → F'(w) = −σ(−w) + w/(2C) = 0, b = 0 by symmetry
    const fit = fitLogisticL2(denseDesign(Float64Array.from([1, -1]), 2, 1), Uint8Array.from([1, 0]), 1);
    expect(fit.intercept).toBeCloseTo(0, 9);
    const w = fit.coef[0];
    expect(-1 / (1 + Math.exp(w)) + w / 2).toBeCloseTo(0, 9);
    expect(fit.converged).toBe(true);
  });

  it('with a huge L1 penalty every weight is 0 and the intercept is the (weighted) log odds', () => {
    const x = denseDesign(Float64Array.from([1, 2, 3, 4, 5, 6]), 6, 1);
    const y = Uint8Array.from([0, 0, 0, 0, 1, 1]);
    const fit = fitLogisticL1(x, y, 10);
    expect(fit.coef[0]).toBe(0);
    expect(fit.intercept).toBeCloseTo(Math.log(2 / 4), 6);
    // balanced weights (n / (2 n_c)) make both classes weigh the same: intercept 0
    const bal = fitLogisticL1(x, y, 10, { sampleWeight: balancedWeights(y) });
    expect(Array.from(balancedWeights(y))).toEqual([0.75, 0.75, 0.75, 0.75, 1.5, 1.5]);
    expect(bal.intercept).toBeCloseTo(0, 6);
  });

  it('a CSR design gives the same fit as the dense one', () => {
    const dense = Float64Array.from([1, 0, 0, 2, 0, 0, 3, 1, 0, 0.5, 0, 4]);
    const y = Uint8Array.from([1, 0, 1, 0]);
    const a = fitLogisticL2(denseDesign(dense, 4, 3), y, 1);
    const csr = csrDesign(Int32Array.from([0, 1, 2, 4, 6]), Int32Array.from([0, 0, 1, 0, 2, 0]), Float64Array.from([1, 2, 1, 3, 4, 0.5]), 3);
    const b = fitLogisticL2(csr, y, 1);
    for (let j = 0; j < 3; j++) expect(b.coef[j]).toBeCloseTo(a.coef[j], 8);
    expect(b.intercept).toBeCloseTo(a.intercept, 8);
    expect(Array.from(logisticScores(csr, b)).map((v) => v > 0)).toEqual(Array.from(logisticScores(denseDesign(dense, 4, 3), a)).map((v) => v > 0));
  });
});

// Cross-check against Debian's scikit-learn (/usr/bin/python3) on random data; skipped if absent.
const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasSklearn = spawnSync(PY, ['-c', 'import sklearn.linear_model'], { encoding: 'utf8' }).status === 0;

const SCRIPT = `
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
inp = json.loads(sys.stdin.read())
x = np.array(inp['x'], dtype=np.float64).reshape(inp['n'], inp['d'])
y = np.array(inp['y'])
out = {}
for name, kw in [('c1', dict(C=1.0)), ('c01bal', dict(C=0.1, class_weight='balanced')), ('c10', dict(C=10.0))]:
    m = LogisticRegression(penalty='l2', solver='lbfgs', tol=1e-12, max_iter=100000, **kw).fit(x, y)
    out[name] = {'coef': m.coef_[0].tolist(), 'intercept': float(m.intercept_[0]), 'acc': float((m.predict(x) == y).mean())}
# saga minimizes C·Σℓ + ‖w‖₁ with an unpenalized intercept: λ = 1/(C n) in our scaling
m = LogisticRegression(penalty='l1', solver='saga', C=0.5, tol=1e-12, max_iter=1000000).fit(x, y)
out['l1'] = {'coef': m.coef_[0].tolist(), 'intercept': float(m.intercept_[0])}
print(json.dumps(out))
`;

describe.skipIf(!hasSklearn)('agreement with scikit-learn LogisticRegression on random data', () => {
  const n = 300;
  const d = 12;
  let x: Float64Array;
  let y: Uint8Array;
  let peer: Record<string, { coef: number[]; intercept: number; acc?: number }>;
  beforeAll(() => {
    const rng = new Rng(5);
    x = new Float64Array(n * d).map(() => rng.normal() + 0.3);
    const wTrue = Array.from({ length: d }, (_, j) => (j < 4 ? 1.5 - j * 0.5 : 0));
    y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let z = -0.5;
      for (let j = 0; j < d; j++) z += x[i * d + j] * wTrue[j];
      y[i] = rng.uniform() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    const res = spawnSync(PY, ['-c', SCRIPT], { input: JSON.stringify({ x: Array.from(x), y: Array.from(y), n, d }), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    peer = JSON.parse(res.stdout);
  }, 60_000);

  const worst = (a: ArrayLike<number>, b: number[]) => b.reduce((m, v, j) => Math.max(m, Math.abs(a[j] - v) / Math.max(1, Math.abs(v))), 0);

  // scikit-learn 1.2's lbfgs stops on scipy's ftol after ~10 iterations whatever `tol` says, with
  // max |∂F| ≈ 2e-6 in our scaling, so its coefficients are off by ~1e-5 (scipy BFGS to gtol 1e-12
  // agrees with ours to 1e-8): hence 1e-4, not tighter.
  it('L2 (lbfgs): coefficients and intercept to 1e-4, training accuracy equal, for C = 1, 10 and balanced C = 0.1', () => {
    const X = denseDesign(x, n, d);
    for (const [name, c, balanced] of [['c1', 1, false], ['c10', 10, false], ['c01bal', 0.1, true]] as const) {
      const fit = fitLogisticL2(X, y, c, balanced ? { sampleWeight: balancedWeights(y) } : {});
      expect(fit.converged).toBe(true);
      expect(worst(fit.coef, peer[name].coef)).toBeLessThan(1e-4);
      expect(Math.abs(fit.intercept - peer[name].intercept)).toBeLessThan(1e-4);
      const z = logisticScores(X, fit);
      let correct = 0;
      for (let i = 0; i < n; i++) correct += (z[i] > 0 ? 1 : 0) === y[i] ? 1 : 0;
      expect(correct / n).toBe(peer[name].acc);
    }
  });

  it('L1 (saga, C = 0.5 ≡ λ = 1/(C n)): coefficients and intercept to 1e-4, the same zero pattern', () => {
    const fit = fitLogisticL1(denseDesign(x, n, d), y, 1 / (0.5 * n), { maxIter: 20000, tol: 1e-10 });
    expect(worst(fit.coef, peer.l1.coef)).toBeLessThan(1e-4);
    expect(Math.abs(fit.intercept - peer.l1.intercept)).toBeLessThan(1e-4);
    expect(Array.from(fit.coef).map((v) => Math.abs(v) > 1e-6)).toEqual(peer.l1.coef.map((v) => Math.abs(v) > 1e-6));
  });
});
