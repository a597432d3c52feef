#!/usr/bin/env node
/**
 * `nestlab figures | doctor | notebooks | bench | train-sae | report` — the headless entry points.
 */
import { Command, CommanderError, Option } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, packageVersion, selectBackend, DEFAULT_LOADERS } from './backend/select.js';
import { barProgress, lineProgress } from './backend/progress.js';
import { findExperiment, listExperiments } from './experiments/registry.js';
import { saveFigure } from './experiments/figure.js';
import { executeNotebook, listNotebooks } from './notebooks.js';
import { NestlabArgumentError } from './errors.js';
import { reportFromCheckpoint, trainMnistSae } from './workflows/mnist-sae.js';
import type { Size } from './experiments/define.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const program = new Command();
program.name('nestlab').description('Representation geometry across nested sizes: figures, diagnostics, notebooks, benchmarks.');
// Set before the commands are added, so that they inherit it: usage errors throw (exit 2 below)
// and print one line.
program.exitOverride();
program.configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') });

const sizeOption = () => new Option('--size <size>', 'smoke (seconds, CI) or full (published figures)').choices(['smoke', 'full']);

program
  .command('figures')
  .description('regenerate every figure (SVG + PNG + CSV + JSON) into figures/')
  .addOption(sizeOption().default('full'))
  .option('--only <ids...>', 'regenerate only these figure ids')
  .option('--out <dir>', 'output folder', join(ROOT, 'figures'))
  .option('--seed <n>', 'seed of every random step', '0')
  .action(async (opts: { size: Size; only?: string[]; out: string; seed: string }) => {
    const backend = await initBackend();
    console.log(`nestlab figures: backend ${backend.name}, size ${opts.size}, into ${resolve(opts.out)}`);
    const list = opts.only ? opts.only.map((id) => findExperiment(id, 'nestlab figures --only')) : listExperiments();
    for (const exp of list) {
      const progress = process.stderr.isTTY ? barProgress() : lineProgress((l) => console.log(`  ${l}`));
      console.log(`- ${exp.id}: ${exp.title}`);
      const result = await exp.run({ size: opts.size, seed: Number(opts.seed), progress });
      const files = await saveFigure(result, opts.out);
      console.log(`  wrote ${files.svg}, .png, .csv, .json, .result.json (${result.meta.seconds.toFixed(1)} s)`);
    }
    console.log(`figures are in ${resolve(opts.out)}`);
  });

function jupyterStatus(): string[] {
  const lines: string[] = [];
  const v = spawnSync('jupyter', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return ['jupyter: not found (run the README set-up command)'];
  const nbconvert = /nbconvert\s*:\s*(\S+)/.exec(v.stdout)?.[1];
  lines.push(`jupyter: found (nbconvert ${nbconvert ?? '?'})`);
  const specs = spawnSync('jupyter', ['kernelspec', 'list', '--json'], { encoding: 'utf8' });
  try {
    const tslab = JSON.parse(specs.stdout).kernelspecs?.tslab;
    if (!tslab) lines.push('tslab kernel: not registered (run the README set-up command)');
    else {
      const argv0 = tslab.spec.argv[0] as string;
      lines.push(`tslab kernel: ${tslab.resource_dir} -> ${argv0}${existsSync(argv0) ? '' : ' (MISSING: re-run set-up)'}`);
    }
  } catch {
    lines.push('tslab kernel: could not list kernelspecs');
  }
  return lines;
}

program
  .command('doctor')
  .description('print the compute backend, versions, threads, GPU adapter and Jupyter status')
  .action(async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    console.log(`nestlab ${pkg.version} on node ${process.version} (${process.platform}-${process.arch})`);
    let info;
    try {
      info = await initBackend();
    } catch (e) {
      console.log(`backend: FAILED: ${(e as Error).message}`);
      process.exitCode = 1;
      return;
    }
    console.log(`backend: ${info.name} (${info.how}; ${info.detail})`);
    for (const s of info.skipped) console.log(`  skipped ${s.name}: ${s.reason}`);
    if (info.name !== 'webgpu' && !info.skipped.some((s) => s.name === 'webgpu')) {
      // Forced or chosen before webgpu: probe the adapter anyway, as the doctor should say.
      const probe = await selectBackend('webgpu', DEFAULT_LOADERS).then(
        (i) => i.detail,
        (e: Error) => e.message,
      );
      await selectBackend(info.name);
      console.log(`  webgpu: ${probe}`);
    }
    console.log(`threads: ${cpus().length} CPU cores; wasm multithreading ${info.name === 'wasm' && info.detail.includes('multithreading on') ? 'on' : 'off'}`);
    const names = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@tensorflow/tfjs-node-gpu', 'tslab', 'danfojs-node', 'vega', 'vega-lite', 'umap-js'];
    console.log(`versions: ${names.map((n) => `${n} ${packageVersion(n) ?? '(not installed)'}`).join(', ')}`);
    for (const l of jupyterStatus()) console.log(l);
  });

program
  .command('notebooks')
  .description('execute every notebook headless on the tslab kernel and check its outputs')
  .addOption(sizeOption().default('smoke'))
  .option('--in-place', 'save the executed notebooks with their outputs (for publishing)', false)
  .argument('[files...]', 'notebooks to run (default: notebooks/*.ipynb)')
  .action(async (files: string[], opts: { size: Size; inPlace: boolean }) => {
    const list = files.length > 0 ? files.map((f) => resolve(f)) : listNotebooks(join(ROOT, 'notebooks'));
    let passed = 0;
    for (const nb of list) {
      const run = await executeNotebook(nb, opts.size, opts.inPlace);
      console.log(`${run.ok ? 'ok  ' : 'FAIL'} ${nb} (${run.seconds.toFixed(1)} s)${run.error ? `: ${run.error}` : ''}`);
      if (run.ok) passed++;
    }
    console.log(`notebooks: ${passed} passed, ${list.length - passed} failed`);
    if (passed !== list.length) process.exitCode = 1;
  });

/** Parses an integer option, naming the flag in the error. */
function intOption(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${flag} must be an integer, got ${v}`);
    return n;
  };
}

program
  .command('train-sae')
  .description('train a Matryoshka BatchTopK SAE on MNIST (pixels or an MLP layer); checkpoints resume')
  .addOption(new Option('--data <name>', 'training data').choices(['mnist']).makeOptionMandatory())
  .requiredOption('--out <dir>', 'checkpoint folder (an existing run there resumes)')
  .option('--hidden', 'train on the first hidden layer of a small MLP instead of the pixels', false)
  .option('--d-sae <n>', 'dictionary size', intOption('--d-sae'), 256)
  .option('--k <n>', 'mean active latents per input', Number, 16)
  .option('--epochs <n>', 'passes over the 8,000 training digits', intOption('--epochs'), 12)
  .option('--seed <n>', 'seed of every random step', intOption('--seed'), 0)
  .action(async (opts: { out: string; hidden: boolean; dSae: number; k: number; epochs: number; seed: number }) => {
    await initBackend();
    const progress = process.stderr.isTTY ? barProgress() : lineProgress();
    const r = await trainMnistSae({ out: opts.out, hidden: opts.hidden, dSae: opts.dSae, k: opts.k, epochs: opts.epochs, seed: opts.seed, progress });
    for (const m of r.metrics) console.log(`prefix ${m.prefix}: explained variance ${m.explainedVariance.toFixed(3)}, L0 ${m.l0.toFixed(1)}, dead ${(100 * m.deadFraction).toFixed(1)}%`);
    console.log(`checkpoint: ${r.checkpointDir}`);
  });

program
  .command('report')
  .description('write a self-contained HTML interpretability report of a trained SAE checkpoint')
  .argument('<checkpoint>', 'checkpoint folder written by train-sae (or any nestlab SAE checkpoint)')
  .addOption(new Option('--data <name>', 'data to read the latents on').choices(['mnist']).makeOptionMandatory())
  .option('--out <file>', 'HTML file to write (default <checkpoint>/report.html)')
  .option('--max-latents <n>', 'latent cards to draw', intOption('--max-latents'), 64)
  .action(async (checkpoint: string, opts: { out?: string; maxLatents: number }) => {
    await initBackend();
    const r = await reportFromCheckpoint(checkpoint, { data: 'mnist', out: opts.out, maxLatents: opts.maxLatents });
    console.log(`report: ${r.path} (${r.latents} latent cards, ${r.seconds.toFixed(1)} s)`);
  });

program
  .command('bench')
  .description('run benchmarks side by side with their peers; results in bench/results/')
  .argument('[names...]', 'benchmark names (default: all)')
  .action((names: string[]) => {
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const res = spawnSync(tsx, [join(ROOT, 'bench', 'run.ts'), ...names], { stdio: 'inherit' });
    process.exitCode = res.status ?? 1;
  });

// Errors are one line: commander prints usage errors itself (exit 2); nestlab's own errors print
// their message, exit 2 for bad arguments and 1 for failures; NESTLAB_DEBUG=1 adds the stack.
try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`nestlab: ${message.split('\n')[0]}`);
    if (process.env.NESTLAB_DEBUG === '1' && e instanceof Error) console.error(e.stack);
    process.exitCode = e instanceof NestlabArgumentError ? 2 : 1;
  }
}
