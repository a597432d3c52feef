import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd: root });

describe.skipIf(!existsSync(cli))('nestlab CLI (built)', () => {
  it('doctor reports the backend, versions, threads and the GPU adapter status', () => {
    const r = run(['doctor'], { NESTLAB_BACKEND: '' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^backend: (wasm|webgpu|tensorflow|cpu) \(auto;/m);
    expect(r.stdout).toMatch(/@tensorflow\/tfjs 4\.22\.0/);
    expect(r.stdout).toMatch(/threads: \d+ CPU cores/);
    expect(r.stdout).toMatch(/webgpu/);
  });

  it('doctor fails with the reason when a forced backend cannot start', () => {
    const r = run(['doctor'], { NESTLAB_BACKEND: 'nonsense' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/backend: FAILED: .*NESTLAB_BACKEND must be one of tensorflow, webgpu, wasm, cpu, got nonsense/);
  });

  it('figures --size smoke --only writes the files of a figure', () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-figs-'));
    const r = run(['figures', '--size', 'smoke', '--only', 'mnist-mlp-quickstart', '--out', out]);
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['mnist-mlp-quickstart.csv', 'mnist-mlp-quickstart.json', 'mnist-mlp-quickstart.png', 'mnist-mlp-quickstart.result.json', 'mnist-mlp-quickstart.svg']);
    expect(r.stdout).toContain(`figures are in ${out}`);
  });

  it('rejects an unknown size and an unknown figure id', () => {
    expect(run(['figures', '--size', 'medium']).stderr).toMatch(/Allowed choices are smoke, full/);
    const r = run(['figures', '--size', 'smoke', '--only', 'nope', '--out', mkdtempSync(join(tmpdir(), 'x-'))]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown figure id "nope"/);
  });
});
