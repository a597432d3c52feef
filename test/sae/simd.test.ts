import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { simdKernels, simdModuleBytes } from '../../src/sae/simd.js';

describe('WebAssembly SIMD kernels', () => {
  it('assemble to a module that compiles on Node 20 (WebAssembly SIMD is standard there)', () => {
    expect(Array.from(simdModuleBytes().subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d]);
    expect(simdKernels()).not.toBeNull();
  });

  const k = simdKernels();
  it.skipIf(k === null)('axpy and dotAxpy match plain loops', () => {
    const n = 36;
    const rng = new Rng(4);
    const H = k!.ensure(4 * 4 * n);
    const x = rng.normalArray(n);
    const y = rng.normalArray(n);
    const w = rng.normalArray(n);
    const g = rng.normalArray(n);
    H.set(x, 0);
    H.set(y, n);
    H.set(w, 2 * n);
    H.set(g, 3 * n);
    k!.axpy(n, 0.75, 0, 4 * n);
    for (let i = 0; i < n; i++) expect(H[n + i]).toBeCloseTo(y[i] + 0.75 * x[i], 6);
    const dot = k!.dotAxpy(n, -1.5, 0, 8 * n, 12 * n);
    let want = 0;
    for (let i = 0; i < n; i++) {
      want += w[i] * x[i];
      expect(H[3 * n + i]).toBeCloseTo(g[i] - 1.5 * x[i], 6);
    }
    expect(dot).toBeCloseTo(want, 4);
  });

  it.skipIf(k === null)('groupMax32 gives the maximum of each run of 32 floats', () => {
    const groups = 9;
    const src = new Rng(5).normalArray(32 * groups);
    src[40] = 50; // the maximum at different lanes and vectors
    src[32 * 8 + 31] = 70;
    const H = k!.ensure(4 * 33 * groups);
    H.set(src, 0);
    k!.groupMax32(0, groups, 4 * 32 * groups);
    for (let g = 0; g < groups; g++) expect(H[32 * groups + g]).toBe(Math.max(...src.subarray(32 * g, 32 * g + 32)));
  });

  it.skipIf(k === null)('grow the memory on demand', () => {
    const before = k!.memory.buffer.byteLength;
    const view = k!.ensure(before + 70000);
    expect(view.length * 4).toBeGreaterThanOrEqual(before + 70000);
  });
});
