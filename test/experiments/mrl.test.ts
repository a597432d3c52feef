import { describe, it, expect } from 'vitest';
import { mrlVerdict, summarize } from '../../src/experiments/mrl-accuracy.js';

describe('mrl-accuracy verdict', () => {
  it('averages seeds per method and size', () => {
    const rows = [
      { method: 'MRL', size: 2, seed: 0, accuracy: 0.5 },
      { method: 'MRL', size: 2, seed: 1, accuracy: 0.7 },
      { method: 'FF', size: 2, seed: 0, accuracy: 0.4 },
    ];
    expect(summarize(rows)).toEqual({ MRL: { 2: 0.6 }, FF: { 2: 0.4 } });
  });

  it('says reproduced when MRL matches FF and beats PCA/random at the smallest size', () => {
    const v = mrlVerdict({ MRL: { 2: 0.6, 8: 0.95 }, FF: { 2: 0.605, 8: 0.95 }, 'PCA of FF': { 2: 0.3 }, 'random FF units': { 2: 0.2 } });
    expect(v[1]).toMatch(/^Claim 1 reproduced/);
    expect(v[2]).toBe('Claim 2 reproduced: at m=2, MRL beats PCA of FF by 30.0 pt and random FF units by 40.0 pt.');
  });

  it('says not reproduced, with the gap, when MRL trails FF', () => {
    const v = mrlVerdict({ MRL: { 2: 0.5, 8: 0.95 }, FF: { 2: 0.6, 8: 0.95 }, 'PCA of FF': { 2: 0.55 }, 'random FF units': { 2: 0.2 } });
    expect(v[1]).toBe('Claim 1 not reproduced at this scale: MRL trails FF by up to 10.0 pt.');
    expect(v[2]).toMatch(/^Claim 2 not reproduced at m=2: MRL - PCA = -5.0 pt/);
  });
});
