import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { lmArchitecture } from '../../src/lm/config.js';
import { createLm, disposeLm, hookWidth, lmForward, type Lm } from '../../src/lm/model.js';
import { evaluationWindows } from '../../src/lm/train.js';
import { captureActivations, captureBatches } from '../../src/lm/capture.js';

beforeAll(async () => {
  await initBackend();
});

describe('captureActivations: the forward pass’s intermediate values at named hooks', () => {
  let model: Lm;
  const stream = Int32Array.from({ length: 200 }, (_, i) => (i * 5 + (i >> 3)) % 17);
  beforeAll(() => {
    model = createLm(lmArchitecture({ vocabSize: 17, contextLength: 6, dModel: 8, nLayers: 2, nHeads: 2 }), 1);
  });

  it('equals what a hook sees in one full forward pass, row for row, whatever the batch size', async () => {
    const windows = evaluationWindows(stream, 6, 7); // 7 windows × 6 positions = 42 rows
    const hooks = ['blocks.1.hook_mlp_out', 'blocks.0.hook_resid_post', 'hook_embed'];
    const seen = new Map<string, Float32Array>();
    tf.tidy(() => {
      lmForward(model, windows.inputs, 7, { hook: (name, x) => void seen.set(name, x.dataSync() as Float32Array) });
    });
    const before = tf.memory().numTensors;
    const acts = await captureActivations(model, windows, hooks, { batchSize: 3 }); // 3 + 3 + 1 windows
    expect(tf.memory().numTensors).toBe(before);
    expect([...acts.keys()]).toEqual(['hook_embed', 'blocks.0.hook_resid_post', 'blocks.1.hook_mlp_out']); // forward order
    for (const h of hooks) {
      const m = acts.get(h)!;
      expect([m.rows, m.cols]).toEqual([42, 8]);
      const ref = seen.get(h)!;
      for (let i = 0; i < ref.length; i++) expect(m.data[i]).toBeCloseTo(ref[i], 5);
    }
    // The embedding rows are the embedding table's rows of the tokens.
    const table = model.params.get('embed.W_E')!.dataSync();
    const row5 = acts.get('hook_embed')!.data.subarray(5 * 8, 6 * 8);
    expect(Array.from(row5)).toEqual(Array.from(table.subarray(windows.inputs[5] * 8, windows.inputs[5] * 8 + 8)));
  });

  it('captures the MLP hidden units dMlp wide (blocks.l.mlp.hook_pre / hook_post) beside dModel-wide hooks', async () => {
    const windows = evaluationWindows(stream, 6, 7);
    const hooks = ['blocks.0.mlp.hook_pre', 'blocks.0.hook_resid_post', 'blocks.1.mlp.hook_post'];
    const seen = new Map<string, Float32Array>();
    tf.tidy(() => {
      lmForward(model, windows.inputs, 7, { hook: (name, x) => void seen.set(name, x.dataSync() as Float32Array) });
    });
    const acts = await captureActivations(model, windows, hooks, { batchSize: 3 });
    for (const h of hooks) {
      const m = acts.get(h)!;
      expect([m.rows, m.cols], h).toEqual([42, hookWidth(model.architecture, h)]);
      const ref = seen.get(h)!;
      expect(ref.length).toBe(m.data.length);
      for (let i = 0; i < ref.length; i++) expect(m.data[i]).toBeCloseTo(ref[i], 5);
    }
    expect(acts.get('blocks.0.mlp.hook_pre')!.cols).toBe(32); // dMlp = 4 · dModel
  });

  it('yields one batch at a time with its first row', async () => {
    const firsts: number[] = [];
    for await (const b of captureBatches(model, evaluationWindows(stream, 6, 5), ['blocks.0.hook_attn_out'], { batchSize: 2 })) firsts.push(b.firstRow, b.rows);
    expect(firsts).toEqual([0, 12, 12, 12, 24, 6]);
  });

  it('refuses a hook the model does not have, naming it', async () => {
    await expect(captureActivations(model, evaluationWindows(stream, 6, 1), ['blocks.2.hook_resid_pre'])).rejects.toThrow(/lm\.captureActivations: hooks must be names among .*got blocks\.2\.hook_resid_pre/);
    disposeLm(model);
  });
});
