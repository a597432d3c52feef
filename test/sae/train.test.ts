import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { applyUpdate, trainSae, learningRateAt, paretoPrefixes, trainStep, type TrainSaeOptions } from '../../src/sae/train.js';
import { loadCheckpoint } from '../../src/sae/checkpoint.js';
import { createTrainerState } from '../../src/sae/state.js';
import { matrixSource, type BatchSource } from '../../src/data/batches.js';
import { createSae, encodeSae, reconstructSae, JS_ENCODER_MAX_MACS } from '../../src/sae/model.js';
import { hierarchicalFeatures } from '../../src/data/hierarchical.js';
import { saeArchitecture, saeTraining } from '../../src/sae/config.js';
import { NestlabArgumentError, NestlabComputationError } from '../../src/errors.js';
import { runProcess } from '../helpers/spawn.js';

beforeAll(async () => {
  await initBackend();
});

function gaussian(rows: number, cols: number, seed: number): Matrix {
  return { data: new Rng(seed).normalArray(rows * cols), rows, cols };
}

describe('trainSae', () => {
  it('keeps decoder rows at unit norm and lowers the loss', async () => {
    const x = gaussian(512, 8, 1);
    const res = await trainSae(x, {
      architecture: { dIn: 8, dSae: 32, k: 4, activation: 'topk' },
      training: { batchSize: 64, epochs: 4, learningRate: 1e-2, warmupSteps: 2 },
    });
    const w = res.sae.params.wDec;
    for (let i = 0; i < 32; i++) {
      let n = 0;
      for (let j = 0; j < 8; j++) n += w[i * 8 + j] ** 2;
      expect(Math.sqrt(n)).toBeCloseTo(1, 5);
    }
    expect(res.history).toHaveLength(4);
    expect(res.history[3].loss).toBeLessThan(res.history[0].loss);
    expect(res.totalSteps).toBe(32);
    expect(res.sae.training?.learningRate).toBe(1e-2);
  });

  it('gives the same weights for the same seed, and the sparse and dense paths agree', async () => {
    const x = gaussian(256, 6, 2);
    const cfg: TrainSaeOptions = {
      architecture: { dIn: 6, dSae: 16, k: 3, prefixes: [4, 16] },
      training: { batchSize: 32, epochs: 2, learningRate: 5e-3, warmupSteps: 1, deadTokens: 64, auxK: 3, thresholdStart: 2 },
    };
    const a = await trainSae(x, cfg);
    const b = await trainSae(x, cfg);
    const c = await trainSae(x, { ...cfg, gradients: 'dense' });
    expect(a.sae.params.wEnc).toEqual(b.sae.params.wEnc);
    let mx = 0;
    for (const key of ['wEnc', 'wDec', 'bEnc', 'bDec'] as const) {
      const p = a.sae.params[key];
      const q = c.sae.params[key];
      for (let i = 0; i < p.length; i++) mx = Math.max(mx, Math.abs(p[i] - q[i]));
    }
    expect(mx).toBeLessThan(1e-3);
    expect(a.sae.threshold![0]).toBeGreaterThan(0);
  });

  it('resumes after an interruption with exactly the weights of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-sae-'));
    try {
      const x = gaussian(320, 6, 3);
      const cfg: TrainSaeOptions = {
        architecture: { dIn: 6, dSae: 16, k: 2, prefixes: [4, 8, 16] },
        training: { batchSize: 32, epochs: 3, learningRate: 5e-3, warmupSteps: 3, deadTokens: 96, auxK: 3, thresholdStart: 4 },
      };
      const full = await trainSae(x, cfg);
      const first = await trainSae(x, { ...cfg, checkpointDir: dir, checkpointEvery: 7, stopAfterSteps: 13 });
      expect(first.state.step).toBe(13);
      expect(existsSync(join(dir, 'latest.json'))).toBe(true);
      expect(readdirSync(dir).filter((n) => n.startsWith('step-')).length).toBeLessThanOrEqual(2);
      const resumed = await trainSae(x, { ...cfg, checkpointDir: dir });
      expect(resumed.resumedFrom).toBe(13);
      expect(resumed.stepsRun).toBe(30 - 13);
      expect(resumed.sae.params.wEnc).toEqual(full.sae.params.wEnc);
      expect(resumed.sae.params.wDec).toEqual(full.sae.params.wDec);
      expect(resumed.sae.params.bDec).toEqual(full.sae.params.bDec);
      expect(resumed.sae.threshold).toEqual(full.sae.threshold);
      // another architecture must not silently resume from this folder
      await expect(trainSae(x, { ...cfg, architecture: { ...cfg.architecture, k: 3 }, checkpointDir: dir })).rejects.toThrow(/options.architecture must be the architecture of the checkpoint/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('extends a finished run with more epochs: the architecture is kept, the training may change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-sae-'));
    try {
      const x = gaussian(128, 4, 7);
      const architecture = { dIn: 4, dSae: 8, k: 2 };
      const short = await trainSae(x, { architecture, training: { batchSize: 32, epochs: 1, warmupSteps: 1 }, checkpointDir: dir });
      expect(short.state.step).toBe(4);
      const longer = await trainSae(x, { architecture, training: { batchSize: 32, epochs: 3, warmupSteps: 1 }, checkpointDir: dir });
      expect(longer.resumedFrom).toBe(4);
      expect(longer.stepsRun).toBe(8);
      expect(longer.sae.training?.epochs).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not leak tensors over 200 steps (BLAS or tfjs encoder, AuxK selections by tf.topk)', async () => {
    const rows = 64;
    const arch = saeArchitecture({ dIn: 64, dSae: 1100, k: 8, activation: 'topk' });
    const training = saeTraining({ batchSize: rows, warmupSteps: 1, deadTokens: 128, auxK: 16 }, arch);
    expect(rows * 64 * 1100).toBeGreaterThan(JS_ENCODER_MAX_MACS);
    const data = gaussian(rows * 4, 64, 4);
    const src = matrixSource(data);
    const sae = createSae(arch);
    const state = createTrainerState(sae);
    await trainStep(sae, state, training, src.batch(0, 0, rows, 0) as Float32Array, rows, 200);
    const before = tf.memory().numTensors;
    let sawAux = false;
    for (let s = 1; s < 200; s++) {
      const info = await trainStep(sae, state, training, src.batch(0, s % 4, rows, 0) as Float32Array, rows, 200);
      sawAux ||= info.dead > 0;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(sawAux).toBe(true);
    const dense = createTrainerState(sae);
    for (let s = 0; s < 5; s++) await trainStep(sae, dense, training, src.batch(0, s % 4, rows, 0) as Float32Array, rows, 5, 'dense');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains from any BatchSource (e.g. a reader of sharded files) exactly as from the Matrix', async () => {
    const x = gaussian(128, 4, 6);
    const inner = matrixSource(x);
    const calls: string[] = [];
    const source = {
      rows: inner.rows,
      cols: inner.cols,
      async batch(epoch: number, index: number, batchSize: number, seed: number) {
        calls.push(`${epoch}/${index}`);
        return inner.batch(epoch, index, batchSize, seed);
      },
    };
    const cfg: TrainSaeOptions = { architecture: { dIn: 4, dSae: 8, k: 2 }, training: { batchSize: 32, epochs: 2, warmupSteps: 1 } };
    const a = await trainSae(source, cfg);
    const b = await trainSae(x, cfg);
    expect(a.sae.params.wDec).toEqual(b.sae.params.wDec);
    expect(calls.slice(0, 6)).toEqual(['0/0', '0/0', '0/1', '0/2', '0/3', '1/0']); // first call: the b_dec sample
  });

  it('schedules warm-up then linear decay (to 0, or to a floor as in a WSD schedule)', () => {
    const t = saeTraining({ learningRate: 1, warmupSteps: 10, decayStart: 0.8 }, saeArchitecture({ dIn: 2, dSae: 4, k: 1 }));
    expect(learningRateAt(t, 0, 100)).toBeCloseTo(0.1);
    expect(learningRateAt(t, 9, 100)).toBe(1);
    expect(learningRateAt(t, 80, 100)).toBe(1);
    expect(learningRateAt(t, 90, 100)).toBeCloseTo(0.5);
    const wsd = saeTraining({ learningRate: 1, warmupSteps: 10, decayStart: 0.8, decayFloor: 0.1 }, saeArchitecture({ dIn: 2, dSae: 4, k: 1 }));
    expect(learningRateAt(wsd, 90, 100)).toBeCloseTo(0.55);
    expect(learningRateAt(wsd, 100, 100)).toBeCloseTo(0.1);
  });

  it('estimates θ in a run shorter than 1000 steps (thresholdStart defaults to half the run) and refuses a start past the end', async () => {
    const x = gaussian(640, 6, 8);
    const architecture = { dIn: 6, dSae: 16, k: 2 };
    const run = await trainSae(x, { architecture, training: { batchSize: 32, epochs: 3, warmupSteps: 2 } }); // 60 steps
    expect(run.sae.training?.thresholdStart).toBe(30);
    expect(run.state.thresholdUpdates).toBe(30);
    // θ is the bias-corrected EMA: a weighted mean of the 30 smallest kept activations, so within their range
    expect(run.sae.threshold![0]).toBeGreaterThan(0);
    expect(new Set(run.sae.threshold).size).toBe(1); // the same θ for every latent
    // each row is then encoded on its own: encoding it alone or with others gives the same code
    const all = await encodeSae(run.sae, x);
    const one = await encodeSae(run.sae, { data: x.data.subarray(6 * 5, 6 * 6), rows: 1, cols: 6 });
    expect(Array.from(one.idx)).toEqual(Array.from(all.idx.subarray(all.ptr[5], all.ptr[6])));
    await expect(trainSae(x, { architecture, training: { batchSize: 32, epochs: 3, thresholdStart: 60 } })).rejects.toThrow(
      /training.thresholdStart must be below the run's 60 steps, so that the inference threshold θ is estimated, got 60/,
    );
    await expect(trainSae(x, { architecture: { ...architecture, activation: 'jumprelu' } })).rejects.toThrow(/architecture.activation must be 'topk', 'batchtopk', 'relu' or 'mp' \(a 'jumprelu' SAE can be loaded/);
  });

  it("draws Nabeshima's random prefixes: distinct, sorted, ending at m, with P(ℓ) ∝ √ℓ − √(ℓ−1)", () => {
    for (let step = 0; step < 50; step++) {
      const p = paretoPrefixes(20, 10, 3, step);
      expect(p).toHaveLength(10);
      expect(p[9]).toBe(20);
      for (let i = 1; i < 10; i++) expect(p[i]).toBeGreaterThan(p[i - 1]);
      expect(p[0]).toBeGreaterThanOrEqual(1);
    }
    expect(paretoPrefixes(20, 10, 3, 7)).toEqual(paretoPrefixes(20, 10, 3, 7)); // seeded by (seed, step)
    // one draw from {1..9}: frequencies follow the weights (20,000 draws; 4 standard errors)
    const counts = new Array<number>(10).fill(0);
    const draws = 20000;
    for (let step = 0; step < draws; step++) counts[paretoPrefixes(10, 2, 1, step)[0]]++;
    for (let l = 1; l < 10; l++) {
      const p = (Math.sqrt(l) - Math.sqrt(l - 1)) / 3; // Σ_{ℓ=1..9} (√ℓ − √(ℓ−1)) = √9 = 3
      expect(Math.abs(counts[l] / draws - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / draws));
    }
  });

  it('re-sorting latents (latentOrderEma) changes their order, not the function a flat SAE learns', async () => {
    const toy = hierarchicalFeatures({ samples: 2000, seed: 1 });
    const architecture = { dIn: 20, dSae: 20, activation: 'relu' as const };
    const training = { batchSize: 100, epochs: 2, learningRate: 1e-2, warmupSteps: 5, l1Coeff: 0.05, auxK: 0 };
    const plain = await trainSae(toy.samples, { architecture, training });
    const sorted = await trainSae(toy.samples, { architecture, training: { ...training, latentOrderEma: 0.95 } });
    const ema = sorted.state.latentEma;
    for (let j = 1; j < 20; j++) expect(ema[j]).toBeLessThanOrEqual(ema[j - 1]); // largest running mean first
    expect(Array.from(sorted.sae.params.bEnc)).not.toEqual(Array.from(plain.sae.params.bEnc)); // the order did change
    const a = await reconstructSae(plain.sae, toy.samples);
    const b = await reconstructSae(sorted.sae, toy.samples);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    expect(diff).toBeLessThan(1e-4); // the same SAE up to a permutation (Adam moments moved with their latents)
  });

  it('steers λ toward a target L0 (sparsity controller) and resumes random-prefix, re-sorting runs exactly', async () => {
    const toy = hierarchicalFeatures({ samples: 4000, seed: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-sae-'));
    try {
      const cfg: TrainSaeOptions = {
        architecture: { dIn: 20, dSae: 20, activation: 'relu' },
        training: {
          batchSize: 200, epochs: 6, learningRate: 3e-2, beta1: 0.5, beta2: 0.9375, warmupSteps: 10, decayFloor: 0.1,
          l1Coeff: 0.2, l1TargetL0: 1.12, l1Adapt: 3e-3, randomPrefixCount: 10, latentOrderEma: 0.95, auxK: 0,
        },
      };
      const full = await trainSae(toy.samples, cfg);
      expect(full.state.l1Scale).toBeGreaterThan(0);
      expect(full.history[5].prefixMse).toHaveLength(1); // random prefixes: only the full width is tracked
      const half = await trainSae(toy.samples, { ...cfg, checkpointDir: dir, stopAfterSteps: 57 });
      expect(half.state.step).toBe(57);
      const resumed = await trainSae(toy.samples, { ...cfg, checkpointDir: dir });
      expect(resumed.sae.params.wEnc).toEqual(full.sae.params.wEnc);
      expect(resumed.sae.params.wDec).toEqual(full.sae.params.wDec);
      expect(resumed.state.latentEma).toEqual(full.state.latentEma);
      expect(resumed.state.l1Scale).toBe(full.state.l1Scale);
      // the controller raises λ while L0 is above target and lowers it below: the last epoch's L0 is near 1.12
      expect(Math.abs(full.history[5].l0 - 1.12)).toBeLessThan(0.5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects NaN input, a wrong width, too few rows and a missing architecture with clear errors', async () => {
    const bad = gaussian(64, 4, 5);
    bad.data[13] = Number.NaN;
    const architecture = { dIn: 4, dSae: 8, k: 2 };
    await expect(trainSae(bad, { architecture, training: { batchSize: 16 } })).rejects.toThrow(NestlabArgumentError);
    await expect(trainSae(gaussian(64, 5, 1), { architecture, training: { batchSize: 16 } })).rejects.toThrow(/sae.train: data.cols must be architecture.dIn = 4/);
    await expect(trainSae(gaussian(8, 4, 1), { architecture, training: { batchSize: 16 } })).rejects.toThrow(/at least training.batchSize = 16/);
    await expect(trainSae(gaussian(64, 4, 1), { architecture: { ...architecture, k: 9 } })).rejects.toThrow(/architecture.k must be at most dSae/);
    await expect(trainSae(gaussian(64, 4, 1), {} as never)).rejects.toThrow(/sae.train: architecture must be an object with dIn and dSae/);
  });
});

describe('worker threads', () => {
  // The sparse step and the update split rows, latents and parameters across threads; every number
  // is written by one thread in a fixed order, so one thread and two give the same bits.
  const hashWith = async (threads: number, args: string[]) => {
    const r = await runProcess(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'helpers', 'sae-train-hash.ts'), ...args], {
      env: { ...process.env, NESTLAB_THREADS: String(threads) },
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { hash: string; loss: number; dead: number };
  };
  for (const args of [['topk', '64', '512', '8'], ['batchtopk', '32', '256', '4']]) {
    it(`give the same trained ${args[0]} SAE (weights and Adam moments) as one thread`, async () => {
      const one = await hashWith(1, args);
      const two = await hashWith(2, args);
      expect(Number.isFinite(one.loss)).toBe(true);
      expect(one.dead).toBeGreaterThan(0); // AuxK ran
      expect(two.hash).toBe(one.hash);
    });
  }
});

describe('divergence', () => {
  // Batches of a Gaussian except batch 5 of epoch 0, whose first row is scaled by 1e25: finite,
  // so the input check passes, but its squared error overflows float32 in the gradients.
  function hostileSource(x: Matrix, badIndex: number): BatchSource {
    const plain = matrixSource(x);
    return {
      rows: plain.rows,
      cols: plain.cols,
      async batch(epoch, index, batchSize, seed) {
        const b = Float32Array.from(await plain.batch(epoch, index, batchSize, seed));
        if (epoch === 0 && index === badIndex) for (let j = 0; j < x.cols; j++) b[j] *= 1e25;
        return b;
      },
    };
  }

  it('stops at the step that made a parameter non-finite, naming it and the remedies, and keeps the last good checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sae-diverge-'));
    const x = gaussian(640, 8, 3);
    const options: TrainSaeOptions = { architecture: { dIn: 8, dSae: 32, k: 4 }, training: { batchSize: 64, epochs: 2 }, checkpointDir: dir, checkpointEvery: 2 };
    const error = await trainSae(hostileSource(x, 5), options).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(NestlabComputationError);
    const message = (error as Error).message;
    expect(message).toMatch(/^sae\.train: step 5: (W_enc|b_enc|W_dec|b_dec)(, (W_enc|b_enc|W_dec|b_dec))* became non-finite in the update/);
    expect(message).toMatch(/lower training\.learningRate, raise training\.warmupSteps, or scale the data/);
    expect(message).toMatch(new RegExp(`the last good checkpoint, step 4, stays in ${dir}$`));
    expect(message.split('\n')).toHaveLength(1);
    // What is on disk is the state after step 4, finite, and resuming from it is possible.
    const ck = loadCheckpoint(dir);
    expect(ck?.state?.step).toBe(4);
    for (const p of Object.values(ck!.sae.params)) expect(p.every(Number.isFinite)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops before the update when the loss is not finite, and says when no checkpoint was written', async () => {
    const x = gaussian(640, 8, 3);
    const inf = hostileSource(x, 0);
    const source: BatchSource = { rows: inf.rows, cols: inf.cols, batch: async (...a) => (await inf.batch(...a)).map((v) => v * 1e13) };
    const error = await trainSae(source, { architecture: { dIn: 8, dSae: 32, k: 4 }, training: { batchSize: 64, epochs: 1 } }).then(() => null, (e: unknown) => e);
    expect((error as Error).message).toMatch(/^sae\.train: step 0: the loss became Infinity .*; no checkpoint was written \(options\.checkpointDir\)$/);
  });

  it('applyUpdate names the parameter arrays that overflowed (float32 range)', () => {
    const sae = createSae(saeArchitecture({ dIn: 4, dSae: 8, k: 2 }), { seed: 1 });
    const state = createTrainerState(sae);
    const training = saeTraining({ learningRate: 10, warmupSteps: 0 }, sae.cfg, 'test', 10);
    const grads = { wEnc: new Float32Array(32).fill(-1), bEnc: new Float32Array(8), wDec: new Float32Array(32), bDec: new Float32Array(4) };
    expect(applyUpdate(sae, state, training, grads, 10)).toEqual([]);
    sae.params.bEnc[3] = 3.4e38; // one Adam step of size lr·1 more leaves float32's range
    grads.bEnc[3] = -1;
    expect(applyUpdate(sae, state, training, grads, 1e38)).toEqual(['b_enc']); // W_enc moved by about 1e38 too, still finite
  });
});
