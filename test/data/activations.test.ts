import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npyShardFiles, readActivationRows, readActivations, readImages, readLabels, safetensorsTensorNames, writeActivations } from '../../src/data/activations.js';
import { encodeNpy, writeNpy } from '../../src/data/npy.js';
import { writeSafetensors } from '../../src/data/safetensors.js';
import { checkMatrix, matrix, prefixColumns, selectRows } from '../../src/data/matrix.js';

describe('activation matrices on disk and in memory', () => {
  const m = matrix([1, 2, 3, 4, 5, 6], 2, 3);

  it('round-trips through .npy and .safetensors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'act-'));
    for (const name of ['a.npy', 'a.safetensors']) {
      writeActivations(join(dir, name), m);
      expect(readActivations(join(dir, name))).toEqual(m);
    }
  });

  it('reads half-precision activations as float32: float16 .npy, F16 and BF16 safetensors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'act-'));
    const x = matrix([0.1, -0.2, 1000.3, 1, 2, 3], 2, 3); // not all exact in half precision
    writeSafetensors(join(dir, 'h.safetensors'), { activations: { dtype: 'F16', shape: [2, 3], data: x.data } });
    writeSafetensors(join(dir, 'b.safetensors'), { acts: { dtype: 'BF16', shape: [2, 3], data: x.data } });
    expect(readActivations(join(dir, 'h.safetensors'))).toEqual(matrix([0.0999755859375, -0.199951171875, 1000.5, 1, 2, 3], 2, 3));
    expect(readActivations(join(dir, 'b.safetensors'), 'acts')).toEqual(matrix([0.10009765625, -0.2001953125, 1000, 1, 2, 3], 2, 3));
    // a float16 .npy as np.save(path, acts.astype(np.float16)) writes it: 0.5, -1, 65504, ...
    const npy = Buffer.from(encodeNpy({ shape: [2, 3], data: new Uint16Array([0x3800, 0xbc00, 0x7bff, 0x3c00, 0x4000, 0x4200]) }));
    npy.write("'<f2'", npy.indexOf("'<u2'"), 'latin1');
    writeFileSync(join(dir, 'h.npy'), npy);
    expect(readActivations(join(dir, 'h.npy'))).toEqual(matrix([0.5, -1, 65504, 1, 2, 3], 2, 3));
  });

  it('rejects files that are not 2-D matrices and unknown extensions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'act-'));
    writeNpy(join(dir, 'v.npy'), { shape: [6], data: new Float32Array(6) });
    expect(() => readActivations(join(dir, 'v.npy'))).toThrow(/^data\.readActivations: .*v\.npy must be a 2-D array \[samples, units\], got shape \[6\]/);
    expect(() => writeActivations(join(dir, 'a.csv'), m)).toThrow(/\.npy or \.safetensors/);
  });

  it('takes prefixes of columns and subsets of rows', () => {
    expect(prefixColumns(m, 2)).toEqual(matrix([1, 2, 4, 5], 2, 2));
    expect(selectRows(m, [1, 1])).toEqual(matrix([4, 5, 6, 4, 5, 6], 2, 3));
    expect(() => prefixColumns(m, 4)).toThrow(/k must be an integer in \[1, 3\]/);
  });

  it('validates matrices: sizes, finiteness, shape', () => {
    expect(() => matrix([1, 2, 3], 2, 2)).toThrow(/2\*2 = 4 entries, got 3 entries/);
    expect(() => checkMatrix('f', 'X', matrix([1, NaN, 3, 4], 2, 2))).toThrow(/f: X must be finite numbers only, got NaN at index 1/);
    expect(() => checkMatrix('f', 'X', m, 3)).toThrow(/X.rows must be at least 3, got 2/);
    expect(() => checkMatrix('f', 'X', [[1, 2]])).toThrow(/a Matrix/);
  });
});

describe('what the CLI reads beside a matrix: shard folders, labels, pictures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'act-extra-'));

  it("lists a folder's shards in name order, numbers compared as numbers, and stacks their rows", () => {
    for (const [name, first] of [['part-10.npy', 20], ['part-2.npy', 10], ['part-1.npy', 0]] as const) {
      writeNpy(join(dir, name), { shape: [2, 2], data: Float32Array.of(first, first + 1, first + 2, first + 3) });
    }
    writeFileSync(join(dir, 'notes.txt'), 'not a shard');
    const paths = npyShardFiles(dir);
    expect(paths.map((p) => p.slice(dir.length + 1))).toEqual(['part-1.npy', 'part-2.npy', 'part-10.npy']);
    expect(readActivationRows(paths)).toEqual(matrix([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], 6, 2));
    expect(readActivationRows(paths, 3)).toEqual(matrix([0, 1, 2, 3, 10, 11], 3, 2)); // stops after the shard it needs
    expect(() => npyShardFiles(mkdtempSync(join(tmpdir(), 'empty-')))).toThrow(/a folder holding \.npy shards, got no \.npy file/);
  });

  it("reads labels of any integer dtype, int64 (NumPy's default) included, and refuses others", () => {
    const i64 = encodeNpy({ shape: [3], data: new Float64Array(3) });
    // a real int64 .npy: the header says '<i8' and the data are 8-byte integers
    const header = Buffer.from(i64).toString('latin1').replace("'<f8'", "'<i8'");
    const bytes = Buffer.from(header, 'latin1');
    new BigInt64Array(bytes.buffer, bytes.byteOffset + bytes.length - 24, 3).set([7n, 0n, 123456789n]);
    writeFileSync(join(dir, 'y64.npy'), bytes);
    expect([...readLabels(join(dir, 'y64.npy'))]).toEqual([7, 0, 123456789]);
    writeNpy(join(dir, 'y8.npy'), { shape: [2, 1], data: Uint8Array.of(3, 4) });
    expect([...readLabels(join(dir, 'y8.npy'))]).toEqual([3, 4]);
    writeNpy(join(dir, 'neg.npy'), { shape: [2], data: Int32Array.of(1, -1) });
    expect(() => readLabels(join(dir, 'neg.npy'))).toThrow(/integer labels ≥ 0, got -1 at row 1/);
    writeNpy(join(dir, 'frac.npy'), { shape: [2], data: Float32Array.of(1, 1.5) });
    expect(() => readLabels(join(dir, 'frac.npy'))).toThrow(/got 1\.5 at row 1/);
    writeNpy(join(dir, 'two.npy'), { shape: [2, 2], data: new Int32Array(4) });
    expect(() => readLabels(join(dir, 'two.npy'))).toThrow(/a 1-D array of labels \[rows\] \(or \[rows, 1\]\), got shape \[2,2\]/);
  });

  it('reads pictures [rows, h·w] or [rows, h, w], any dtype, as float32 rows', () => {
    writeNpy(join(dir, 'img3.npy'), { shape: [2, 2, 3], data: Uint8Array.from({ length: 12 }, (_, i) => i) });
    const { images, shape } = readImages(join(dir, 'img3.npy'));
    expect(shape).toEqual([2, 3]);
    expect([images.rows, images.cols, images.data[11]]).toEqual([2, 6, 11]);
    expect(images.data).toBeInstanceOf(Float32Array);
    writeNpy(join(dir, 'img2.npy'), { shape: [2, 6], data: new Float32Array(12) });
    expect(readImages(join(dir, 'img2.npy')).shape).toBeNull();
    writeNpy(join(dir, 'img1.npy'), { shape: [12], data: new Float32Array(12) });
    expect(() => readImages(join(dir, 'img1.npy'))).toThrow(/\[rows, height·width\] or \[rows, height, width\], got shape \[12\]/);
  });

  it('lists the tensors of a safetensors file from its header', () => {
    const path = join(dir, 'two.safetensors');
    writeSafetensors(path, { acts: { dtype: 'F32', shape: [1, 2], data: new Float32Array(2) }, '<b>': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, { note: 'x' });
    expect(safetensorsTensorNames(path).sort()).toEqual(['<b>', 'acts']);
    writeFileSync(join(dir, 'bad.safetensors'), Buffer.alloc(4));
    expect(() => safetensorsTensorNames(join(dir, 'bad.safetensors'))).toThrow(/8-byte header length/);
  });
});
