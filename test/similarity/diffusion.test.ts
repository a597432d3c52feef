import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';
import type { Matrix } from '../../src/data/matrix.js';
import {
  DIFFUSION_ENTROPY_EPS,
  diffusionEigenvalues,
  diffusionEntropyMemoryEstimate,
  diffusionMutualInformationSubsets,
  diffusionSpectralEntropy,
  diffusionSpectralMutualInformation,
  spectralEntropy,
} from '../../src/similarity/diffusion.js';
import { gaussian, randomOrthogonal } from './fixtures.js';

/** n points uniform in [0, 1]^d. */
function uniform(n: number, d: number, seed: number): Matrix {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: n * d }, () => rng.uniform()), rows: n, cols: d };
}

/** n standard Gaussian points in the first k of d coordinates (the rest 0). */
function gaussianIn(n: number, k: number, d: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) data[i * d + j] = rng.normal();
  return { data, rows: n, cols: d };
}

function map(m: Matrix, f: (v: number, i: number, j: number) => number): Matrix {
  return { data: Float32Array.from(m.data, (v, t) => f(v, Math.floor(t / m.cols), t % m.cols)), rows: m.rows, cols: m.cols };
}

function rotate(m: Matrix, q: Float64Array): Matrix {
  const d = m.cols;
  const out = new Float32Array(m.rows * d);
  for (let i = 0; i < m.rows; i++) {
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += m.data[i * d + k] * q[k * d + c];
      out[i * d + c] = s;
    }
  }
  return { data: out, rows: m.rows, cols: d };
}

const dse = async (x: Matrix, sigma: number, t = 1) => (await diffusionSpectralEntropy(x, { sigma, t })).entropy;

describe('diffusionSpectralEntropy: known answers (docs/methods/diffusion-entropy.md §5)', () => {
  const u = uniform(500, 16, 0);

  it('is log2 n when sigma is far below the distances (K = I), 500 points in [0,1]^16 at sigma = 0.01', async () => {
    const r = await diffusionSpectralEntropy(u, { sigma: 0.01 });
    expect(Math.abs(r.entropy - 8.9658)).toBeLessThan(1e-4);
    // p = 1/n + eps exactly, so the value is -n (1/n + eps) log2(1/n + eps), log2(500) up to 1e-12.
    const p = 1 / 500 + DIFFUSION_ENTROPY_EPS;
    expect(Math.abs(r.entropy - -500 * p * Math.log2(p))).toBeLessThan(1e-9);
    expect(r).toMatchObject({ sigma: 0.01, t: 1, rows: 500, inputRows: 500, seed: 0 });
  });

  it('goes to 0 as sigma grows past the diameter (about 0.0024 at sigma = 100) and falls monotonically with sigma', async () => {
    expect(Math.abs((await dse(u, 100)) - 0.0024)).toBeLessThan(3e-4);
    const values = [];
    for (const s of [0.1, 0.3, 1, 3, 10, 100]) values.push(await dse(u, s));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1]);
  });

  it('rises with intrinsic dimension: Gaussians in 1, 2, 4, 8, 16 of 16 dims at sigma = 1 give about 1.95, 3.74, 6.37, 8.40, 8.96', async () => {
    const expected = [1.95, 3.74, 6.37, 8.4, 8.96];
    const got = [];
    for (const [i, k] of [1, 2, 4, 8, 16].entries()) {
      got.push(await dse(gaussianIn(500, k, 16, 10 + k), 1));
      expect(Math.abs(got[i] - expected[i])).toBeLessThan(0.25); // random draws: a different sample, same law
    }
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1]);
  });

  it('a larger t lowers the entropy (the small eigenvalues are damped) and spectralEntropy is the formula', async () => {
    const x = gaussianIn(200, 3, 8, 3);
    const lambda = diffusionEigenvalues(x, null, 1);
    expect(lambda[0]).toBeCloseTo(1, 12); // the stationary eigenvalue of a diffusion operator
    const t1 = spectralEntropy(lambda, 1);
    const t3 = spectralEntropy(lambda, 3);
    expect(t3).toBeLessThan(t1);
    expect(Math.abs((await dse(x, 1, 3)) - t3)).toBeLessThan(1e-12);
    // By hand on a made-up spectrum: p = (1, 0.25, 0.25, 0.5)^2 / 1.375 + eps.
    const p = [1, 0.0625, 0.0625, 0.25].map((v) => v / 1.375 + DIFFUSION_ENTROPY_EPS);
    expect(spectralEntropy([1, -0.25, 0.25, 0.5], 2)).toBeCloseTo(-p.reduce((s, q) => s + q * Math.log2(q), 0), 14);
  });
});

describe('diffusionSpectralEntropy: invariances, subsampling, inputs', () => {
  const x = gaussian(150, 6, 7);

  it('is invariant to rotations and translations (to float32 rounding), not to scaling', async () => {
    const base = await dse(x, 2);
    expect(Math.abs((await dse(rotate(x, randomOrthogonal(6, 1)), 2)) - base)).toBeLessThan(1e-5);
    expect(Math.abs((await dse(map(x, (v, _i, j) => v + 3 * j - 5), 2)) - base)).toBeLessThan(1e-5);
    // Scaling the data and sigma together changes nothing (x2 is exact in float32); the data alone does.
    expect(Math.abs((await dse(map(x, (v) => 2 * v), 4)) - base)).toBeLessThan(1e-12);
    expect(Math.abs((await dse(map(x, (v) => 2 * v), 2)) - base)).toBeGreaterThan(0.1);
  });

  it('subsamples above maxRows with the seed: same seed, same number; another seed, another subsample', async () => {
    const a = await diffusionSpectralEntropy(x, { sigma: 2, maxRows: 100, seed: 4 });
    const b = await diffusionSpectralEntropy(x, { sigma: 2, maxRows: 100, seed: 4 });
    const c = await diffusionSpectralEntropy(x, { sigma: 2, maxRows: 100, seed: 5 });
    expect(a).toEqual(b);
    expect(a).toMatchObject({ rows: 100, inputRows: 150, seed: 4 });
    expect(c.entropy).not.toBe(a.entropy);
    expect((await diffusionSpectralEntropy(x, { sigma: 2, maxRows: 150 })).rows).toBe(150);
  });

  it('takes a tf.Tensor2D as well as a Matrix', async () => {
    await initBackend();
    const t = tf.tensor2d(x.data, [x.rows, x.cols]);
    try {
      expect((await diffusionSpectralEntropy(t, { sigma: 2 })).entropy).toBe(await dse(x, 2));
    } finally {
      t.dispose();
    }
  });

  it('rejects bad inputs and options with one-line errors naming the argument', async () => {
    const bad = async (p: Promise<unknown>, argument: RegExp) => {
      const e = await p.then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(NestlabArgumentError);
      expect((e as Error).message).toMatch(/^similarity\.diffusionSpectralEntropy: /);
      expect((e as Error).message).toMatch(argument);
      expect((e as Error).message).not.toMatch(/\n/);
    };
    await bad(diffusionSpectralEntropy(x, { sigma: 0 }), /options\.sigma/);
    await bad(diffusionSpectralEntropy(x, { sigma: -1 }), /options\.sigma/);
    await bad(diffusionSpectralEntropy(x, { t: 0 }), /options\.t/);
    await bad(diffusionSpectralEntropy(x, { t: Number.NaN }), /options\.t/);
    await bad(diffusionSpectralEntropy(x, { maxRows: 1 }), /options\.maxRows/);
    await bad(diffusionSpectralEntropy(x, { seed: 0.5 }), /options\.seed/);
    await bad(diffusionSpectralEntropy(x, { sigam: 1 } as never), /options\.sigam/);
    await bad(diffusionSpectralEntropy({ data: new Float32Array(3), rows: 1, cols: 3 }), /X\.rows/);
    await bad(diffusionSpectralEntropy({ data: Float32Array.of(0, Number.NaN), rows: 2, cols: 1 }), /X/);
    await bad(diffusionSpectralEntropy(x, { memoryBudget: 1000 }), /options\.memoryBudget.*maxRows/);
    expect(diffusionEntropyMemoryEstimate(10000, 100)).toBe(16e8 + 24e4 + 8e6);
  });
});

describe('diffusionSpectralMutualInformation', () => {
  it('is about 0 for labels independent of Z', async () => {
    const z = uniform(400, 8, 1);
    const rng = new Rng(2);
    const labels = Int32Array.from({ length: 400 }, () => rng.int(4));
    const r = await diffusionSpectralMutualInformation(z, labels, { sigma: 0.5 });
    expect(r.entropy).toBeGreaterThan(5); // a rich representation...
    expect(Math.abs(r.mutualInformation)).toBeLessThan(0.05); // ...that says nothing about the labels
  });

  it('is log2(classes) when every class is a point far from the others, whatever the class sizes (not H(Y))', async () => {
    // Each class collapses to (almost) one point: K of the class is ~11^T/m, one eigenvalue 1, DSE ~0.
    // A random subset of the same size holds every class: one eigenvalue 1 per class, DSE ~log2(4),
    // whatever the class sizes, since each block of K has trace ~1. So DSMI -> log2(4) = 2, while
    // H(Y) of these unbalanced classes is lower (about 1.85 bits).
    const rng = new Rng(3);
    const sizes = [200, 100, 60, 40];
    const labels = Int32Array.from(sizes.flatMap((s, c) => Array<number>(s).fill(c)));
    const z = { data: new Float32Array(400 * 4), rows: 400, cols: 4 };
    labels.forEach((c, i) => {
      for (let j = 0; j < 4; j++) z.data[i * 4 + j] = (j === c ? 50 : 0) + 1e-3 * rng.normal();
    });
    const r = await diffusionSpectralMutualInformation(z, labels, { sigma: 1 });
    const hy = -sizes.reduce((s, m) => s + (m / 400) * Math.log2(m / 400), 0);
    expect(Math.abs(r.mutualInformation - 2)).toBeLessThan(0.01);
    expect(hy).toBeLessThan(1.9);
    for (const c of r.classes) expect(c.conditionalEntropy).toBeLessThan(0.01);
    expect(r.classes.map((c) => [c.label, c.rows, c.weight])).toEqual(sizes.map((s, c) => [c, s, s / 400]));
  });

  it('adds up: mutualInformation = Σ weight (entropy − conditionalEntropy); seeded; metadata travels', async () => {
    const z = gaussian(240, 5, 9);
    const labels = Int32Array.from({ length: 240 }, (_, i) => (z.data[i * 5] > 0 ? 1 : 0) + (z.data[i * 5 + 1] > 0 ? 2 : 0));
    const a = await diffusionSpectralMutualInformation(z, labels, { sigma: 1.5, t: 2, repetitions: 3, seed: 7 });
    expect(a).toEqual(await diffusionSpectralMutualInformation(z, labels, { sigma: 1.5, t: 2, repetitions: 3, seed: 7 }));
    expect(a).toMatchObject({ sigma: 1.5, t: 2, repetitions: 3, seed: 7, rows: 240 });
    const sum = a.classes.reduce((s, c) => s + c.weight * (c.entropy - c.conditionalEntropy), 0);
    expect(a.mutualInformation).toBeCloseTo(sum, 12);
    expect(a.mutualInformation).toBeGreaterThan(0.3); // labels from the signs of two coordinates
    // The conditional entropies are not random; only the subsets Z* depend on the seed.
    const b = await diffusionSpectralMutualInformation(z, labels, { sigma: 1.5, t: 2, repetitions: 3, seed: 8 });
    expect(b.classes.map((c) => c.conditionalEntropy)).toEqual(a.classes.map((c) => c.conditionalEntropy));
    expect(b.entropy).not.toBe(a.entropy);
  });

  it('rejects bad labels and options naming the argument', async () => {
    const z = gaussian(20, 3, 1);
    const labels = Int32Array.from({ length: 20 }, (_, i) => i % 2);
    const bad = async (p: Promise<unknown>, argument: RegExp) => {
      const e = await p.then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(NestlabArgumentError);
      expect((e as Error).message).toMatch(/^similarity\.diffusionSpectralMutualInformation: /);
      expect((e as Error).message).toMatch(argument);
      expect((e as Error).message).not.toMatch(/\n/);
    };
    await bad(diffusionSpectralMutualInformation(z, labels.subarray(0, 19)), /labels/);
    await bad(diffusionSpectralMutualInformation(z, new Int32Array(20)), /labels.*two classes/);
    await bad(diffusionSpectralMutualInformation(z, Int32Array.from(labels, (c, i) => (i === 0 ? 5 : c))), /labels.*at least 2 rows.*class 5/);
    await bad(diffusionSpectralMutualInformation(z, Array.from(labels, (c) => c + 0.5)), /labels\[0\]/);
    await bad(diffusionSpectralMutualInformation(z, labels, { repetitions: 0 }), /options\.repetitions/);
    await bad(diffusionSpectralMutualInformation(z, labels, { sigma: Infinity }), /options\.sigma/);
    await bad(diffusionSpectralMutualInformation(z, labels, { nullDraws: 3 } as never), /options\.nullDraws/);
  });
});

// ---- NumPy peer: the reference formula (Liao et al.'s compute_diffusion_matrix + DSE) in float64 ----

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

const SCRIPT = `
import json, sys
import numpy as np
inp = json.loads(sys.stdin.read())
X = np.array(inp['x'], dtype=np.float32).astype(np.float64).reshape(inp['n'], -1)

def dse(x, sigma, t):
    sq = np.sum(x * x, 1)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0))
    G = (1 / (sigma * np.sqrt(2 * np.pi))) * np.exp((-D ** 2) / (2 * sigma ** 2))
    Deg = np.diag(1 / np.sum(G, axis=1) ** 0.5)
    K = Deg @ G @ Deg
    ev = np.abs(np.linalg.eigvalsh(K)) ** t
    prob = ev / ev.sum() + np.finfo(float).eps
    return float(-np.sum(prob * np.log2(prob)))

out = {'dse': [dse(X, s, t) for s, t in inp['params']], 'dsmi': []}
for c in inp['subsets']:
    own = dse(X[c['own']], inp['sigma'], inp['t'])
    rand = float(np.mean([dse(X[r], inp['sigma'], inp['t']) for r in c['random']]))
    out['dsmi'].append([own, rand])
print(json.dumps(out))
`;

describe.skipIf(!hasNumpy)('agreement with the reference formula in NumPy (np.linalg.eigvalsh, float64)', () => {
  const n = 180;
  // Correlated, anisotropic data so that every sigma below sees a different spectrum.
  const x = gaussian(n, 12, 31);
  for (let i = 0; i < n; i++) for (let j = 1; j < 12; j++) x.data[i * 12 + j] = 0.7 * x.data[i * 12 + j - 1] + x.data[i * 12 + j] / (j + 1);
  const params: [number, number][] = [[0.3, 1], [1, 1], [1, 2], [3, 1], [3, 0.5], [10, 1]];
  const labels = Int32Array.from({ length: n }, (_, i) => (x.data[i * 12] > 0.5 ? 2 : x.data[i * 12] > -0.5 ? 1 : 0));
  const subsets = diffusionMutualInformationSubsets(labels, 10000, 3, 11);
  let peer: { dse: number[]; dsmi: [number, number][] };

  beforeAll(() => {
    const payload = {
      x: Array.from(x.data),
      n,
      params,
      sigma: 1,
      t: 1,
      subsets: subsets.map((s) => ({ own: Array.from(s.own), random: s.random.map((r) => Array.from(r)) })),
    };
    const res = spawnSync(PY, ['-c', SCRIPT], { input: JSON.stringify(payload), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    peer = JSON.parse(res.stdout);
  });

  it('DSE equals the reference to 1e-6 for several sigma and t', async () => {
    for (const [k, [sigma, t]] of params.entries()) {
      expect(Math.abs((await diffusionSpectralEntropy(x, { sigma, t })).entropy - peer.dse[k])).toBeLessThan(1e-6);
    }
  });

  it('DSMI: per class, DSE(Z | Y = c) and the mean DSE of the same random subsets equal the reference', async () => {
    const r = await diffusionSpectralMutualInformation(x, labels, { sigma: 1, repetitions: 3, seed: 11 });
    expect(r.classes.length).toBe(3);
    let mi = 0;
    for (const [k, c] of r.classes.entries()) {
      expect(Math.abs(c.conditionalEntropy - peer.dsmi[k][0])).toBeLessThan(1e-6);
      expect(Math.abs(c.entropy - peer.dsmi[k][1])).toBeLessThan(1e-6);
      mi += c.weight * (peer.dsmi[k][1] - peer.dsmi[k][0]);
    }
    expect(Math.abs(r.mutualInformation - mi)).toBeLessThan(1e-6);
  });
});
