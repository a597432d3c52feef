import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { deconfoundedCka, deconfoundedCkaParts, linearCka } from '../../src/api/similarity.js';
import { createMlp, layerActivations } from '../../src/models/mlp.js';
import { loadMnist } from '../../src/data/mnist.js';
import type { Matrix } from '../../src/data/matrix.js';
import { gaussian, randomOrthogonal } from './fixtures.js';

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** x (n x d) times a d x d matrix, plus noise of sd `noise` (seeded). */
function mapped(x: Matrix, m: Float64Array, scale: number, noise: number, seed: number): Matrix {
  const d = x.cols;
  const e = gaussian(x.rows, d, seed, noise);
  const out = new Float32Array(x.rows * d);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x.data[i * d + k] * m[k * d + j];
      out[i * d + j] = scale * s + e.data[i * d + j];
    }
  }
  return { data: out, rows: x.rows, cols: d };
}

// The algorithm as co-author Kumar coded it (simtorch DeltaCKA): normalize, Grams, OLS of every
// Gram entry on [1, input Gram entry], H R H, then the cosine of the residual Grams.
const SCRIPT = `
import json, sys
import numpy as np
inp = json.loads(sys.stdin.read())
n = inp['n']
def load(name):
    return np.array(inp[name], dtype=np.float32).astype(np.float64).reshape(n, -1)
def normalize(a):
    a = a - a.mean(0, keepdims=True)
    return a / np.linalg.norm(a)
X, Y, X0 = normalize(load('x')), normalize(load('y')), normalize(load('x0'))
K0 = (X0 @ X0.T).reshape(-1, 1)
A = np.hstack([np.ones_like(K0), K0])
H = np.eye(n) - np.ones((n, n)) / n
def residual(K):
    beta = np.linalg.solve(A.T @ A, A.T @ K.reshape(-1, 1))
    return H @ (K - (A @ beta).reshape(n, n)) @ H
Rx, Ry = residual(X @ X.T), residual(Y @ Y.T)
print(json.dumps({'dcka': float(np.sum(Rx * Ry) / np.sqrt(np.sum(Rx * Rx) * np.sum(Ry * Ry)))}))
`;

describe('similarity.deconfoundedCka', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('gives near 0 for two layers that share only the input structure, where plain CKA is near 1', async () => {
    // X and Y are rotated, scaled copies of the input with independent noise: their Grams are
    // the input Gram plus unrelated noise.
    const input = gaussian(200, 10, 1);
    const x = mapped(input, randomOrthogonal(10, 2), 3, 0.4, 3);
    const y = mapped(input, randomOrthogonal(10, 4), 0.5, 0.07, 5);
    const parts = await deconfoundedCkaParts(x, y, input);
    expect(parts.cka).toBeGreaterThan(0.8);
    expect(Math.abs(parts.deconfoundedCka)).toBeLessThan(0.1);
    expect(parts.ckaXInput).toBeGreaterThan(0.8);
  });

  it('is 1 for identical representations and stays high for a shared signal beyond the input', async () => {
    const input = gaussian(150, 8, 6);
    const own = gaussian(150, 4, 7);
    const x: Matrix = { data: new Float32Array(150 * 12), rows: 150, cols: 12 };
    for (let i = 0; i < 150; i++) {
      for (let j = 0; j < 8; j++) x.data[i * 12 + j] = input.data[i * 8 + j];
      for (let j = 0; j < 4; j++) x.data[i * 12 + 8 + j] = 2 * own.data[i * 4 + j];
    }
    expect(await deconfoundedCka(x, x, input)).toBeCloseTo(1, 10);
    // Y: the same shared signal, rotated, with the input part replaced by fresh noise.
    const y = mapped(x, randomOrthogonal(12, 8), 1, 0.3, 9);
    const parts = await deconfoundedCkaParts(x, y, input);
    expect(parts.deconfoundedCka).toBeGreaterThan(0.8);
  });

  it('equals the partial correlation of the CKAs (the closed form the code uses, checked on its parts)', async () => {
    const input = gaussian(120, 6, 10);
    const x = mapped(input, randomOrthogonal(6, 11), 1, 1, 12);
    const y = mapped(x, randomOrthogonal(6, 13), 1, 1, 14);
    const d = await deconfoundedCka(x, y, input);
    const cxy = await linearCka(x, y);
    const cx0 = await linearCka(x, input);
    const cy0 = await linearCka(y, input);
    expect(d).toBeCloseTo((cxy - cx0 * cy0) / Math.sqrt((1 - cx0 ** 2) * (1 - cy0 ** 2)), 12);
  });

  it('is invariant to rotating, scaling and shifting any argument', async () => {
    const input = gaussian(100, 5, 15);
    const x = mapped(input, randomOrthogonal(5, 16), 1, 0.8, 17);
    const y = mapped(x, randomOrthogonal(5, 18), 1, 0.8, 19);
    const d = await deconfoundedCka(x, y, input);
    const shift = (m: Matrix, s: number) => ({ ...m, data: m.data.map((v) => v * s + 7) });
    expect(await deconfoundedCka(mapped(x, randomOrthogonal(5, 20), 4, 0, 0), shift(y, 0.1), mapped(input, randomOrthogonal(5, 21), 2, 0, 0))).toBeCloseTo(d, 5);
  });

  it('is near 0 between the first layers of two random-weight MLPs on MNIST, where plain CKA is high', async () => {
    // The paper's motivating case (Cui et al. 2022): untrained networks look alike under CKA
    // because each layer inherits the pixels' similarity structure.
    const { test } = loadMnist({ seed: 0, limit: 1500 });
    const pixels: Matrix = { data: test.x.data.slice(0, 300 * 784), rows: 300, cols: 784 };
    const nets = [3, 4].map((seed) => createMlp({ inputDim: 784, hidden: [128, 128], outputDim: 10, seed }));
    try {
      const [[a1], [b1]] = await Promise.all(nets.map((net) => layerActivations(net, pixels)));
      const parts = await deconfoundedCkaParts(a1, b1, pixels);
      expect(parts.cka).toBeGreaterThan(0.6);
      expect(Math.abs(parts.deconfoundedCka)).toBeLessThan(0.25);
    } finally {
      for (const net of nets) net.dispose();
    }
  });

  it('refuses a representation whose similarity is the input\'s, and names the argument', async () => {
    const input = gaussian(50, 4, 22);
    const twice = { ...input, data: input.data.map((v) => 2 * v) };
    const other = gaussian(50, 3, 23);
    await expect(deconfoundedCka(twice, other, input)).rejects.toThrow(/similarity\.deconfoundedCka: X must be a representation whose similarity structure is not a linear image/);
    await expect(deconfoundedCka(other, other, gaussian(49, 4, 1))).rejects.toThrow(/input\.rows must be equal to X\.rows = 50/);
    await expect(deconfoundedCka(other, other, input, { budget: 1 } as never)).rejects.toThrow(/budget/);
  });
});

describe.skipIf(!hasNumpy)('similarity.deconfoundedCka against the reference algorithm in numpy (1e-6)', () => {
  it('agrees on random data where the input explains part of each representation', async () => {
    await initBackend();
    const n = 150;
    const input = gaussian(n, 12, 30);
    const x = mapped(input, randomOrthogonal(12, 31), 1, 1.2, 32);
    const xt = { ...x, data: x.data.map((v) => Math.tanh(v)) };
    const y = mapped(xt, randomOrthogonal(12, 33), 2, 1.5, 34);
    const res = spawnSync(PY, ['-c', SCRIPT], { input: JSON.stringify({ n, x: Array.from(xt.data), y: Array.from(y.data), x0: Array.from(input.data) }), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    const peer = JSON.parse(res.stdout) as { dcka: number };
    const d = await deconfoundedCka(xt, y, input);
    expect(Math.abs(d - peer.dcka)).toBeLessThan(1e-6);
    expect(await linearCka(xt, input)).toBeGreaterThan(0.3); // the input explains part of X: the regression matters
  });
});
