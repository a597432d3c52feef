import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { selectBackend } from '../../src/backend/select.js';
import { loadMnist } from '../../src/data/mnist.js';
import { CNN_LAYER_NAMES, createCnn } from '../../src/models/cnn.js';
import { evaluateClassifier, layerActivations, trainClassifier } from '../../src/models/mlp.js';

describe('All-CNN-C-style classifier', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('has the documented layers, shapes and parameter count', () => {
    const net = createCnn({ height: 28, width: 28, channels: 1, classes: 10 });
    expect(net.layers.map((l) => l.name)).toEqual([...CNN_LAYER_NAMES]);
    expect(net.layers.map((l) => l.outputShape)).toEqual([
      [null, 28, 28, 1],
      [null, 28, 28, 16], [null, 28, 28, 16], [null, 14, 14, 16],
      [null, 14, 14, 32], [null, 14, 14, 32], [null, 7, 7, 32],
      [null, 7, 7, 32], [null, 7, 7, 32], [null, 7, 7, 10],
      [null, 10],
    ]);
    // 3x3 convs: 9*cin*cout + cout weights each; 1x1: cin*cout + cout.
    const expected = (9 * 1 * 16 + 16) + 2 * (9 * 16 * 16 + 16) + (9 * 16 * 32 + 32) + 3 * (9 * 32 * 32 + 32) + (32 * 32 + 32) + (32 * 10 + 10);
    expect(net.countParams()).toBe(expected);
    net.dispose();
    // Odd sizes and RGB: 'same' stride 2 gives ceil(H/2), ceil(W/2).
    const rgb = createCnn({ height: 9, width: 5, channels: 3, widths: [4, 6], classes: 3, seed: 2 });
    expect(rgb.layers[6].outputShape).toEqual([null, 3, 2, 6]);
    expect(rgb.outputs[0].shape).toEqual([null, 3]);
    rgb.dispose();
  });

  it('draws the same weights for the same seed and others for another seed', () => {
    const weights = (seed: number) => {
      const net = createCnn({ height: 8, width: 8, channels: 1, widths: [2, 3], classes: 2, seed });
      const w = Array.from(net.getLayer('conv4').getWeights()[0].dataSync());
      net.dispose();
      return w;
    };
    expect(weights(3)).toEqual(weights(3));
    expect(weights(4)).not.toEqual(weights(3));
  });

  it('learns MNIST digits on the wasm backend without leaking tensors', async () => {
    // All-CNN-style nets without normalization start slowly (the loss sits near ln 10 for the
    // first epoch); 800 digits x 3 epochs reach 0.56-0.68 test accuracy for seeds 1-3 (measured).
    const { train, test } = loadMnist({ limit: 1000, testSize: 200 });
    const net = createCnn({ height: 28, width: 28, channels: 1, classes: 10, seed: 1 });
    const before = tf.memory().numTensors;
    const history = await trainClassifier(net, train.x, train.y, { epochs: 3, batchSize: 16, learningRate: 1e-3, seed: 1 });
    expect(history[2].loss).toBeLessThan(history[0].loss - 0.5);
    const ev = await evaluateClassifier(net, test.x, test.y);
    expect(ev.accuracy).toBeGreaterThan(0.4); // chance is 0.1
    const first = { data: test.x.data.subarray(0, 50 * 784), rows: 50, cols: 784 };
    const acts = await layerActivations(net, first, { batchSize: 32 });
    expect(tf.memory().numTensors).toBe(before);
    expect(acts.map((a) => a.cols)).toEqual([784, 28 * 28 * 16, 28 * 28 * 16, 14 * 14 * 16, 14 * 14 * 32, 14 * 14 * 32, 7 * 7 * 32, 7 * 7 * 32, 7 * 7 * 32, 7 * 7 * 10, 10]);
    expect(acts.every((a) => a.rows === 50 && a.data.length === 50 * a.cols)).toBe(true);
    expect(Array.from(acts[0].data)).toEqual(Array.from(first.data)); // 'image' is the pixels, reshaped
    expect(acts[1].data.every((v) => v >= 0)).toBe(true); // ReLU outputs
    expect(acts[9].data.some((v) => v < 0)).toBe(true); // conv9 is linear
    // gap is the mean of conv9 over the 7x7 positions: row 0, class 3
    let mean = 0;
    for (let p = 0; p < 49; p++) mean += acts[9].data[p * 10 + 3] / 49;
    expect(acts[10].data[3]).toBeCloseTo(mean, 5);
    net.dispose();
  }, 120_000);

  it('rejects bad configs with errors naming the argument', () => {
    const ok = { height: 28, width: 28, channels: 1, classes: 10 };
    expect(() => createCnn({ ...ok, height: 0 })).toThrow(/models.createCnn: config.height must be an integer/);
    expect(() => createCnn({ ...ok, widths: [16] as never })).toThrow(/config.widths must be an array of two stage widths/);
    expect(() => createCnn({ ...ok, widths: [16, 2.5] })).toThrow(/config.widths\[1\] must be an integer/);
    expect(() => createCnn({ ...ok, classes: 1 })).toThrow(/config.classes/);
    expect(() => createCnn({ ...ok, sead: 1 } as never)).toThrow(/config.sead must be one of the known options/);
  });
});
