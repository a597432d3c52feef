import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExperiment, listExperiments } from '../../src/experiments/registry.js';
import { mnistMlpQuickstart } from '../../src/experiments/mnist-mlp-quickstart.js';
import { writeFigure } from '../../src/experiments/figure.js';

describe('every registered figure runs at smoke size and renders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'figs-'));
  for (const exp of listExperiments()) {
    it(`${exp.id}`, async () => {
      const result = await exp.run({ size: 'smoke', seed: 0 });
      expect(result.meta.id).toBe(exp.id);
      expect(result.meta.size).toBe('smoke');
      expect(result.rows.length).toBeGreaterThan(0);
      const files = await writeFigure(result, dir);
      expect(statSync(files.png).size).toBeGreaterThan(1000);
      expect(readFileSync(files.csv, 'utf8').split('\n').length).toBe(result.rows.length + 2);
    });
  }

  it('finds figures by id and names the known ids for a typo', () => {
    expect(findExperiment('mnist-mlp-quickstart').id).toBe('mnist-mlp-quickstart');
    expect(() => findExperiment('mnist-mlp')).toThrow(/id must be a figure id \(mnist-mlp-quickstart, .*\), got mnist-mlp/);
  });
});

describe('mnist-mlp-quickstart', () => {
  it('trains to well above chance and reports per-digit accuracy for all ten digits', async () => {
    const r = await mnistMlpQuickstart.run({ size: 'smoke', seed: 0 });
    expect(r.meta.testAccuracy).toBeGreaterThan(0.7);
    expect(r.rows.filter((x) => x.kind === 'accuracy').map((x) => x.digit)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await expect(findExperiment('mnist-mlp-quickstart').run({ size: 'huge' as never })).rejects.toThrow(/options.size must be one of "smoke", "full"/);
  });
});
