import { describe, it, expect } from 'vitest';
import { saeArchitecture, saeTraining, architectureHash, matryoshkaPrefixes, halvingPrefixes } from '../../src/sae/config.js';
import { NestlabArgumentError } from '../../src/errors.js';

describe('SAE architecture and training configs', () => {
  it('fill the documented defaults, training defaults derived from the architecture', () => {
    const a = saeArchitecture({ dIn: 512, dSae: 4096 });
    expect(a).toEqual({ dIn: 512, dSae: 4096, activation: 'batchtopk', k: 32, prefixes: [4096], applyBDecToInput: true, normalizeActivations: 'none' });
    const t = saeTraining({}, a);
    expect(t.prefixWeights).toEqual([1]);
    expect(t.auxK).toBe(256);
    expect(t.auxAlpha).toBeCloseTo(1 / 32);
    expect(t.learningRate).toBeCloseTo(2e-4 / Math.sqrt(4096 / 16384));
    expect(t.batchSize).toBe(4096);
  });

  it('gives equal prefix weights 1/K by default', () => {
    const a = saeArchitecture({ dIn: 8, dSae: 64, k: 4, prefixes: [8, 16, 64] });
    expect(saeTraining(undefined, a).prefixWeights).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('builds the paper groups with matryoshkaPrefixes, and halving prefixes', () => {
    expect(matryoshkaPrefixes(4096)).toEqual([128, 384, 896, 1920, 4096]);
    expect(matryoshkaPrefixes(20, { fractions: [0.15, 0.4] })).toEqual([3, 11, 20]);
    expect(halvingPrefixes(512)).toEqual([32, 64, 128, 256, 512]);
    expect(halvingPrefixes(20)).toEqual([1, 2, 5, 10, 20]);
    expect(halvingPrefixes(3)).toEqual([1, 3]); // duplicates dropped
  });

  it('reject bad fields with errors naming the field', () => {
    const badArchitecture: [object, RegExp][] = [
      [{ dIn: 8, dSae: 16, k: 17 }, /architecture.k must be at most dSae = 16/],
      [{ dIn: 8, dSae: 16, prefixes: [8, 4, 16] }, /architecture.prefixes must be strictly increasing/],
      [{ dIn: 8, dSae: 16, prefixes: [4, 8] }, /architecture.prefixes must be sizes ending at dSae = 16/],
      [{ dIn: 8, dSae: 16, prefixes: [0, 16] }, /architecture.prefixes\[0\]/],
      [{ dIn: 8, dSae: 16, activation: 'topk', k: 2.5 }, /integer for activation "topk"/],
      [{ dIn: 8, dSae: 16, activation: 'gated' }, /architecture.activation/],
      [{ dIn: 8, dSae: 16, normalizeActivations: 'expected_average_only_in' }, /architecture.normalizeActivations/],
      [{ dIn: 8, dSae: 16, applyBDecToInput: 1 }, /architecture.applyBDecToInput must be true or false/],
      [{ dIn: 0, dSae: 16 }, /architecture.dIn/],
      [{ dIn: 8, dSae: 16, kk: 3 }, /architecture.kk must be one of the known options/],
      [{ dIn: 8, dSae: 16, learningRate: 1e-3 }, /architecture.learningRate must be one of the known options/],
    ];
    for (const [cfg, msg] of badArchitecture) {
      expect(() => saeArchitecture(cfg as never)).toThrow(NestlabArgumentError);
      expect(() => saeArchitecture(cfg as never)).toThrow(msg);
    }
    const a = saeArchitecture({ dIn: 8, dSae: 16, k: 0.001, prefixes: [8, 16] });
    const badTraining: [object, RegExp][] = [
      [{ prefixWeights: [1] }, /training.prefixWeights must be an array of 2 weights/],
      [{ learningRate: Number.NaN }, /training.learningRate/],
      [{ batchSize: 10 }, /training.batchSize must be such that k·batchSize ≥ 1/],
      [{ lr: 1 }, /training.lr must be one of the known options/],
    ];
    for (const [cfg, msg] of badTraining) expect(() => saeTraining(cfg as never, a)).toThrow(msg);
  });

  it('hash the architecture stably and sensitively, and not the training', () => {
    const a = saeArchitecture({ dIn: 8, dSae: 16, k: 2 });
    expect(architectureHash(a)).toBe(architectureHash(saeArchitecture({ dIn: 8, dSae: 16, k: 2 })));
    expect(architectureHash(a)).not.toBe(architectureHash(saeArchitecture({ dIn: 8, dSae: 16, k: 3 })));
    expect(architectureHash(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps the hashes of version-2 checkpoints: new fields count only when not at their default', () => {
    const a = saeArchitecture({ dIn: 8, dSae: 16, k: 2 });
    expect(a.applyBDecToInput).toBe(true);
    expect(a.normalizeActivations).toBe('none');
    expect(architectureHash(a)).toBe('78537b4d66510a84') // the hash version 2 wrote;
    expect(architectureHash(saeArchitecture({ dIn: 8, dSae: 16, k: 2, applyBDecToInput: false }))).not.toBe(architectureHash(a));
    expect(architectureHash(saeArchitecture({ dIn: 8, dSae: 16, k: 2, normalizeActivations: 'layer_norm' }))).not.toBe(architectureHash(a));
  });

  it('sets thresholdStart from the run length when given one, so short runs still estimate θ', () => {
    const a = saeArchitecture({ dIn: 8, dSae: 16, k: 2 });
    expect(saeTraining({}, a).thresholdStart).toBe(1000);
    expect(saeTraining({}, a, 'sae.training', 900).thresholdStart).toBe(450);
    expect(saeTraining({}, a, 'sae.training', 50_000).thresholdStart).toBe(1000);
    expect(saeTraining({ thresholdStart: 7 }, a, 'sae.training', 900).thresholdStart).toBe(7);
  });
});
