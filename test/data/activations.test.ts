import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readActivations, writeActivations } from '../../src/data/activations.js';
import { writeNpy } from '../../src/data/npy.js';
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

  it('rejects files that are not 2-D matrices and unknown extensions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'act-'));
    writeNpy(join(dir, 'v.npy'), { shape: [6], data: new Float32Array(6) });
    expect(() => readActivations(join(dir, 'v.npy'))).toThrow(/a 2-D array \[samples, units\], got shape \[6\]/);
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
