import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { loadSae } from '../../src/sae/checkpoint.js';
import { reportFromCheckpoint, trainMnistSae } from '../../src/workflows/mnist-sae.js';

beforeAll(async () => {
  await initBackend();
});

describe('trainMnistSae -> reportFromCheckpoint', () => {
  it('trains a small pixel Matryoshka SAE into a checkpoint folder and reports it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'nestlab-msae-'));
    const { checkpointDir, metrics } = await trainMnistSae({ out, dSae: 32, k: 4, steps: 8, batchSize: 64, limit: 600 });
    expect(checkpointDir).toBe(out);
    expect(metrics.map((m) => m.prefix)).toEqual([2, 4, 8, 16, 32]);
    expect(existsSync(join(out, 'latest.json'))).toBe(true);
    const sae = loadSae(out);
    expect([sae.cfg.dIn, sae.cfg.dSae, sae.cfg.k, sae.cfg.activation]).toEqual([784, 32, 4, 'batchtopk']);
    expect(JSON.parse(readFileSync(join(out, 'source.json'), 'utf8'))).toMatchObject({ data: 'mnist', input: 'pixels', splitSeed: 0 });

    // Resuming: options left out keep the run's (d_sae 32, not the default 256); more steps extend it.
    const more = await trainMnistSae({ out, steps: 12, limit: 600 });
    expect([more.resumedFrom, more.step, more.architecture.dSae, more.training.batchSize]).toEqual([8, 12, 32, 64]);
    await expect(trainMnistSae({ out, hidden: true, steps: 14, limit: 600 })).rejects.toThrow(/options\.out .* must be a run on the same input to resume \(it was trained on pixels\), got mlp-hidden/);

    const r = await reportFromCheckpoint(out, { data: 'mnist', limit: 80, maxLatents: 5 });
    expect(r.path).toBe(join(out, 'report.html'));
    expect(r.latents).toBe(5);
    const html = readFileSync(r.path, 'utf8');
    expect(html.match(/<section class="card/g)).toHaveLength(5);
    expect(html).toContain('MNIST test split (80 digits, split seed 0), pixels');
  });

  it('trains on an MLP hidden layer and shows the digits in the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'nestlab-msae-hidden-'));
    const { metrics } = await trainMnistSae({ out, hidden: true, dSae: 16, k: 3, prefixes: [4, 16], steps: 6, batchSize: 64, limit: 500 });
    expect(metrics).toHaveLength(2);
    expect(loadSae(out).cfg.dIn).toBe(128);
    const file = join(out, 'elsewhere', 'r.html');
    const r = await reportFromCheckpoint(out, { data: 'mnist', limit: 60, maxLatents: 3, out: file });
    expect(r.path).toBe(file);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('hidden layer 1 of an MLP [784-128-10]');
    expect(html).toContain('Top ');
    expect(html).not.toContain('Decoder direction'); // d_in = 128: no pixel image of the decoder
  });

  it('rejects bad options', async () => {
    await expect(trainMnistSae({ out: '' })).rejects.toThrow(/options\.out must be a folder path/);
    await expect(trainMnistSae({ out: '/tmp/x', epochs: 1, steps: 3 })).rejects.toThrow(/options\.steps must be absent when options\.epochs is given/);
    await expect(trainMnistSae({ out: '/tmp/x', dsae: 3 } as never)).rejects.toThrow(/options\.dsae must be one of the known options/);
    await expect(reportFromCheckpoint('/nonexistent/ck', { data: 'mnist' })).rejects.toThrow(/checkpointDir must be an existing checkpoint folder/);
    await expect(reportFromCheckpoint(tmpdir(), { data: 'cifar' as 'mnist' })).rejects.toThrow(/options\.data must be one of "mnist"/);
  });
});
