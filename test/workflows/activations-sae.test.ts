import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { loadSae } from '../../src/sae/checkpoint.js';
import { writeSafetensors } from '../../src/data/safetensors.js';
import { recordedData, reportActivations, trainActivationsSae, trainActivationsSaeAs } from '../../src/workflows/activations-sae.js';
import { holdoutSplit } from '../../src/data/batches.js';
import { cliNaming } from '../../src/workflows/sae-run.js';
import { writeSynthetic } from './synthetic.js';

let dir: string;
let y: Int32Array;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'nestlab-acts-'));
  ({ y } = writeSynthetic(dir));
});

/** The run options of these tests: a small Matryoshka BatchTopK SAE, a few epochs. */
const small = { dSae: 32, k: 3, prefixes: [4, 8, 16, 32], batchSize: 32 };

describe('trainActivationsSae -> reportActivations', () => {
  it('trains on a .npy file with a seeded hold-out, records the data, and resumes with more epochs', async () => {
    const out = join(dir, 'run-npy');
    const lines: string[] = [];
    const r = await trainActivationsSae({ data: join(dir, 'x.npy'), out, ...small, epochs: 3, log: (l) => lines.push(l) });
    expect(r.metrics.map((m) => m.prefix)).toEqual([4, 8, 16, 32]);
    // the nested prefixes reconstruct the held-out rows better and better
    for (let i = 1; i < r.metrics.length; i++) expect(r.metrics[i].fvu).toBeLessThan(r.metrics[i - 1].fvu);
    expect(r.metrics[3].fvu).toBeLessThan(0.5);
    expect([r.step, r.totalSteps, r.resumedFrom]).toEqual([48, 48, 0]); // ⌊540/32⌋ = 16 steps an epoch
    expect(r.evalDescription).toBe(`the 60 held-out rows of ${join(dir, 'x.npy')} (a seeded 10%, permutation seed 0)`);
    expect(lines[0]).toContain('training on 540 rows; 60 rows held out');
    const source = JSON.parse(readFileSync(join(out, 'source.json'), 'utf8'));
    expect(source).toEqual({
      version: 1, data: 'activations', path: join(dir, 'x.npy'), kind: 'npy', tensor: null, rows: 600, columns: 16, trainRows: 540,
      holdout: { rule: 'fraction', fraction: 0.1, seed: 0, rows: 60 },
    });
    expect(recordedData(out)).toBe('activations');
    const sae = loadSae(out);
    expect([sae.cfg.dIn, sae.cfg.dSae, sae.cfg.k, sae.cfg.activation, sae.cfg.prefixes]).toEqual([16, 32, 3, 'batchtopk', [4, 8, 16, 32]]);

    // Resume: options left out keep the run's values; more epochs extend it.
    const more = await trainActivationsSae({ data: join(dir, 'x.npy'), out, epochs: 5 });
    expect([more.step, more.totalSteps, more.resumedFrom]).toEqual([80, 80, 48]);
    expect(more.training.batchSize).toBe(32);
    expect(more.metrics[3].fvu).toBeLessThan(r.metrics[3].fvu);
    // ... a different architecture is refused, naming what differs
    await expect(trainActivationsSae({ data: join(dir, 'x.npy'), out, dSae: 64, k: 3, epochs: 6 })).rejects.toThrow(
      `report.trainActivationsSae: options.out ${out} must be a run of the same architecture to resume (it has options.dSae 32; leave those options out, or use another folder), got options.dSae 64`,
    );
    // ... and so is another hold-out (other rows would train)
    await expect(trainActivationsSae({ data: join(dir, 'x.npy'), out, evalFraction: 0.2, epochs: 6 })).rejects.toThrow(/options\.data must be the data the run in .* trained on, to resume it \(600 rows × 16, 60 rows held out: a seeded 10%/);
  });

  it('resumes a run with its own hold-out when the option is left out (here 20% held out)', async () => {
    const out = join(dir, 'run-20');
    const first = await trainActivationsSae({ data: join(dir, 'x.npy'), out, ...small, evalFraction: 0.2, epochs: 1 });
    expect(first.source.holdout).toEqual({ rule: 'fraction', fraction: 0.2, seed: 0, rows: 120 });
    const more = await trainActivationsSae({ data: join(dir, 'x.npy'), out, epochs: 2 });
    expect([more.resumedFrom, more.source.holdout]).toEqual([first.step, { rule: 'fraction', fraction: 0.2, seed: 0, rows: 120 }]);
  });

  it('streams a shard folder, holding out its last shard by number order; equal to the stacked file with --eval', async () => {
    const folder = await trainActivationsSae({ data: join(dir, 'shards'), out: join(dir, 'run-shards'), ...small, epochs: 1 });
    expect(folder.source).toMatchObject({ kind: 'npy-shards', shards: ['part-1.npy', 'part-2.npy', 'part-10.npy'], rows: 600, trainRows: 400, holdout: { rule: 'last-shard', shard: 'part-10.npy', rows: 200 } });
    const file = await trainActivationsSae({ data: join(dir, 'ab.npy'), eval: join(dir, 'c.npy'), out: join(dir, 'run-ab'), ...small, epochs: 1 });
    expect(file.source.holdout).toEqual({ rule: 'file', path: join(dir, 'c.npy'), tensor: null, rows: 200 });
    // One batch order rule for memory and shards (data.epochOrder): the same batches, the same SAE.
    expect(folder.sae.params.wDec).toEqual(file.sae.params.wDec);
    expect(folder.metrics).toEqual(file.metrics);
    await expect(trainActivationsSae({ data: join(dir, 'shards'), out: join(dir, 'x1'), evalFraction: 0.1 })).rejects.toThrow(/options\.evalFraction must be absent for a shard folder/);
  });

  it('reads a named tensor of a safetensors file, and asks for one when there are several', async () => {
    const { x } = await import('./synthetic.js').then((m) => m.sparseActivations());
    const path = join(dir, 'two.safetensors');
    writeSafetensors(path, { resid: { dtype: 'F32', shape: [600, 16], data: x.data }, other: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } });
    const cli = cliNaming('train-sae');
    await expect(trainActivationsSaeAs({ data: path, out: join(dir, 'x2') }, cli)).rejects.toThrow(`nestlab train-sae: --tensor must be one of other, resid (the tensors of --data ${path}), got none`);
    const r = await trainActivationsSaeAs({ data: path, tensor: 'resid', out: join(dir, 'run-st'), ...small, epochs: 1, evalFraction: 0.2 }, cli);
    expect(r.source).toMatchObject({ kind: 'safetensors', tensor: 'resid', trainRows: 480, holdout: { rule: 'fraction', fraction: 0.2, rows: 120 } });
  });

  it('names the options and files in errors (API names here, CLI flags from the CLI)', async () => {
    const cli = cliNaming('train-sae');
    await expect(trainActivationsSae({ data: join(dir, 'nope.npy'), out: join(dir, 'x3') })).rejects.toThrow(/options\.data must be an existing \.npy or \.safetensors file, or a folder of \.npy shards, got .*nope\.npy \(no such file or folder\)/);
    await expect(trainActivationsSaeAs({ data: join(dir, 'y.npy'), out: join(dir, 'x3') }, cli)).rejects.toThrow(`nestlab train-sae: --data ${join(dir, 'y.npy')} must be a 2-D array [samples, units], got shape [600]`);
    await expect(trainActivationsSaeAs({ data: join(dir, 'x.npy'), out: join(dir, 'x3'), k: 40, dSae: 32 }, cli)).rejects.toThrow('nestlab train-sae: --k must be at most --d-sae = 32, got 40');
    await expect(trainActivationsSaeAs({ data: join(dir, 'x.npy'), out: join(dir, 'x3'), batchSize: 1000 }, cli)).rejects.toThrow('nestlab train-sae: --batch-size must be at most the 540 training rows, got 1000');
    await expect(trainActivationsSaeAs({ data: join(dir, 'x.npy'), out: join(dir, 'x3'), learningRate: -1 }, cli)).rejects.toThrow(/nestlab train-sae: --lr must be a finite number in \[0, 10\], got -1/);
    await expect(trainActivationsSae({ data: join(dir, 'x.npy'), out: join(dir, 'x3'), dsae: 3 } as never)).rejects.toThrow(/options\.dsae must be one of the known options/);
    expect(existsSync(join(dir, 'x3', 'source.json'))).toBe(false); // nothing written before the options are checked
  });

  it('reports the held-out rows with labels and 4x4 pictures, naming bad companions', async () => {
    const out = join(dir, 'run-npy');
    const r = await reportActivations(out, { split: 'holdout', labels: join(dir, 'y.npy'), images: join(dir, 'img.npy'), maxLatents: 5, date: new Date('2025-01-02T03:04:00Z') });
    expect(r.path).toBe(join(out, 'report.html'));
    expect(r.description).toBe(`${join(dir, 'x.npy')}: the 60 held-out rows (a seeded 10%, permutation seed 0)`);
    const html = readFileSync(r.path, 'utf8');
    expect(html.match(/<section class="card/g)).toHaveLength(5);
    expect(html).toContain('Pictures: 4×4, grayscale, high values light');
    expect(html).toContain('Evaluated on all 60 rows');
    // the captions carry the held-out rows' own labels
    const held = holdoutSplit(600, 0.1).holdout;
    const labels = new Set([...held].map((i) => String(y[i])));
    for (const m of html.matchAll(/<figcaption>(\d+) · /g)) expect(labels.has(m[1])).toBe(true);
    expect(html).not.toMatch(/digit|MNIST/i);

    const all = await reportActivations(out, { limit: 100, maxLatents: 2, out: join(dir, 'r2.html') });
    expect(all.description).toBe(`${join(dir, 'x.npy')}: the first 100 of 600 rows (the run trained on 540; 60 rows held out: a seeded 10%, permutation seed 0)`);
    expect(readFileSync(all.path, 'utf8')).toContain('<table class="top">'); // no pictures: row, activation table

    await expect(reportActivations(out, { labels: join(dir, 'c.npy') })).rejects.toThrow(/options\.labels .*c\.npy must be a 1-D array of labels/);
    await expect(reportActivations(out, { images: join(dir, 'img.npy'), imageShape: [2, 4] })).rejects.toThrow(/options\.imageShape must be H,W with H·W = 16, the width of options\.images .*img\.npy, got 2,4/);
    await expect(reportActivations(out, { data: join(dir, 'c.npy'), labels: join(dir, 'y.npy') })).rejects.toThrow(/options\.labels .*y\.npy must be 200 labels, one per row of options\.data .*c\.npy, got 600 labels/);
    await expect(reportActivations(out, { data: join(dir, 'c.npy'), split: 'holdout' })).rejects.toThrow(/options\.split must be 'all' for data other than the run's/);
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    await expect(reportActivations(bare)).rejects.toThrow(/options\.data must be given \(.* has no source\.json/);
  });
});
