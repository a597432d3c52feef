import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
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
    expect(r.stdout).toMatch(/vega 6\.\d+\.\d+, vega-lite 6\.\d+/);
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

  it('train-sae then report: a checkpoint and a self-contained HTML page', () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-sae-'));
    const t = run(['train-sae', '--data', 'mnist', '--out', out, '--epochs', '1', '--d-sae', '32', '--k', '4']);
    expect(t.stderr).not.toMatch(/Error/);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/prefix 32: explained variance 0\.\d+/);
    expect(existsSync(join(out, 'latest.json'))).toBe(true);
    const r = run(['report', out, '--data', 'mnist', '--max-latents', '4']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`report: ${join(out, 'report.html')} (4 latent cards`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('train-sae and report name a missing or bad argument', () => {
    expect(run(['train-sae', '--out', '/tmp/x']).stderr).toMatch(/--data <name>' not specified/);
    const missing = run(['report', '/nonexistent-checkpoint', '--data', 'mnist']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^nestlab: report.reportFromCheckpoint: checkpointDir must be an existing checkpoint folder/);
    expect(run(['figures', '--size', 'medium']).status).toBe(2);
    expect(run(['train-sae', '--data', 'cifar', '--out', '/tmp/x']).stderr).toMatch(/Allowed choices are mnist/);
  });

  it('rejects an unknown size and an unknown figure id', () => {
    expect(run(['figures', '--size', 'medium']).stderr).toMatch(/Allowed choices are smoke, full/);
    const r = run(['figures', '--size', 'smoke', '--only', 'nope', '--out', mkdtempSync(join(tmpdir(), 'x-'))]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^nestlab: nestlab figures --only: id must be a figure id \(mnist-mlp-quickstart, .*\), got nope$/m);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stderr).not.toMatch(/Vulkan/); // Dawn is not loaded on a machine without a Vulkan loader
  });
});
