import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, readSavedResult, resultPath, saveFigure } from '../../src/experiments/figure.js';

describe('figure(): run, or read the saved full-size result', () => {
  it('reads a saved full-size result of the same seed instead of running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fig-cache-'));
    // A saved result whose numbers no run would produce: reading it proves nothing was re-run.
    const saved = { rows: [{ kind: 'loss', epoch: 1, loss: 123 }], spec: { mark: 'point' }, meta: { id: 'mnist-mlp-quickstart', backend: 'cpu', seed: 0, size: 'full', seconds: 0 } };
    writeFileSync(resultPath('mnist-mlp-quickstart', dir), JSON.stringify(saved));
    const r = await figure('mnist-mlp-quickstart', { size: 'full', seed: 0, dir });
    expect(r.rows[0].loss).toBe(123);
    expect(readSavedResult('mnist-mlp-quickstart', 'full', 1, dir)).toBeNull(); // another seed
    expect(readSavedResult('mnist-mlp-quickstart', 'smoke', 0, dir)).toBeNull(); // another size
  });

  it('runs afresh at smoke size and ignores damaged files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fig-cache-'));
    writeFileSync(resultPath('mnist-mlp-quickstart', dir), '{not json');
    expect(readSavedResult('mnist-mlp-quickstart', 'full', 0, dir)).toBeNull();
    const r = await figure('mnist-mlp-quickstart', { size: 'smoke', dir });
    expect(r.meta.size).toBe('smoke');
    const files = await saveFigure(r, dir);
    expect(readSavedResult('mnist-mlp-quickstart', 'smoke', 0, dir)?.rows).toEqual(r.rows);
    expect(files.result).toBe(resultPath('mnist-mlp-quickstart', dir));
  });
});
