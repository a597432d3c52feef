import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { mutualKnn, mutualKnnAlignment } from '../../src/api/similarity.js';
import { outlierClipValue } from '../../src/similarity/knn.js';
import type { Matrix } from '../../src/data/matrix.js';
import { gaussian } from './fixtures.js';

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** x with noise of sd `noise` added (a seeded copy). */
const noisy = (x: Matrix, noise: number, seed: number): Matrix => {
  const e = gaussian(x.rows, x.cols, seed, noise);
  return { ...x, data: x.data.map((v, i) => v + e.data[i]) };
};

beforeAll(async () => {
  await initBackend();
});

describe('similarity.mutualKnnAlignment', () => {
  it('finds the layer pair that shares the most neighborhoods, and scores it as mutualKnn does without clipping', async () => {
    const base = gaussian(120, 6, 1);
    const a = [gaussian(120, 6, 2), noisy(base, 0.1, 3)];
    const b = [gaussian(120, 5, 4), gaussian(120, 6, 5), noisy(base, 0.1, 6)];
    const r = await mutualKnnAlignment(a, b, { k: 5, quantile: 1 });
    expect([r.layerA, r.layerB]).toEqual([1, 2]);
    expect(r.score).toBeCloseTo(await mutualKnn(a[1], b[2], { k: 5 }), 12);
    expect(r.scores).toHaveLength(6);
    expect(r.scores[0]).toBeLessThan(0.2); // independent layers: about k / (n − 1)
    expect(r.clipA).toBe(Infinity);
    expect((await mutualKnnAlignment([base], [base], { k: 5 })).score).toBe(1);
  });

  it('clips at the mean over stimuli of each stimulus\'s quantile of |x| over all its layers', () => {
    // Row 0 has |x| = 1..10 over two layers, row 1 is 10x that: quantile 0.5 is 5.5 and 55.
    const l1: Matrix = { data: Float32Array.from([1, 2, 3, 4, 5, 10, 20, 30, 40, 50]), rows: 2, cols: 5 };
    const l2: Matrix = { data: Float32Array.from([-6, 7, -8, 9, 10, 60, -70, 80, 90, -100]), rows: 2, cols: 5 };
    expect(outlierClipValue([l1, l2], 0.5)).toBeCloseTo((5.5 + 55) / 2, 12);
    expect(outlierClipValue([l1, l2], 1)).toBe(Infinity);
  });

  it('refuses empty lists, row mismatches and a quantile outside (0, 1], naming them', async () => {
    const x = gaussian(20, 3, 7);
    await expect(mutualKnnAlignment([], [x])).rejects.toThrow(/similarity\.mutualKnnAlignment: layersA must be a non-empty array/);
    await expect(mutualKnnAlignment([x], [gaussian(19, 3, 8)])).rejects.toThrow(/layersB\[0\]\.rows must be 20/);
    await expect(mutualKnnAlignment([x], [x], { quantile: 0 })).rejects.toThrow(/options\.quantile must be a number in \(0, 1\]/);
  });
});

describe.skipIf(!hasNumpy)('similarity.mutualKnnAlignment against platonic-rep\'s prepare_features + compute_score in numpy', () => {
  it('gives the same best score and layer pair on random two-model data', async () => {
    const n = 150;
    const base = gaussian(n, 8, 10);
    const a = [noisy(base, 1.5, 11), noisy(base, 0.6, 12)];
    const b = [noisy(base, 0.8, 13), gaussian(n, 8, 14), noisy(base, 2, 15)];
    // A heavy-tailed feature, so the clipping matters.
    for (let i = 0; i < n; i++) a[0].data[i * 8] *= 25;
    const script = `
import json, sys
import numpy as np
inp = json.loads(sys.stdin.read())
n, k = inp['n'], inp['k']
def load(layers):
    return [np.array(l, dtype=np.float32).astype(np.float64).reshape(n, -1) for l in layers]
def prepare(layers, q):
    flat = np.abs(np.concatenate(layers, 1))
    c = np.quantile(flat, q, axis=1).mean()
    return [np.clip(l, -c, c) for l in layers]
def knn(x):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = x @ x.T
    np.fill_diagonal(s, -1e8)
    return np.argsort(-s, axis=1, kind='stable')[:, :k]
def mutual(x, y):
    a, b = knn(x), knn(y)
    return float(np.mean([len(set(a[i]) & set(b[i])) / k for i in range(n)]))
A, B = prepare(load(inp['a']), 0.95), prepare(load(inp['b']), 0.95)
scores = [[mutual(x, y) for y in B] for x in A]
print(json.dumps(scores))`;
    const res = spawnSync(PY, ['-c', script], { input: JSON.stringify({ n, k: 10, a: a.map((m) => Array.from(m.data)), b: b.map((m) => Array.from(m.data)) }), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    const peer = JSON.parse(res.stdout) as number[][];
    const r = await mutualKnnAlignment(a, b);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(r.scores[i * 3 + j]).toBeCloseTo(peer[i][j], 10);
    const best = Math.max(...peer.flat());
    expect(r.score).toBeCloseTo(best, 10);
    expect(Number.isFinite(r.clipA)).toBe(true);
  });
});
