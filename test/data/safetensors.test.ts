import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/backend/rng.js';
import { readNpy, writeNpy } from '../../src/data/npy.js';
import {
  bf16BitsToFloat32,
  decodeSafetensors,
  encodeSafetensors,
  f16BitsToFloat32,
  float32ToBf16Bits,
  float32ToF16Bits,
  float32ToHalfBits,
  halfBitsToFloat32,
  isFloat32Tensor,
  readSafetensors,
  writeSafetensors,
} from '../../src/data/safetensors.js';

const hasNumpy = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** A file made by hand, byte by byte, as the format's spec describes it. */
function handMade(header: object, data: number[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors files', () => {
  it('reads a hand-made file: an F32 [2] tensor holding 1.0 and -2.0', () => {
    // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0 (little-endian IEEE 754)
    const bytes = handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, __metadata__: { format: 'pt' } }, [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Array.from(tensors.w.data as Float32Array)).toEqual([1, -2]);
    expect(metadata).toEqual({ format: 'pt' });
  });

  it('round-trips several tensors and metadata through a file, written atomically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'sae.safetensors');
    const W_enc = new Float32Array([1, 2, 3, 4, 5, 6]);
    writeSafetensors(
      path,
      { W_enc: { dtype: 'F32', shape: [2, 3], data: W_enc }, steps: { dtype: 'I32', shape: [1], data: new Int32Array([7]) }, b: { dtype: 'F64', shape: [3], data: new Float64Array([0.1, 0.2, 0.3]) } },
      { d_in: '2' },
    );
    expect(readdirSync(dir)).toEqual(['sae.safetensors']); // no temp file left behind
    const back = readSafetensors(path);
    expect(back.tensors.W_enc.shape).toEqual([2, 3]);
    expect(back.tensors.W_enc.data).toEqual(W_enc);
    expect(back.tensors.steps.data).toEqual(new Int32Array([7]));
    expect(back.tensors.b.data).toEqual(new Float64Array([0.1, 0.2, 0.3]));
    expect(back.metadata).toEqual({ d_in: '2' });
  });

  it('rejects truncated and malformed files, naming the problem', () => {
    const good = encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(good.subarray(0, 5))).toThrow(/at least 8 bytes/);
    expect(() => decodeSafetensors(good.subarray(0, 20))).toThrow(/header length within the file/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1))).toThrow(/tensor w must be data within the file/);
    expect(() => decodeSafetensors(handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0)))).toThrow(/12 bytes for F32\[3\], got 8 bytes/);
    expect(() => decodeSafetensors(handMade({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, [0]))).toThrow(/w.dtype must be one of/);
    expect(() => decodeSafetensors(handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, [0, 0, 0, 0]))).toThrow(/data_offsets/);
    const notJson = handMade({}, []);
    notJson[8] = 0x7b + 1;
    expect(() => decodeSafetensors(notJson)).toThrow(/a JSON header/);
  });

  it('refuses to encode data that does not match its shape or dtype', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/3 entries for shape \[3\]/);
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(/a Float32Array for dtype F32/);
  });

  it('reads F16 and BF16 tensors as Float32Array, keeping their dtype', () => {
    // F16 1.0 = 00 3c, -2.0 = 00 c0; BF16 1.0 = 80 3f, -2.0 = 00 c0 (little-endian)
    const bytes = handMade(
      { h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } },
      [0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x00, 0xc0],
    );
    const { tensors } = decodeSafetensors(bytes);
    expect(tensors.h).toEqual({ dtype: 'F16', shape: [2], data: new Float32Array([1, -2]) });
    expect(tensors.b).toEqual({ dtype: 'BF16', shape: [2], data: new Float32Array([1, -2]) });
    expect(isFloat32Tensor(tensors.h) && isFloat32Tensor(tensors.b) && !isFloat32Tensor({ dtype: 'F64', shape: [0], data: new Float64Array(0) })).toBe(true);
    expect(() => decodeSafetensors(handMade({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 4] } }, [0, 0, 0, 0]))).toThrow(/6 bytes for F16\[3\], got 4 bytes/);
  });
});

describe('half-precision conversions (IEEE 754-2008 binary16, bfloat16)', () => {
  const bitsOf = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];
  /** A Float32Array holding exactly these float32 bit patterns (NaN payloads included). */
  const fromBits = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);
  const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
  const isBf16NaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

  it('float32 -> F16: known bit patterns, subnormals, ties to even, overflow, NaN', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66], // 0.0999755859375 (0.1 is 0x2e66.66...)
      [65504, 0x7bff], // the largest half
      [65519, 0x7bff], // below the midpoint to 65536
      [65520, 0x7c00], // the midpoint: ties to even -> 0x7c00 = Inf
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [0, 0x0000],
      [-0, 0x8000],
      [2 ** -14, 0x0400], // the smallest normal
      [2 ** -14 - 2 ** -24, 0x03ff], // the largest subnormal
      [2 ** -24, 0x0001], // the smallest subnormal
      [2 ** -25, 0x0000], // half of it: a tie, to even (0)
      [2 ** -25 * 1.5, 0x0001], // above the tie
      [3 * 2 ** -25, 0x0002], // 1.5 units: a tie, to even (2)
      [1e-10, 0x0000],
      [1 + 2 ** -11, 0x3c00], // a tie between 0x3c00 and 0x3c01: to even
      [1 + 3 * 2 ** -11, 0x3c02], // a tie between 0x3c01 and 0x3c02: to even
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
      [2049, 0x6800], // 2048 (ulp 2 there)
      [2051, 0x6802], // 2052
    ];
    for (const [x, h] of cases) expect([x, float32ToF16Bits(x)]).toEqual([x, h]);
    expect(isF16NaN(float32ToF16Bits(NaN))).toBe(true);
    // a NaN whose payload sits in the low bits only must not become Inf when they are dropped
    expect(Array.from(float32ToHalfBits(fromBits([0x7f800001, 0xffc00000]), 'F16')).map(isF16NaN)).toEqual([true, true]);
  });

  it('F16 -> float32: exact values, signed zero, Inf, NaN', () => {
    expect(f16BitsToFloat32(0x3c00)).toBe(1);
    expect(f16BitsToFloat32(0x3555)).toBe(0.333251953125);
    expect(f16BitsToFloat32(0x7bff)).toBe(65504);
    expect(f16BitsToFloat32(0x0400)).toBe(2 ** -14);
    expect(f16BitsToFloat32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToFloat32(0x83ff)).toBe(-(2 ** -14 - 2 ** -24));
    expect(Object.is(f16BitsToFloat32(0x8000), -0)).toBe(true);
    expect(f16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(f16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToFloat32(0x7e00)).toBeNaN();
    expect(f16BitsToFloat32(0x7c01)).toBeNaN();
  });

  it('float32 <-> BF16: known bit patterns, ties to even, overflow, NaN', () => {
    const cases: [number, number][] = [
      [1, 0x3f80],
      [-2, 0xc000],
      [0.1, 0x3dcd], // 0.1f = 0x3dcccccd: the lower half 0xcccd rounds up
      [1 + 2 ** -8, 0x3f80], // a tie between 0x3f80 and 0x3f81: to even
      [1 + 3 * 2 ** -8, 0x3f82], // a tie between 0x3f81 and 0x3f82: to even
      [1 + 2 ** -8 + 2 ** -20, 0x3f81], // just above the tie
      [3.3895313892515355e38, 0x7f7f], // the largest bfloat16
      [3.4028234663852886e38, 0x7f80], // the largest float32 rounds up to Inf
      [-Infinity, 0xff80],
      [-0, 0x8000],
      [2 ** -133, 0x0001], // float32 subnormals keep their upper half
    ];
    for (const [x, h] of cases) expect([x, float32ToBf16Bits(x)]).toEqual([x, h]);
    expect(isBf16NaN(float32ToBf16Bits(NaN))).toBe(true);
    expect(Array.from(float32ToHalfBits(fromBits([0x7f800001, 0xff800001]), 'BF16')).map(isBf16NaN)).toEqual([true, true]);
    expect(bf16BitsToFloat32(0x3f80)).toBe(1);
    expect(bf16BitsToFloat32(0x7f7f)).toBe(3.3895313892515355e38);
    expect(bf16BitsToFloat32(0xff80)).toBe(-Infinity);
    expect(Object.is(bf16BitsToFloat32(0x8000), -0)).toBe(true);
    expect(bf16BitsToFloat32(0x7fc0)).toBeNaN();
    expect(bitsOf(bf16BitsToFloat32(0xbf81))).toBe(0xbf810000); // the upper half of the float32
  });

  it('float32 -> F16 / BF16 -> float32 lands on the nearest half value, on random values', () => {
    const rng = new Rng(3);
    // normals, subnormals (below 2^-14) and a few overflows of F16, both signs
    const x = new Float32Array(20000).map(() => rng.normal() * 2 ** (rng.int(46) - 28));
    for (const dtype of ['F16', 'BF16'] as const) {
      const toBits = dtype === 'F16' ? float32ToF16Bits : float32ToBf16Bits;
      const toValue = dtype === 'F16' ? f16BitsToFloat32 : bf16BitsToFloat32;
      const inf = dtype === 'F16' ? 0x7c00 : 0x7f80;
      const y = halfBitsToFloat32(float32ToHalfBits(x, dtype), dtype);
      let worst = 0;
      const failures: string[] = [];
      for (let i = 0; i < x.length; i++) {
        const h = toBits(x[i]);
        if (toValue(h) !== y[i]) failures.push(`${x[i]}: the scalar and array conversions disagree`);
        if (toBits(y[i]) !== h) failures.push(`${x[i]}: ${y[i]} is not a fixed point`);
        const mag = h & 0x7fff;
        if (mag === inf) {
          if (Math.abs(x[i]) < 65520) failures.push(`${x[i]}: overflowed`); // only F16 overflows here
          continue;
        }
        // no neighbor of the result (of the same sign) is closer to x
        for (const n of [mag - 1, mag + 1]) {
          if (n >= 0 && n < inf && Math.abs(toValue((h & 0x8000) | n) - x[i]) < Math.abs(y[i] - x[i])) failures.push(`${x[i]}: ${y[i]} is not the nearest`);
        }
        if (Math.abs(x[i]) >= 2 ** -14) worst = Math.max(worst, Math.abs(y[i] - x[i]) / Math.abs(x[i]));
      }
      expect(failures.slice(0, 5)).toEqual([]);
      expect(worst).toBeLessThanOrEqual(dtype === 'F16' ? 2 ** -11 : 2 ** -8); // half a unit in the last place
      expect(worst).toBeGreaterThan(dtype === 'F16' ? 2 ** -12 : 2 ** -9);
    }
  });

  it('round-trips F16 and BF16 tensors through a file: 2 bytes an entry, dtype and bits kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'half.safetensors');
    const x = new Float32Array([1, -2, 0.1, 65504, 70000, 2 ** -24, NaN, -0]);
    writeSafetensors(path, { h: { dtype: 'F16', shape: [2, 4], data: x }, b: { dtype: 'BF16', shape: [8], data: x }, f: { dtype: 'F32', shape: [8], data: x } });
    const bytes = new Uint8Array(readFileSync(path));
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8'));
    expect(header.b).toEqual({ dtype: 'BF16', shape: [8], data_offsets: [0, 16] }); // names sorted: b, f, h
    expect(header.h).toEqual({ dtype: 'F16', shape: [2, 4], data_offsets: [48, 64] });
    expect([...bytes.subarray(8 + headerLength + 48, 8 + headerLength + 52)]).toEqual([0x00, 0x3c, 0x00, 0xc0]); // 1, -2 as F16

    const back = readSafetensors(path).tensors;
    expect(back.h.dtype).toBe('F16');
    expect(back.b.dtype).toBe('BF16');
    expect(back.h.data).toEqual(new Float32Array([1, -2, 0.0999755859375, 65504, Infinity, 2 ** -24, NaN, -0]));
    expect(back.b.data).toEqual(new Float32Array([1, -2, 0.10009765625, 65536, 70144, 2 ** -24, NaN, -0]));
    expect(Object.is(back.h.data[7], -0) && Object.is(back.b.data[7], -0)).toBe(true);
    // what was read is written back bit for bit
    expect(encodeSafetensors(back)).toEqual(bytes);
    expect(() => encodeSafetensors({ w: { dtype: 'F16', shape: [2], data: new Float64Array(2) } })).toThrow(/a Float32Array for dtype F16/);
  });

  it.skipIf(!hasNumpy)('agrees bit for bit with NumPy (float16, bfloat16 by integer ops), both directions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-np-'));
    // Inputs: random float32 bit patterns (every class: subnormal, normal, Inf, NaN), patterns
    // with ties forced in the dropped bits, and hand-picked edges.
    const rng = new Rng(5);
    const bits = new Uint32Array(30000);
    for (let i = 0; i < 10000; i++) bits[i] = rng.int(2 ** 32);
    for (let i = 10000; i < 20000; i++) bits[i] = (rng.int(2) << 31) | ((100 + rng.int(45)) << 23) | (rng.int(2 ** 10) << 13) | 0x1000; // F16 ties
    for (let i = 20000; i < 30000; i++) bits[i] = (rng.int(2 ** 16) << 16) | 0x8000; // BF16 ties
    const edges = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0x477fe000, 0x477ff000, 0x33800000, 0x33000000, 0x3f808000, 0x3f801000, 0x7f7fffff, 0x00000001];
    edges.forEach((b, i) => (bits[i] = b));
    const x = new Float32Array(bits.buffer);
    writeNpy(join(dir, 'inputs.npy'), { shape: [x.length], data: x });
    writeSafetensors(join(dir, 'ours.safetensors'), { h: { dtype: 'F16', shape: [x.length], data: x }, b: { dtype: 'BF16', shape: [x.length], data: x } });

    const py = `import json, struct, sys, warnings
import numpy as np
warnings.simplefilter('ignore')  # overflow warnings of the float16 cast
d = sys.argv[1]
x = np.load(d + '/inputs.npy')
assert x.dtype == np.float32
nan = np.isnan(x)
want_h = x.astype(np.float16).view(np.uint16)
# bfloat16 (absent from NumPy): the upper 16 bits, plus one when the lower 16 bits are above
# half (0x8000), or exactly half and the upper bits are odd: round to nearest, ties to even.
u = x.view(np.uint32).astype(np.uint64)
hi, lo = u >> 16, u & 0xFFFF
want_b = ((hi + ((lo > 0x8000) | ((lo == 0x8000) & ((hi & 1) == 1)))) & 0xFFFF).astype(np.uint16)
raw = open(d + '/ours.safetensors', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
def tensor(name, dtype):
    e = header[name]
    assert e['dtype'] == dtype and e['shape'] == [len(x)], e
    a, b = e['data_offsets']
    return np.frombuffer(raw[8 + n + a:8 + n + b], dtype='<u2')
got_h, got_b = tensor('h', 'F16'), tensor('b', 'BF16')
nan_h = ((got_h & 0x7C00) == 0x7C00) & ((got_h & 0x3FF) != 0)
nan_b = ((got_b & 0x7F80) == 0x7F80) & ((got_b & 0x7F) != 0)
out = {
  'f16_mismatches': int(np.sum((got_h != want_h) & ~nan)),
  'bf16_mismatches': int(np.sum((got_b != want_b) & ~nan)),
  'nan_kept': bool(np.array_equal(nan_h, nan) and np.array_equal(nan_b, nan)),
  'f16_ties': int(np.sum((x.view(np.uint32) & 0x1FFF) == 0x1000)),
}
# The other direction: every 16-bit pattern, in a safetensors file written by hand, with
# NumPy's float32 values of them.
p = np.arange(65536, dtype=np.uint32)
as_f16 = p.astype(np.uint16).view(np.float16).astype(np.float32)
as_bf16 = (p << 16).view(np.float32)
data = p.astype('<u2').tobytes()
meta = {'h': {'dtype': 'F16', 'shape': [256, 256], 'data_offsets': [0, len(data)]},
        'b': {'dtype': 'BF16', 'shape': [65536], 'data_offsets': [len(data), 2 * len(data)]}}
js = json.dumps(meta).encode()
js += b' ' * ((8 - (8 + len(js)) % 8) % 8)
open(d + '/theirs.safetensors', 'wb').write(struct.pack('<Q', len(js)) + js + data + data)
np.save(d + '/theirs_f32.npy', np.stack([as_f16, as_bf16]))
print(json.dumps(out))`;
    const res = spawnSync('/usr/bin/python3', ['-c', py, dir], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual({ f16_mismatches: 0, bf16_mismatches: 0, nan_kept: true, f16_ties: expect.any(Number) });
    expect(JSON.parse(res.stdout).f16_ties).toBeGreaterThan(9000);

    const { tensors } = readSafetensors(join(dir, 'theirs.safetensors'));
    expect(tensors.h.shape).toEqual([256, 256]);
    const want = readNpy(join(dir, 'theirs_f32.npy'));
    expect(want.shape).toEqual([2, 65536]);
    const wantValues = want.data as Float32Array;
    const wantBits = new Uint32Array(wantValues.buffer, wantValues.byteOffset, wantValues.length);
    for (const [row, t] of [[0, tensors.h], [1, tensors.b]] as const) {
      const gotBits = new Uint32Array((t.data as Float32Array).buffer);
      let mismatches = 0;
      for (let i = 0; i < 65536; i++) {
        const j = row * 65536 + i;
        const same = Number.isNaN(wantValues[j]) ? Number.isNaN(t.data[i] as number) : gotBits[i] === wantBits[j];
        if (!same) mismatches++;
      }
      expect([t.dtype, mismatches]).toEqual([t.dtype, 0]);
    }
  });
});
