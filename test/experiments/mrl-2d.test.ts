import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/select.js';
import { MRL2D_METHODS, mrl2d } from '../../src/experiments/mrl-2d.js';
import { releaseLmFigureCache } from '../../src/experiments/lm-common.js';

describe('mrl-2d at smoke size', () => {
  it('trains Starbucks, 2DMSE and one model per cell on the GPT\'s passages, scores every cell, and states verdicts that match its numbers', async () => {
    await initBackend();
    const tensors = tf.memory().numTensors;
    const { rows, spec, meta } = await mrl2d.run({ size: 'smoke' });
    releaseLmFigureCache();
    expect(tf.memory().numTensors).toBe(tensors); // every encoder disposed, the LM released
    const { layers, dims, pairs, seeds } = meta.params;
    const onList = (l: number, m: number) => pairs.some((p) => p[0] === l && p[1] === m);
    expect(meta.classes).toBe(15);
    expect(meta.passages.hook).toBe('blocks.1.hook_resid_post');

    // Every method, including the separately trained models, has every grid cell, seed and measure.
    expect(rows).toHaveLength(MRL2D_METHODS.length * layers * dims.length * seeds.length * 3);
    for (const method of MRL2D_METHODS) {
      for (let l = 1; l <= layers; l++) {
        for (const m of dims) {
          const at = rows.filter((r) => r.method === method && r.layer === l && r.dim === m);
          expect(at.map((r) => r.measure).sort()).toEqual(['1-NN accuracy', 'accuracy', 'mAP@10']);
          expect(at.every((r) => r.starbucksPair === onList(l, m))).toBe(true);
          for (const r of at) {
            expect(r.value).toBeGreaterThanOrEqual(0);
            expect(r.value).toBeLessThanOrEqual(1);
          }
        }
      }
    }
    expect(meta.cells).toHaveLength(MRL2D_METHODS.length * layers * dims.length);

    // On Starbucks' pairs every method's head beats the majority genre (the smoke GPT's passages carry a little genre).
    for (const c of meta.cells.filter((c) => c.starbucksPair)) expect(c.accuracy.mean).toBeGreaterThan(meta.majorityShare);

    // The gaps are the cell means' differences, and the verdicts say what the flags say.
    const mean = (method: string, on: boolean) => meta.cells.filter((c) => c.method === method && c.starbucksPair === on).map((c) => c.accuracy.mean);
    const [sb, dm] = [mean('Starbucks', true), mean('2DMSE', true)];
    expect(meta.onPairs.starbucksMinus2dmse.accuracy).toBeCloseTo(sb.reduce((s, v, i) => s + v - dm[i], 0) / sb.length, 12);
    expect(meta.onPairs.starbucksMinus2dmse.cells).toBe(pairs.length);
    expect(meta.offPairs.starbucksMinus2dmse.cells).toBe(layers * dims.length - pairs.length);
    expect(meta.starbucksBeats2dmse).toBe(meta.onPairs.starbucksMinus2dmse.accuracy >= 0 && meta.onPairs.starbucksMinus2dmse.mapAt10 >= 0);
    expect(meta.starbucksCloseToSingle).toBe(meta.onPairs.singleMinusStarbucks.maxAccuracy <= meta.tolerance);
    expect(meta.verdicts).toHaveLength(3);
    expect(meta.verdicts[0]).toMatch(meta.starbucksBeats2dmse ? /: reproduced$/ : /: not reproduced$/);
    expect(meta.verdicts[1]).toMatch(meta.starbucksCloseToSingle && meta.twoDmseFallsShort ? /: reproduced$/ : /: not reproduced$/);
    expect(meta.verdicts[1]).toContain(meta.starbucksCloseToSingle ? 'Starbucks comes within' : 'Starbucks does not come within');
    expect(meta.verdicts[2]).toMatch(/^\(c\) off Starbucks' list \(4 cells\)/);
    expect(() => compile(spec)).not.toThrow();
  }, 180_000);
});
