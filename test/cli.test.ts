import { describe, it, expect } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSae } from '../src/sae/checkpoint.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { writeSafetensors } from '../src/data/safetensors.js';
import { decodePng } from './helpers/png-decode.js';
import { runProcess } from './helpers/spawn.js';
import { writeSynthetic } from './workflows/synthetic.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
/** The built CLI, run without blocking the test worker (helpers/spawn.ts says why). */
const run = (args: string[], env: Record<string, string> = {}) => runProcess(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env } });

describe.skipIf(!existsSync(cli))('nestlab CLI (built)', () => {
  it('doctor reports the backend, versions, threads and the GPU adapter status', async () => {
    const r = await run(['doctor'], { NESTLAB_BACKEND: '' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^backend: (wasm|webgpu|tensorflow|cpu) \(auto;/m);
    expect(r.stdout).toMatch(/@tensorflow\/tfjs 4\.22\.0/);
    expect(r.stdout).toMatch(/vega 6\.\d+\.\d+, vega-lite 6\.\d+/);
    expect(r.stdout).toMatch(/threads: \d+ CPU cores/);
    expect(r.stdout).toMatch(/webgpu/);
  });

  it('doctor fails with the reason when a forced backend cannot start', async () => {
    const r = await run(['doctor'], { NESTLAB_BACKEND: 'nonsense' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/backend: FAILED: .*NESTLAB_BACKEND must be one of tensorflow, webgpu, wasm, cpu, got nonsense/);
  });

  it('figures --size smoke --only writes the files of a figure', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-figs-'));
    const r = await run(['figures', '--size', 'smoke', '--only', 'mnist-mlp-quickstart', '--out', out]);
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['mnist-mlp-quickstart.csv', 'mnist-mlp-quickstart.json', 'mnist-mlp-quickstart.png', 'mnist-mlp-quickstart.result.json', 'mnist-mlp-quickstart.svg']);
    expect(r.stdout).toContain(`figures are in ${out}`);
  });

  it('train-sae then report: a checkpoint and a self-contained HTML page', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-sae-'));
    const t = await run(['train-sae', '--data', 'mnist', '--out', out, '--epochs', '1', '--d-sae', '32', '--k', '4']);
    expect(t.stderr).not.toMatch(/Error/);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^metrics on the 2000 digits of the MNIST test split \(split seed 0\):$/m);
    expect(t.stdout).toMatch(/^prefix 32: FVU 0\.\d+, explained variance 0\.\d+, L0 \d+\.\d, dead \d+\.\d%$/m);
    expect(existsSync(join(out, 'latest.json'))).toBe(true);
    const r = await run(['report', out, '--max-latents', '4']); // source.json says mnist
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`report: ${join(out, 'report.html')} (4 latent cards`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('train-lm, capture, then train-sae on the captured shards: the language-model path end to end', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-lm-'));
    const t = await run(['train-lm', '--out', out, '--steps', '3', '--layers', '1', '--d-model', '8', '--heads', '2', '--context', '16', '--vocab-size', '300']);
    expect(t.stderr).not.toMatch(/Error/);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^model {4}validation loss \d+\.\d{4} \(perplexity \d+\.\d\), test \d+\.\d{4} \(\d+\.\d\)$/m);
    expect(t.stdout).toMatch(/^bigram {3}validation loss/m);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.split.train.files + summary.split.validation.files + summary.split.test.files).toBe(500);
    expect(summary.architecture.vocabSize).toBe(300);
    const acts = join(out, 'acts');
    const c = await run(['capture', join(out, 'model'), '--out', acts, '--hooks', 'blocks.0.hook_resid_post,blocks.0.hook_resid_pre,blocks.0.mlp.hook_post', '--split', 'test', '--max-windows', '20', '--rows-per-shard', '100']);
    expect(c.stderr).not.toMatch(/Error/);
    expect(c.stdout).toMatch(/^capture: 320 rows of test × 3 hooks \(d 8\) in 4 shards/m);
    expect(readdirSync(join(acts, 'blocks.0.hook_resid_post'))).toEqual(['part-00000.npy', 'part-00001.npy', 'part-00002.npy', 'part-00003.npy']);
    const meta = JSON.parse(readFileSync(join(acts, 'capture.json'), 'utf8'));
    expect(meta.hooks).toEqual(['blocks.0.hook_resid_pre', 'blocks.0.mlp.hook_post', 'blocks.0.hook_resid_post']); // forward order
    // The MLP's hidden units are dMlp = 4 · dModel wide.
    expect(meta.widths).toEqual({ 'blocks.0.hook_resid_pre': 8, 'blocks.0.mlp.hook_post': 32, 'blocks.0.hook_resid_post': 8 });
    expect(readNpy(join(acts, 'blocks.0.mlp.hook_post', 'part-00003.npy')).shape).toEqual([20, 32]);
    expect(readNpy(join(acts, 'blocks.0.hook_resid_post', 'part-00003.npy')).shape).toEqual([20, 8]);
    expect(meta.rowColumns).toEqual(['token', 'document', 'position', 'tag']);
    const s = await run(['train-sae', '--data', join(acts, 'blocks.0.hook_resid_post'), '--out', join(out, 'sae'), '--d-sae', '16', '--k', '2', '--epochs', '2', '--batch-size', '32']);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/^prefix 16: FVU /m);
    // Text dashboards: the capture and hook come from the run's source.json.
    const d = await run(['report', join(out, 'sae'), '--lm', join(out, 'model'), '--max-latents', '4']);
    expect(d.stderr).not.toMatch(/Error/);
    expect(d.stdout).toMatch(/^report: .*dashboard\.html \(4 latent dashboards over \d+ tokens/m);
    const html = readFileSync(join(out, 'sae', 'dashboard.html'), 'utf8');
    expect(html).toContain('blocks.0.hook_resid_post');
    expect(html).toMatch(/Content-Security-Policy/);
    const bad = await run(['capture', join(out, 'model'), '--out', acts, '--hooks', 'blocks.3.hook_resid_post']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/hooks must be names among hook_embed/);
  }, 300_000);

  it('train-sae and report name a missing or bad argument', async () => {
    expect((await run(['train-sae', '--out', '/tmp/x'])).stderr).toMatch(/--data <path>' not specified/);
    const missing = await run(['report', '/nonexistent-checkpoint', '--data', 'mnist']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^nestlab report: CHECKPOINT must be an existing checkpoint folder, got \/nonexistent-checkpoint$/m);
    expect((await run(['figures', '--size', 'medium'])).status).toBe(2);
  });

  it('rejects an unknown size and an unknown figure id', async () => {
    expect((await run(['figures', '--size', 'medium'])).stderr).toMatch(/Allowed choices are smoke, full/);
    const r = await run(['figures', '--size', 'smoke', '--only', 'nope', '--out', mkdtempSync(join(tmpdir(), 'x-'))]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^nestlab figures --only: id must be a figure id \(mnist-mlp-quickstart, .*\), got nope$/m);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stderr).not.toMatch(/Vulkan/); // Dawn is not loaded on a machine without a Vulkan loader
  });

  describe('train-sae and report on your own activations', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-acts-'));
    writeSynthetic(dir); // x.npy [600, 16] from 12 sparse directions, y.npy, img.npy, shards/, ab.npy + c.npy
    const small = ['--d-sae', '32', '--k', '3', '--prefixes', '4,8,16,32', '--batch-size', '32'];
    /** The printed metrics, prefix → FVU. */
    const fvus = (stdout: string) => [...stdout.matchAll(/^prefix (\d+): FVU (\d\.\d+),/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    const latestStep = (out: string) => JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')).step;

    it('trains on a .npy file: FVU falls with the prefix on held-out rows, the checkpoint loads, more epochs resume', async () => {
      const out = join(dir, 'run');
      const t = await run(['train-sae', '--data', join(dir, 'x.npy'), '--out', out, ...small, '--epochs', '3']);
      expect(t.stderr).toBe('');
      expect(t.status).toBe(0);
      expect(t.stdout).toContain('training on 540 rows; 60 rows held out: a seeded 10%, permutation seed 0');
      expect(t.stdout).toContain(`metrics on the 60 held-out rows of ${join(dir, 'x.npy')} (a seeded 10%, permutation seed 0):`);
      const f = fvus(t.stdout);
      expect(f.map(([p]) => p)).toEqual([4, 8, 16, 32]);
      for (let i = 1; i < f.length; i++) expect(f[i][1]).toBeLessThan(f[i - 1][1]);
      expect(t.stdout).toContain(`checkpoint: ${out} (step 48 of 48)`);
      expect(loadSae(out).cfg).toMatchObject({ dIn: 16, dSae: 32, k: 3, activation: 'batchtopk', prefixes: [4, 8, 16, 32] });
      expect(JSON.parse(readFileSync(join(out, 'source.json'), 'utf8'))).toMatchObject({ path: join(dir, 'x.npy'), rows: 600, columns: 16, holdout: { rule: 'fraction', rows: 60 } });

      const more = await run(['train-sae', '--data', join(dir, 'x.npy'), '--out', out, '--epochs', '5']); // the rest as the run had it
      expect(more.status).toBe(0);
      expect(more.stdout).toContain(`resuming the run in ${out} from step 48 of 80`);
      expect(more.stdout).toContain(`checkpoint: ${out} (step 80 of 80, resumed from step 48)`);
      expect(latestStep(out)).toBe(80);
      expect(fvus(more.stdout)[3][1]).toBeLessThan(f[3][1]);

      const other = await run(['train-sae', '--data', join(dir, 'x.npy'), '--out', out, '--epochs', '6', '--d-sae', '64', '--k', '3']);
      expect(other.status).toBe(2);
      expect(other.stderr).toBe(`nestlab train-sae: --out ${out} must be a run of the same architecture to resume (it has --d-sae 32; leave those options out, or use another folder), got --d-sae 64\n`);
      expect(latestStep(out)).toBe(80);
    });

    it('trains a matching-pursuit SAE (flat by default) and reports it', async () => {
      const out = join(dir, 'mp');
      const t = await run(['train-sae', '--data', join(dir, 'x.npy'), '--out', out, '--activation', 'mp', '--d-sae', '32', '--k', '3', '--batch-size', '32', '--epochs', '3']);
      expect(t.stderr).toBe('');
      expect(t.status).toBe(0);
      const f = fvus(t.stdout);
      expect(f.map(([p]) => p)).toEqual([32]);
      expect(f[0][1]).toBeLessThan(0.5);
      expect(loadSae(out).cfg).toMatchObject({ dSae: 32, k: 3, activation: 'mp', prefixes: [32] });
      const r = await run(['report', out, '--max-latents', '3']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const refused = await run(['train-sae', '--data', join(dir, 'x.npy'), '--out', join(dir, 'mp2'), '--activation', 'mp', '--prefixes', 'halving']);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/^nestlab train-sae: --prefixes must be \[--d-sae\] for activation "mp"/);
    });

    it('a folder of .npy shards trains like the stacked file with its last shard as --eval (same batches)', async () => {
      const a = await run(['train-sae', '--data', join(dir, 'shards'), '--out', join(dir, 'run-shards'), ...small, '--epochs', '1']);
      const b = await run(['train-sae', '--data', join(dir, 'ab.npy'), '--eval', join(dir, 'c.npy'), '--out', join(dir, 'run-ab'), ...small, '--epochs', '1']);
      expect([a.status, b.status]).toEqual([0, 0]);
      expect(a.stdout).toContain('metrics on the 200 rows of the held-out last shard part-10.npy:');
      const metrics = (s: string) => s.split('\n').filter((l) => l.startsWith('prefix '));
      expect(metrics(a.stdout)).toHaveLength(4);
      expect(metrics(a.stdout)).toEqual(metrics(b.stdout));
      const weights = (out: string) => readFileSync(join(out, 'step-00000012', 'sae_weights.safetensors'));
      expect(weights(join(dir, 'run-shards')).equals(weights(join(dir, 'run-ab')))).toBe(true);
    });

    it('report draws the pictures as PNGs, lists labels, and escapes file and tensor names', async () => {
      // A folder and a tensor name that would inject markup if they were not escaped.
      const evil = join(dir, 'a<i>&"b');
      mkdirSync(evil);
      const x = readFileSync(join(dir, 'x.npy'));
      const data = new Float32Array(x.buffer.slice(x.byteOffset + x.length - 600 * 16 * 4, x.byteOffset + x.length));
      const tensor = '<script>alert(1)</script>';
      writeSafetensors(join(evil, 'acts.safetensors'), { [tensor]: { dtype: 'F32', shape: [600, 16], data }, labels: { dtype: 'I32', shape: [2], data: new Int32Array(2) } });
      copyFileSync(join(dir, 'y.npy'), join(evil, 'y.npy'));
      const images = Uint8Array.from(data, (v) => Math.max(0, Math.min(255, Math.round(128 + 40 * v))));
      writeNpy(join(evil, 'pictures.npy'), { shape: [600, 16], data: images });
      const out = join(evil, 'run');
      expect((await run(['train-sae', '--data', join(evil, 'acts.safetensors'), '--tensor', tensor, '--out', out, ...small, '--epochs', '1'])).status).toBe(0);
      const r = await run(['report', out, '--labels', join(evil, 'y.npy'), '--images', join(evil, 'pictures.npy'), '--image-shape', '4,4', '--max-latents', '3']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`report: ${join(out, 'report.html')} (3 latent cards`);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).not.toMatch(/<script|<i>/);
      expect(html).toContain('[tensor &lt;script&gt;alert(1)&lt;/script&gt;]');
      expect(html).toContain('a&lt;i&gt;&amp;&quot;b');
      const pngs = [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((m) => decodePng(new Uint8Array(Buffer.from(m[1], 'base64'))));
      expect(pngs.length).toBeGreaterThan(3);
      for (const p of pngs) expect([p.width, p.height, p.channels]).toEqual([4, 4, 1]);
      expect(html).toMatch(/<figcaption>\d+ · \d/); // label · activation
      expect(html).toContain('Labels of the top');
    });

    it('usage and file errors: one line naming the flag (and the file), exit 2, no stack', async () => {
      const x = join(dir, 'x.npy');
      const cases: [string[], string][] = [
        [['train-sae', '--data', x, '--out', join(dir, 'e'), '--k', '-1'], 'nestlab train-sae: --k must be a positive number, got -1'],
        [['train-sae', '--data', x, '--out', join(dir, 'e'), '--d-sae', '2.5'], 'nestlab train-sae: --d-sae must be a positive integer, got 2.5'],
        [['train-sae', '--data', join(dir, 'y.npy'), '--out', join(dir, 'e')], `nestlab train-sae: --data ${join(dir, 'y.npy')} must be a 2-D array [samples, units], got shape [600]`],
        [['train-sae', '--data', join(dir, 'missing.npy'), '--out', join(dir, 'e')], `nestlab train-sae: --data must be an existing .npy or .safetensors file, or a folder of .npy shards, got ${join(dir, 'missing.npy')} (no such file or folder)`],
        [['report', join(dir, 'run'), '--labels', join(dir, 'c.npy')], `nestlab report: --labels ${join(dir, 'c.npy')} must be a 1-D array of labels [rows] (or [rows, 1]), got shape [200,16]`],
        [['report', join(dir, 'run'), '--data', join(dir, 'c.npy'), '--labels', join(dir, 'y.npy')], `nestlab report: --labels ${join(dir, 'y.npy')} must be 200 labels, one per row of --data ${join(dir, 'c.npy')}, got 600 labels`],
        [['report', join(dir, 'run'), '--images', join(dir, 'img.npy'), '--image-shape', '3,5'], `nestlab report: --image-shape must be H,W with H·W = 16, the width of --images ${join(dir, 'img.npy')}, got 3,5`],
        [['report', join(dir, 'run'), '--image-shape', '4x4'], 'nestlab report: --image-shape must be H,W: two positive integers, got 4x4'],
      ];
      for (const [args, line] of cases) {
        const r = await run(args, { NESTLAB_DEBUG: '' });
        expect(r.stderr).toBe(`${line}\n`);
        expect(r.status).toBe(2);
      }
      const choice = await run(['train-sae', '--data', x, '--out', join(dir, 'e'), '--activation', 'gelu']);
      expect([choice.status, choice.stderr]).toEqual([2, "nestlab train-sae: option '--activation <name>' argument 'gelu' is invalid. Allowed choices are topk, batchtopk, relu, mp.\n"]);
      const debug = await run(['train-sae', '--data', x, '--out', join(dir, 'e'), '--k', '-1'], { NESTLAB_DEBUG: '1' });
      expect(debug.stderr).toMatch(/\n\s+at /); // the stack, on request
    });
  });
});

