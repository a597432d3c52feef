import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { captureLayers } from '../../src/models/capture.js';

beforeAll(async () => {
  await initBackend();
});

describe('captureLayers: named layers of any tfjs model in one pass', () => {
  it('returns each named layer of a LayersModel as rows = inputs, equal to computing it by hand', async () => {
    const net = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.reshape({ targetShape: [2, 2], name: 'grid' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 2, name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    const x = tf.tensor2d([[1, -2, 0.5], [0, 1, 2], [3, 0, -1], [-1, -1, -1], [2, 2, 2]]);
    const before = tf.memory().numTensors;
    const acts = await captureLayers(net, x, ['hidden', 'grid', 'out']);
    expect(tf.memory().numTensors).toBe(before);
    const [w1, b1] = net.getLayer('hidden').getWeights();
    const hidden = tf.tidy(() => tf.relu(tf.add(tf.matMul(x, w1), b1)).arraySync() as number[][]);
    const h = acts.get('hidden')!;
    expect([h.rows, h.cols]).toEqual([5, 4]);
    for (let r = 0; r < 5; r++) for (let c = 0; c < 4; c++) expect(h.data[r * 4 + c]).toBeCloseTo(hidden[r][c], 5);
    // A [batch, 2, 2] output is flattened to [batch, 4], row by row.
    expect(Array.from(acts.get('grid')!.data)).toEqual(Array.from(h.data));
    const out = (net.predict(x) as tf.Tensor).arraySync() as number[][];
    expect(Array.from(acts.get('out')!.data).map((v) => +v.toFixed(5))).toEqual(out.flat().map((v) => +v.toFixed(5)));
    x.dispose();
  });

  it('names the layers a model has when asked for one it lacks', async () => {
    const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1, name: 'only' })] });
    const x = tf.zeros([1, 2]);
    await expect(captureLayers(net, x, ['missing'])).rejects.toThrow(/models\.captureLayers: names must be layer names of the model \(only/);
    x.dispose();
  });
});

describe('captureLayers on a GraphModel (a converted TF graph)', () => {
  it('returns the named nodes of x → MatMul(W) → Relu', async () => {
    // A two-node GraphDef in the JSON form tfjs-converter writes, with its one weight in memory.
    const topology = {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '2' }] } } } } },
        { name: 'mm', op: 'MatMul', input: ['x', 'w'], attr: { transpose_a: { b: false }, transpose_b: { b: false }, T: { type: 'DT_FLOAT' } } },
        { name: 'act', op: 'Relu', input: ['mm'], attr: { T: { type: 'DT_FLOAT' } } },
      ],
      versions: { producer: 1 },
    };
    const w = new Float32Array([1, -1, 2, 0, -1, 3]);
    const graph = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: [{ name: 'w', shape: [3, 2], dtype: 'float32' }], weightData: w.buffer, format: 'graph-model' }));
    const x = tf.tensor2d([[1, 2, 3], [-1, 0, 1]]);
    const acts = await captureLayers(graph, x, ['mm', 'act']);
    // x·W by hand: [1·1 + 2·2 + 3·(−1), 1·(−1) + 2·0 + 3·3] = [2, 8]; [−1 − 1, 1 + 3] = [−2, 4].
    expect(Array.from(acts.get('mm')!.data)).toEqual([2, 8, -2, 4]);
    expect(Array.from(acts.get('act')!.data)).toEqual([2, 8, 0, 4]);
    x.dispose();
    graph.dispose();
  });
});
