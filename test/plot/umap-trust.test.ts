import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { trustworthiness } from '../../src/plot/umap.js';

beforeAll(async () => {
  await initBackend();
});

/** The definition, counted directly: ranks in X from Float64 distances, ties by lower index. */
function reference(x: Matrix, e: Matrix, k: number): number {
  const n = x.rows;
  const dist = (m: Matrix, i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[i * m.cols + c] - m.data[j * m.cols + c];
      s += v * v;
    }
    return s;
  };
  let t = 0;
  for (let i = 0; i < n; i++) {
    const byE = [...Array(n).keys()].filter((j) => j !== i).sort((a, b) => dist(e, i, a) - dist(e, i, b) || a - b);
    const byX = [...Array(n).keys()].filter((j) => j !== i).sort((a, b) => dist(x, i, a) - dist(x, i, b) || a - b);
    for (const j of byE.slice(0, k)) {
      const rank = byX.indexOf(j) + 1;
      if (rank > k) t += rank - k;
    }
  }
  return 1 - (t * 2) / (n * k * (2 * n - 3 * k - 1));
}

function tied(n: number, d: number, seed: number, offset: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const src = i % 5 === 4 ? rng.int(i) : i;
    for (let c = 0; c < d; c++) data[i * d + c] = src === i ? offset + rng.int(4) : data[src * d + c];
  }
  return { data, rows: n, cols: d };
}

describe('trustworthiness (float32 screening, Float64 ranks)', () => {
  it('equals the directly counted definition on data with duplicates and tied distances', async () => {
    for (const [seed, offset] of [[1, 0], [2, 500]]) {
      const x = tied(150, 3, seed, offset);
      const rng = new Rng(seed + 10);
      const e = { data: new Float32Array(300), rows: 150, cols: 2 };
      for (let i = 0; i < 150; i++) for (let c = 0; c < 2; c++) e.data[i * 2 + c] = x.data[i * 3 + c] + (i % 3 === 0 ? rng.int(3) : 0);
      for (const k of [1, 5, 12]) expect(await trustworthiness(x, e, { k })).toBe(reference(x, e, k));
    }
  });

  it('equals it on Gaussian data and a random projection', async () => {
    const rng = new Rng(4);
    const x = { data: rng.normalArray(200 * 8), rows: 200, cols: 8 };
    const e = { data: new Float32Array(400), rows: 200, cols: 2 };
    for (let i = 0; i < 200; i++) for (let c = 0; c < 2; c++) for (let j = 0; j < 8; j++) e.data[i * 2 + c] += x.data[i * 8 + j] * ((j + c) % 3 - 1);
    const t = await trustworthiness(x, e, { k: 5 });
    expect(t).toBe(reference(x, e, 5));
    expect(t).toBeLessThan(1);
  });
});
