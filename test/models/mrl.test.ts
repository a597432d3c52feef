import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { loadMnist } from '../../src/data/mnist.js';
import { createMrl, defaultNesting, disposeMrl, mrlTestAccuracy, mrlEmbed, mrlLogits, trainMrl } from '../../src/models/mrl.js';

describe('Matryoshka representation learning', () => {
  beforeAll(async () => {
    await initBackend();
  });
  const { train, test } = loadMnist({ limit: 1500 });

  it('nests by powers of two up to d', () => {
    expect(defaultNesting(64)).toEqual([2, 4, 8, 16, 32, 64]);
    expect(defaultNesting(24)).toEqual([2, 4, 8, 16, 24]);
  });

  it('MRL-E logits of size m use only the first m embedding dims and the first m rows of one kernel', () => {
    const model = createMrl({ inputDim: 3, hidden: [], embeddingDim: 4, nesting: [2, 4], classes: 2, efficient: true, seed: 1 });
    const z = tf.tensor2d([[1, 2, 100, -100]]);
    const [l2, l4] = mrlLogits(model, z);
    const W = model.headKernels[0].arraySync() as number[][];
    // the size-2 logits ignore dims 3 and 4 entirely
    expect((l2.arraySync() as number[][])[0][0]).toBeCloseTo(1 * W[0][0] + 2 * W[1][0], 5);
    expect((l4.arraySync() as number[][])[0][1]).toBeCloseTo(W[0][1] + 2 * W[1][1] + 100 * W[2][1] - 100 * W[3][1], 3);
    tf.dispose([z, l2, l4]);
    disposeMrl(model);
  });

  it('trains every prefix head at once: loss falls, small prefixes far above chance, no leak', async () => {
    const model = createMrl({ inputDim: 784, hidden: [64], embeddingDim: 16, nesting: [2, 4, 16], classes: 10, seed: 0 });
    const before = tf.memory().numTensors;
    const history = await trainMrl(model, train.x, train.y, { epochs: 4, seed: 0, learningRate: 3e-3 });
    const acc = await mrlTestAccuracy(model, test.x, test.y);
    const z = await mrlEmbed(model, test.x);
    expect(tf.memory().numTensors).toBe(before);
    expect(history[3].loss).toBeLessThan(history[0].loss);
    expect(acc.map((a) => a.size)).toEqual([2, 4, 16]);
    expect(acc[0].accuracy).toBeGreaterThan(0.25); // 2 dims, 10 classes: chance is 0.1
    expect(acc[2].accuracy).toBeGreaterThan(0.75);
    expect([z.rows, z.cols]).toEqual([test.x.rows, 16]);
    disposeMrl(model);
  });

  it('creating and disposing a model leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    disposeMrl(createMrl({ inputDim: 8, hidden: [4], embeddingDim: 4, classes: 3, efficient: false }));
    disposeMrl(createMrl({ inputDim: 8, hidden: [4], embeddingDim: 4, classes: 3, efficient: true }));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic for a seed', async () => {
    const run = async () => {
      const m = createMrl({ inputDim: 784, hidden: [], embeddingDim: 4, nesting: [2, 4], classes: 10, seed: 3 });
      const h = await trainMrl(m, train.x, train.y, { epochs: 1, seed: 3 });
      disposeMrl(m);
      return h[0].loss;
    };
    expect(await run()).toBe(await run());
  });

  it('stops early once the epoch loss stops falling by minDelta for patience epochs (Keras EarlyStopping)', async () => {
    const m = createMrl({ inputDim: 784, hidden: [], embeddingDim: 4, nesting: [2, 4], classes: 10, seed: 3 });
    // a huge minDelta: epoch 1 improves on Infinity, epochs 2..1+patience cannot, so training stops there
    expect(await trainMrl(m, train.x, train.y, { epochs: 20, seed: 3, minDelta: 100, patience: 2 })).toHaveLength(3);
    // minDelta 0 with patience 1: runs until the first epoch whose loss does not fall
    const h = await trainMrl(m, train.x, train.y, { epochs: 6, seed: 3, minDelta: 0, patience: 1 });
    for (let i = 1; i < h.length - 1; i++) expect(h[i].loss).toBeLessThan(h[i - 1].loss);
    if (h.length < 6) expect(h[h.length - 1].loss).toBeGreaterThanOrEqual(Math.min(...h.slice(0, -1).map((e) => e.loss)));
    await expect(trainMrl(m, train.x, train.y, { minDelta: -1 })).rejects.toThrow(/options.minDelta must be a finite number in \[0, Infinity\], got -1/);
    await expect(trainMrl(m, train.x, train.y, { minDelta: 0.1, patience: 0 })).rejects.toThrow(/options.patience must be an integer in \[1, Infinity\], got 0/);
    disposeMrl(m);
  });

  it('rejects nesting that does not increase or does not end at d, and mismatched inputs', async () => {
    expect(() => createMrl({ inputDim: 4, hidden: [], embeddingDim: 8, nesting: [4, 2, 8], classes: 3 })).toThrow(/config.nesting must be strictly increasing/);
    expect(() => createMrl({ inputDim: 4, hidden: [], embeddingDim: 8, nesting: [2, 4], classes: 3 })).toThrow(/sizes ending at embeddingDim = 8/);
    expect(() => createMrl({ inputDim: 4, hidden: [], embeddingDim: 8, weights: [1], classes: 3 })).toThrow(/config.weights must be 3 weights/);
    const m = createMrl({ inputDim: 5, hidden: [], embeddingDim: 2, classes: 10 });
    await expect(trainMrl(m, train.x, train.y)).rejects.toThrow(/x.cols must be 5 \(the model's inputDim\), got 784/);
    disposeMrl(m);
  });
});
