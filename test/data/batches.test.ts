import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/backend/rng.js';
import { encodeNpy, writeNpy } from '../../src/data/npy.js';
import { holdoutSplit, matrixSource, npyShardSource } from '../../src/data/batches.js';
import { trainSae } from '../../src/sae/train.js';
import { selectRows } from '../../src/data/matrix.js';

describe('.npy shards as a batch source', () => {
  const rows = 60;
  const cols = 5;
  const data = new Rng(1).normalArray(rows * cols);
  const dir = mkdtempSync(join(tmpdir(), 'shards-'));
  // three shards of unequal size
  const cuts = [0, 17, 40, 60];
  const paths = cuts.slice(0, -1).map((c, i) => {
    const path = join(dir, `part-${i}.npy`);
    writeNpy(path, { shape: [cuts[i + 1] - c, cols], data: data.slice(c * cols, cuts[i + 1] * cols) });
    return path;
  });

  it('serves exactly the batches an in-memory matrix would', () => {
    const shards = npyShardSource(paths);
    const mem = matrixSource({ data, rows, cols });
    expect([shards.rows, shards.cols, shards.shards]).toEqual([60, 5, 3]);
    for (const [epoch, index] of [[0, 0], [0, 2], [3, 1]]) {
      expect(shards.batch(epoch, index, 16, 7)).toEqual(mem.batch(epoch, index, 16, 7));
    }
    shards.close();
  });

  it('trains an SAE to the same weights as from memory', async () => {
    const cfg = { architecture: { dIn: cols, dSae: 8, activation: 'topk' as const, k: 2 }, training: { batchSize: 12, epochs: 2, warmupSteps: 1, seed: 3 } };
    const shards = npyShardSource(paths);
    const a = await trainSae(shards, cfg);
    const b = await trainSae({ data, rows, cols }, cfg);
    shards.close();
    expect(a.sae.params.wDec).toEqual(b.sae.params.wDec);
  });

  it("serves a subset of a matrix's rows as the same batches as those rows copied out", () => {
    const rowsOf = [3, 5, 8, 13, 21, 34, 40, 41, 42, 50, 55, 59];
    const sub = matrixSource({ data, rows, cols }, { rows: rowsOf });
    const copied = matrixSource(selectRows({ data, rows, cols }, rowsOf));
    expect([sub.rows, sub.cols]).toEqual([12, 5]);
    for (const [epoch, index] of [[0, 0], [0, 2], [4, 1]]) expect(sub.batch(epoch, index, 4, 9)).toEqual(copied.batch(epoch, index, 4, 9));
    expect(() => matrixSource({ data, rows, cols }, { rows: [0, 60] })).toThrow(/options\.rows\[1\] must be a row index in \[0, 60\), got 60/);
    expect(() => matrixSource({ data, rows, cols }, { rows: [] })).toThrow(/options\.rows must be a non-empty array of row indices/);
    expect(() => matrixSource({ data, rows, cols }, { row: [1] } as never)).toThrow(/options\.row must be one of the known options/);
  });

  it('rejects shards of another width, dtype, shape or a truncated file', () => {
    const other = join(dir, 'wide.npy');
    writeNpy(other, { shape: [3, cols + 1], data: new Float32Array(3 * (cols + 1)) });
    expect(() => npyShardSource([paths[0], other])).toThrow(/5 columns like the first shard, got 6 columns/);
    const f64 = join(dir, 'f64.npy');
    writeNpy(f64, { shape: [2, cols], data: new Float64Array(2 * cols) });
    expect(() => npyShardSource([f64])).toThrow(/a 2-D float32 \(<f4\) array, got <f8\[2,5\]/);
    const cut = join(dir, 'cut.npy');
    writeFileSync(cut, encodeNpy({ shape: [4, cols], data: new Float32Array(4 * cols) }).subarray(0, 100));
    expect(() => npyShardSource([cut])).toThrow(/truncated/);
    expect(() => npyShardSource([])).toThrow(/a non-empty array of \.npy files/);
  });
});

describe('holdoutSplit', () => {
  it('holds out a seeded fraction, disjoint from the training rows, the same for every call', () => {
    const { train, holdout } = holdoutSplit(600, 0.1);
    expect([train.length, holdout.length]).toEqual([540, 60]);
    expect(new Set([...train, ...holdout]).size).toBe(600);
    expect([...holdout]).toEqual([...holdout].sort((a, b) => a - b));
    expect(holdoutSplit(600, 0.1).holdout).toEqual(holdout);
    expect(holdoutSplit(600, 0.1, 1).holdout).not.toEqual(holdout);
    expect(holdoutSplit(10, 0).holdout).toHaveLength(0);
    expect(holdoutSplit(10, 0.01).holdout).toHaveLength(1); // at least one row
    expect(() => holdoutSplit(10, 0.95)).toThrow(/fraction must be a finite number in \[0, 0\.9\]/);
  });
});
