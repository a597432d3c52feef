import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/backend/tf.js';
import { selectBackend } from '../../src/backend/select.js';
import { loadBlas } from '../../src/backend/blas.js';
import { Rng } from '../../src/backend/rng.js';
import { convRunsModuleBytes, jsRuns, tuneConv, useBlasForWasmConv, wasmConvKernel } from '../../src/backend/wasm-conv.js';

const blas = loadBlas();
const haveBlas = blas !== null;
const DEFAULTS = tuneConv({});

/** A convolution case: input [n, h, w, cin], filter [k, k, cin, cout], stride, tfjs padding. */
interface Case {
  name: string;
  n: number; h: number; w: number; cin: number; k: number; cout: number;
  stride: number;
  pad: 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
}

const CASES: Case[] = [
  { name: '3x3 same stride 1, batch 2', n: 2, h: 9, w: 7, cin: 5, k: 3, cout: 6, stride: 1, pad: 'same' },
  { name: '3x3 same stride 1, batch 1, cin 1', n: 1, h: 8, w: 8, cin: 1, k: 3, cout: 4, stride: 1, pad: 'same' },
  { name: '3x3 same stride 2 (even side: pad bottom/right only)', n: 3, h: 8, w: 10, cin: 4, k: 3, cout: 5, stride: 2, pad: 'same' },
  { name: '3x3 same stride 2 (odd side: pad 1 each side)', n: 2, h: 7, w: 9, cin: 3, k: 3, cout: 2, stride: 2, pad: 'same' },
  { name: '3x3 valid stride 1', n: 2, h: 8, w: 6, cin: 3, k: 3, cout: 4, stride: 1, pad: 'valid' },
  { name: '3x3 valid stride 2, batch 1', n: 1, h: 9, w: 8, cin: 2, k: 3, cout: 3, stride: 2, pad: 'valid' },
  { name: '1x1 stride 1, batch 4', n: 4, h: 5, w: 6, cin: 7, k: 1, cout: 3, stride: 1, pad: 'same' },
  { name: '1x1 stride 2', n: 2, h: 6, w: 5, cin: 3, k: 1, cout: 4, stride: 2, pad: 'valid' },
  { name: '5x5 same, cin 1', n: 2, h: 11, w: 10, cin: 1, k: 5, cout: 3, stride: 1, pad: 'same' },
  { name: '3x3 explicit padding [2, 0] x [0, 1]', n: 2, h: 6, w: 7, cin: 2, k: 3, cout: 3, stride: 1, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
];

/** The padding tfjs uses (TensorFlow's 'same': total max((out-1)s + k - in, 0), the extra at the bottom/right). */
function padsOf(c: Case): [number, number, number, number] {
  if (c.pad === 'valid') return [0, 0, 0, 0];
  if (Array.isArray(c.pad)) return [c.pad[1][0], c.pad[1][1], c.pad[2][0], c.pad[2][1]];
  const side = (size: number): [number, number] => {
    const out = Math.ceil(size / c.stride);
    const total = Math.max((out - 1) * c.stride + c.k - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [...side(c.h), ...side(c.w)];
}

function outSide(size: number, lo: number, hi: number, k: number, s: number): number {
  return Math.floor((size + lo + hi - k) / s) + 1;
}

interface Data { x: Float32Array; W: Float32Array; dy: Float32Array; oh: number; ow: number }

function dataOf(c: Case, seed: number): Data {
  const rng = new Rng(seed);
  const [pt, pb, pl, pr] = padsOf(c);
  const oh = outSide(c.h, pt, pb, c.k, c.stride);
  const ow = outSide(c.w, pl, pr, c.k, c.stride);
  return {
    x: Float32Array.from(rng.normalArray(c.n * c.h * c.w * c.cin)),
    W: Float32Array.from(rng.normalArray(c.k * c.k * c.cin * c.cout)),
    dy: Float32Array.from(rng.normalArray(c.n * oh * ow * c.cout)),
    oh,
    ow,
  };
}

/** y = conv2d(x, W), dx, dW (of sum(y * dy)) on the current tfjs backend. */
function ours(c: Case, d: Data): { y: Float32Array; dx: Float32Array; dW: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(d.x, [c.n, c.h, c.w, c.cin]);
    const W = tf.tensor4d(d.W, [c.k, c.k, c.cin, c.cout]);
    const dy = tf.tensor4d(d.dy, [c.n, d.oh, d.ow, c.cout]);
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, c.stride, c.pad);
    const y = conv(x, W);
    expect(y.shape).toEqual([c.n, d.oh, d.ow, c.cout]);
    const [dx, dW] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), dy)))([x, W]);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dW: dW.dataSync() as Float32Array };
  });
}

/** max |a - b| / max |b|: the error relative to the reference's scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 1e-12;
  let d = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    d = Math.max(d, Math.abs(a[i] - b[i]));
  }
  return d / scale;
}

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.warn(`test/backend/wasm-conv.test.ts: skipping the PyTorch cross-check: ${PY} cannot import torch (set NESTLAB_PEER_PYTHON)`);

// PyTorch in float64: x NHWC -> NCHW, filter HWIO -> OIHW, the padding given explicitly
// (F.pad), conv2d, then autograd of sum(y * dy) for dx and dW, all back in tfjs' layouts.
const TORCH_REFERENCE = `
import json, sys, numpy as np, torch, torch.nn.functional as F
d = sys.argv[1]
out = {}
for c in json.load(open(d + '/cases.json')):
    i = c['i']
    x = torch.from_numpy(np.fromfile(f'{d}/x{i}.bin', dtype=np.float32).astype(np.float64).reshape(c['n'], c['h'], c['w'], c['cin'])).permute(0, 3, 1, 2).contiguous().requires_grad_()
    W = torch.from_numpy(np.fromfile(f'{d}/W{i}.bin', dtype=np.float32).astype(np.float64).reshape(c['k'], c['k'], c['cin'], c['cout'])).permute(3, 2, 0, 1).contiguous().requires_grad_()
    dy = torch.from_numpy(np.fromfile(f'{d}/dy{i}.bin', dtype=np.float32).astype(np.float64).reshape(c['n'], c['oh'], c['ow'], c['cout'])).permute(0, 3, 1, 2)
    pt, pb, pl, pr = c['pads']
    y = F.conv2d(F.pad(x, (pl, pr, pt, pb)), W, stride=c['stride'])
    (y * dy).sum().backward()
    out[str(i)] = {
        'y': y.detach().permute(0, 2, 3, 1).reshape(-1).tolist(),
        'dx': x.grad.permute(0, 2, 3, 1).reshape(-1).tolist(),
        'dW': W.grad.permute(2, 3, 1, 0).reshape(-1).tolist(),
    }
json.dump(out, open(d + '/out.json', 'w'))
`;

describe('wasm convolutions on the system BLAS', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });
  afterAll(() => {
    tuneConv(DEFAULTS);
    useBlasForWasmConv(blas); // leave the backend as selectBackend set it
  });

  it('registers the kernels with the BLAS, and restores XNNPACK (keeping a filter gradient) without it', () => {
    expect(wasmConvKernel()).toBe(haveBlas ? 'blas' : 'xnnpack');
    useBlasForWasmConv(null);
    expect(wasmConvKernel()).toBe('xnnpack');
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeDefined();
    useBlasForWasmConv(blas);
    expect(wasmConvKernel()).toBe(haveBlas ? 'blas' : 'xnnpack');
  });

  it.runIf(hasTorch)('matches PyTorch (float64) for y, dx and dW within 1e-4 of each one\'s scale, with and without the BLAS, under every strategy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-conv-'));
    try {
      const data = CASES.map((c, i) => dataOf(c, 100 + i));
      const manifest = CASES.map((c, i) => ({ i, n: c.n, h: c.h, w: c.w, cin: c.cin, k: c.k, cout: c.cout, stride: c.stride, pads: padsOf(c), oh: data[i].oh, ow: data[i].ow }));
      data.forEach((d, i) => {
        for (const key of ['x', 'W', 'dy'] as const) writeFileSync(join(dir, `${key}${i}.bin`), Buffer.from(d[key].buffer));
      });
      writeFileSync(join(dir, 'cases.json'), JSON.stringify(manifest));
      const res = spawnSync(PY, ['-c', TORCH_REFERENCE, dir], { encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
      const ref = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Record<string, { y: number[]; dx: number[]; dW: number[] }>;
      // Every method (shifted windows, im2col, col2im, the flipped-filter dx), whole batches and
      // one image per chunk, with the BLAS and with the JavaScript filter gradient.
      const settings: [string, typeof blas, 'auto' | 'im2col' | 'shifted', number][] = [];
      for (const strategy of ['auto', 'im2col', 'shifted'] as const) {
        for (const scratchFloats of [DEFAULTS.scratchFloats, 1]) {
          if (haveBlas) settings.push([`blas, ${strategy}, scratch ${scratchFloats}`, blas, strategy, scratchFloats]);
          settings.push([`xnnpack + JS filter gradient, ${strategy}, scratch ${scratchFloats}`, null, strategy, scratchFloats]);
        }
      }
      let worst = 0;
      for (const [label, lib, strategy, scratchFloats] of settings) {
        useBlasForWasmConv(lib);
        tuneConv({ strategy, scratchFloats });
        CASES.forEach((c, i) => {
          const got = ours(c, data[i]);
          for (const key of ['y', 'dx', 'dW'] as const) {
            const e = relErr(got[key], ref[String(i)][key]);
            worst = Math.max(worst, e);
            expect(e, `${label}: ${c.name}: ${key}`).toBeLessThan(1e-4);
          }
        });
      }
      expect(worst).toBeLessThan(1e-4); // measured 3.1e-7 (docs/methods/conv.md §4)
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tuneConv(DEFAULTS);
      useBlasForWasmConv(blas);
    }
  }, 60_000);

  it('gives tf.grad through tf.conv2d and tf.fused.conv2d (bias, relu) the cpu backend\'s values', async () => {
    const c: Case = { name: 'model-like', n: 3, h: 12, w: 12, cin: 4, k: 3, cout: 8, stride: 1, pad: 'same' };
    const rng = new Rng(7);
    const bias = Float32Array.from(rng.normalArray(c.cout));
    const run = () =>
      tf.tidy(() => {
        const d = dataOf(c, 8);
        const x = tf.tensor4d(d.x, [c.n, c.h, c.w, c.cin]);
        const W = tf.tensor4d(d.W, [c.k, c.k, c.cin, c.cout]);
        const b = tf.tensor1d(bias);
        const out: Float32Array[] = [];
        for (const [stride, pad] of [[1, 'same'], [2, 'same'], [1, 'valid']] as const) {
          const fused = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: stride, pad, bias: bb, activation: 'relu' });
          out.push(fused(x, W, b).dataSync() as Float32Array); // forward: FusedConv2D with bias and relu
          const loss = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(fused(xx, ww, bb)));
          for (const g of tf.grads(loss)([x, W, b])) out.push(g.dataSync() as Float32Array);
          const [gx] = tf.grads((xx: tf.Tensor) => tf.sum(tf.sin(tf.conv2d(xx as tf.Tensor4D, W, stride, pad))))([x]);
          out.push(gx.dataSync() as Float32Array);
        }
        return out;
      });
    const wasm = run();
    await tf.setBackend('cpu');
    let cpu: Float32Array[];
    try {
      cpu = run();
    } finally {
      await tf.setBackend('wasm');
    }
    expect(wasm.length).toBe(cpu.length);
    wasm.forEach((v, i) => expect(relErr(v, cpu[i]), `output ${i}`).toBeLessThan(1e-4));
  });

  it('copies, zero-fills and adds two-level blocks of runs and clamps at zero, in WebAssembly and in the JavaScript fallback, as plain loops do', () => {
    const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean; Memory: new (d: { initial: number }) => { buffer: ArrayBuffer }; Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, (...a: number[]) => void> } } }).WebAssembly;
    const bytes = convRunsModuleBytes();
    expect(WA.validate(bytes)).toBe(true);
    const mem = new WA.Memory({ initial: 1 });
    const k = new WA.Instance(new WA.Module(bytes), { env: { mem } }).exports;
    const f = new Float32Array(mem.buffer);
    const rng = new Rng(3);
    const [src, dst, span] = [8000, 100, 4000];
    // [len, c1, ds1, ss1, c2, ds2, ss2]: short runs (inline f32x4 + scalar), long runs (memory.copy / fill), overlapping adds
    const cases = [[7, 2, 60, 70, 5, 9, 11], [16, 3, 100, 90, 3, 16, 20], [3, 1, 0, 0, 6, 1, 3], [1, 2, 7, 5, 4, 2, 1], [100, 2, 600, 500, 4, 130, 101]];
    for (const [len, c1, ds1, ss1, c2, ds2, ss2] of cases) {
      const at = (r1: number, r2: number) => [r1 * ds1 + r2 * ds2, r1 * ss1 + r2 * ss2];
      f.set(rng.normalArray(span), src);
      f.set(rng.normalArray(span), dst);
      const want = f.slice(dst, dst + span);
      for (let r1 = 0; r1 < c1; r1++) for (let r2 = 0; r2 < c2; r2++) for (let t = 0; t < len; t++) want[at(r1, r2)[0] + t] += f[src + at(r1, r2)[1] + t];
      const js = f.slice(dst, dst + span);
      jsRuns.add(js, 0, f, src, c1, ds1, ss1, c2, ds2, ss2, len); // the JavaScript fallback too
      k.add2(4 * dst, 4 * src, c1, 4 * ds1, 4 * ss1, c2, 4 * ds2, 4 * ss2, 4 * len);
      expect(relErr(f.slice(dst, dst + span), want)).toBeLessThan(1e-7);
      expect(relErr(js, want)).toBeLessThan(1e-7);
      for (let r1 = 0; r1 < c1; r1++) for (let r2 = 0; r2 < c2; r2++) for (let t = 0; t < len; t++) want[at(r1, r2)[0] + t] = f[src + at(r1, r2)[1] + t];
      jsRuns.copy(js, 0, f, src, c1, ds1, ss1, c2, ds2, ss2, len);
      k.copy2(4 * dst, 4 * src, c1, 4 * ds1, 4 * ss1, c2, 4 * ds2, 4 * ss2, 4 * len);
      expect(Array.from(f.slice(dst, dst + span))).toEqual(Array.from(want));
      expect(Array.from(js)).toEqual(Array.from(want));
      for (let r1 = 0; r1 < c1; r1++) for (let r2 = 0; r2 < c2; r2++) for (let t = 0; t < len; t++) want[at(r1, r2)[0] + t] = 0;
      jsRuns.fill(js, 0, c1, ds1, c2, ds2, len);
      k.fill2(4 * dst, c1, 4 * ds1, c2, 4 * ds2, 4 * len);
      expect(Array.from(f.slice(dst, dst + span))).toEqual(Array.from(want));
      expect(Array.from(js)).toEqual(Array.from(want));
      const n = c2 * len;
      for (let t = 0; t < n; t++) want[t] = Math.max(0, f[src + t]);
      f.copyWithin(dst, src, src + n);
      js.set(f.subarray(dst, dst + span));
      jsRuns.relu(js, 0, n);
      k.relu(4 * dst, 4 * n);
      expect(Array.from(f.slice(dst, dst + span))).toEqual(Array.from(want));
      expect(Array.from(js)).toEqual(Array.from(want));
    }
  });

  it('keeps XNNPACK for what the fast path does not take (dilation, other activations) and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const [a, b] = [0, 1].map((useFast) =>
      tf.tidy(() => {
        useBlasForWasmConv(useFast ? blas : null);
        const x = tf.tensor4d(new Rng(1).normalArray(2 * 9 * 9 * 3), [2, 9, 9, 3]);
        const W = tf.tensor4d(new Rng(2).normalArray(3 * 3 * 3 * 2), [3, 3, 3, 2]);
        const dilated = tf.conv2d(x, W, 1, 'same', 'NHWC', 2);
        const elu = tf.fused.conv2d({ x, filter: W, strides: 1, pad: 'same', activation: 'elu' });
        return [...dilated.dataSync(), ...elu.dataSync()];
      }),
    );
    useBlasForWasmConv(blas);
    expect(relErr(b, a)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });
});
