import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { tf } from '../../src/backend/tf.js';
import { matrix, type Matrix } from '../../src/data/matrix.js';
import { funnelRetrieval, retrieveNearest, retrievalMetrics } from '../../src/models/retrieval.js';
import { normalizeRows } from '../../src/data/matrix.js';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  return { data: new Rng(seed).normalArray(rows * cols), rows, cols };
}

/** Brute force: cosine similarity of every pair, sorted descending, ties by index. */
function bruteForce(db: Matrix, q: Matrix, k: number): number[][] {
  const a = normalizeRows(db);
  const b = normalizeRows(q);
  return Array.from({ length: q.rows }, (_, i) => {
    const s = Array.from({ length: db.rows }, (_, j) => {
      let dot = 0;
      for (let u = 0; u < q.cols; u++) dot += b.data[i * q.cols + u] * a.data[j * q.cols + u];
      return [dot, j];
    });
    return s.sort((x, y) => y[0] - x[0] || x[1] - y[1]).slice(0, k).map((x) => x[1]);
  });
}

describe('retrieval', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('computes mAP@k as MRL does (AP divided by k) and 1-NN accuracy, by hand', () => {
    // query 0 (label 1): neighbor labels [1, 0, 1] -> precisions at hits 1/1 and 2/3 -> AP = (1 + 2/3) / 3
    // query 1 (label 0): neighbor labels [1, 1, 0] -> precision at the hit 1/3 -> AP = (1/3) / 3
    const dbLabels = Int32Array.from([1, 0, 1, 1]);
    const neighbors = Int32Array.from([0, 1, 2, 2, 3, 1]);
    const m = retrievalMetrics(neighbors, 3, dbLabels, Int32Array.from([1, 0]));
    expect(m.mapAtK).toBeCloseTo(((1 + 2 / 3) / 3 + 1 / 9) / 2, 12);
    expect(m.oneNnAccuracy).toBe(0.5);
  });

  it('finds the same neighbors as a brute-force cosine search, without leaking tensors', async () => {
    const db = randomMatrix(300, 8, 1);
    const q = randomMatrix(40, 8, 2);
    const before = tf.memory().numTensors;
    const nn = await retrieveNearest(db, q, 5);
    expect(tf.memory().numTensors).toBe(before);
    const expected = bruteForce(db, q, 5);
    expect(Array.from({ length: 40 }, (_, i) => Array.from(nn.subarray(i * 5, i * 5 + 5)))).toEqual(expected);
  });

  it('a one-step funnel is exact search; a shortlist re-ranked on all dims costs less', async () => {
    const db = randomMatrix(500, 16, 3);
    const q = randomMatrix(20, 16, 4);
    const exact = await retrieveNearest(db, q, 10);
    const one = await funnelRetrieval(db, q, [{ dims: 16, keep: 10 }]);
    expect(one.neighbors).toEqual(exact);
    expect(one.costPerQuery).toBe(16 * 500);
    // shortlisting with all 16 dims and re-ranking keeps the exact answer
    const two = await funnelRetrieval(db, q, [{ dims: 16, keep: 50 }, { dims: 16, keep: 10 }]);
    expect(two.neighbors).toEqual(exact);
    const cheap = await funnelRetrieval(db, q, [{ dims: 4, keep: 50 }, { dims: 16, keep: 10 }]);
    expect(cheap.costPerQuery).toBe(4 * 500 + 16 * 50);
  });

  it('rejects mismatched dimensions and impossible funnels', async () => {
    await expect(retrieveNearest(matrix([1, 2], 1, 2), matrix([1, 2, 3], 1, 3), 1)).rejects.toThrow(/queries.cols must be 2 \(database.cols\), got 3/);
    await expect(retrieveNearest(matrix([1, 2], 1, 2), matrix([1, 2], 1, 2), 2)).rejects.toThrow(/k must be an integer in \[1, 1\]/);
    const db = randomMatrix(20, 4, 5);
    await expect(funnelRetrieval(db, db, [{ dims: 2, keep: 5 }, { dims: 4, keep: 10 }])).rejects.toThrow(/steps\[1\].keep must be an integer in \[1, 5\]/);
  });
});
