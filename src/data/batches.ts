/**
 * Activation matrices larger than memory: a set of .npy shards (float32, 2-D, same width) read
 * row by row with positioned reads, served as seeded training batches. Only one batch is in
 * memory at a time, plus a row permutation of 4 bytes per row.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError } from '../errors.js';
import { parseNpyHeader } from './npy.js';

/** What the SAE trainer (and anything else) pulls batches from; see src/sae/train.ts. */
export interface RowBatchSource {
  readonly rows: number;
  readonly cols: number;
  batch(epoch: number, index: number, batchSize: number, seed: number): Float32Array;
}

interface Shard {
  path: string;
  fd: number;
  rows: number;
  dataStart: number;
}

/**
 * Batches from .npy shards: epoch e visits all rows of all shards in the permutation
 * Rng(seed·65537 + e + 1) (the same rule as an in-memory matrix, so a matrix saved as shards
 * trains to the same weights); batch i holds positions [i·B, (i+1)·B) of that order. Call
 * `close()` when done.
 */
export function npyShardSource(paths: string[]): RowBatchSource & { close(): void; shards: number } {
  const where = 'npyShardSource';
  if (!Array.isArray(paths) || paths.length === 0) throw new NestlabArgumentError(where, 'paths', 'a non-empty array of .npy files', paths);
  const shards: Shard[] = [];
  let cols = -1;
  try {
    for (const path of paths) {
      const fd = openSync(path, 'r');
      shards.push({ path, fd, rows: 0, dataStart: 0 });
      const head = Buffer.alloc(65536);
      const got = readSync(fd, head, 0, head.length, 0);
      const h = parseNpyHeader(new Uint8Array(head.buffer, head.byteOffset, got), path);
      if (h.descr !== '<f4' || h.shape.length !== 2) {
        throw new NestlabArgumentError(where, path, 'a 2-D float32 (<f4) array', `${h.descr}[${h.shape}]`);
      }
      if (cols === -1) cols = h.shape[1];
      if (h.shape[1] !== cols) throw new NestlabArgumentError(where, path, `${cols} columns like the first shard`, `${h.shape[1]} columns`);
      const size = fstatSync(fd).size;
      if (size < h.dataStart + h.dataBytes) throw new NestlabArgumentError(where, path, `${h.dataStart + h.dataBytes} bytes`, `${size} bytes (truncated)`);
      Object.assign(shards[shards.length - 1], { rows: h.shape[0], dataStart: h.dataStart });
    }
  } catch (e) {
    for (const s of shards) closeSync(s.fd);
    throw e;
  }
  const starts = new Float64Array(shards.length + 1);
  shards.forEach((s, i) => (starts[i + 1] = starts[i] + s.rows));
  const rows = starts[shards.length];
  const rowBytes = cols * 4;
  let cached: { key: string; perm: Uint32Array } | null = null;
  const locate = (row: number): [Shard, number] => {
    let lo = 0;
    let hi = shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return [shards[lo], row - starts[lo]];
  };
  return {
    rows,
    cols,
    shards: shards.length,
    batch(epoch, index, batchSize, seed) {
      const key = `${seed}/${epoch}`;
      if (cached === null || cached.key !== key) cached = { key, perm: new Rng(seed * 65537 + epoch + 1).permutation(rows) };
      if ((index + 1) * batchSize > rows) throw new NestlabArgumentError(where, 'index', `a batch within the ${rows} rows of an epoch`, index);
      const out = new Float32Array(batchSize * cols);
      const bytes = new Uint8Array(out.buffer);
      for (let r = 0; r < batchSize; r++) {
        const [shard, local] = locate(cached.perm[index * batchSize + r]);
        const n = readSync(shard.fd, bytes, r * rowBytes, rowBytes, shard.dataStart + local * rowBytes);
        if (n !== rowBytes) throw new Error(`${shard.path}: short read at row ${local} (file changed while training?)`);
      }
      return out;
    },
    close() {
      for (const s of shards) closeSync(s.fd);
    },
  };
}
