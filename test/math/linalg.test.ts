import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { cholesky, matmul, smallSvd, solveUpperTransposed, symmetricEigen, topSymmetricEigen, transpose } from '../../src/math/linalg.js';

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('symmetricEigen (Householder + implicit QL, Float64)', () => {
  it('diagonalises [[2, 1], [1, 2]] into eigenvalues 3 and 1', () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 14); // (1, 1)/sqrt 2
  });

  it('reconstructs random symmetric matrices, A V = V diag(lambda), with orthonormal V', () => {
    for (const n of [1, 3, 17, 60]) {
      const a = randomSymmetric(n, n);
      const { values, vectors } = symmetricEigen(a, n);
      for (let k = 1; k < n; k++) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
      const av = matmul(a, vectors, n, n, n);
      const vl = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) vl[i * n + k] = vectors[i * n + k] * values[k];
      expect(maxAbsDiff(av, vl)).toBeLessThan(1e-11);
      const vtv = matmul(transpose(vectors, n, n), vectors, n, n, n);
      const eye = new Float64Array(n * n);
      for (let i = 0; i < n; i++) eye[i * n + i] = 1;
      expect(maxAbsDiff(vtv, eye)).toBeLessThan(1e-12);
    }
  });

  it('handles repeated eigenvalues (the identity) and rank deficiency (u u^T)', () => {
    const eye = new Float64Array(16);
    for (let i = 0; i < 4; i++) eye[i * 4 + i] = 1;
    expect(Array.from(symmetricEigen(eye, 4).values)).toEqual([1, 1, 1, 1]);
    const u = [1, 2, 3];
    const uu = u.flatMap((a) => u.map((b) => a * b));
    const vals = symmetricEigen(uu, 3).values;
    expect(vals[0]).toBeCloseTo(14, 12);
    expect(Math.abs(vals[1])).toBeLessThan(1e-13);
    expect(Math.abs(vals[2])).toBeLessThan(1e-13);
  });
});

describe('smallSvd', () => {
  it('reconstructs tall, wide and rank-deficient matrices with orthonormal factors', () => {
    const rng = new Rng(3);
    for (const [r, c, rank] of [[7, 4, 4], [4, 7, 4], [6, 6, 2]]) {
      // M = A B with A r x rank, B rank x c
      const a = Float64Array.from({ length: r * rank }, () => rng.normal());
      const b = Float64Array.from({ length: rank * c }, () => rng.normal());
      const m = matmul(a, b, r, rank, c);
      const { s, u, v, rank: got } = smallSvd(m, r, c);
      expect(got).toBe(rank);
      const k = Math.min(r, c);
      const us = new Float64Array(r * k);
      for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) us[i * k + j] = u[i * k + j] * s[j];
      expect(maxAbsDiff(matmul(us, transpose(v, c, k), r, k, c), m)).toBeLessThan(1e-10);
      const utu = matmul(transpose(u, r, k), u, k, r, k);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) expect(utu[i * k + j]).toBeCloseTo(i === j ? 1 : 0, 10);
    }
  });

  it('gives the singular values of diag(3, -2) as 3, 2', () => {
    expect(Array.from(smallSvd([3, 0, 0, -2], 2, 2).s)).toEqual([3, 2]);
  });
});

describe('cholesky', () => {
  it('factors an SPD matrix and solves R^T x = b', () => {
    const a = [4, 2, 2, 3];
    const r = cholesky(a, 2);
    expect(Array.from(r)).toEqual([2, 1, 0, Math.SQRT2]);
    const x = solveUpperTransposed(r, 2, [2, 1 + Math.SQRT2], 1); // R^T x = b
    expect(x[0]).toBeCloseTo(1, 14);
    expect(x[1]).toBeCloseTo(1, 14);
    expect(() => cholesky([1, 2, 2, 1], 2)).toThrow(/positive definite/);
  });
});

describe('topSymmetricEigen: the k largest eigenpairs without the full decomposition', () => {
  it('matches the full solver on a 600 x 600 matrix with six spikes above the noise (Lanczos path)', () => {
    const n = 600;
    const k = 6;
    // Wigner noise (spectrum in about [-1, 1]) plus six rank-one spikes of strength 3..8.
    const sym = randomSymmetric(n, 3).map((v) => v / (2 * Math.sqrt(n)));
    const rng = new Rng(4);
    for (let c = 0; c < k; c++) {
      const u = rng.normalArray(n);
      const norm = Math.hypot(...u);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] += ((3 + c) * u[i] * u[j]) / (norm * norm);
    }
    const full = symmetricEigen(sym, n);
    const top = topSymmetricEigen(sym, n, k);
    for (let c = 0; c < k; c++) {
      expect(top.values[c]).toBeCloseTo(full.values[c], 8);
      let dot = 0;
      for (let i = 0; i < n; i++) dot += top.vectors[i * k + c] * full.vectors[i * n + c];
      expect(Math.abs(dot)).toBeCloseTo(1, 6); // the same eigenvector up to sign
    }
  });

  it("gives the full solver's leading columns for a small matrix", () => {
    const a = Float64Array.from([4, 1, 0, 1, 3, 1, 0, 1, 2]);
    const top = topSymmetricEigen(a, 3, 2);
    const full = symmetricEigen(a, 3);
    expect(Array.from(top.values)).toEqual(Array.from(full.values.slice(0, 2)));
    expect(top.vectors[0 * 2 + 1]).toBe(full.vectors[0 * 3 + 1]);
  });

  it('finds a repeated top eigenvalue once per eigenspace: four disconnected blocks of a 400-item graph', () => {
    const n = 400;
    const rng = new Rng(9);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (Math.floor(i / 100) === Math.floor(j / 100)) a[i * n + j] = a[j * n + i] = 0.5 + rng.uniform();
    // D^{-1/2} A D^{-1/2} has eigenvalue 1 once per component.
    const deg = Array.from({ length: n }, (_, i) => a.subarray(i * n, (i + 1) * n).reduce((s, v) => s + v, 0));
    const l = a.map((v, t) => v / Math.sqrt(deg[Math.floor(t / n)] * deg[t % n]));
    const top = topSymmetricEigen(l, n, 5);
    for (let c = 0; c < 4; c++) expect(top.values[c]).toBeCloseTo(1, 8);
    expect(top.values[4]).toBeLessThan(0.9);
    const full = symmetricEigen(l, n);
    for (let c = 0; c < 5; c++) expect(top.values[c]).toBeCloseTo(full.values[c], 8);
  });
});
