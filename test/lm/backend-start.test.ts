// No beforeAll(initBackend) here on purpose: a notebook cell may build a model before anything
// started the backend (a full-size figure is read from disk without starting one).
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/select.js';
import { lmArchitecture, lmTraining } from '../../src/lm/config.js';
import { createLm, disposeLm } from '../../src/lm/model.js';
import { trainLm } from '../../src/lm/fit.js';
import { trainWordTokenizer } from '../../src/lm/tokenizer.js';

describe('lm.train starts the backend itself', () => {
  it('trains a model made before any backend started, on the backend initBackend picks', async () => {
    const tokenizer = trainWordTokenizer([{ words: ['a', 'b', 'c', 'd', 'e', 'f'] }], { vocabSize: 8 });
    const model = createLm(lmArchitecture({ vocabSize: tokenizer.vocab.length, contextLength: 4, dModel: 8, nLayers: 1, nHeads: 2 }), 0);
    const stream = Int32Array.from({ length: 60 }, (_, i) => 2 + (i % 6));
    const run = await trainLm(model, stream, { training: lmTraining({ steps: 3, batchSize: 4 }), tokenizer });
    expect(tf.getBackend()).toBe((await initBackend()).name);
    expect(run.history).toHaveLength(3);
    expect(run.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    disposeLm(model);
  });
});
