import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
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

  // Same seed, same numbers (issue #17 item 7): a second run of every figure, in a fresh process
  // (nothing cached from the first: lm-common keeps its LM per process), writes the same CSV and
  // the same meta JSON but for the timings. The first run is the one above, in this process.
  const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
  it.skipIf(!existsSync(cli))('a second run in another process (nestlab figures --size smoke) writes the same CSV and meta, figure by figure', async () => {
    const written = listExperiments().map((e) => e.id).filter((id) => existsSync(join(dir, `${id}.csv`))); // in the registry's order, as above
    expect(written.length).toBeGreaterThan(0); // the figures run above (all of them, unless filtered with -t)
    const out = mkdtempSync(join(tmpdir(), 'figs-again-'));
    const t0 = performance.now();
    const r = await new Promise<{ status: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, [cli, 'figures', '--size', 'smoke', '--seed', '0', '--out', out, '--only', ...written], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('close', (status) => done({ status, stderr }));
    });
    console.log(`figures determinism: the second run of ${written.length} figures took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.status, r.stderr).toBe(0);
    const timingFree = (text: string) => JSON.stringify(JSON.parse(text), (k, v) => (/seconds/i.test(k) ? undefined : v));
    const differ: string[] = [];
    for (const id of written) {
      if (readFileSync(join(dir, `${id}.csv`), 'utf8') !== readFileSync(join(out, `${id}.csv`), 'utf8')) differ.push(`${id}.csv`);
      if (timingFree(readFileSync(join(dir, `${id}.json`), 'utf8')) !== timingFree(readFileSync(join(out, `${id}.json`), 'utf8'))) differ.push(`${id}.json`);
    }
    expect(differ, `files that differ between ${dir} and ${out}`).toEqual([]);
  }, 900_000);

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
