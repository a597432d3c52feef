import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSae } from '../../src/sae/model.js';
import { saveCheckpoint, loadSae, loadCheckpoint, saveSae } from '../../src/sae/checkpoint.js';
import { createTrainerState } from '../../src/sae/state.js';
import { architectureHash, saeTraining } from '../../src/sae/config.js';
import { readSafetensors, writeSafetensors } from '../../src/data/safetensors.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'nestlab-ck-'));
}

describe('SAE checkpoints', () => {
  it('write SAELens names and shapes plus a cfg.json, and load back identical', () => {
    const dir = tmp();
    try {
      const sae = createSae({ dIn: 5, dSae: 12, k: 2, prefixes: [3, 12] });
      sae.threshold = new Float32Array(12).fill(0.25);
      sae.training = saeTraining({ learningRate: 3e-3, epochs: 2 }, sae.cfg);
      const state = createTrainerState(sae);
      state.step = 42;
      state.adamV.wDec[7] = 0.5;
      state.tokensSinceFired[3] = 123456789;
      const folder = saveCheckpoint(dir, sae, state);
      expect(folder).toMatch(/step-00000042$/);
      const { tensors, metadata } = readSafetensors(join(folder, 'sae_weights.safetensors'));
      expect(tensors.W_enc.shape).toEqual([5, 12]);
      expect(tensors.W_dec.shape).toEqual([12, 5]);
      expect(tensors.b_enc.shape).toEqual([12]);
      expect(tensors.b_dec.shape).toEqual([5]);
      expect(metadata.config_hash).toBe(architectureHash(sae.cfg));
      const cfg = JSON.parse(readFileSync(join(folder, 'cfg.json'), 'utf8'));
      expect([cfg.d_in, cfg.d_sae, cfg.dtype, cfg.apply_b_dec_to_input, cfg.normalize_activations]).toEqual([5, 12, 'float32', true, 'none']);
      expect(cfg.matryoshka_widths).toEqual([3, 12]);
      const loaded = loadCheckpoint(dir)!;
      expect(loaded.sae.params).toEqual(sae.params);
      expect(loaded.sae.cfg).toEqual(sae.cfg);
      expect(loaded.sae.training).toEqual(sae.training);
      expect(loaded.sae.threshold).toEqual(new Float32Array(12).fill(0.25));
      expect(cfg.architecture).toBe('jumprelu'); // a BatchTopK SAE with θ, as SAELens saves one
      expect(loaded.state!.step).toBe(42);
      expect(loaded.state!.adamV.wDec[7]).toBe(0.5);
      expect(loaded.state!.tokensSinceFired[3]).toBe(123456789);
      expect(loadSae(dir).params.wEnc).toEqual(sae.params.wEnc);
      expect(loadSae(folder).params.wDec).toEqual(sae.params.wDec);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns null for a folder without a checkpoint', () => {
    const dir = tmp();
    try {
      expect(loadCheckpoint(dir)).toBeNull();
      expect(() => loadSae(dir)).toThrow(/cfg.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects weights whose shapes do not match the cfg, naming the tensor', () => {
    const dir = tmp();
    try {
      const sae = createSae({ dIn: 5, dSae: 12, k: 2 });
      saveSae(sae, dir);
      const path = join(dir, 'sae_weights.safetensors');
      const { tensors } = readSafetensors(path);
      tensors.W_dec = { dtype: 'F32', shape: [5, 12], data: tensors.W_dec.data };
      writeSafetensors(path, tensors);
      expect(() => loadSae(dir)).toThrow(/W_dec must be shape \[12, 5\] \(from cfg.json\), got shape \[5, 12\]/);
      // a cfg that disagrees with the file
      const cfgPath = join(dir, 'cfg.json');
      const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
      cfg.nestlab_architecture.dIn = 6;
      writeFileSync(cfgPath, JSON.stringify(cfg));
      expect(() => loadSae(dir)).toThrow(/W_enc must be shape \[6, 12\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a trainer state whose step is not a count (an empty string is not step 0)', () => {
    const dir = tmp();
    try {
      const sae = createSae({ dIn: 4, dSae: 8, k: 2 });
      const state = createTrainerState(sae);
      state.step = 3;
      const folder = saveCheckpoint(dir, sae, state);
      const path = join(folder, 'trainer_state.safetensors');
      const { tensors, metadata } = readSafetensors(path);
      for (const bad of ['', '-1', '2.5', '1e3']) {
        writeSafetensors(path, tensors, { ...metadata, step: bad });
        expect(() => loadCheckpoint(dir), JSON.stringify(bad)).toThrow(/step in trainer_state\.safetensors must be a step count \(an integer ≥ 0\)/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
