import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, readSavedResult, resultPath, saveFigure, writeFigure } from '../../src/experiments/figure.js';
import { mnistMlpQuickstart } from '../../src/experiments/mnist-mlp-quickstart.js';

const FULL_PARAMS = mnistMlpQuickstart.sizes.full;

describe('figure(): run, or read the saved full-size result', () => {
  it('reads a saved full-size result of the same seed and parameters instead of running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fig-cache-'));
    // A saved result whose numbers no run would produce: reading it proves nothing was re-run.
    const meta = { id: 'mnist-mlp-quickstart', backend: 'cpu', seed: 0, size: 'full', seconds: 0, params: FULL_PARAMS };
    const saved = { rows: [{ kind: 'loss', epoch: 1, loss: 123 }], spec: { mark: 'point' }, meta };
    writeFileSync(resultPath('mnist-mlp-quickstart', dir), JSON.stringify(saved));
    const r = await figure('mnist-mlp-quickstart', { size: 'full', seed: 0, dir });
    expect(r.rows[0].loss).toBe(123);
    expect(readSavedResult('mnist-mlp-quickstart', 1, FULL_PARAMS, dir)).toBeNull(); // another seed
    expect(readSavedResult('mnist-mlp-quickstart', 0, { ...FULL_PARAMS, epochs: 9 }, dir)).toBeNull(); // other parameters
    writeFileSync(resultPath('mnist-mlp-quickstart', dir), JSON.stringify({ ...saved, meta: { ...meta, size: 'smoke' } }));
    expect(readSavedResult('mnist-mlp-quickstart', 0, FULL_PARAMS, dir)).toBeNull(); // a smoke run is never the figure
  });

  it('runs afresh at smoke size, ignores damaged files, and writes the files of a figure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fig-cache-'));
    writeFileSync(resultPath('mnist-mlp-quickstart', dir), '{not json');
    expect(readSavedResult('mnist-mlp-quickstart', 0, FULL_PARAMS, dir)).toBeNull();
    const r = await figure('mnist-mlp-quickstart', { size: 'smoke', dir });
    expect(r.meta.size).toBe('smoke');
    expect(r.meta.params).toEqual(mnistMlpQuickstart.sizes.smoke);
    const files = await saveFigure(r, dir);
    expect(files.result).toBe(resultPath('mnist-mlp-quickstart', dir));
    expect(readdirSync(dir).sort()).toEqual(['mnist-mlp-quickstart.csv', 'mnist-mlp-quickstart.json', 'mnist-mlp-quickstart.png', 'mnist-mlp-quickstart.result.json', 'mnist-mlp-quickstart.svg']);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).id).toBe('mnist-mlp-quickstart');
  });

  it('writes svg, png, csv and json atomically, the csv holding the rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fig-'));
    const rows = [{ epoch: 1, loss: 2, note: 'a,b' }, { epoch: 2, loss: 1, note: null }];
    const spec = { data: { values: rows }, mark: 'point' as const, encoding: { x: { field: 'epoch', type: 'quantitative' as const } } };
    await writeFigure({ rows, spec, meta: { id: 'demo', backend: 'cpu', seed: 0, size: 'smoke', seconds: 0, params: {} } }, dir);
    expect(readdirSync(dir).sort()).toEqual(['demo.csv', 'demo.json', 'demo.png', 'demo.svg']);
    expect(readFileSync(join(dir, 'demo.csv'), 'utf8')).toBe('epoch,loss,note\n1,2,"a,b"\n2,1,\n');
  });
});
