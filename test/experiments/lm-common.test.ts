import { describe, expect, it } from 'vitest';
import { silentProgress } from '../../src/backend/progress.js';
import { brownLm, LM_SIZES, releaseLmFigureCache, watchBrownLmTraining } from '../../src/experiments/lm-common.js';
import { disposeLm } from '../../src/lm/model.js';

describe('watchBrownLmTraining', () => {
  it('visits the listed steps and ends with the weights brownLm trains, bit for bit', async () => {
    const params = { ...LM_SIZES.smoke, lmSteps: 6 };
    const seen: { step: number; first: number }[] = [];
    const { model } = await watchBrownLmTraining(params, 3, [0, 2, 6], async (m, step) => {
      seen.push({ step, first: (await m.params.get('embed.W_E')!.data())[0] });
    }, silentProgress);
    try {
      expect(seen.map((s) => s.step)).toEqual([0, 2, 6]);
      expect(seen[0].first).not.toBe(seen[2].first); // the weights moved between visits
      const reference = await brownLm(params, 3, silentProgress);
      for (const [name, v] of reference.model.params) {
        expect(Buffer.from((await model.params.get(name)!.data() as Float32Array).buffer).equals(Buffer.from((await v.data() as Float32Array).buffer)), name).toBe(true);
      }
    } finally {
      disposeLm(model);
      releaseLmFigureCache();
    }
  }, 60_000);
});
