import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import type { Matrix } from '../../src/data/matrix.js';
import { trainSae, learningRate, matrixSource, createTrainerState, trainStep } from '../../src/sae/train.js';
import { createSae, JS_ENCODER_MAX_MACS } from '../../src/sae/model.js';
import { saeConfig } from '../../src/sae/config.js';
import { NestlabArgumentError } from '../../src/errors.js';

beforeAll(async () => {
  await initBackend();
});

function gaussian(rows: number, cols: number, seed: number): Matrix {
  return { data: new Rng(seed).normalArray(rows * cols), rows, cols };
}

describe('trainSae', () => {
  it('keeps decoder rows at unit norm and lowers the loss', async () => {
    const x = gaussian(512, 8, 1);
    const res = await trainSae(x, { dIn: 8, dSae: 32, k: 4, activation: 'topk', batchSize: 64, epochs: 4, lr: 1e-2, warmupSteps: 2 });
    const w = res.sae.params.wDec;
    for (let i = 0; i < 32; i++) {
      let n = 0;
      for (let j = 0; j < 8; j++) n += w[i * 8 + j] ** 2;
      expect(Math.sqrt(n)).toBeCloseTo(1, 5);
    }
    expect(res.history).toHaveLength(4);
    expect(res.history[3].loss).toBeLessThan(res.history[0].loss);
    expect(res.totalSteps).toBe(32);
  });

  it('gives the same weights for the same seed, and the sparse and dense paths agree', async () => {
    const x = gaussian(256, 6, 2);
    const cfg = { dIn: 6, dSae: 16, k: 3, batchSize: 32, epochs: 2, lr: 5e-3, warmupSteps: 1, prefixes: [4, 16], deadTokens: 64, auxK: 3, thresholdStart: 2 };
    const a = await trainSae(x, cfg);
    const b = await trainSae(x, cfg);
    const c = await trainSae(x, cfg, { path: 'dense' });
    expect(a.sae.params.wEnc).toEqual(b.sae.params.wEnc);
    let mx = 0;
    for (const key of ['wEnc', 'wDec', 'bEnc', 'bDec'] as const) {
      const p = a.sae.params[key];
      const q = c.sae.params[key];
      for (let i = 0; i < p.length; i++) mx = Math.max(mx, Math.abs(p[i] - q[i]));
    }
    expect(mx).toBeLessThan(1e-3);
    expect(a.sae.threshold).toBeGreaterThan(0);
  });

  it('resumes after an interruption with exactly the weights of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-sae-'));
    try {
      const x = gaussian(320, 6, 3);
      const cfg = { dIn: 6, dSae: 16, k: 2, batchSize: 32, epochs: 3, lr: 5e-3, warmupSteps: 3, prefixes: [4, 8, 16], deadTokens: 96, auxK: 3, thresholdStart: 4 };
      const full = await trainSae(x, cfg);
      const first = await trainSae(x, cfg, { checkpointDir: dir, checkpointEvery: 7, stopAfterSteps: 13 });
      expect(first.state.step).toBe(13);
      expect(existsSync(join(dir, 'latest.json'))).toBe(true);
      expect(readdirSync(dir).filter((n) => n.startsWith('step-')).length).toBeLessThanOrEqual(2);
      const resumed = await trainSae(x, cfg, { checkpointDir: dir });
      expect(resumed.resumedFrom).toBe(13);
      expect(resumed.stepsRun).toBe(30 - 13);
      expect(resumed.sae.params.wEnc).toEqual(full.sae.params.wEnc);
      expect(resumed.sae.params.wDec).toEqual(full.sae.params.wDec);
      expect(resumed.sae.params.bDec).toEqual(full.sae.params.bDec);
      expect(resumed.sae.threshold).toBe(full.sae.threshold);
      // a different config must not silently resume from this folder
      await expect(trainSae(x, { ...cfg, k: 3 }, { checkpointDir: dir })).rejects.toThrow(/hash/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not leak tensors over 200 steps (tfjs encoder path)', async () => {
    const rows = 64;
    const cfg = saeConfig({ dIn: 64, dSae: 1100, k: 8, activation: 'topk', batchSize: rows, warmupSteps: 1, deadTokens: 128, auxK: 16 });
    expect(rows * 64 * 1100).toBeGreaterThan(JS_ENCODER_MAX_MACS);
    const data = gaussian(rows * 4, 64, 4);
    const src = matrixSource(data);
    const sae = createSae(cfg);
    const state = createTrainerState(sae);
    await trainStep(sae, state, src.batch(0, 0, rows, 0) as Float32Array, rows, 200);
    const before = tf.memory().numTensors;
    let sawAux = false;
    for (let s = 1; s < 200; s++) {
      const info = await trainStep(sae, state, src.batch(0, s % 4, rows, 0) as Float32Array, rows, 200);
      sawAux ||= info.dead > 0;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(sawAux).toBe(true);
    const dense = createTrainerState(sae);
    for (let s = 0; s < 5; s++) await trainStep(sae, dense, src.batch(0, s % 4, rows, 0) as Float32Array, rows, 5, 'dense');
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
    const cfg = { dIn: 4, dSae: 8, k: 2, batchSize: 32, epochs: 2, warmupSteps: 1 };
    const a = await trainSae(source, cfg);
    const b = await trainSae(x, cfg);
    expect(a.sae.params.wDec).toEqual(b.sae.params.wDec);
    expect(calls.slice(0, 6)).toEqual(['0/0', '0/0', '0/1', '0/2', '0/3', '1/0']); // first call: the b_dec sample
  });

  it('schedules warm-up then linear decay', () => {
    const cfg = saeConfig({ dIn: 2, dSae: 4, k: 1, lr: 1, warmupSteps: 10, decayStart: 0.8 });
    expect(learningRate(cfg, 0, 100)).toBeCloseTo(0.1);
    expect(learningRate(cfg, 9, 100)).toBe(1);
    expect(learningRate(cfg, 80, 100)).toBe(1);
    expect(learningRate(cfg, 90, 100)).toBeCloseTo(0.5);
  });

  it('rejects NaN input, a wrong width and too few rows with clear errors', async () => {
    const bad = gaussian(64, 4, 5);
    bad.data[13] = Number.NaN;
    await expect(trainSae(bad, { dIn: 4, dSae: 8, k: 2, batchSize: 16 })).rejects.toThrow(NestlabArgumentError);
    await expect(trainSae(gaussian(64, 5, 1), { dIn: 4, dSae: 8, k: 2, batchSize: 16 })).rejects.toThrow(/data.cols must be dIn = 4/);
    await expect(trainSae(gaussian(8, 4, 1), { dIn: 4, dSae: 8, k: 2, batchSize: 16 })).rejects.toThrow(/at least batchSize = 16/);
    await expect(trainSae(gaussian(64, 4, 1), { dIn: 4, dSae: 8, k: 9 })).rejects.toThrow(/k must be at most dSae/);
  });
});
