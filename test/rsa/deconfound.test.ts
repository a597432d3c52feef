import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { compareRdms, deconfoundRdm, deconfoundedRsa, rdm } from '../../src/api/rsa.js';

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** Condensed RDM values of 12 stimuli (66 pairs): `base` plus noise of sd `noise`. */
function noisy(base: ArrayLike<number>, noise: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from(base, (v) => v + noise * rng.normal());
}

const input = noisy(new Float64Array(66).fill(5), 1, 1);

describe('rsa.deconfoundRdm', () => {
  it('leaves residuals with mean 0, uncorrelated with the confound, and says what it removed', () => {
    const r = deconfoundRdm(rdm(noisy(input.map((v) => 2 * v), 0.5, 2), { measure: 'euclidean' }), rdm(input, { measure: 'pixels' }));
    expect(r.measure).toBe('euclidean deconfounded by pixels');
    expect(r.n).toBe(12);
    const mean = r.values.reduce((s, v) => s + v, 0) / 66;
    expect(Math.abs(mean)).toBeLessThan(1e-12);
    expect(Math.abs(compareRdms(r, input, { method: 'corr' }))).toBeLessThan(1e-12);
  });

  it('keeps NaN pairs as NaN and skips them in the fit', () => {
    const d = noisy(input, 0.5, 3);
    d[4] = NaN;
    const r = deconfoundRdm(d, input);
    expect(Number.isNaN(r.values[4])).toBe(true);
    expect(r.values.filter((v) => !Number.isNaN(v)).length).toBe(65);
  });

  it('refuses an RDM that is an affine function of the confound, a constant confound, and a size mismatch', () => {
    expect(() => deconfoundRdm(input.map((v) => 3 * v + 2), input)).toThrow(/rsa\.deconfoundRdm: rdm must be an RDM that is not an affine function of confound/);
    expect(() => deconfoundRdm(input, new Float64Array(66).fill(1))).toThrow(/confound must be dissimilarities that vary/);
    expect(() => deconfoundRdm(input, new Float64Array(45))).toThrow(/rdm must be an RDM of the same size as confound \(length 45\)/);
  });
});

describe('rsa.deconfoundedRsa', () => {
  it('is the partial correlation of the two RDMs given the confound', () => {
    const x = noisy(input, 1, 4);
    const y = noisy(x, 1, 5);
    const rxy = compareRdms(x, y, { method: 'corr' });
    const rx0 = compareRdms(x, input, { method: 'corr' });
    const ry0 = compareRdms(y, input, { method: 'corr' });
    expect(deconfoundedRsa(x, y, input)).toBeCloseTo((rxy - rx0 * ry0) / Math.sqrt((1 - rx0 ** 2) * (1 - ry0 ** 2)), 12);
  });

  it('drops to near 0 for two RDMs that share only the confound, and passes the comparator on', () => {
    const x = noisy(input, 0.3, 6);
    const y = noisy(input, 0.3, 7);
    expect(compareRdms(x, y, { method: 'corr' })).toBeGreaterThan(0.8);
    expect(Math.abs(deconfoundedRsa(x, y, input))).toBeLessThan(0.35);
    const spearman = deconfoundedRsa(x, y, input, { method: 'spearman' });
    expect(spearman).toBeCloseTo(compareRdms(deconfoundRdm(x, input), deconfoundRdm(y, input), { method: 'spearman' }), 12);
  });
});

describe.skipIf(!hasNumpy)('rsa.deconfoundRdm against numpy least squares (1e-10)', () => {
  it('gives the residuals of np.linalg.lstsq with an intercept', () => {
    const x = noisy(input.map((v) => v * v), 2, 8);
    const script = `
import json, sys
import numpy as np
inp = json.loads(sys.stdin.read())
d, d0 = np.array(inp['d']), np.array(inp['d0'])
A = np.stack([np.ones_like(d0), d0], 1)
beta = np.linalg.lstsq(A, d, rcond=None)[0]
print(json.dumps((d - A @ beta).tolist()))`;
    const res = spawnSync(PY, ['-c', script], { input: JSON.stringify({ d: Array.from(x), d0: Array.from(input) }), encoding: 'utf8' });
    if (res.status !== 0) throw new Error(res.stderr);
    const peer = JSON.parse(res.stdout) as number[];
    const r = deconfoundRdm(x, input);
    for (let i = 0; i < 66; i++) expect(Math.abs(r.values[i] - peer[i])).toBeLessThan(1e-10);
  });
});
