/**
 * Long runs (issue #17 item 7): 1,000 training steps of an SAE, an MRL model and the language
 * model, at tiny sizes, leak neither tensors nor memory. Every ~100 steps each run samples
 * tf.memory().numTensors, the process RSS, the tfjs wasm heap and (SAE) the trainer's shared
 * workspace; after a warm-up the tensor count must not move and RSS must not grow past a bound.
 * NESTLAB_STRESS multiplies the steps (helpers/stress.ts).
 *
 * The RSS bound, 64 MB from step 200 to the end: the models here are a few thousand parameters
 * (under 1 MB with Adam's moments), so a leak of one batch or one gradient per step, a few KB to
 * tens of KB, over 800 steps is several MB to tens of MB of live memory, and anything that keeps
 * a tensor per step shows in the tensor count first. What RSS does measure besides live data is
 * noise (the allocator keeping freed pages, V8 resizing its heap), a few MB between samples even
 * after the full collection each sample starts with, so the bound is loose on purpose; the tensor
 * count is the exact check.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { initBackend } from '../src/backend/select.js';
import { tf } from '../src/backend/tf.js';
import type { Progress } from '../src/backend/progress.js';
import { Rng } from '../src/backend/rng.js';
import { trainSae } from '../src/sae/train.js';
import { stepWorkspace } from '../src/sae/kernels.js';
import { createMrl, disposeMrl, trainMrl } from '../src/models/mrl.js';
import { lmArchitecture, lmTraining } from '../src/lm/config.js';
import { trainLm } from '../src/lm/fit.js';
import { createLm, disposeLm } from '../src/lm/model.js';
import type { WordTokenizer } from '../src/lm/tokenizer.js';
import { stressed } from './helpers/stress.js';

const STEPS = stressed(1000);
/** Samples before this step are the warm-up (first allocations, optimizer state, pools). */
const WARM = Math.min(200, Math.floor(STEPS / 5));
const RSS_BOUND_MB = 64;
/** V8's heap may grow by the runs' histories (a record a step): well under this. */
const HEAP_BOUND_MB = 16;
const MB = 2 ** 20;

// A full garbage collection before each sample, so that RSS measures what is alive, not how far
// V8 has let garbage pile up (without it, RSS climbs 2-4 MB per 100 steps here and falls back at
// the next major collection).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Sample {
  step: number;
  tensors: number;
  rssMb: number;
  /** V8's heap in use (MB; the runs' histories grow it a little, legitimately). */
  heapMb: number;
  /** tfjs' wasm heap (MB), when the backend is wasm. */
  wasmMb: number | null;
  /** Other memory the run owns (MB): the SAE trainer's shared workspace. */
  extraMb: number | null;
}

function wasmHeapMb(): number | null {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const heap = b.wasm?.HEAPU8;
  return heap ? heap.byteLength / MB : null;
}

function sample(step: number, extra: () => number | null = () => null): Sample {
  gc();
  const m = process.memoryUsage();
  return { step, tensors: tf.memory().numTensors, rssMb: m.rss / MB, heapMb: m.heapUsed / MB, wasmMb: wasmHeapMb(), extraMb: extra() };
}

/** Prints the samples (the numbers for the issue) and checks them. */
function check(name: string, samples: Sample[]): void {
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
  console.log(
    `${name}: ${STEPS} steps\n` +
      samples.map((s) => `  step ${String(s.step).padStart(5)}  tensors ${String(s.tensors).padStart(5)}  rss ${f(s.rssMb).padStart(6)} MB  heap ${f(s.heapMb).padStart(5)} MB  wasm heap ${f(s.wasmMb)} MB${s.extraMb === null ? '' : `  workspace ${f(s.extraMb)} MB`}`).join('\n'),
  );
  expect(samples[samples.length - 1].step).toBe(STEPS);
  const warm = samples.filter((s) => s.step >= WARM);
  expect(warm.length).toBeGreaterThanOrEqual(2);
  // Exactly the same tensors after the warm-up.
  expect(new Set(warm.map((s) => s.tensors)).size, `${name}: tensors after step ${WARM}: ${warm.map((s) => s.tensors).join(', ')}`).toBe(1);
  const growth = warm[warm.length - 1].rssMb - warm[0].rssMb;
  expect(growth, `${name}: RSS grew ${growth.toFixed(1)} MB from step ${warm[0].step} to ${STEPS}`).toBeLessThanOrEqual(RSS_BOUND_MB);
  const heap = warm[warm.length - 1].heapMb - warm[0].heapMb;
  expect(heap, `${name}: V8's heap grew ${heap.toFixed(1)} MB from step ${warm[0].step} to ${STEPS}`).toBeLessThanOrEqual(HEAP_BOUND_MB);
  for (const key of ['wasmMb', 'extraMb'] as const) {
    const v = warm.map((s) => s[key]);
    if (v[0] !== null) expect(new Set(v).size, `${name}: ${key} after the warm-up: ${v.join(', ')}`).toBe(1);
  }
}

/** A progress that samples at every update whose step count has reached the next multiple of 100. */
function sampler(samples: Sample[], every: number, toSteps: (done: number) => number, extra?: () => number | null): Progress {
  let next = 0;
  return {
    start() {},
    update(done: number) {
      const step = toSteps(done);
      if (step >= next) {
        samples.push(sample(step, extra));
        next = (Math.floor(step / every) + 1) * every;
      }
    },
    stop() {},
  };
}

beforeAll(async () => {
  await initBackend();
});

describe(`long runs: ${STEPS} training steps hold tensors and memory steady`, () => {
  it('a Matryoshka BatchTopK SAE (sae.train)', async () => {
    // 640 rows of 16 columns, batch 64: 10 steps an epoch, STEPS/10 epochs.
    const rng = new Rng(1);
    const rows = 640;
    const d = 16;
    const x = { data: Float32Array.from({ length: rows * d }, () => rng.normal()), rows, cols: d };
    const workspaceMb = () => {
      const c = stepWorkspace(4, 0).pool.context;
      c.refresh();
      return (c.f32.byteLength + c.pre.byteLength) / MB;
    };
    const samples: Sample[] = [sample(0, workspaceMb)];
    const { stepsRun } = await trainSae(x, {
      architecture: { dIn: d, dSae: 64, k: 4, activation: 'batchtopk', prefixes: [16, 32, 64] },
      training: { batchSize: 64, epochs: STEPS / 10, seed: 0, auxK: 8, deadTokens: 640 },
      checkpointDir: mkdtempSync(join(tmpdir(), 'nestlab-long-sae-')),
      checkpointEvery: 250,
      onStep: (info) => {
        if ((info.step + 1) % 100 === 0) samples.push(sample(info.step + 1, workspaceMb));
      },
    });
    expect(stepsRun).toBe(STEPS);
    check('SAE', samples);
  });

  it('an MRL model (mrl.train)', async () => {
    // 320 rows, batch 32: 10 steps an epoch; progress reports every epoch.
    const rng = new Rng(2);
    const rows = 320;
    const x = { data: Float32Array.from({ length: rows * 16 }, () => rng.normal()), rows, cols: 16 };
    const y = Int32Array.from({ length: rows }, (_, i) => i % 4);
    const model = createMrl({ inputDim: 16, hidden: [32], embeddingDim: 8, classes: 4, seed: 0 });
    const samples: Sample[] = [sample(0)];
    try {
      const history = await trainMrl(model, x, y, { epochs: STEPS / 10, batchSize: 32, seed: 0, progress: sampler(samples, 100, (epoch) => epoch * 10) });
      expect(history).toHaveLength(STEPS / 10);
    } finally {
      disposeMrl(model);
    }
    check('MRL', samples);
  });

  it('the language model (lm.train, with checkpoints and evaluations)', async () => {
    const vocab = 32;
    const arch = lmArchitecture({ vocabSize: vocab, contextLength: 8, dModel: 16, nLayers: 1, nHeads: 2 });
    const tokenizer: WordTokenizer = { kind: 'word', lowercase: true, vocab: ['<unk>', '<doc>', ...Array.from({ length: vocab - 2 }, (_, i) => `w${i}`)] };
    const rng = new Rng(3);
    const stream = Int32Array.from({ length: 4000 }, () => Math.floor(rng.uniform() * vocab));
    const validation = stream.slice(0, 8 * 8 + 1);
    const model = createLm(arch, 0);
    const samples: Sample[] = [sample(0)];
    try {
      // progress reports every STEPS/100 steps; evaluations every 250 steps, checkpoints every 250.
      const { history } = await trainLm(model, stream, {
        training: lmTraining({ steps: STEPS, batchSize: 8, evalEvery: 250, checkpointEvery: 250, seed: 0 }),
        tokenizer,
        validation,
        checkpointDir: mkdtempSync(join(tmpdir(), 'nestlab-long-lm-')),
        progress: sampler(samples, 100, (step) => step),
      });
      expect(history).toHaveLength(STEPS);
    } finally {
      disposeLm(model);
    }
    check('LM', samples);
  });
});
