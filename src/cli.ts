#!/usr/bin/env node
/**
 * `nestlab figures | doctor | notebooks | bench | train-sae | report | train-lm | capture` — the headless
 * entry points.
 * `train-sae` and `report` dispatch on `--data`: "mnist" to the MNIST workflow, a file or shard
 * folder to the activations workflow; both share one training run (workflows/sae-run.ts), and
 * their errors name the flags (`cliNaming`).
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, packageVersion, selectBackend, DEFAULT_LOADERS } from './backend/select.js';
import { barProgress, defaultProgress, lineProgress } from './backend/progress.js';
import { findExperiment, listExperiments } from './experiments/registry.js';
import { saveFigure } from './experiments/figure.js';
import { executeNotebook, listNotebooks } from './notebooks.js';
import { NestlabArgumentError } from './errors.js';
import { reportFromCheckpointAs, trainMnistSaeAs } from './workflows/mnist-sae.js';
import { recordedData, recordedPath, reportActivationsAs, trainActivationsSaeAs } from './workflows/activations-sae.js';
import { lmSaeReport } from './workflows/lm-report.js';
import { cliNaming, withNaming, type Naming, type PrefixRule, type SaeRunOptions } from './workflows/sae-run.js';
import type { PrefixMetrics } from './sae/metrics.js';
import { BROWN_LM_DEFAULTS, captureBrown, trainBrownLm } from './workflows/lm-brown.js';
import type { Size } from './experiments/define.js';
import { lmArchitecture, lmTraining } from './lm/config.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Errors are one line on stderr, "nestlab <command>: <what went wrong>": usage errors (commander's
// own, and nestlab's NestlabArgumentError: a bad flag value or a refused input) exit 2, failures 1;
// NESTLAB_DEBUG=1 prints the stack after the line.
let where = 'nestlab'; // "nestlab <command>" once the command is known

/** A message on one line: its lines joined, runs of white space collapsed. */
const oneLine = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');

function fail(e: unknown): void {
  const message = oneLine(e instanceof Error ? e.message : String(e)) || (e instanceof Error ? e.name : 'unknown error');
  // A command's own errors already start with "nestlab <command>:".
  console.error(message.startsWith('nestlab ') ? message : `${where}: ${message}`);
  if (process.env.NESTLAB_DEBUG === '1' && e instanceof Error && e.stack) console.error(e.stack);
  process.exitCode = e instanceof NestlabArgumentError ? 2 : 1;
}

// What escapes the command's promise (a worker's error, a stray rejection) is reported the same way.
process.on('uncaughtException', (e) => {
  fail(e);
  process.exit();
});
process.on('unhandledRejection', (e) => {
  fail(e);
  process.exit();
});

// train-lm's defaults, as the code fills them in (help prints these): lm.training's, and the sizes
// and vocabulary lm.trainBrownLm starts from.
const LM_VOCAB_SIZE = BROWN_LM_DEFAULTS.vocabSize;
const LM_TRAINING = lmTraining({});
const LM_ARCH = lmArchitecture({ vocabSize: LM_VOCAB_SIZE, contextLength: BROWN_LM_DEFAULTS.contextLength, dModel: BROWN_LM_DEFAULTS.dModel });

const program = new Command();
program.name('nestlab').description('Representation geometry across nested sizes: figures, diagnostics, notebooks, benchmarks.');
// Set before the commands are added, so that they inherit them: usage errors throw (one line, exit
// 2, below) instead of printing; extra arguments are errors; --help says every option's default.
program.exitOverride();
program.allowExcessArguments(false);
let usageError = '';
// writeErr only carries help shown for an error (`nestlab help nope`), which is answered in one line below.
program.configureOutput({ outputError: (text) => (usageError = text), writeErr: () => {} });
program.configureHelp({
  optionDescription: (o) => withInfo(o.description, o.argChoices, o.mandatory ? 'required' : defaultText(o.defaultValue, o.defaultValueDescription)),
  argumentDescription: (a) => withInfo(a.description, a.argChoices, a.required ? 'required' : defaultText(a.defaultValue, a.defaultValueDescription)),
});

/**
 * The help convention: every option ends with "(default: …)", or "(required)". Where the CLI
 * holds the value, it is the option's commander default; where the workflow decides it (from the
 * data, the run being resumed, or its own constants), the value stays undefined and the text says
 * what happens (`opt`).
 */
function defaultText(value: unknown, text: string | undefined): string | undefined {
  if (text !== undefined) return `default: ${text}`;
  return value === undefined ? undefined : `default: ${typeof value === 'string' ? value : JSON.stringify(value)}`;
}
function withInfo(description: string, choices: readonly string[] | undefined, extra: string | undefined): string {
  const info = [...(choices ? [`choices: ${choices.join(', ')}`] : []), ...(extra ? [extra] : [])];
  return info.length > 0 ? `${description} (${info.join('; ')})` : description;
}

/** An option left undefined unless given (the workflow's default applies); help shows `shown`. */
function opt(flags: string, description: string, shown: string, parse?: (text: string) => unknown): Option {
  const o = new Option(flags, description).default(undefined, shown);
  return parse ? o.argParser(parse) : o;
}

const sizeOption = () => new Option('--size <size>', 'smoke (seconds, CI) or full (published figures)').choices(['smoke', 'full']);

// ---------------------------------------------------------------------------------------------
// Flag values. A bad one is a NestlabArgumentError naming the command and the flag (exit 2):
// `nestlab train-sae: --k must be a positive number, got -1`.

/** A flag parser: `parse` returns the value, or undefined when `text` is not one. */
function flag<T>(command: string, name: string, expected: string, parse: (text: string) => T | undefined): (text: string) => T {
  return (text: string) => {
    const v = parse(text.trim());
    if (v === undefined) throw new NestlabArgumentError(`nestlab ${command}`, name, expected, text);
    return v;
  };
}

const asNumber = (t: string): number | undefined => (t !== '' && Number.isFinite(Number(t)) ? Number(t) : undefined);
const intFlag = (command: string, name: string, min = -Infinity) =>
  flag(command, name, min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : 'an integer', (t) => {
    const n = asNumber(t);
    return n !== undefined && Number.isInteger(n) && n >= min ? n : undefined;
  });
const numberFlag = (command: string, name: string, min: 'positive' | 'non-negative', max = Infinity) =>
  flag(command, name, `a ${min} number${max < Infinity ? ` at most ${max}` : ''}`, (t) => {
    const n = asNumber(t);
    return n !== undefined && (min === 'positive' ? n > 0 : n >= 0) && n <= max ? n : undefined;
  });
const listFlag = (command: string, name: string, expected: string, item: (n: number) => boolean) =>
  flag(command, name, expected, (t) => {
    const v = t.split(',').map((p) => asNumber(p.trim()));
    return v.length > 0 && v.every((n) => n !== undefined && item(n)) ? (v as number[]) : undefined;
  });

program
  .command('figures')
  .description('regenerate every figure (SVG + PNG + CSV + JSON) into figures/')
  .addOption(sizeOption().default('full'))
  .addOption(opt('--only <ids...>', 'regenerate only these figure ids', 'every figure'))
  .option('--out <dir>', 'output folder', join(ROOT, 'figures'))
  .option('--seed <n>', 'seed of every random step', intFlag('figures', '--seed', 0), 0)
  .action(async (opts: { size: Size; only?: string[]; out: string; seed: number }) => {
    const backend = await initBackend();
    console.log(`nestlab figures: backend ${backend.name}, size ${opts.size}, into ${resolve(opts.out)}`);
    const list = opts.only ? opts.only.map((id) => findExperiment(id, 'nestlab figures --only')) : listExperiments();
    for (const exp of list) {
      const progress = process.stderr.isTTY ? barProgress() : lineProgress((l) => console.log(`  ${l}`));
      console.log(`- ${exp.id}: ${exp.title}`);
      const result = await exp.run({ size: opts.size, seed: opts.seed, progress });
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
  .addOption(new Option('--in-place', 'save the executed notebooks with their outputs (for publishing)').default(false, 'off'))
  .addArgument(new Argument('[files...]', 'notebooks to run').default([], 'notebooks/*.ipynb'))
  .action(async (files: string[], opts: { size: Size; inPlace: boolean }) => {
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length > 0) throw new NestlabArgumentError('nestlab notebooks', 'FILES', 'existing notebook files', missing.join(', '));
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

program
  .command('train-sae')
  .description('train a (Matryoshka) sparse autoencoder on activations in .npy / .safetensors files or .npy shard folders, or on MNIST; checkpoints resume')
  .requiredOption('--data <path>', 'training data: a .npy file, a .safetensors file, a folder of .npy shards, or "mnist" (the 8,000 MNIST training digits; write ./mnist for a file of that name)')
  .requiredOption('--out <dir>', 'checkpoint folder; a run already there continues: options left out keep its values (the defaults below are a fresh run\'s), more --epochs extend it, a different architecture is refused')
  .addOption(opt('--tensor <name>', 'the tensor of a .safetensors file; applies to --eval too', 'its only tensor, else "activations"'))
  .addOption(opt('--eval <path>', 'held-out rows to print metrics on: a file or shard folder (read into memory); then all of --data trains', 'none (a file holds out --eval-fraction, a folder its last shard)'))
  .addOption(opt('--eval-fraction <f>', 'a file\'s fraction of rows held out: the rows at the first round(f·rows) places (at least 1) of a permutation with seed 0; 0 = none, metrics on the training rows', '0.1', numberFlag('train-sae', '--eval-fraction', 'non-negative', 0.9)))
  .addOption(opt('--hidden', 'mnist: train on the first hidden layer of a small MLP (trained first) instead of the pixels', 'off'))
  .addOption(opt('--d-sae <n>', 'dictionary size', '8 × the input width, at most 4096; mnist 256', intFlag('train-sae', '--d-sae', 1)))
  .addOption(opt('--k <n>', 'active latents per row: exact for topk, the mean for batchtopk; relu ignores it', 'a quarter of the input width, 1 to 32, at most --d-sae; mnist 16', numberFlag('train-sae', '--k', 'positive')))
  .addOption(opt('--activation <name>', 'topk, batchtopk (k·batch per batch in training, a threshold at inference), relu (with --l1-coeff) or mp (k steps of matching pursuit over the decoder, flat)', 'batchtopk').choices(['topk', 'batchtopk', 'relu', 'mp']))
  .addOption(opt('--prefixes <list>', 'Matryoshka prefix sizes: a comma list ending at --d-sae (64,128,256), "matryoshka" (the paper\'s 5 groups, sae.matryoshkaPrefixes), "halving" (d_sae/16 … d_sae, sae.halvingPrefixes) or "none" (a flat SAE)', 'halving; none for mp', flag('train-sae', '--prefixes', 'a comma list of positive integers, or matryoshka, halving or none', (t) => {
    if (t === 'matryoshka' || t === 'halving' || t === 'none') return t;
    const v = t.split(',').map((p) => asNumber(p.trim()));
    return v.every((n) => n !== undefined && Number.isInteger(n) && n > 0) ? (v as number[]) : undefined;
  })))
  .addOption(opt('--epochs <n>', 'passes over the training rows, may be fractional; on resume, the new total', '10, 1 for a shard folder; mnist 12', numberFlag('train-sae', '--epochs', 'positive')))
  .addOption(opt('--batch-size <n>', 'rows per step', '4096, or the largest power of two that gives an epoch ≥ 10 steps; mnist 128', intFlag('train-sae', '--batch-size', 1)))
  .addOption(opt('--lr <x>', 'Adam learning rate, training.learningRate', '2e-4/√(d_sae/16384); mnist 1e-3', numberFlag('train-sae', '--lr', 'positive')))
  .addOption(opt('--seed <n>', 'seed of the initialization and the batch order', '0', intFlag('train-sae', '--seed', 0)))
  .addOption(opt('--l1-coeff <x>', 'relu: the L1 coefficient', '1e-3', numberFlag('train-sae', '--l1-coeff', 'non-negative')))
  .addOption(opt('--aux-k <n>', 'latents in the AuxK loss that revives dead latents; 0 turns it off', 'min(d_sae, half the input width), at least 1', intFlag('train-sae', '--aux-k', 0)))
  .addOption(opt('--aux-alpha <x>', 'weight of the AuxK loss', '1/32', numberFlag('train-sae', '--aux-alpha', 'non-negative')))
  .addOption(opt('--dead-tokens <n>', 'a latent is dead after this many rows without firing', 'min(10,000,000, training rows); mnist 20,000', intFlag('train-sae', '--dead-tokens', 1)))
  .addOption(opt('--warmup-steps <n>', 'linear learning-rate warm-up', 'min(1000, a tenth of the steps); mnist min(100, a tenth)', intFlag('train-sae', '--warmup-steps', 0)))
  .addOption(opt('--decay-start <f>', 'fraction of the run after which the learning rate decays linearly to 0; 1 = no decay', '0.8', numberFlag('train-sae', '--decay-start', 'non-negative', 1)))
  .addOption(opt('--threshold-start <n>', 'batchtopk: the step at which the inference threshold estimate starts', 'min(1000, half the steps); mnist a quarter', intFlag('train-sae', '--threshold-start', 0)))
  .addOption(opt('--b-dec-init <how>', 'b_dec from the first batch: median (geometric), mean or zero', 'median; mnist mean').choices(['median', 'mean', 'zero']))
  .addOption(opt('--prefix-weights <list>', 'weight of each prefix\'s loss, a comma list, one per prefix', '1/K each of the K prefixes', listFlag('train-sae', '--prefix-weights', 'a comma list of non-negative numbers', (n) => n >= 0)))
  .addOption(opt('--checkpoint-every <n>', 'save a checkpoint every n steps', 'every epoch', intFlag('train-sae', '--checkpoint-every', 1)))
  .addHelpText(
    'after',
    `
Memory: a .npy or .safetensors file is read whole into memory. A folder of .npy shards (2-D,
float32, one width; in name order, numbers in names compared as numbers) streams: one batch in
memory at a time, read from the files; its last shard is held out and read into memory for the
metrics. Any --eval data is read into memory.

Held out: a file's seeded 10% (--eval-fraction), a folder's last shard, or all of --eval. After
training it prints FVU, explained variance, L0 and dead latents per prefix on those rows, and
<out>/source.json records the data, tensor, rows, columns and hold-out for \`nestlab report\`.

Example:
  nestlab train-sae --data acts/layer3.npy --out runs/l3 --d-sae 4096 --k 32 --prefixes matryoshka --epochs 5
  nestlab train-sae --data acts/layer3.npy --out runs/l3 --epochs 8     # resumes: 3 more epochs`,
  )
  .action(async (opts: TrainSaeFlags) => {
    const naming = cliNaming('train-sae');
    const run: SaeRunOptions = {
      out: opts.out, dSae: opts.dSae, k: opts.k, activation: opts.activation, prefixes: opts.prefixes, epochs: opts.epochs, batchSize: opts.batchSize,
      learningRate: opts.lr, seed: opts.seed, l1Coeff: opts.l1Coeff, auxK: opts.auxK, auxAlpha: opts.auxAlpha, deadTokens: opts.deadTokens,
      warmupSteps: opts.warmupSteps, decayStart: opts.decayStart, thresholdStart: opts.thresholdStart, bDecInit: opts.bDecInit,
      prefixWeights: opts.prefixWeights, checkpointEvery: opts.checkpointEvery, log: (l) => console.log(l),
    };
    const absent = (names: (keyof TrainSaeFlags)[], expected: string) => {
      for (const n of names) if (opts[n] !== undefined) throw new NestlabArgumentError(naming.where, naming.option(n), expected, opts[n]);
    };
    let result: { metrics: PrefixMetrics[]; evalDescription: string; checkpointDir: string; step: number; totalSteps: number; resumedFrom: number };
    if (opts.data === 'mnist') {
      absent(['tensor', 'eval', 'evalFraction'], 'absent with --data mnist (it holds out the 2,000 test digits)');
      await initBackend();
      result = await trainMnistSaeAs({ ...run, hidden: opts.hidden ?? false, progress: defaultProgress() }, naming);
    } else {
      absent(['hidden'], 'absent unless --data mnist');
      await initBackend();
      result = await trainActivationsSaeAs({ ...run, data: opts.data, tensor: opts.tensor, eval: opts.eval, evalFraction: opts.evalFraction, progress: defaultProgress() }, naming);
    }
    console.log(`metrics on ${result.evalDescription}:`);
    for (const m of result.metrics) {
      console.log(`prefix ${m.prefix}: FVU ${m.fvu.toFixed(4)}, explained variance ${m.explainedVariance.toFixed(3)}, L0 ${m.l0.toFixed(1)}, dead ${(100 * m.deadFraction).toFixed(1)}%`);
    }
    console.log(`checkpoint: ${result.checkpointDir} (step ${result.step} of ${result.totalSteps}${result.resumedFrom > 0 ? `, resumed from step ${result.resumedFrom}` : ''})`);
  });

/** The flags of `nestlab train-sae`, as commander hands them over. */
interface TrainSaeFlags {
  data: string; out: string; tensor?: string; eval?: string; evalFraction?: number; hidden?: boolean;
  dSae?: number; k?: number; activation?: 'topk' | 'batchtopk' | 'relu' | 'mp'; prefixes?: number[] | PrefixRule; epochs?: number; batchSize?: number;
  lr?: number; seed?: number; l1Coeff?: number; auxK?: number; auxAlpha?: number; deadTokens?: number; warmupSteps?: number; decayStart?: number;
  thresholdStart?: number; bDecInit?: 'median' | 'mean' | 'zero'; prefixWeights?: number[]; checkpointEvery?: number;
}

/** The flags of `nestlab report`. */
interface ReportFlags {
  data?: string; tensor?: string; split?: 'all' | 'holdout'; limit?: number; labels?: string; images?: string; imageShape?: [number, number]; ink?: boolean;
  out?: string; maxLatents: number | undefined; lm?: string; hook?: string; contextRadius?: number;
}

program
  .command('report')
  .description('write a self-contained HTML interpretability report of a trained SAE checkpoint')
  .argument('<checkpoint>', 'checkpoint folder written by train-sae (or any nestlab or SAELens SAE folder)')
  .addOption(opt('--data <path>', 'rows to read the latents on: a .npy / .safetensors file, a folder of .npy shards, or "mnist" (its 2,000 test digits)', 'the data <checkpoint>/source.json records'))
  .addOption(opt('--tensor <name>', 'the tensor of a .safetensors file', 'the run\'s, else its only tensor, else "activations"'))
  .addOption(opt('--split <rows>', 'all rows of --data, or the run\'s held-out rows (its data only)', 'all').choices(['all', 'holdout']))
  .addOption(opt('--limit <n>', 'only the first n rows (of the split)', 'every row', intFlag('report', '--limit', 1)))
  .addOption(opt('--labels <file>', '.npy of per-row integer class labels, one per row of --data: label charts and table columns', 'none'))
  .addOption(opt('--images <file>', '.npy of per-row pictures, [rows, H·W] or [rows, H, W], drawn in each latent card instead of the row table', 'none'))
  .addOption(opt('--image-shape <H,W>', 'height and width of the pictures (needed for [rows, H·W] --images; without --images, the rows of --data are pictures: decoder directions are drawn too)', 'none ([rows, H, W] --images give it; else no pictures)', flag('report', '--image-shape', 'H,W: two positive integers', (t) => {
    const v = t.split(',').map((p) => asNumber(p.trim()));
    return v.length === 2 && v.every((n) => n !== undefined && Number.isInteger(n) && n > 0) ? (v as [number, number]) : undefined;
  })))
  .addOption(opt('--ink', 'draw pictures as ink on paper, high values dark (digits)', 'off (high values light)'))
  .addOption(opt('--out <file>', 'HTML file to write', '<checkpoint>/report.html; with --lm <checkpoint>/dashboard.html'))
  .addOption(opt('--max-latents <n>', 'latent cards to draw, latents 0 … n−1', 'min(64, d_sae)', intFlag('report', '--max-latents', 0)))
  .addOption(opt('--lm <dir>', 'a language model folder (train-lm\'s <out>/model): write text feature dashboards instead, reading --data as a capture folder (nestlab capture; by default the capture the SAE trained on, from source.json)', 'none (latent cards)'))
  .addOption(opt('--hook <name>', 'with --lm: the hook the SAE reads', 'the shard folder the SAE trained on, else the capture\'s only hook'))
  .addOption(opt('--context-radius <n>', 'with --lm: tokens shown on each side of an activating token', '8', intFlag('report', '--context-radius', 0)))
  .addHelpText(
    'after',
    `
Memory: the rows reported on are read into memory (a shard folder's too; --limit reads only the
first shards it needs), with --labels and --images. Without pictures, each latent card lists its
top-activating row indices, their labels when given, and the activations.

Example:
  nestlab report runs/l3 --split holdout --labels acts/labels.npy --images acts/pictures.npy --image-shape 28,28
  nestlab report runs/sae --lm runs/lm/model --data runs/acts --hook blocks.1.hook_resid_pre   # text dashboards`,
  )
  .action(async (checkpoint: string, opts: ReportFlags) => {
    const naming = cliNaming('report');
    if (opts.lm !== undefined) {
      for (const n of ['tensor', 'split', 'labels', 'images', 'imageShape', 'ink'] as const) {
        if (opts[n] !== undefined) throw new NestlabArgumentError(naming.where, naming.option(n), 'absent with --lm (the dashboards show the tokens, tags and genres of the capture)', opts[n]);
      }
      // Default capture and hook: the shard folder the SAE trained on is <capture>/<hook>.
      const trained = recordedPath(checkpoint);
      const capture = opts.data ?? (trained !== null && existsSync(join(dirname(trained), 'capture.json')) ? dirname(trained) : undefined);
      if (capture === undefined) throw new NestlabArgumentError(naming.where, '--data', 'a capture folder (nestlab capture), since the SAE did not train on one', 'none');
      const hook = opts.hook ?? (trained !== null && dirname(trained) === resolve(capture) ? basename(trained) : undefined);
      await initBackend();
      const r = await lmSaeReport({ sae: checkpoint, lm: opts.lm, capture, hook, out: opts.out, maxLatents: opts.maxLatents, contextRadius: opts.contextRadius, maxRows: opts.limit, progress: defaultProgress() });
      console.log(`report: ${r.path} (${r.latents} latent dashboards over ${r.rows} tokens, ${r.seconds.toFixed(1)} s)`);
      return;
    }
    const data = opts.data ?? (recordedData(checkpoint) === 'mnist' ? 'mnist' : undefined);
    let r: { path: string; latents: number; seconds: number };
    if (data === 'mnist') {
      for (const n of ['tensor', 'split', 'labels', 'images', 'imageShape', 'ink'] as const) {
        if (opts[n] !== undefined) throw new NestlabArgumentError(naming.where, naming.option(n), 'absent with --data mnist (it draws the test digits with their labels)', opts[n]);
      }
      await initBackend();
      r = await reportFromCheckpointAs(checkpoint, { data: 'mnist', out: opts.out, maxLatents: opts.maxLatents, limit: opts.limit }, naming);
    } else {
      await initBackend();
      r = await reportActivationsAs(checkpoint, { ...opts, data }, naming); // data undefined: the run's (source.json)
    }
    console.log(`report: ${r.path} (${r.latents} latent cards, ${r.seconds.toFixed(1)} s)`);
  });

program
  .command('train-lm')
  .description('train the GPT-style language model on the Brown corpus (split by file, word tokenizer); checkpoints resume; prints loss and perplexity beside unigram and bigram baselines')
  .requiredOption('--out <dir>', 'output folder: checkpoints/ (a run there resumes), model/ (weights, tokenizer), summary.json')
  .addOption(opt('--layers <n>', 'transformer blocks', String(LM_ARCH.nLayers), intFlag('train-lm', '--layers', 0)))
  .addOption(opt('--d-model <n>', 'width of the residual stream', String(LM_ARCH.dModel), intFlag('train-lm', '--d-model', 1)))
  .addOption(opt('--heads <n>', 'attention heads, dividing --d-model', String(LM_ARCH.nHeads), intFlag('train-lm', '--heads', 1)))
  .addOption(opt('--context <n>', 'context length in tokens', String(LM_ARCH.contextLength), intFlag('train-lm', '--context', 1)))
  .addOption(opt('--vocab-size <n>', 'words in the tokenizer, the two specials included', String(LM_VOCAB_SIZE), intFlag('train-lm', '--vocab-size', 3)))
  .addOption(opt('--steps <n>', 'optimizer steps', String(LM_TRAINING.steps), intFlag('train-lm', '--steps', 1)))
  .addOption(opt('--batch-size <n>', 'windows per step', String(LM_TRAINING.batchSize), intFlag('train-lm', '--batch-size', 1)))
  .addOption(opt('--lr <x>', 'peak AdamW learning rate', String(LM_TRAINING.learningRate), numberFlag('train-lm', '--lr', 'positive')))
  .addOption(opt('--warmup-steps <n>', 'linear warm-up', 'min(100, a tenth of the steps)', intFlag('train-lm', '--warmup-steps', 0)))
  .addOption(opt('--seed <n>', 'seed of the initialization and the batches', String(LM_TRAINING.seed), intFlag('train-lm', '--seed', 0)))
  .addOption(opt('--checkpoint-every <n>', 'save a checkpoint every n steps', String(LM_TRAINING.checkpointEvery), intFlag('train-lm', '--checkpoint-every', 1)))
  .addOption(opt('--eval-every <n>', 'validation loss every n steps; 0 = at the end only', String(LM_TRAINING.evalEvery), intFlag('train-lm', '--eval-every', 0)))
  .addHelpText('after', `
Example:
  nestlab train-lm --out runs/lm --steps 3000
  nestlab capture runs/lm/model --out runs/acts --hooks blocks.1.hook_resid_pre
  nestlab train-sae --data runs/acts/blocks.1.hook_resid_pre --out runs/sae --prefixes matryoshka`)
  .action(async (opts: { out: string; layers?: number; dModel?: number; heads?: number; context?: number; vocabSize?: number; steps?: number; batchSize?: number; lr?: number; warmupSteps?: number; seed?: number; checkpointEvery?: number; evalEvery?: number }) => {
    await initBackend();
    const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
    const { summary } = await withNaming(lmNaming('train-lm'), () => trainBrownLm({
      out: opts.out,
      vocabSize: opts.vocabSize,
      architecture: defined({ nLayers: opts.layers, dModel: opts.dModel, nHeads: opts.heads, contextLength: opts.context }),
      training: defined({ steps: opts.steps, batchSize: opts.batchSize, learningRate: opts.lr, warmupSteps: opts.warmupSteps, seed: opts.seed, checkpointEvery: opts.checkpointEvery, evalEvery: opts.evalEvery }),
      progress: defaultProgress(),
    }));
    const line = (name: string, s: { validation: { loss: number; perplexity: number }; test: { loss: number; perplexity: number } }) =>
      console.log(`${name.padEnd(8)} validation loss ${s.validation.loss.toFixed(4)} (perplexity ${s.validation.perplexity.toFixed(1)}), test ${s.test.loss.toFixed(4)} (${s.test.perplexity.toFixed(1)})`);
    line('model', summary.model);
    line('bigram', summary.bigram);
    line('unigram', summary.unigram);
    console.log(`${summary.parameters} parameters, ${summary.training.steps} steps, ${summary.seconds.toFixed(0)} s; model in ${join(opts.out, 'model')}`);
  });

/** Errors of the LM workflows under a command's flags: options.lm is the <lm> argument, training.learningRate --lr, architecture.nLayers --layers... */
function lmNaming(command: string): Naming {
  const base = cliNaming(command);
  const flags: Record<string, string> = { lm: '<lm>', learningRate: '--lr', nLayers: '--layers', nHeads: '--heads', contextLength: '--context' };
  return { where: base.where, option: (field) => flags[field] ?? base.option(field) };
}

program
  .command('capture')
  .description('run a trained language model over a split of the Brown corpus and write the activations at hook points as .npy shards, with token, document, position and tag per row')
  .argument('<lm>', 'model folder (train-lm\'s <out>/model) or checkpoint folder')
  .requiredOption('--out <dir>', 'output folder: <out>/<hook>/part-*.npy, <out>/rows/part-*.npy, <out>/capture.json')
  .requiredOption('--hooks <list>', 'comma list of hook names, e.g. blocks.0.hook_resid_post,blocks.1.hook_mlp_out (TransformerLens names)', flag('capture', '--hooks', 'a comma list of hook names', (t) => {
    const v = t.split(',').map((x) => x.trim());
    return v.every((x) => x !== '') ? v : undefined;
  }))
  .addOption(opt('--split <name>', 'which files', 'train').choices(['train', 'validation', 'test']))
  .addOption(opt('--max-windows <n>', 'at most n windows of the context length', 'every window of the split', intFlag('capture', '--max-windows', 1)))
  .addOption(opt('--rows-per-shard <n>', 'rows per .npy shard', '65536', intFlag('capture', '--rows-per-shard', 1)))
  .action(async (lm: string, opts: { out: string; hooks: string[]; split?: 'train' | 'validation' | 'test'; maxWindows?: number; rowsPerShard?: number }) => {
    await initBackend();
    const s = await withNaming(lmNaming('capture'), () => captureBrown({ lm, out: opts.out, hooks: opts.hooks, split: opts.split, maxWindows: opts.maxWindows, rowsPerShard: opts.rowsPerShard, progress: defaultProgress() }));
    console.log(`capture: ${s.rows} rows of ${s.split} × ${s.hooks.length} hooks (d ${s.dModel}) in ${s.shards} shards under ${opts.out}`);
  });

program
  .command('bench')
  .description('run benchmarks side by side with their peers; results in bench/results/')
  .addArgument(new Argument('[names...]', 'benchmark names').default([], 'all'))
  .action((names: string[]) => {
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const res = spawnSync(tsx, [join(ROOT, 'bench', 'run.ts'), ...names], { stdio: 'inherit' });
    process.exitCode = res.status ?? 1;
  });

const commands = program.commands.map((c) => c.name());
if (commands.includes(process.argv[2])) where = `nestlab ${process.argv[2]}`;
if (process.argv.length <= 2) {
  console.error(`nestlab: a command is required: ${commands.join(', ')} (nestlab --help says more)`);
  process.exitCode = 2;
} else if (process.argv[2] === 'help' && process.argv.length > 3 && !commands.includes(process.argv[3])) {
  console.error(`nestlab help: unknown command '${process.argv[3]}' (the commands: ${commands.join(', ')})`);
  process.exitCode = 2;
} else {
  try {
    await program.parseAsync();
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and help exit 0; a usage error is commander's message without its "error: ",
      // a suggestion kept on the same line.
      if (e.exitCode !== 0 && e.code !== 'commander.helpDisplayed') {
        console.error(`${where}: ${oneLine(usageError || e.message).replace(/^error: /, '')}`);
        process.exitCode = 2;
      } else process.exitCode = 0;
    } else fail(e);
  }
}
