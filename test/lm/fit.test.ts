import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import type { Progress } from '../../src/backend/progress.js';
import { readSafetensors, writeSafetensors } from '../../src/data/safetensors.js';
import { NestlabArgumentError, NestlabComputationError } from '../../src/errors.js';
import { lmArchitectureHash, loadLm, loadLmCheckpoint, saveLm, saveLmCheckpoint} from '../../src/lm/checkpoint.js';
import { lmArchitecture, lmTraining } from '../../src/lm/config.js';
import { trainLm } from '../../src/lm/fit.js';
import { createLm, disposeLm, lmForward, type Lm } from '../../src/lm/model.js';
import type { WordTokenizer } from '../../src/lm/tokenizer.js';
import { createLmTrainerState, disposeLmTrainerState } from '../../src/lm/train.js';

// A tiny model: vocabulary 32, context 8, width 16, one block (a few thousand parameters).
const arch = lmArchitecture({ vocabSize: 32, contextLength: 8, dModel: 16, nLayers: 1, nHeads: 2 });
const tokenizer: WordTokenizer = { kind: 'word', lowercase: true, vocab: ['<unk>', '<doc>', ...Array.from({ length: 30 }, (_, i) => `w${i}`)] };

// A learnable stream: the 32 ids in a fixed shuffled order, repeated, so that every token
// determines the next one (the optimal loss is 0 nats; a uniform guess is ln 32 = 3.47).
const ORDER = [5, 17, 2, 30, 11, 23, 0, 8, 27, 14, 1, 20, 31, 6, 19, 9, 25, 3, 12, 28, 16, 7, 22, 4, 29, 13, 24, 10, 18, 26, 15, 21];
const pattern = (n: number) => Int32Array.from({ length: n }, (_, i) => ORDER[i % 32]);
const train = pattern(4000);
const validation = pattern(32 * 8 + 1);

const newLm = (seed: number): Lm => createLm(arch, seed);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const tmpEmpty = mkdtempSync(join(tmpdir(), 'nestlab-lm-empty-'));

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'nestlab-lm-'));
}

async function weights(model: Lm): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of model.params) out.set(name, Float32Array.from((await v.data()) as Float32Array));
  return out;
}

/** A progress that throws at a given step, as if the process were killed right after it. */
class Interrupted extends Error {}
function interruptAt(step: number): Progress {
  return {
    start() {},
    update(done) {
      if (done === step) throw new Interrupted(`interrupted after step ${step}`);
    },
    stop() {},
  };
}

afterAll(() => rmSync(tmpEmpty, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend();
  // The first forward pass at T = 8 caches the causal mask for good (model.ts): count it from here.
  const m = newLm(0);
  tf.tidy(() => lmForward(m, new Int32Array(8), 1));
  disposeLm(m);
});

describe('trainLm', () => {
  it('learns a repeating pattern: the loss falls far below ln 32, on training and validation text', async () => {
    const start = tf.memory().numTensors;
    const model = newLm(0);
    const training = lmTraining({ steps: 120, batchSize: 8, learningRate: 1e-2, warmupSteps: 5, evalEvery: 40, seed: 1 });
    const lines: string[] = [];
    const progress: Progress = { start: (t, l) => lines.push(`start ${t} ${l}`), update: (d, info) => lines.push(`${d} ${info}`), stop: (s) => lines.push(`stop ${s}`) };
    const { history, evaluations, resumedFrom } = await trainLm(model, train, { training, tokenizer, validation, progress });
    expect(resumedFrom).toBe(0);
    expect(history.map((r) => r.step)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(evaluations.map((e) => e.step)).toEqual([40, 80, 120]);
    // Untrained: a near-uniform guess, ln 32 = 3.466 nats.
    expect(history[0].loss).toBeGreaterThan(Math.log(32) - 0.05);
    // Measured (seed 1, wasm backend): mean training loss of the last 10 steps ≈ 0.05 and
    // validation loss 0.047 at step 120 (0.65 at step 40); the bound leaves a 3× margin.
    const lastTen = history.slice(-10).reduce((a, r) => a + r.loss, 0) / 10;
    expect(lastTen).toBeLessThan(0.15);
    expect(evaluations[2].validationLoss).toBeLessThan(0.15);
    expect(evaluations[0].validationLoss).toBeGreaterThan(evaluations[2].validationLoss);
    expect(lines[0]).toBe('start 120 lm.train');
    expect(lines[lines.length - 1]).toMatch(/^stop 120\/120 steps {2}loss \d\.\d{4} {2}validation \d\.\d{4}$/);
    disposeLm(model);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('resumes an interrupted run to bit-identical weights', async () => {
    const start = tf.memory().numTensors;
    const whole = tmp();
    const parts = tmp();
    try {
      const training = lmTraining({ steps: 12, batchSize: 4, learningRate: 5e-3, warmupSteps: 3, checkpointEvery: 4, seed: 7 });
      // Uninterrupted: 12 steps, checkpoints at 4, 8, 12.
      const a = newLm(3);
      const runA = await trainLm(a, train, { training, tokenizer, checkpointDir: whole });
      expect(runA.history).toHaveLength(12);
      expect(readdirSync(whole).filter((n) => n.startsWith('step-')).sort()).toEqual(['step-00000008', 'step-00000012']);
      // Interrupted right after step 8 (its checkpoint written), then resumed in a new call with
      // a model of other initial weights: the checkpoint's weights and moments replace them.
      const b = newLm(3);
      await expect(trainLm(b, train, { training, tokenizer, checkpointDir: parts, progress: interruptAt(8) })).rejects.toThrow(Interrupted);
      disposeLm(b);
      expect(JSON.parse(readFileSync(join(parts, 'latest.json'), 'utf8')).step).toBe(8);
      const c = newLm(99);
      const runC = await trainLm(c, train, { training, tokenizer, checkpointDir: parts });
      expect(runC.resumedFrom).toBe(8);
      expect(runC.history.map((r) => r.step)).toEqual([9, 10, 11, 12]);
      expect(runC.history).toEqual(runA.history.slice(8)); // the same losses, gradient norms, learning rates
      const wa = await weights(a);
      const wc = await weights(c);
      let differing = 0;
      for (const [name, x] of wa) if (!x.every((v, i) => Object.is(v, wc.get(name)![i]))) differing++;
      expect(differing).toBe(0);
      // The moments too: both checkpoints of step 12 hold the same bytes.
      const sa = readSafetensors(join(whole, 'step-00000012', 'trainer_state.safetensors'));
      const sc = readSafetensors(join(parts, 'step-00000012', 'trainer_state.safetensors'));
      expect(sc.tensors).toEqual(sa.tensors);
      expect(sc.metadata).toEqual(sa.metadata);
      // A run resumed at its end does nothing more.
      const d = newLm(0);
      const runD = await trainLm(d, train, { training, tokenizer, checkpointDir: parts, validation });
      expect([runD.resumedFrom, runD.history.length, runD.evaluations.map((e) => e.step)]).toEqual([12, 0, [12]]);
      for (const m of [a, c, d]) disposeLm(m);
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      rmSync(whole, { recursive: true, force: true });
      rmSync(parts, { recursive: true, force: true });
    }
  });

  it('refuses to resume onto another architecture or tokenizer', async () => {
    const dir = tmp();
    try {
      const training = lmTraining({ steps: 2, batchSize: 2, checkpointEvery: 2 });
      const model = newLm(0);
      await trainLm(model, train, { training, tokenizer, checkpointDir: dir });
      const start = tf.memory().numTensors;
      const wider = createLm(lmArchitecture({ ...arch, dMlp: 32 }), 0);
      await expect(trainLm(wider, train, { training, tokenizer, checkpointDir: dir })).rejects.toThrow(/^lm\.train: model\.architecture must be the architecture of the checkpoint in /);
      const other: WordTokenizer = { ...tokenizer, vocab: [...tokenizer.vocab.slice(0, 31), 'zebra'] };
      await expect(trainLm(model, train, { training, tokenizer: other, checkpointDir: dir })).rejects.toThrow(/^lm\.train: options\.tokenizer must be the tokenizer of the checkpoint/);
      disposeLm(wider);
      expect(tf.memory().numTensors).toBe(start);
      disposeLm(model);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names bad arguments', async () => {
    const model = newLm(0);
    const training = lmTraining({ steps: 1, batchSize: 1 });
    await expect(trainLm(model, train, { training, tokenizer, seed: 1 } as never)).rejects.toThrow(/^lm\.train: options\.seed must be one of the known options/);
    await expect(trainLm(model, train, { training: { ...training, learningRate: -1 }, tokenizer })).rejects.toThrow(/^lm\.train: options\.training\.learningRate must be/);
    await expect(trainLm(model, Int32Array.from([1, 2, 40, 3, 4, 5, 6, 7, 8, 9]), { training, tokenizer })).rejects.toThrow(/^lm\.train: trainStream\[2\] must be a token id in \[0, 31\], got 40/);
    await expect(trainLm(model, new Int32Array(8), { training, tokenizer })).rejects.toThrow(/^lm\.train: trainStream must be an Int32Array of at least contextLength \+ 1 = 9/);
    await expect(trainLm(model, train, { training, tokenizer: { ...tokenizer, vocab: tokenizer.vocab.slice(0, 30) } })).rejects.toThrow(/^lm\.train: options\.tokenizer must be a word tokenizer of model\.architecture\.vocabSize = 32 tokens, got 30 tokens/);
    await expect(trainLm(model, train, { training, tokenizer, evalWindows: 0 })).rejects.toThrow(/^lm\.train: options\.evalWindows/);
    disposeLm(model);
  });

  it('stops a diverging run with the named error, and the previous checkpoint still loads', async () => {
    const dir = tmp();
    try {
      const start = tf.memory().numTensors;
      const model = newLm(0);
      const training = lmTraining({ steps: 12, batchSize: 4, learningRate: 1e-2, checkpointEvery: 4 });
      // A weight becomes NaN right after step 6 (as an overflow would make it): step 7's loss is NaN.
      const poison: Progress = {
        start() {},
        update(done) {
          if (done !== 6) return;
          const nan = tf.fill([16, 64], NaN);
          model.params.get('blocks.0.mlp.W_in')!.assign(nan);
          nan.dispose();
        },
        stop() {},
      };
      const error = await trainLm(model, train, { training, tokenizer, checkpointDir: dir, progress: poison }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NestlabComputationError);
      // lmTrainStep names the step by the count of steps done before it (6), i.e. the 7th step.
      expect((error as Error).message).toMatch(/^lm\.train: step 7: the loss is NaN/);
      const ck = loadLmCheckpoint(dir)!;
      expect(ck.state.step).toBe(4);
      expect(ck.training).toEqual(training);
      const w = (await ck.model.params.get('blocks.0.mlp.W_in')!.data()) as Float32Array;
      expect(w.every(Number.isFinite)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['latest.json', 'step-00000004']);
      // A model with a non-finite weight is never written: nothing of step 6 appears.
      const state = createLmTrainerState(model);
      state.step = 6;
      await expect(saveLmCheckpoint(dir, model, tokenizer, state, training)).rejects.toThrow(/^lm\.saveCheckpoint: model\.params blocks\.0\.mlp\.W_in must be finite numbers only, got NaN at index 0/);
      expect(readdirSync(dir).sort()).toEqual(['latest.json', 'step-00000004']);
      disposeLmTrainerState(state);
      disposeLm(ck.model);
      disposeLmTrainerState(ck.state);
      disposeLm(model);
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('saveLm / loadLm', () => {
  it('round-trips a model: identical weights and logits, TransformerLens names, F32', async () => {
    const dir = tmp();
    try {
      const start = tf.memory().numTensors;
      const model = newLm(5);
      await trainLm(model, train, { training: lmTraining({ steps: 3, batchSize: 2 }), tokenizer }); // weights away from the initialization
      await saveLm(model, tokenizer, dir);
      const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
      expect(cfg).toEqual({ format: 'nestlab-lm', version: 1, architecture: arch });
      const { tensors, metadata } = readSafetensors(join(dir, 'model.safetensors'));
      expect(tensors['blocks.0.attn.W_Q'].shape).toEqual([16, 16]);
      expect(tensors['embed.W_E'].shape).toEqual([32, 16]);
      expect(Object.values(tensors).every((t) => t.dtype === 'F32')).toBe(true);
      expect(Object.keys(tensors).sort()).toEqual([...model.params.keys()].sort());
      expect(metadata.config_hash).toBe(lmArchitectureHash(arch));
      const loaded = loadLm(dir);
      expect(loaded.tokenizer).toEqual(tokenizer);
      expect(loaded.model.architecture).toEqual(arch);
      const ids = Int32Array.from(train.subarray(0, 16));
      const logits = (m: Lm) => {
        const z = tf.tidy(() => lmForward(m, ids, 2));
        const values = z.dataSync() as Float32Array;
        z.dispose();
        return values;
      };
      const [x, y] = [logits(model), logits(loaded.model)];
      expect(Array.from(y)).toEqual(Array.from(x));
      disposeLm(loaded.model);
      disposeLm(model);
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the latest step of a checkpoint folder and keeps the two newest', async () => {
    const dir = tmp();
    try {
      const model = newLm(0);
      const state = createLmTrainerState(model);
      const training = lmTraining({ steps: 100 });
      for (const step of [10, 20, 30]) {
        state.step = step;
        await saveLmCheckpoint(dir, model, tokenizer, state, training);
      }
      expect(readdirSync(dir).sort()).toEqual(['latest.json', 'step-00000020', 'step-00000030']);
      expect(JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'))).toEqual({ format: 'nestlab-lm-checkpoint', version: 1, step: 30, folder: 'step-00000030', config_hash: lmArchitectureHash(arch) });
      const { tensors, metadata } = readSafetensors(join(dir, 'step-00000030', 'trainer_state.safetensors'));
      expect(tensors['adam_m.embed.W_E'].shape).toEqual([32, 16]);
      expect(tensors['adam_v.unembed.b_U'].shape).toEqual([32]);
      expect([metadata.step, metadata.config_hash, JSON.parse(metadata.training)]).toEqual(['30', lmArchitectureHash(arch), training]);
      const viaDir = loadLm(dir);
      expect(viaDir.model.architecture).toEqual(arch);
      disposeLm(viaDir.model);
      expect(loadLmCheckpoint(tmpEmpty)).toBeNull();
      disposeLmTrainerState(state);
      disposeLm(model);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a malformed folder with a one-line error naming the file', async () => {
    const dir = tmp();
    try {
      const model = newLm(0);
      await saveLm(model, tokenizer, dir);
      disposeLm(model);
      const start = tf.memory().numTensors;
      const cfgPath = join(dir, 'cfg.json');
      const good = readFileSync(cfgPath, 'utf8');
      const rejects = (pattern: RegExp) => {
        let error: unknown;
        try {
          disposeLm(loadLm(dir).model);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(NestlabArgumentError);
        expect((error as Error).message).toMatch(pattern);
        expect((error as Error).message).not.toContain('\n');
      };
      writeFileSync(cfgPath, good.slice(0, 40));
      rejects(new RegExp(`^lm\\.load: ${escape(cfgPath)} must be a readable JSON file`));
      writeFileSync(cfgPath, JSON.stringify({ format: 'nestlab-lm', version: 1, architecture: { ...arch, nHeads: 3 } }));
      rejects(new RegExp(`^lm\\.load: architecture\\.nHeads in ${escape(cfgPath)} must be a divisor of dModel 16, got 3`));
      writeFileSync(cfgPath, JSON.stringify({ format: 'nestlab-lm', version: 2, architecture: arch }));
      rejects(/version in .*cfg\.json must be 1, got 2/);
      writeFileSync(cfgPath, JSON.stringify({ format: 'nestlab-lm', version: 1, architecture: { ...arch, vocabSize: 64 } }));
      rejects(/^lm\.load: architecture\.vocabSize in .*cfg\.json must be the size of the tokenizer in .*tokenizer\.json \(32\), got 64/);
      const { layerNormEps: _, ...withoutEps } = arch;
      writeFileSync(cfgPath, JSON.stringify({ format: 'nestlab-lm', version: 1, architecture: withoutEps }));
      rejects(/architecture\.layerNormEps in .*cfg\.json must be present/);
      writeFileSync(cfgPath, good);
      // A tensor of the wrong shape.
      const weightsPath = join(dir, 'model.safetensors');
      const { tensors, metadata } = readSafetensors(weightsPath);
      writeSafetensors(weightsPath, { ...tensors, 'embed.W_E': { ...tensors['embed.W_E'], shape: [16, 32] } }, metadata);
      rejects(new RegExp(`^lm\\.load: tensor embed\\.W_E in ${escape(weightsPath)} must be F32 of shape \\[32, 16\\], got F32 \\[16, 32\\]`));
      const { 'ln_final.b': __, ...missing } = tensors;
      writeSafetensors(weightsPath, missing, metadata);
      rejects(/^lm\.load: tensor ln_final\.b in .*model\.safetensors must be present/);
      writeSafetensors(weightsPath, { ...tensors, 'unembed.W_U': { dtype: 'F32', shape: [16, 32], data: new Float32Array(512) } }, metadata);
      rejects(/^lm\.load: tensor unembed\.W_U in .*model\.safetensors must be absent from a model of this architecture/);
      writeFileSync(weightsPath, 'not safetensors');
      rejects(/^lm\.load: .*model\.safetensors must be a header length within the file/);
      writeSafetensors(weightsPath, tensors, metadata);
      // A broken tokenizer.
      const tokenizerPath = join(dir, 'tokenizer.json');
      writeFileSync(tokenizerPath, JSON.stringify({ format: 'nestlab-word-tokenizer', version: 1, lowercase: true, vocab: ['<doc>', '<unk>'] }));
      rejects(/^lm\.load: vocab\[0\] in .*tokenizer\.json must be "<unk>"/);
      rmSync(tokenizerPath);
      rejects(/^lm\.load: .*tokenizer\.json must be a readable tokenizer file/);
      rejects(/ENOENT/);
      expect(() => loadLm(join(dir, 'nothing-here'))).toThrow(/^lm\.load: path must be a model folder/);
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a trainer state whose architecture hash differs', async () => {
    const dir = tmp();
    try {
      const model = newLm(0);
      const state = createLmTrainerState(model);
      state.step = 4;
      const folder = await saveLmCheckpoint(dir, model, tokenizer, state, lmTraining({ steps: 8 }));
      disposeLmTrainerState(state);
      disposeLm(model);
      const start = tf.memory().numTensors;
      const statePath = join(folder, 'trainer_state.safetensors');
      const { tensors, metadata } = readSafetensors(statePath);
      writeSafetensors(statePath, tensors, { ...metadata, config_hash: '0123456789abcdef' });
      expect(() => loadLmCheckpoint(dir)).toThrow(/^lm\.loadCheckpoint: config_hash in .*trainer_state\.safetensors must be [0-9a-f]{16} \(the hash of the architecture in .*cfg\.json\), got 0123456789abcdef/);
      writeSafetensors(statePath, { ...tensors, 'adam_v.blocks.0.ln1.w': { dtype: 'F32', shape: [15], data: new Float32Array(15) } }, metadata);
      expect(() => loadLmCheckpoint(dir)).toThrow(/^lm\.loadCheckpoint: tensor adam_v\.blocks\.0\.ln1\.w in .*trainer_state\.safetensors must be F32 of shape \[16\], got F32 \[15\]/);
      expect(tf.memory().numTensors).toBe(start);
      expect(existsSync(join(dir, 'latest.json'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
