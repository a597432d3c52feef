import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { fromRows } from '../../src/data/matrix.js';
import { mutualKnn, nearestNeighbors } from '../../src/similarity/knn.js';
import { affine, gaussian, randomOrthogonal } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

const unitVectors = (degrees: number[]) => fromRows(degrees.map((d) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)]));

describe('nearestNeighbors', () => {
  it('finds the nearest other point on a line, ties broken by the lower index', async () => {
    const x = fromRows([[0], [1], [3], [4], [2]]);
    const { indices, distances } = await nearestNeighbors(x, 2);
    // point 0 -> 1 (d 1), 4 (d 2); point 4 (at 2) -> 1 and 2 tie at distance 1: lower index first.
    expect(Array.from(indices.subarray(0, 2))).toEqual([1, 4]);
    expect(Array.from(indices.subarray(8, 10))).toEqual([1, 2]);
    expect(Array.from(distances.subarray(8, 10))).toEqual([1, 1]);
  });

  it('rejects k outside [1, n - 1]', async () => {
    await expect(nearestNeighbors(fromRows([[0], [1]]), 2)).rejects.toThrow(/k must be an integer in \[1, 1\]/);
  });
});

describe('mutualKnn (Huh et al. 2024)', () => {
  it('hand case: angles [0, 10, 30, 70] vs [0, 50, 60, 65] degrees with k = 1 share half the neighbors', async () => {
    // kNN_A = [1, 0, 1, 2], kNN_B = [1, 2, 3, 2]: rows 0 and 3 agree.
    expect(await mutualKnn(unitVectors([0, 10, 30, 70]), unitVectors([0, 50, 60, 65]), { k: 1 })).toBe(0.5);
  });

  it('is 1 for identical data, and for rotated / positively row-scaled copies (cosine neighbors)', async () => {
    const x = gaussian(120, 6, 1);
    expect(await mutualKnn(x, x)).toBe(1);
    const y = affine(x, randomOrthogonal(6, 2), 6);
    for (let i = 0; i < 120; i++) for (let j = 0; j < 6; j++) y.data[i * 6 + j] *= 1 + (i % 7);
    expect(await mutualKnn(x, y, { k: 5 })).toBe(1);
  });

  it('is about k / (n - 1) for independent data', async () => {
    const v = await mutualKnn(gaussian(300, 8, 3), gaussian(300, 8, 4), { k: 10 });
    expect(v).toBeGreaterThan(0.01);
    expect(v).toBeLessThan(0.08); // k / (n - 1) = 0.033
  });

  it('needs n >= k + 1 and equal rows; leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await mutualKnn(gaussian(20, 3, 5), gaussian(20, 4, 6), { k: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const e = await mutualKnn(gaussian(10, 3, 5), gaussian(10, 3, 6)).catch((x) => x);
    expect(e).toBeInstanceOf(NestlabArgumentError);
    expect(e.argument).toBe('options.k');
    expect(e.message).toMatch(/too few samples/);
    const f = await mutualKnn(gaussian(10, 3, 5), gaussian(11, 3, 6), { k: 2 }).catch((x) => x);
    expect(f.argument).toBe('Y.rows');
  });
});
