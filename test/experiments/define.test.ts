import { describe, it, expect } from 'vitest';
import { defineExperiment } from '../../src/experiments/define.js';
import { figure } from '../../src/experiments/figure.js';

/** A tiny experiment: rows 0..n-1 scaled by `scale`; the meta reports their sum. */
const demo = defineExperiment({
  id: 'demo',
  title: 'a demo',
  sizes: { smoke: { n: 3, scale: 1, labels: ['a'] }, full: { n: 10, scale: 2, labels: ['a', 'b'] } },
  tensors: false,
  async run({ params, seed }) {
    const rows = Array.from({ length: params.n }, (_, i) => ({ i, value: i * params.scale + seed }));
    return { rows, meta: { sum: rows.reduce((s, r) => s + r.value, 0) } };
  },
  spec: (rows, meta) => ({ title: `sum ${meta.sum} over ${meta.params.n} rows`, data: { values: rows }, mark: 'point' }),
});

describe('defineExperiment', () => {
  it('runs a size preset and adds the base meta: id, backend, seed, size, wall time, parameters', async () => {
    const r = await demo.run({ seed: 5 });
    expect(r.rows).toEqual([{ i: 0, value: 5 }, { i: 1, value: 6 }, { i: 2, value: 7 }]);
    expect(r.meta).toMatchObject({ id: 'demo', seed: 5, size: 'smoke', params: { n: 3, scale: 1, labels: ['a'] }, sum: 18 });
    expect(r.meta.backend).toMatch(/^none/);
    expect(r.meta.seconds).toBeGreaterThanOrEqual(0);
    expect(r.meta.overrides).toBeUndefined();
    expect((r.spec as { title: string }).title).toBe('sum 18 over 3 rows');
  });

  it('applies overrides of the preset and records them', async () => {
    const r = await demo.run({ size: 'full', overrides: { n: 2 } });
    expect(r.meta.params).toEqual({ n: 2, scale: 2, labels: ['a', 'b'] });
    expect(r.meta.overrides).toEqual({ n: 2 });
    expect(r.rows).toHaveLength(2);
  });

  it('refuses unknown options, unknown parameters and parameters of another kind', async () => {
    await expect(demo.run({ size: 'huge' as never })).rejects.toThrow(/options.size must be one of "smoke", "full"/);
    await expect(demo.run({ seeds: 3 } as never)).rejects.toThrow(/options.seeds/);
    await expect(demo.run({ overrides: { m: 3 } as never })).rejects.toThrow(/figures.figure\('demo'\): options.overrides.m must be one of the known options \(n, scale, labels\)/);
    await expect(demo.run({ overrides: { n: 'three' } as never })).rejects.toThrow(/options.overrides.n must be a number like the preset's 3/);
    await expect(demo.run({ overrides: { labels: 'a' } as never })).rejects.toThrow(/options.overrides.labels must be an array/);
  });

  it("figure() types a registered figure's parameters, and never reads or saves a run with overrides", async () => {
    const r = await figure('mnist-mlp-quickstart', { size: 'smoke', overrides: { epochs: 1, limit: 600 } });
    expect(r.meta.params.epochs).toBe(1);
    expect(r.rows.filter((row) => row.kind === 'loss')).toHaveLength(1);
    await expect(figure('nope' as never)).rejects.toThrow(/figures.figure: id must be a figure id \(mnist-mlp-quickstart, .*\), got nope/);
  });
});
