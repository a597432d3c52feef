import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { lmArchitecture } from '../../src/lm/config.js';
import { createLm, disposeLm, type Lm } from '../../src/lm/model.js';
import { evaluationWindows, lmLoss } from '../../src/lm/train.js';
import { createSae, type Sae } from '../../src/sae/model.js';
import { spliceEvaluation } from '../../src/workflows/lm-sae.js';

beforeAll(async () => {
  await initBackend();
});

/** An SAE that reconstructs exactly: latents [x, −x] through ReLU, decoded by [I; −I]. */
function identitySae(d: number): Sae {
  const sae = createSae({ dIn: d, dSae: 2 * d, activation: 'relu', prefixes: [d, 2 * d] }, { bDecInit: 'zero' });
  const m = 2 * d;
  sae.params.wEnc.fill(0);
  sae.params.wDec.fill(0);
  for (let i = 0; i < d; i++) {
    sae.params.wEnc[i * m + i] = 1;
    sae.params.wEnc[i * m + d + i] = -1;
    sae.params.wDec[i * d + i] = 1;
    sae.params.wDec[(d + i) * d + i] = -1;
  }
  return sae;
}

describe('spliceEvaluation: CE loss recovered as SAELens defines it', () => {
  const d = 16;
  let model: Lm;
  const stream = Int32Array.from({ length: 400 }, (_, i) => (i * 7 + (i >> 2)) % 23);
  beforeAll(() => {
    model = createLm(lmArchitecture({ vocabSize: 23, contextLength: 8, dModel: d, nLayers: 2, nHeads: 2 }), 3);
  });

  it('scores an exact reconstruction 1 and a zero reconstruction 0', async () => {
    const windows = evaluationWindows(stream, 8, 12);
    const before = tf.memory().numTensors;
    const rows = await spliceEvaluation(model, identitySae(d), 'blocks.1.hook_resid_pre', windows, { batchSize: 5 });
    expect(tf.memory().numTensors).toBe(before);
    const [half, full] = rows;
    // The full prefix reconstructs exactly: the splice changes nothing.
    expect(full.fvu).toBeLessThan(1e-10);
    expect(full.ceSpliced).toBeCloseTo(full.ceClean, 5);
    expect(full.ceLossRecovered).toBeCloseTo(1, 4);
    expect(full.klDivergence).toBeLessThan(1e-6);
    expect(full.klScore).toBeCloseTo(1, 4);
    // The first half keeps only the positive parts: the next-token distribution moves (on an
    // untrained model its CE may even drop, so the KL is what must show it).
    expect(half.klDivergence).toBeGreaterThan(1e-4);
    expect(half.klScore).toBeLessThan(1);
    // The clean loss is the model's ordinary validation loss on the same windows.
    expect(full.ceClean).toBeCloseTo(await lmLoss(model, windows), 5);
    expect(full.tokens).toBe(96);

    const zero = identitySae(d);
    zero.params.wDec.fill(0);
    const [z] = await spliceEvaluation(model, zero, 'blocks.1.hook_resid_pre', windows, { prefixes: [2 * d] });
    expect(z.ceSpliced).toBeCloseTo(z.ceZeroAblation, 6);
    expect(z.ceLossRecovered).toBeCloseTo(0, 5);
    expect(z.klScore).toBeCloseTo(0, 5);
    expect(z.ceZeroAblation).not.toBeCloseTo(z.ceClean, 2);
  });

  it('refuses an SAE of another width and an unknown hook, naming them', async () => {
    const windows = evaluationWindows(stream, 8, 2);
    await expect(spliceEvaluation(model, identitySae(8), 'blocks.0.hook_resid_post', windows)).rejects.toThrow(/lm\.spliceEvaluation: sae/);
    await expect(spliceEvaluation(model, identitySae(d), 'blocks.9.hook_resid_post', windows)).rejects.toThrow(/hooks/);
  });

  it('leaves the model usable', () => {
    disposeLm(model);
    expect(model.params.size).toBe(0);
  });
});
