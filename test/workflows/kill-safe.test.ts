// Kill-safe training: `nestlab train-sae` and `nestlab train-lm` run as child processes and are
// killed with SIGKILL, once at a random moment and once the moment a checkpoint's step folder
// starts to be written; then resumed until they finish. After every kill the checkpoint folder
// must hold only complete checkpoints (latest.json pointing at a step folder that loads in full,
// every step folder loadable), and the finished run's weights and optimizer state must be the
// same bytes as those of a run that was never interrupted.
// NESTLAB_STRESS=<factor> runs more trials (test/helpers/stress.ts).
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/backend/rng.js';
import { writeNpy } from '../../src/data/npy.js';
import { loadCheckpoint } from '../../src/sae/checkpoint.js';
import { readSafetensors } from '../../src/data/safetensors.js';
import { stressed } from '../helpers/stress.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');

interface Run {
  /** Resolves with the exit code (null when killed) once the process ended. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** When to kill a run: the instant a staging folder appears in the checkpoint folder (a write has begun), or `delayMs` after latest.json reaches `step`. */
type KillWhen = { dir: string; staging: true } | { dir: string; step: number; delayMs: number };

/** Starts the CLI and, with `when`, sends it SIGKILL at that moment. */
function start(args: string[], when: KillWhen | null = null): Run & { killedMidWrite: () => boolean } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NESTLAB_PROGRESS: 'silent' } });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  let midWrite = false;
  let armed = when !== null;
  let watcher: ReturnType<typeof watch> | null = null;
  const running = () => child.exitCode === null && child.signalCode === null;
  const check = () => {
    if (!armed || when === null || !running() || !existsSync(when.dir)) return;
    if ('staging' in when) {
      if (readdirSync(when.dir).some((n) => n.startsWith('.staging-'))) {
        armed = false;
        child.kill('SIGKILL');
        midWrite = true;
      }
      return;
    }
    let step = -1;
    try {
      step = (JSON.parse(readFileSync(join(when.dir, 'latest.json'), 'utf8')) as { step: number }).step;
    } catch {
      return; // no checkpoint yet
    }
    if (step >= when.step) {
      armed = false;
      setTimeout(() => child.kill('SIGKILL'), when.delayMs);
    }
  };
  // The checkpoint folder may not exist yet: poll until it does, then watch it.
  const poll = setInterval(() => {
    if (watcher === null && when !== null && existsSync(when.dir)) watcher = watch(when.dir, check);
    check();
  }, 5);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      watcher?.close();
      resolve({ code, signal, stderr });
    }),
  );
  return { done, killedMidWrite: () => midWrite };
}

/** What a killed run left: staging folders (evidence of a kill during a write) and the checks below. */
function checkFolder(dir: string, loadStep: (folder: string) => number): { staging: number; latest: number | null } {
  if (!existsSync(dir)) return { staging: 0, latest: null };
  const names = readdirSync(dir);
  // Every step folder under its final name is complete: it loads, and holds the step it is named for.
  for (const n of names.filter((x) => /^step-\d+$/.test(x))) expect(loadStep(join(dir, n)), `${dir}/${n}`).toBe(Number(n.slice(5)));
  let latest: number | null = null;
  if (names.includes('latest.json')) {
    const j = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as { step: number; folder: string };
    expect(names, `latest.json points at ${j.folder}`).toContain(j.folder);
    latest = j.step;
  }
  return { staging: names.filter((n) => n.startsWith('.staging-')).length, latest };
}

/** Bytes of the files that hold a finished run's numbers. */
function finalBytes(dir: string, files: string[]): Buffer[] {
  const j = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as { folder: string };
  return files.map((f) => readFileSync(join(dir, j.folder, f)));
}

interface KillCase {
  name: string;
  /** The command line of the run, given its output folder. */
  args: (out: string) => string[];
  /** The checkpoint folder under the output folder. */
  checkpoints: (out: string) => string;
  /** Loads a step folder in full and returns its step (throws if it cannot). */
  loadStep: (folder: string) => number;
  /** Files of the final step folder that must equal the uninterrupted run's. */
  files: string[];
  trials: number;
}

/** Runs `c`'s trials; returns the counts for the log. */
async function killTrials(c: KillCase, seed: number): Promise<{ kills: number; midWrite: number; resumes: number }> {
  const base = mkdtempSync(join(tmpdir(), `nestlab-kill-${c.name}-`));
  const t0 = performance.now();
  const ref = await start(c.args(join(base, 'reference'))).done;
  expect(ref.code, ref.stderr).toBe(0);
  const steps = (JSON.parse(readFileSync(join(c.checkpoints(join(base, 'reference')), 'latest.json'), 'utf8')) as { step: number }).step;
  const msPerStep = (performance.now() - t0) / steps; // start-up included: an upper bound
  const expected = finalBytes(c.checkpoints(join(base, 'reference')), c.files);
  const rng = new Rng(seed);
  let kills = 0;
  let midWrite = 0;
  let resumes = 0;
  for (let trial = 0; trial < c.trials; trial++) {
    const out = join(base, `trial-${trial}`);
    const dir = c.checkpoints(out);
    // 1: SIGKILL at a random moment of training: after a random step's checkpoint, a random time later.
    const r1 = await start(c.args(out), { dir, step: 1 + rng.int(steps - 3), delayMs: rng.uniform() * msPerStep }).done;
    if (r1.signal === 'SIGKILL') kills++;
    else expect(r1.code, r1.stderr).toBe(0);
    checkFolder(dir, c.loadStep);
    // 2: SIGKILL the moment the next step folder starts to be written.
    const second = start(c.args(out), { dir, staging: true });
    const r2 = await second.done;
    if (r2.signal === 'SIGKILL') kills++;
    else expect(r2.code, r2.stderr).toBe(0);
    const left = checkFolder(dir, c.loadStep);
    if (second.killedMidWrite() && left.staging > 0) midWrite++;
    // 3: resume; the run finishes.
    const r3 = await start(c.args(out)).done;
    expect(r3.code, r3.stderr).toBe(0);
    resumes++;
    checkFolder(dir, c.loadStep);
    const got = finalBytes(dir, c.files);
    for (let f = 0; f < c.files.length; f++) expect(got[f].equals(expected[f]), `${c.name} trial ${trial}: ${c.files[f]} equals the uninterrupted run's`).toBe(true);
    // A finished run leaves no staging folder or temporary file behind.
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  }
  return { kills, midWrite, resumes };
}

describe.skipIf(!existsSync(cli))('kill-safe training (SIGKILL at random moments and during checkpoint writes)', () => {
  it('train-sae resumes to the same bytes after every kill, and never leaves a half-written checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-kill-data-'));
    const rng = new Rng(11);
    const data = join(dir, 'x.npy');
    writeNpy(data, { shape: [2048, 64], data: Float32Array.from(rng.normalArray(2048 * 64)) });
    const c: KillCase = {
      name: 'train-sae',
      args: (out) => ['train-sae', '--data', data, '--out', out, '--d-sae', '512', '--k', '16', '--prefixes', 'matryoshka', '--epochs', '1', '--batch-size', '64', '--checkpoint-every', '1', '--aux-k', '32'],
      checkpoints: (out) => out,
      loadStep: (folder) => {
        const ck = loadCheckpoint(folder);
        if (ck === null || ck.state === null) throw new Error(`${folder}: no checkpoint with trainer state`);
        return ck.state.step;
      },
      files: ['sae_weights.safetensors', 'trainer_state.safetensors'],
      trials: stressed(12),
    };
    const counts = await killTrials(c, 1);
    console.log(`kill-safe train-sae: ${c.trials} trials, ${counts.kills} SIGKILLs (${counts.midWrite} during a checkpoint write), ${counts.resumes} resumes to identical bytes`);
    expect(counts.kills).toBeGreaterThanOrEqual(c.trials);
    expect(counts.midWrite).toBeGreaterThanOrEqual(Math.ceil(c.trials / 2));
  }, 900_000);

  it('train-lm resumes to the same bytes after every kill, and never leaves a half-written checkpoint', async () => {
    const c: KillCase = {
      name: 'train-lm',
      args: (out) => ['train-lm', '--out', out, '--steps', '40', '--layers', '1', '--d-model', '32', '--heads', '2', '--context', '16', '--vocab-size', '300', '--batch-size', '4', '--checkpoint-every', '1'],
      checkpoints: (out) => join(out, 'checkpoints'),
      loadStep: (folder) => {
        const { metadata } = readSafetensors(join(folder, 'trainer_state.safetensors'));
        readSafetensors(join(folder, 'model.safetensors'));
        JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8'));
        JSON.parse(readFileSync(join(folder, 'cfg.json'), 'utf8'));
        return Number(metadata.step);
      },
      files: ['model.safetensors', 'trainer_state.safetensors'],
      trials: stressed(4),
    };
    const counts = await killTrials(c, 2);
    console.log(`kill-safe train-lm: ${c.trials} trials, ${counts.kills} SIGKILLs (${counts.midWrite} during a checkpoint write), ${counts.resumes} resumes to identical bytes`);
    expect(counts.kills).toBeGreaterThanOrEqual(c.trials);
    expect(counts.midWrite).toBeGreaterThanOrEqual(1);
  }, 900_000);
});
