import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { loadBlas } from '../../src/backend/blas.js';
import { Rng } from '../../src/backend/rng.js';
import { tf } from '../../src/backend/tf.js';
import type { Matrix } from '../../src/data/matrix.js';
import { ScoreBlocks, knnSearch } from '../../src/similarity/knn.js';

beforeAll(async () => {
  await initBackend();
});

/** n x d data with many exact ties: small integers, a shared offset, and every 7th row a duplicate of an earlier one. */
function tiedData(n: number, d: number, seed: number, offset = 0): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const src = i % 7 === 6 ? rng.int(i) : i;
    for (let c = 0; c < d; c++) data[i * d + c] = src === i ? offset + rng.int(5) - 2 : data[src * d + c];
  }
  return { data, rows: n, cols: d };
}

function gaussianData(n: number, d: number, seed: number, offset = 0): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) data[i] = offset + rng.normal();
  return { data, rows: n, cols: d };
}

/** Brute force: every distance in Float64, sorted by (distance, index). */
function bruteForce(db: Matrix, q: Matrix | null, k: number, metric: 'euclidean' | 'cosine'): { indices: number[]; distances: number[] } {
  const qs = q ?? db;
  const d = db.cols;
  const norm = (m: Matrix, i: number) => Math.sqrt(Array.from(m.data.subarray(i * d, (i + 1) * d)).reduce((s, v) => s + v * v, 0));
  const indices: number[] = [];
  const distances: number[] = [];
  for (let i = 0; i < qs.rows; i++) {
    const all: { j: number; dist: number }[] = [];
    for (let j = 0; j < db.rows; j++) {
      if (q === null && j === i) continue;
      let dist: number;
      if (metric === 'euclidean') {
        let s = 0;
        for (let c = 0; c < d; c++) s += (qs.data[i * d + c] - db.data[j * d + c]) ** 2;
        dist = Math.sqrt(s);
      } else {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += qs.data[i * d + c] * db.data[j * d + c];
        const ni = norm(qs, i);
        const nj = norm(db, j);
        dist = 1 - (ni > 0 && nj > 0 ? dot / (ni * nj) : 0);
      }
      all.push({ j, dist });
    }
    all.sort((a, b) => a.dist - b.dist || a.j - b.j);
    for (let c = 0; c < k; c++) {
      indices.push(all[c].j);
      distances.push(all[c].dist);
    }
  }
  return { indices, distances };
}

describe('knnSearch against a brute-force reference', () => {
  const cases: [string, Matrix, number][] = [
    ['ties and duplicates', tiedData(300, 4, 1), 10],
    ['ties and duplicates far from the origin', tiedData(250, 3, 2, 1000), 7],
    ['Gaussian data far from the origin (float32 cancellation)', gaussianData(400, 16, 3, 300), 15],
    ['a block of identical rows larger than k + margin', { data: new Float32Array(60 * 3).fill(1), rows: 60, cols: 3 }, 5],
  ];
  for (const [name, x, k] of cases) {
    for (const metric of ['euclidean', 'cosine'] as const) {
      it(`${name}, ${metric}: same indices and distances`, async () => {
        const got = await knnSearch(x, null, k, metric);
        const want = bruteForce(x, null, k, metric);
        expect(Array.from(got.indices)).toEqual(want.indices);
        expect(Array.from(got.distances)).toEqual(want.distances);
      });
    }
  }

  it('with separate queries (and zero rows, for cosine)', async () => {
    const db = tiedData(200, 5, 4);
    const q = tiedData(50, 5, 5);
    q.data.fill(0, 0, 5);
    for (const metric of ['euclidean', 'cosine'] as const) {
      const got = await knnSearch(db, q, 12, metric);
      const want = bruteForce(db, q, 12, metric);
      expect(Array.from(got.indices)).toEqual(want.indices);
      expect(Array.from(got.distances)).toEqual(want.distances);
    }
  });

  it('k = n - 1 returns every other row, in order', async () => {
    const x = tiedData(30, 2, 6);
    const got = await knnSearch(x, null, 29, 'euclidean');
    expect(Array.from(got.indices)).toEqual(bruteForce(x, null, 29, 'euclidean').indices);
  });
});

describe('ScoreBlocks (the float32 screening of the exact searches)', () => {
  const blasModes: [string, ReturnType<typeof loadBlas>][] = [['tfjs', null], ...(loadBlas() ? [['BLAS', loadBlas()] as [string, ReturnType<typeof loadBlas>]] : [])];
  for (const [mode, blas] of blasModes) {
    it(`${mode}: every score is within its error bound of the Float64 one, and no tensor leaks`, async () => {
      const before = tf.memory().numTensors;
      const x = gaussianData(300, 20, 7, 50);
      for (const metric of ['euclidean', 'cosine'] as const) {
        const blocks = new ScoreBlocks(x, null, metric, blas);
        const { scale, bias, qNorm2, delta } = blocks;
        let worst = 0;
        for (let start = 0; start < x.rows; start += blocks.block) {
          const stop = Math.min(x.rows, start + blocks.block);
          const g = await blocks.scores(start, stop);
          for (let i = start; i < stop; i++) {
            for (let j = 0; j < x.rows; j++) {
              const approx = qNorm2[i] - (scale * g[(i - start) * x.rows + j] - bias[j]); // distance^2, or 1 - cosine
              const ref = bruteDistance(x, i, j, metric);
              worst = Math.max(worst, Math.abs(approx - ref) / delta[i]);
            }
          }
        }
        blocks.dispose();
        expect(worst).toBeLessThan(1);
        expect(worst).toBeGreaterThan(0); // the bound is not vacuous: float32 does round
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

function bruteDistance(x: Matrix, i: number, j: number, metric: 'euclidean' | 'cosine'): number {
  const d = x.cols;
  let s = 0;
  let ni = 0;
  let nj = 0;
  for (let c = 0; c < d; c++) {
    const a = x.data[i * d + c];
    const b = x.data[j * d + c];
    s += metric === 'euclidean' ? (a - b) ** 2 : a * b;
    ni += a * a;
    nj += b * b;
  }
  return metric === 'euclidean' ? s : 1 - s / Math.sqrt(ni * nj);
}
