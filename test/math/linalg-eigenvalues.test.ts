import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { matmul, symmetricEigen, symmetricEigenvalues, transpose } from '../../src/math/linalg.js';

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  return a;
}

describe('symmetricEigenvalues (Householder without vectors + QL, Float64)', () => {
  it('finds 3 and 1 for [[2, 1], [1, 2]], and handles n = 0, 1 and a zero matrix', () => {
    expect(Array.from(symmetricEigenvalues([2, 1, 1, 2], 2))).toEqual([3, 1]);
    expect(symmetricEigenvalues([], 0).length).toBe(0);
    expect(Array.from(symmetricEigenvalues([-4], 1))).toEqual([-4]);
    expect(Array.from(symmetricEigenvalues(new Float64Array(9), 3))).toEqual([0, 0, 0]);
  });

  it('recovers a prescribed spectrum Q diag(λ) Qᵀ, repeated and negative values included', () => {
    const n = 40;
    const lambda = Array.from({ length: n }, (_, i) => (i < 5 ? 1 : i < 8 ? -2 : Math.cos(i)));
    // Q from the eigenvectors of a random symmetric matrix.
    const q = symmetricEigen(randomSymmetric(n, 5), n).vectors;
    const ql = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) ql[i * n + k] = q[i * n + k] * lambda[k];
    const a = matmul(ql, transpose(q, n, n), n, n, n);
    const got = symmetricEigenvalues(a, n);
    const want = lambda.slice().sort((u, v) => v - u);
    for (let k = 0; k < n; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-12);
  });

  it('equals symmetricEigen’s values on random matrices, reading the lower triangle only', () => {
    for (const n of [3, 17, 120]) {
      const a = randomSymmetric(n, n);
      const want = symmetricEigen(a, n).values;
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) a[i * n + j] = 99; // upper triangle ignored
      const got = symmetricEigenvalues(a, n);
      for (let k = 0; k < n; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-11);
      let trace = 0;
      for (let i = 0; i < n; i++) trace += a[i * n + i];
      expect(got.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 10);
    }
  });

  it('rejects a buffer of the wrong size, naming its caller', () => {
    expect(() => symmetricEigenvalues([1, 2, 3], 2, 'similarity.diffusionSpectralEntropy')).toThrow(NestlabArgumentError);
    expect(() => symmetricEigenvalues([1, 2, 3], 2, 'similarity.diffusionSpectralEntropy')).toThrow(/^similarity\.diffusionSpectralEntropy: a/);
  });
});
