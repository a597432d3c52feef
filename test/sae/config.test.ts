import { describe, it, expect } from 'vitest';
import { saeConfig, configHash, matryoshkaPrefixes, toSaeLensCfg, fromSaeLensCfg } from '../../src/sae/config.js';
import { NestlabArgumentError } from '../../src/errors.js';

describe('saeConfig', () => {
  it('fills the documented defaults', () => {
    const c = saeConfig({ dIn: 512, dSae: 4096 });
    expect(c.activation).toBe('batchtopk');
    expect(c.k).toBe(32);
    expect(c.prefixes).toEqual([4096]);
    expect(c.prefixWeights).toEqual([1]);
    expect(c.auxK).toBe(256);
    expect(c.auxAlpha).toBeCloseTo(1 / 32);
    expect(c.lr).toBeCloseTo(2e-4 / Math.sqrt(4096 / 16384));
    expect(c.batchSize).toBe(4096);
  });

  it('gives equal prefix weights 1/K by default', () => {
    const c = saeConfig({ dIn: 8, dSae: 64, k: 4, prefixes: [8, 16, 64] });
    expect(c.prefixWeights).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('builds the paper groups with matryoshkaPrefixes', () => {
    expect(matryoshkaPrefixes(4096)).toEqual([128, 384, 896, 1920, 4096]);
    expect(matryoshkaPrefixes(20, [0.15, 0.4])).toEqual([3, 11, 20]);
  });

  it('rejects bad configs with errors naming the field', () => {
    const bad: [object, RegExp][] = [
      [{ dIn: 8, dSae: 16, k: 17 }, /k must be at most dSae = 16/],
      [{ dIn: 8, dSae: 16, prefixes: [8, 4, 16] }, /prefixes must be strictly increasing/],
      [{ dIn: 8, dSae: 16, prefixes: [4, 8] }, /prefixes must be sizes ending at dSae = 16/],
      [{ dIn: 8, dSae: 16, prefixes: [0, 16] }, /prefixes\[0\]/],
      [{ dIn: 8, dSae: 16, prefixes: [8, 16], prefixWeights: [1] }, /prefixWeights/],
      [{ dIn: 8, dSae: 16, activation: 'topk', k: 2.5 }, /integer for activation "topk"/],
      [{ dIn: 8, dSae: 16, activation: 'jumprelu' }, /activation/],
      [{ dIn: 0, dSae: 16 }, /dIn/],
      [{ dIn: 8, dSae: 16, lr: Number.NaN }, /lr/],
      [{ dIn: 8, dSae: 16, kk: 3 }, /kk/],
      [{ dIn: 8, dSae: 16, k: 0.001, batchSize: 10 }, /k·batchSize ≥ 1/],
    ];
    for (const [cfg, msg] of bad) {
      expect(() => saeConfig(cfg as never)).toThrow(NestlabArgumentError);
      expect(() => saeConfig(cfg as never)).toThrow(msg);
    }
  });

  it('hashes the config stably and sensitively', () => {
    const a = saeConfig({ dIn: 8, dSae: 16, k: 2 });
    expect(configHash(a)).toBe(configHash(saeConfig({ dIn: 8, dSae: 16, k: 2 })));
    expect(configHash(a)).not.toBe(configHash(saeConfig({ dIn: 8, dSae: 16, k: 3 })));
    expect(configHash(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('round-trips through the SAELens-style cfg JSON', () => {
    const a = saeConfig({ dIn: 8, dSae: 16, k: 2, prefixes: [4, 16] });
    const j = toSaeLensCfg(a);
    expect(j.d_in).toBe(8);
    expect(j.d_sae).toBe(16);
    expect(j.matryoshka_widths).toEqual([4, 16]);
    expect(j.architecture).toBe('matryoshka_batchtopk');
    expect(fromSaeLensCfg(JSON.parse(JSON.stringify(j)))).toEqual(a);
    expect(fromSaeLensCfg({ d_in: 8, d_sae: 16, architecture: 'topk', k: 4 }).activation).toBe('topk');
  });
});
