import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf.js';
import { initBackend, selectBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { heapSoftmaxKernels, softmaxKernels, softmaxModuleBytes, type SoftmaxKernels } from '../../src/backend/simd-softmax.js';
import type { WasmMemory } from '../../src/backend/wasm-asm.js';

// The three kernels of a row softmax, run on a memory of our own (so the tests control every
// byte) and then on the tfjs wasm backend's heap, where the LM's cross-entropy uses them.
// Pointers are byte offsets; rows are multiples of 4 floats (the kernels' contract).

const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean; Memory: new (d: { initial: number }) => WasmMemory } }).WebAssembly;

/** Kernels bound to a fresh 1-page (64 KiB) memory and a float view of it. */
function fresh(): { k: SoftmaxKernels; heap: Float32Array } {
  const memory = new WA.Memory({ initial: 1 });
  const k = softmaxKernels(memory);
  expect(k).not.toBeNull();
  return { k: k!, heap: new Float32Array(memory.buffer) };
}

const f = Math.fround;

describe('the softmax kernels module', () => {
  it('is a valid WebAssembly module exporting rowMax, expSum and scaleAccumulate', () => {
    const bytes = softmaxModuleBytes();
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expect(WA.validate(bytes)).toBe(true);
    const { k } = fresh();
    expect(typeof k.rowMax).toBe('function');
    expect(typeof k.expSum).toBe('function');
    expect(typeof k.scaleAccumulate).toBe('function');
  });

  it('binds once per memory', () => {
    const memory = new WA.Memory({ initial: 1 });
    expect(softmaxKernels(memory)).toBe(softmaxKernels(memory));
    expect(softmaxKernels(new WA.Memory({ initial: 1 }))).not.toBe(softmaxKernels(memory));
  });
});

describe('expSum: x ← exp(x − shift), returns Σ', () => {
  it('matches Math.exp of the float32 difference to 2e-7 relative over [−80, 0], and sums the row', () => {
    const { k, heap } = fresh();
    const rng = new Rng(1);
    for (const shift of [0, 3.7, -12.25]) {
      // 4096 inputs: an even grid over shift + [−80, 0] (both ends included) and random ones.
      const n = 4096;
      const x = new Float32Array(n);
      for (let i = 0; i < n / 2; i++) x[i] = shift - (80 * i) / (n / 2 - 1);
      for (let i = n / 2; i < n; i++) x[i] = shift - 80 * rng.uniform();
      const base = 64; // a byte offset that is not 0
      heap.set(x, base / 4);
      const sum = k.expSum(n, shift, base);
      let worst = 0;
      let exact = 0;
      let stored = 0;
      for (let i = 0; i < n; i++) {
        const want = Math.exp(f(x[i] - f(shift)));
        const got = heap[base / 4 + i];
        worst = Math.max(worst, Math.abs(got - want) / want);
        exact += want;
        stored += got;
      }
      // measured: 9.4e-8 (one float32 rounding of the result alone is up to 6e-8)
      expect(worst).toBeLessThan(2e-7);
      expect(worst).toBeGreaterThan(0); // the values were rewritten, not left as x
      // Σ in four float32 lanes: within float32 accumulation error of the float64 sums.
      expect(Math.abs(sum - stored) / stored).toBeLessThan(1e-6);
      expect(Math.abs(sum - exact) / exact).toBeLessThan(1e-6);
      // Row of [-80, 0] on the grid: Σ exp ≈ (n/2)/80 · ∫ e^u du = 2047/80 · (1 − e^−80) + 1/2 (trapezoid end).
      expect(sum).toBeGreaterThan(0.9 * (n / 2 / 80));
    }
  });

  it('gives exp(0) = 1 exactly and leaves the floats after the row untouched', () => {
    const { k, heap } = fresh();
    heap.set([2, 2, 2, 2, 0, -1, -2, -3, 99], 0);
    const sum = k.expSum(8, 2, 0);
    expect(Array.from(heap.subarray(0, 4))).toEqual([1, 1, 1, 1]);
    expect(heap[8]).toBe(99);
    expect(sum).toBeCloseTo(4 + Math.exp(-2) + Math.exp(-3) + Math.exp(-4) + Math.exp(-5), 6);
    expect(k.expSum(0, 0, 0)).toBe(0); // an empty row: nothing read, Σ 0
  });

  it('maps inputs below −87 to tiny non-negative numbers, never NaN or a denormal blow-up', () => {
    const { k, heap } = fresh();
    const x = [-87, -88, -90, -100, -150, -1000, -1e30, -3.4e38, -Infinity, -86.6, -103, -200];
    heap.set(x, 0);
    const sum = k.expSum(x.length, 0, 0);
    for (let i = 0; i < x.length; i++) {
      const e = heap[i];
      expect(Number.isNaN(e)).toBe(false);
      expect(e).toBeGreaterThanOrEqual(0);
      expect(e).toBeLessThan(3e-38); // ≤ 2^−125 ≈ 2.4e-38, the clamp
    }
    expect(Number.isFinite(sum)).toBe(true);
    expect(sum).toBeLessThan(3e-37);
  });

  it('is exact to 2e-7 relative at the top of the normal range too (u in [−86, 0))', () => {
    const { k, heap } = fresh();
    const x = Float32Array.from([-86, -85.5, -70.1, -33.3, -1e-3, -1e-7, -0.5, -0.35]);
    heap.set(x, 0);
    k.expSum(x.length, 0, 0);
    for (let i = 0; i < x.length; i++) expect(Math.abs(heap[i] - Math.exp(x[i])) / Math.exp(x[i])).toBeLessThan(2e-7);
  });
});

describe('rowMax', () => {
  it('finds the max in every lane position of every vector', () => {
    const { k, heap } = fresh();
    const rng = new Rng(2);
    for (const n of [4, 8, 12]) {
      for (let p = 0; p < n; p++) {
        const row = Float32Array.from({ length: n }, () => -5 * rng.uniform());
        row[p] = 0.75; // the only positive entry
        heap.set(row, 16);
        expect(k.rowMax(n, 64)).toBe(0.75);
      }
    }
  });

  it('skips −Infinity entries and returns −Infinity for a row of them', () => {
    const { k, heap } = fresh();
    heap.set([-Infinity, -Infinity, -3, -Infinity, -Infinity, -7.5, -Infinity, -Infinity], 0);
    expect(k.rowMax(8, 0)).toBe(-3);
    heap.set([-Infinity, -Infinity, -Infinity, -Infinity], 0);
    expect(k.rowMax(4, 0)).toBe(-Infinity);
    heap.set([-1e30, -Infinity, 1e-30, -Infinity], 0);
    expect(k.rowMax(4, 0)).toBe(f(1e-30));
  });

  it('reads only its n floats (a larger value right after the row is ignored)', () => {
    const { k, heap } = fresh();
    heap.set([1, 2, 3, 4, 100, 100, 100, 100], 0);
    expect(k.rowMax(4, 0)).toBe(4);
    expect(k.rowMax(4, 16)).toBe(100);
  });
});

describe('scaleAccumulate: x ← s·x, acc += x', () => {
  it('equals the float32 arithmetic of a JS loop exactly', () => {
    const { k, heap } = fresh();
    const rng = new Rng(3);
    const n = 64;
    const x = rng.normalArray(n, 3);
    const acc = rng.normalArray(n);
    const s = f(0.0123456789);
    heap.set(x, 0);
    heap.set(acc, n);
    k.scaleAccumulate(n, s, 0, 4 * n);
    for (let i = 0; i < n; i++) {
      const scaled = f(s * x[i]);
      expect(heap[i]).toBe(scaled);
      expect(heap[n + i]).toBe(f(acc[i] + scaled));
    }
    // A second row accumulates onto the first's sums.
    heap.set(x, 0);
    k.scaleAccumulate(n, 2, 0, 4 * n);
    for (let i = 0; i < n; i++) expect(heap[n + i]).toBe(f(f(acc[i] + f(s * x[i])) + f(2 * x[i])));
  });
});

describe("on the tfjs wasm backend's heap", () => {
  beforeAll(async () => {
    const info = await initBackend();
    if (info.name !== 'wasm') await selectBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('finds the kernels and reads and rewrites a tensor in place at offsetOf(t)', () => {
    const simd = heapSoftmaxKernels();
    expect(simd).not.toBeNull();
    const { kernels, heap, offsetOf } = simd!;
    const values = [0.5, -1, 2, 0, -3, 1.5, 2, -0.25];
    const t = tf.tensor1d(values);
    const other = tf.tensor1d([9, 9, 9, 9]);
    const offset = offsetOf(t);
    expect(offset % 4).toBe(0);
    expect(offsetOf(other)).not.toBe(offset);
    expect(Array.from(heap.subarray(offset / 4, offset / 4 + 8))).toEqual(values);
    expect(kernels.rowMax(8, offset)).toBe(2);
    const sum = kernels.expSum(8, 2, offset);
    const want = values.map((v) => Math.exp(v - 2));
    expect(sum).toBeCloseTo(want.reduce((a, b) => a + b, 0), 5);
    // the tensor itself now holds exp(x − 2): no copy was made
    Array.from(t.dataSync()).forEach((v, i) => expect(Math.abs(v - want[i]) / want[i]).toBeLessThan(2e-7));
    expect(Array.from(other.dataSync())).toEqual([9, 9, 9, 9]);
    t.dispose();
    other.dispose();
  });

  it('is null on the cpu backend (callers keep their JS loops)', async () => {
    await tf.setBackend('cpu');
    try {
      expect(heapSoftmaxKernels()).toBeNull();
    } finally {
      await tf.setBackend('wasm');
    }
    expect(heapSoftmaxKernels()).not.toBeNull();
  });
});
