import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../../src/data/npy.js';

const hasNumpy = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** A float16 .npy as np.save writes it: the header of a '<u2' array of the same bits, retyped '<f2' (or `descr`). */
function float16Npy(shape: number[], bits: number[], descr = '<f2'): Uint8Array {
  const bytes = Buffer.from(encodeNpy({ shape, data: new Uint16Array(bits) }));
  bytes.write(`'${descr}'`, bytes.indexOf("'<u2'"), 'latin1');
  return new Uint8Array(bytes);
}

describe('.npy files', () => {
  it('round-trips float32, float64 and int32 arrays with their shapes', () => {
    for (const data of [new Float32Array([1, -2.5, 3, 4, 5, 6]), new Float64Array([1e-300, 2, 3, 4, 5, 6]), new Int32Array([1, 2, 3, -4, 5, 6])]) {
      const back = decodeNpy(encodeNpy({ shape: [2, 3], data }));
      expect(back.shape).toEqual([2, 3]);
      expect(back.data).toEqual(data);
    }
  });

  it('writes a header NumPy accepts: magic, v1.0, 64-byte aligned, C order', () => {
    const bytes = encodeNpy({ shape: [3], data: new Float32Array([1, 2, 3]) });
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
    const headerLen = bytes[8] + 256 * bytes[9];
    expect((10 + headerLen) % 64).toBe(0);
    expect(Buffer.from(bytes.subarray(10, 10 + headerLen)).toString('latin1')).toContain("'descr': '<f4', 'fortran_order': False, 'shape': (3,)");
  });

  it('rejects corrupt files with an error that says what is wrong', () => {
    const good = encodeNpy({ shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
    expect(() => decodeNpy(new Uint8Array([1, 2, 3]))).toThrow(/a \.npy file \(magic/);
    expect(() => decodeNpy(good.subarray(0, good.length - 4))).toThrow(/16 data bytes for <f4\[2,2\], got 12 bytes \(truncated\)/);
    expect(() => decodeNpy(good.subarray(0, 40))).toThrow(/truncated/);
    const fortran = Buffer.from(good);
    fortran.write("'fortran_order': True, ", fortran.indexOf("'fortran_order'"), 'latin1');
    expect(() => decodeNpy(new Uint8Array(fortran))).toThrow(/fortran_order must be False/);
    const complex = Buffer.from(good);
    complex.write("'<c8'", complex.indexOf("'<f4'"), 'latin1');
    expect(() => decodeNpy(new Uint8Array(complex))).toThrow(/dtype must be one of/);
  });

  it.skipIf(!hasNumpy)('agrees with NumPy in both directions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const ours = join(dir, 'ours.npy');
    writeNpy(ours, { shape: [2, 3], data: new Float32Array([0.5, 1, 1.5, 2, 2.5, 3]) });
    const theirs = join(dir, 'theirs.npy');
    const py = `import numpy as np, sys
a = np.load(sys.argv[1]); assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)
print(float(a.sum()))
np.save(sys.argv[2], np.arange(12, dtype=np.float64).reshape(3, 4) / 8)`;
    const res = spawnSync('/usr/bin/python3', ['-c', py, ours, theirs], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(Number(res.stdout.trim())).toBe(10.5);
    const back = readNpy(theirs);
    expect(back.shape).toEqual([3, 4]);
    expect(back.data[11]).toBe(11 / 8);
    writeFileSync(join(dir, 'x'), readFileSync(theirs));
  });

  it("reads float16 ('<f2') as an exact Float32Array: 1, -2, 65504, 2^-24, -0, Inf, NaN", () => {
    // binary16 bits: 1.0 = 0x3c00, -2.0 = 0xc000, the largest 0x7bff, the smallest subnormal 0x0001
    const back = decodeNpy(float16Npy([2, 4], [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x8000, 0x7c00, 0x7e00]));
    expect(back.shape).toEqual([2, 4]);
    expect(back.data).toBeInstanceOf(Float32Array);
    expect(back.data).toEqual(new Float32Array([1, -2, 65504, 2 ** -24, 0.333251953125, -0, Infinity, NaN]));
    expect(Object.is(back.data[5], -0)).toBe(true);
    // writing stays float32: no half-precision writer, so a read-then-write never loses bits
    expect(Buffer.from(encodeNpy(back)).toString('latin1')).toContain("'descr': '<f4'");
  });

  it('rejects big-endian and other unsupported dtypes in one line naming the file and the dtype', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    for (const descr of ['>f2', '>f4', '<f16', '<c8']) {
      const path = join(dir, 'big.npy');
      writeFileSync(path, float16Npy([2], [0x3c00, 0x4000], descr));
      let message = '';
      try {
        readNpy(path);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(new RegExp(`^data\\.readNpy: .*big\\.npy: dtype must be one of <f4, .*<f2, <i8, <u8 \\(little-endian\\), got ${descr}$`));
      expect(message).not.toContain('\n');
    }
  });

  it.skipIf(!hasNumpy)("reads NumPy's default int64 (and uint64) as exact doubles, refusing values from 2^53 on", () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const py = `import numpy as np, sys
np.save(sys.argv[1] + '/i8.npy', np.array([[0, -3], [2**53 - 1, 7]], dtype=np.int64))
np.save(sys.argv[1] + '/u8.npy', np.array([5, 9], dtype=np.uint64))
np.save(sys.argv[1] + '/huge.npy', np.array([2**53 + 1], dtype=np.int64))`;
    expect(spawnSync('/usr/bin/python3', ['-c', py, dir], { encoding: 'utf8' }).status).toBe(0);
    const i8 = readNpy(join(dir, 'i8.npy'));
    expect(i8.shape).toEqual([2, 2]);
    expect(i8.data).toBeInstanceOf(Float64Array);
    expect(Array.from(i8.data)).toEqual([0, -3, 2 ** 53 - 1, 7]);
    expect(Array.from(readNpy(join(dir, 'u8.npy')).data)).toEqual([5, 9]);
    expect(() => readNpy(join(dir, 'huge.npy'))).toThrow(/<i8 values below 2\^53 in magnitude \(exact as doubles\), got 9007199254740993 at index 0/);
  });

  it.skipIf(!hasNumpy)("reads NumPy's float16 files bit for bit: all 65536 patterns", () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const py = `import numpy as np, sys
h = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).reshape(256, 256)
np.save(sys.argv[1] + '/f16.npy', h)
np.save(sys.argv[1] + '/f32.npy', h.astype(np.float32))`;
    const res = spawnSync('/usr/bin/python3', ['-c', py, dir], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    const got = readNpy(join(dir, 'f16.npy'));
    const want = readNpy(join(dir, 'f32.npy'));
    expect(got.shape).toEqual([256, 256]);
    expect(got.data).toBeInstanceOf(Float32Array);
    const gotBits = new Uint32Array(got.data.buffer);
    const wantBits = new Uint32Array(want.data.buffer);
    let mismatches = 0;
    let nans = 0;
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(want.data[i])) {
        nans++;
        if (!Number.isNaN(got.data[i])) mismatches++; // NaN payloads may differ; NaN must stay NaN
      } else if (gotBits[i] !== wantBits[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(nans).toBe(2 * 1023);
  });
});
