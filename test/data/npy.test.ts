import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../../src/data/npy.js';

const hasNumpy = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

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
});
