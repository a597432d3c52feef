import { describe, it, expect, afterAll } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { selectBackend } from '../../src/backend/select.js';
import { withValues } from '../../src/backend/read.js';

describe('withValues reads a tensor without copying where it can', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`hands fn the same values as data() on ${backend}`, async () => {
      await selectBackend(backend);
      const t = tf.tensor2d([1, -2, 3.5, 4, 0, -6], [3, 2]);
      const sum = await withValues(t, (v) => v.reduce((s, x) => s + x * x, 0));
      expect(sum).toBe(1 + 4 + 12.25 + 16 + 0 + 36);
      expect(Array.from(await withValues(t, (v) => v.slice()))).toEqual(Array.from(await t.data()));
      expect(t.isDisposed).toBe(false);
      t.dispose();
    });
  }

  it('refuses tensors that are not float32', async () => {
    const t = tf.tensor1d([1, 2], 'int32');
    await expect(withValues(t, (v) => v.length)).rejects.toThrow(/backend.withValues: t must be a float32 tensor, got an int32 tensor/);
    t.dispose();
  });
});
