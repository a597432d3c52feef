import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/select.js';
import { loadMnist } from '../../src/data/mnist.js';
import { createMlp, evaluateClassifier, layerActivations, trainClassifier } from '../../src/models/mlp.js';

describe('MLP classifier on real MNIST digits', () => {
  beforeAll(async () => {
    await initBackend();
  });
  const { train, test } = loadMnist({ limit: 1500 });

  it('learns: loss falls and test accuracy is far above chance (10%)', async () => {
    const model = createMlp({ inputDim: 784, hidden: [32], outputDim: 10, seed: 1 });
    const history = await trainClassifier(model, train.x, train.y, { epochs: 3, seed: 1 });
    expect(history).toHaveLength(3);
    expect(history[2].loss).toBeLessThan(history[0].loss);
    const ev = await evaluateClassifier(model, test.x, test.y);
    expect(ev.accuracy).toBeGreaterThan(0.6);
    expect(ev.perClass.reduce((s, c) => s + c.count, 0)).toBe(test.x.rows);
    model.dispose();
  });

  it('gives the same numbers for the same seed and different ones for another seed', async () => {
    const run = async (seed: number) => {
      const m = createMlp({ inputDim: 784, hidden: [16], outputDim: 10, seed });
      const h = await trainClassifier(m, train.x, train.y, { epochs: 1, seed });
      m.dispose();
      return h[0].loss;
    };
    const a = await run(5);
    expect(await run(5)).toBe(a);
    expect(await run(6)).not.toBe(a);
  });

  it('leaks no tensors while training, evaluating or reading activations', async () => {
    const model = createMlp({ inputDim: 784, hidden: [16, 8], outputDim: 10, seed: 0 });
    const before = tf.memory().numTensors;
    await trainClassifier(model, train.x, train.y, { epochs: 2 });
    await evaluateClassifier(model, test.x, test.y);
    const acts = await layerActivations(model, test.x);
    expect(tf.memory().numTensors).toBe(before);
    expect(acts.map((a) => [a.rows, a.cols])).toEqual([[test.x.rows, 16], [test.x.rows, 8], [test.x.rows, 10]]);
    expect(acts[0].data.every((v) => v >= 0)).toBe(true); // ReLU outputs
    model.dispose();
  });

  it('rejects bad configs and labels with errors naming the argument', async () => {
    expect(() => createMlp({ inputDim: 784, hidden: [0], outputDim: 10 })).toThrow(/config.hidden\[0\] must be an integer/);
    expect(() => createMlp({ inputDim: 784, hidden: [8], outputDim: 10, activation: 'gelu' as never })).toThrow(/config.activation must be one of "relu", "tanh"/);
    const model = createMlp({ inputDim: 784, hidden: [8], outputDim: 10 });
    await expect(trainClassifier(model, train.x, train.y.subarray(1))).rejects.toThrow(/y must be an Int32Array of \d+ labels/);
    const bad = Int32Array.from(train.y);
    bad[3] = 11;
    await expect(trainClassifier(model, train.x, bad)).rejects.toThrow(/y\[3\] must be a class in \[0, 10\), got 11/);
    await expect(trainClassifier(model, train.x, train.y, { epochs: 0 })).rejects.toThrow(/options.epochs/);
    model.dispose();
  });
});
