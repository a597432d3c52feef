import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';
import type { Matrix } from '../../src/data/matrix.js';
import { trustworthiness, umapEmbed } from '../../src/plot/umap.js';

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasSklearn = spawnSync(PY, ['-c', 'import sklearn.manifold'], { encoding: 'utf8' }).status === 0;

/** Three Gaussian clusters in 10-D, 40 points each. */
function clusters(seed: number): Matrix {
  const rng = new Rng(seed);
  const n = 120;
  const d = 10;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = rng.normal() + (j === Math.floor(i / 40) ? 6 : 0);
  return { data, rows: n, cols: d };
}

beforeAll(async () => {
  await initBackend();
});

describe('umapEmbed (seeded umap-js)', () => {
  it('gives the same embedding for the same seed, a different one for another seed', async () => {
    const x = clusters(1);
    const a = await umapEmbed(x, { seed: 3, nEpochs: 100 });
    const b = await umapEmbed(x, { seed: 3, nEpochs: 100 });
    const c = await umapEmbed(x, { seed: 4, nEpochs: 100 });
    expect(a.rows).toBe(120);
    expect(a.cols).toBe(2);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
    expect(await trustworthiness(x, a, { k: 5 })).toBeGreaterThan(0.85);
  });

  it("is also deterministic with umap-js's own NN-descent, and leaks no tensors", async () => {
    const x = clusters(2);
    const before = tf.memory().numTensors;
    const a = await umapEmbed(x, { seed: 1, nEpochs: 50, knn: 'nndescent', nNeighbors: 10 });
    const b = await umapEmbed(x, { seed: 1, nEpochs: 50, knn: 'nndescent', nNeighbors: 10 });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates its options by name', async () => {
    const x = clusters(1);
    const arg = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as NestlabArgumentError).argument;
    expect(await arg(umapEmbed(x, { nNeighbors: 120 }))).toBe('options.nNeighbors');
    expect(await arg(umapEmbed(x, { minDist: -0.1 }))).toBe('options.minDist');
    expect(await arg(umapEmbed(x, { nEpochs: 0 }))).toBe('options.nEpochs');
    expect(await arg(umapEmbed(x, { neighbors: 5 } as object))).toBe('options.neighbors');
  });
});

describe('trustworthiness (Venna & Kaski)', () => {
  it('is 1 for an embedding that keeps every neighborhood (a rotated copy)', async () => {
    const x = clusters(5);
    expect(await trustworthiness(x, x)).toBe(1);
  });

  it('hand case: 1-D points [0, 1, 3, 7] embedded at [0, 3, 1, 7] with k = 1 gives 0.5', async () => {
    // Embedded nearest neighbors: 0->2, 1->2, 2->0, 3->1; their ranks in X are all 2 (not 1),
    // so sum (r - k) = 4 and T = 1 - 2 * 4 / (n k (2n - 3k - 1)) = 1 - 8 / 16 = 0.5.
    const x = { data: Float32Array.from([0, 1, 3, 7]), rows: 4, cols: 1 };
    const e = { data: Float32Array.from([0, 3, 1, 7]), rows: 4, cols: 1 };
    expect(await trustworthiness(x, e, { k: 1 })).toBeCloseTo(0.5, 12);
  });

  it.skipIf(!hasSklearn)('equals sklearn.manifold.trustworthiness on a random projection (1e-9)', async () => {
    const x = clusters(6);
    const rng = new Rng(7);
    const w = rng.normalArray(20);
    const e = { data: new Float32Array(240), rows: 120, cols: 2 };
    for (let i = 0; i < 120; i++) for (let c = 0; c < 2; c++) for (let j = 0; j < 10; j++) e.data[i * 2 + c] += x.data[i * 10 + j] * w[j * 2 + c];
    const script = `
import json, sys
import numpy as np
from sklearn.manifold import trustworthiness
inp = json.loads(sys.stdin.read())
X = np.array(inp['x'], dtype=np.float32).astype(np.float64).reshape(120, 10)
E = np.array(inp['e'], dtype=np.float32).astype(np.float64).reshape(120, 2)
print(json.dumps([trustworthiness(X, E, n_neighbors=k) for k in (1, 5, 12)]))
`;
    const res = spawnSync(PY, ['-c', script], { input: JSON.stringify({ x: Array.from(x.data), e: Array.from(e.data) }), encoding: 'utf8' });
    if (res.status !== 0) throw new Error(res.stderr);
    const want = JSON.parse(res.stdout) as number[];
    const got = [await trustworthiness(x, e, { k: 1 }), await trustworthiness(x, e, { k: 5 }), await trustworthiness(x, e, { k: 12 })];
    for (let i = 0; i < 3; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-9);
    expect(got[1]).toBeLessThan(1);
  });

  it('rejects k >= n / 2 and mismatched rows', async () => {
    const x = clusters(1);
    const e = await trustworthiness(x, x, { k: 60 }).catch((z) => z);
    expect(e.argument).toBe('options.k');
    const f = await trustworthiness(x, { data: new Float32Array(10), rows: 5, cols: 2 }).catch((z) => z);
    expect(f.argument).toBe('embedding.rows');
  });
});
