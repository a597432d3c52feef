/**
 * The CLI's errors and help (issue #17 item 8): every usage error and runtime error of every
 * command is one line on stderr, "nestlab <command>: ...", with exit code 2 for usage and bad
 * arguments and 1 for failures, and no stack trace unless NESTLAB_DEBUG=1; `--help` of every
 * command (the list read from `nestlab --help`) gives every option's default, or says it is
 * required.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../src/data/npy.js';
import { lmArchitecture, lmTraining } from '../src/lm/config.js';
import { saeArchitecture, saeTraining } from '../src/sae/config.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node [nodeArgs] dist/cli.js args`, without blocking the test worker. */
const run = (args: string[], options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<Run> =>
  new Promise((done) => {
    const env = { ...process.env, NESTLAB_DEBUG: '', ...options.env };
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cli, ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });

/** Exactly one line on stderr, no stack frames, the exit code, and the line matching `pattern`. */
function expectOneLine(r: Run, status: number, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(lines[0]).toMatch(pattern);
  expect(r.status, r.stderr).toBe(status);
}

const dir = mkdtempSync(join(tmpdir(), 'nestlab-cli-errors-'));
const path = (name: string) => join(dir, name);
/** A preloaded module that makes the `doctor` command hit a TypeError, as a bug would. */
const TYPE_ERROR = `data:text/javascript,const parse = JSON.parse; JSON.parse = (s, ...r) => { if (typeof s === 'string' && s.includes('"name": "nestlab"')) return undefined.version; return parse(s, ...r); };`;
/** A preloaded module whose promise rejects, unawaited, after the command began (3 s: after the CLI's handlers are set). */
const STRAY_REJECTION = `data:text/javascript,setTimeout(() => { Promise.reject(new RangeError('a stray rejection')); }, 3000);`;

/** [what, args, exit code, the line] — each is one error case. */
type Case = [string, string[], number, RegExp, { env?: Record<string, string>; nodeArgs?: string[] }?];

const USAGE: Case[] = [
  ['no command', [], 2, /^nestlab: a command is required: figures, doctor, .*\(nestlab --help says more\)$/],
  ['an unknown command, with a suggestion on the same line', ['figure'], 2, /^nestlab: unknown command 'figure' \(Did you mean figures\?\)$/],
  ['help on an unknown command', ['help', 'nope'], 2, /^nestlab help: unknown command 'nope' \(the commands: figures, /],
  ['an unknown option', ['figures', '--x'], 2, /^nestlab figures: unknown option '--x'$/],
  ['an unknown option, with a suggestion on the same line', ['train-sae', '--data', 'mnist', '--out', path('s'), '--epoch', '3'], 2, /^nestlab train-sae: unknown option '--epoch' \(Did you mean --epochs\?\)$/],
  ['an unknown option of a command without options', ['bench', '--x'], 2, /^nestlab bench: unknown option '--x'$/],
  ['a value outside the choices', ['figures', '--size', 'medium'], 2, /^nestlab figures: option '--size <size>' argument 'medium' is invalid\. Allowed choices are smoke, full\.$/],
  ['a bad number', ['figures', '--seed', '-1'], 2, /^nestlab figures: --seed must be a non-negative integer, got -1$/],
  ['a bad number (train-lm)', ['train-lm', '--out', path('lm0'), '--steps', '0'], 2, /^nestlab train-lm: --steps must be a positive integer, got 0$/],
  ['a bad list', ['train-sae', '--data', 'mnist', '--out', path('s'), '--prefixes', '4,x'], 2, /^nestlab train-sae: --prefixes must be a comma list of positive integers, or matryoshka, halving or none, got 4,x$/],
  ['an option without its value', ['figures', '--seed'], 2, /^nestlab figures: option '--seed <n>' argument missing$/],
  ['an extra argument', ['figures', 'extra'], 2, /^nestlab figures: too many arguments for 'figures'\. Expected 0 arguments but got 1\.$/],
  ['an extra argument (doctor)', ['doctor', 'extra'], 2, /^nestlab doctor: too many arguments for 'doctor'/],
  ['a missing required option', ['train-sae', '--out', path('s')], 2, /^nestlab train-sae: required option '--data <path>' not specified$/],
  ['a missing required option (capture)', ['capture', path('m'), '--out', path('c')], 2, /^nestlab capture: required option '--hooks <list>' not specified$/],
  ['a missing required argument', ['report'], 2, /^nestlab report: missing required argument 'checkpoint'$/],
  ['options that exclude each other', ['train-sae', '--data', 'mnist', '--out', path('s'), '--tensor', 't'], 2, /^nestlab train-sae: --tensor must be absent with --data mnist/],
  ['a missing notebook', ['notebooks', path('none.ipynb')], 2, /^nestlab notebooks: FILES must be existing notebook files, got .*none\.ipynb$/],
  ['an unknown figure id', ['figures', '--size', 'smoke', '--only', 'nope', '--out', path('f')], 2, /^nestlab figures --only: id must be a figure id \(mnist-mlp-quickstart, .*\), got nope$/],
];

const RUNTIME: Case[] = [
  ['a data file that does not exist', ['train-sae', '--data', path('none.npy'), '--out', path('r1')], 2, /^nestlab train-sae: --data must be an existing \.npy or \.safetensors file, or a folder of \.npy shards, got .*none\.npy \(no such file or folder\)$/],
  ['a .npy file that is not one', ['train-sae', '--data', path('bad.npy'), '--out', path('r2')], 2, /^nestlab train-sae: --data .*bad\.npy must be a \.npy file \(magic \\x93NUMPY\), got other bytes$/],
  ['a .npy file of three dimensions', ['train-sae', '--data', path('x3.npy'), '--out', path('r3')], 2, /^nestlab train-sae: --data .*x3\.npy must be a 2-D array \[samples, units\], got shape \[2,3,4\]$/],
  ['a shard folder without shards', ['train-sae', '--data', path('empty'), '--out', path('r4')], 2, /^nestlab train-sae: --data .*empty must be a folder holding \.npy shards, got no \.npy file$/],
  ['an output folder that is a file', ['train-sae', '--data', path('x.npy'), '--out', path('a-file')], 1, /^nestlab train-sae: cannot create the folder .*a-file: /],
  ['a folder that is not a checkpoint', ['report', path('empty')], 2, /^nestlab report: --data must be given \(.*empty has no source\.json/],
  ['a checkpoint that does not exist', ['report', path('no-run'), '--data', 'mnist'], 2, /^nestlab report: CHECKPOINT must be an existing checkpoint folder, got .*no-run$/],
  ['a model folder that does not exist', ['capture', path('no-model'), '--out', path('c'), '--hooks', 'blocks.0.hook_resid_post'], 2, /^nestlab capture: <lm> must be an existing model or checkpoint folder, got .*no-model$/],
  ['a folder that is not a model', ['capture', path('empty'), '--out', path('c'), '--hooks', 'blocks.0.hook_resid_post'], 2, /^nestlab capture: .*must be a model folder .* or a checkpoint folder with latest\.json, got .*empty$/],
  ['a TypeError from a bug', ['doctor'], 1, /^nestlab doctor: Cannot read properties of undefined \(reading 'version'\)$/, { nodeArgs: ['--import', TYPE_ERROR] }],
  ['a stray rejection after the command began', ['doctor'], 1, /^nestlab doctor: a stray rejection$/, { nodeArgs: ['--import', STRAY_REJECTION] }],
];

describe.skipIf(!existsSync(cli))('nestlab CLI: one line per error', () => {
  beforeAll(() => {
    writeFileSync(path('bad.npy'), 'not a numpy file');
    writeNpy(path('x3.npy'), { shape: [2, 3, 4], data: new Float32Array(24) });
    writeNpy(path('x.npy'), { shape: [200, 8], data: Float32Array.from({ length: 200 * 8 }, (_, i) => Math.sin(i)) });
    mkdirSync(path('empty'));
    writeFileSync(path('a-file'), '');
  });

  describe.concurrent('usage errors: exit 2', () => {
    for (const [what, args, status, line, options] of USAGE) {
      it(`${what}: nestlab ${args.join(' ')}`, async () => expectOneLine(await run(args, options), status, line));
    }
  });

  describe.concurrent('runtime errors: exit 2 for a bad input, 1 for a failure', () => {
    for (const [what, args, status, line, options] of RUNTIME) {
      it(`${what}: nestlab ${args.join(' ')}`, async () => expectOneLine(await run(args, options), status, line));
    }
  });

  it('a run of another architecture in the output folder (train-sae, train-lm)', async () => {
    const sae = path('sae-run');
    const small = ['--data', path('x.npy'), '--out', sae, '--d-sae', '16', '--k', '2', '--epochs', '1', '--batch-size', '16'];
    const first = await run(['train-sae', ...small]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expectOneLine(await run(['train-sae', '--data', path('x.npy'), '--out', sae, '--d-sae', '32']), 2, /^nestlab train-sae: --out .*sae-run must be a run of the same architecture to resume \(it has --d-sae 16; leave those options out, or use another folder\), got --d-sae 32$/);

    const lm = path('lm-run');
    const tiny = ['--steps', '1', '--layers', '1', '--heads', '2', '--context', '8', '--vocab-size', '100'];
    const made = await run(['train-lm', '--out', lm, '--d-model', '8', ...tiny]);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expectOneLine(await run(['train-lm', '--out', lm, '--d-model', '16', ...tiny]), 2, /^nestlab train-lm: .*model\.architecture must be the architecture of the checkpoint in .*lm-run\/checkpoints \(.*"dModel":8.*\), got .*"dModel":16/);
  }, 120_000);

  it('NESTLAB_DEBUG=1 adds the stack after the line (a bug, and a bad argument)', async () => {
    const bug = await run(['doctor'], { env: { NESTLAB_DEBUG: '1' }, nodeArgs: ['--import', TYPE_ERROR] });
    expect(bug.status).toBe(1);
    const lines = bug.stderr.split('\n');
    expect(lines[0]).toBe("nestlab doctor: Cannot read properties of undefined (reading 'version')");
    expect(lines[1]).toMatch(/^TypeError: /);
    expect(bug.stderr).toMatch(/^\s+at .*cli\.js/m);
    const bad = await run(['train-sae', '--data', path('bad.npy'), '--out', path('r5')], { env: { NESTLAB_DEBUG: '1' } });
    expect(bad.status).toBe(2);
    expect(bad.stderr.split('\n')[0]).toMatch(/^nestlab train-sae: --data .*bad\.npy must be a \.npy file/);
    expect(bad.stderr).toMatch(/^NestlabArgumentError: /m);
    expect(bad.stderr).toMatch(/^\s+at /m);
  }, 60_000);

  it(`counts its cases: ${USAGE.length} usage errors, ${RUNTIME.length + 2} runtime errors, 2 with NESTLAB_DEBUG=1`, () => {
    expect(USAGE.length + RUNTIME.length + 2 + 2).toBeGreaterThanOrEqual(30);
  });
});

/** `nestlab ... --help`'s entries in a section ("Options:", "Arguments:", "Commands:"), each one line of text. */
function helpEntries(help: string, section: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${section}:`);
  if (start < 0) return [];
  const entries: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || !line.startsWith(' ')) break;
    // An entry starts at an indent of two; its wrapped description lines are indented further.
    if (/^ {2}\S/.test(line)) entries.push(line.trim());
    else entries[entries.length - 1] += ` ${line.trim()}`;
  }
  return entries;
}

/** An option's or argument's entry says its default, or that it is required. */
const SAYS_DEFAULT = /\((?:[^()]*; )?(?:default: [^()]*(?:\([^()]*\)[^()]*)*|required)\)$/;

describe.skipIf(!existsSync(cli))('nestlab --help: every option of every command says its default', () => {
  const helps = new Map<string, string>();

  beforeAll(async () => {
    const top = await run(['--help']);
    expect(top.status).toBe(0);
    const commands = helpEntries(top.stdout, 'Commands').map((e) => e.split(' ')[0]).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['figures', 'doctor', 'notebooks', 'bench', 'train-sae', 'report', 'train-lm', 'capture']));
    const runs = await Promise.all(commands.map((c) => run([c, '--help'])));
    commands.forEach((c, i) => {
      expect(runs[i].status, `${c} --help`).toBe(0);
      expect(runs[i].stderr).toBe('');
      helps.set(c, runs[i].stdout);
    });
  }, 60_000);

  it('every option and argument line ends with "(default: ...)" or "(required)", -h/--help aside', () => {
    let checked = 0;
    for (const [command, help] of helps) {
      const entries = [...helpEntries(help, 'Options'), ...helpEntries(help, 'Arguments')].filter((e) => !e.startsWith('-h, --help'));
      for (const entry of entries) {
        expect(entry, `nestlab ${command} --help`).toMatch(SAYS_DEFAULT);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  /** The default an option's help states ("--steps <n> optimizer steps (default: 1000)" → "1000"). */
  const stated = (command: string, flag: string) => {
    const entry = helpEntries(helps.get(command) ?? '', 'Options').find((e) => e.startsWith(`${flag} `));
    return /default: ([^()]*)\)$/.exec(entry ?? '')?.[1].trim();
  };

  it('the stated defaults are the ones the code uses', () => {
    const t = lmTraining({});
    const a = lmArchitecture({ vocabSize: 8192, contextLength: 64, dModel: 128 });
    expect(stated('train-lm', '--steps')).toBe(String(t.steps));
    expect(stated('train-lm', '--batch-size')).toBe(String(t.batchSize));
    expect(Number(stated('train-lm', '--lr'))).toBe(t.learningRate);
    expect(stated('train-lm', '--checkpoint-every')).toBe(String(t.checkpointEvery));
    expect(stated('train-lm', '--eval-every')).toBe(String(t.evalEvery));
    expect(stated('train-lm', '--seed')).toBe(String(t.seed));
    expect(stated('train-lm', '--layers')).toBe(String(a.nLayers));
    expect(stated('train-lm', '--heads')).toBe(String(a.nHeads));
    expect(lmTraining({ steps: 50 }).warmupSteps).toBe(5); // "min(100, a tenth of the steps)"
    const arch = saeArchitecture({ dIn: 16, dSae: 64, k: 4 });
    const s = saeTraining({}, arch, 'test', 10_000);
    expect(Number(stated('train-sae', '--decay-start'))).toBe(s.decayStart);
    expect(Number(stated('train-sae', '--l1-coeff'))).toBe(s.l1Coeff);
    expect(stated('train-sae', '--aux-alpha')).toBe('1/32');
    expect(s.auxAlpha).toBe(1 / 32);
    expect(s.auxK).toBe(8); // "min(d_sae, half the input width)"
    expect(s.thresholdStart).toBe(1000); // "min(1000, half the steps)"
    expect(s.learningRate).toBeCloseTo(2e-4 / Math.sqrt(64 / 16384), 12);
    expect(stated('train-sae', '--b-dec-init')).toBe(`${s.bDecInit}; mnist mean`);
    expect(stated('figures', '--seed')).toBe('0');
    expect(stated('figures', '--size')).toBe('full');
    expect(stated('notebooks', '--size')).toBe('smoke');
  });
});
