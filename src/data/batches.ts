/**
 * Training batches: where a trainer pulls rows from, by (epoch, index), so that a resumed run
 * sees exactly the batches an uninterrupted one would. Two sources share one batch-order rule
 * (`epochOrder`): an in-memory Matrix, and a set of .npy shards larger than memory (float32, 2-D,
 * same width) read row by row with positioned reads, so only one batch is in memory at a time,
 * plus a row permutation of 4 bytes per row. A Matrix saved as shards trains to the same weights.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, NestlabError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import { checkMatrix, type Matrix } from './matrix.js';
import { parseNpyHeader } from './npy.js';
import { ioCall } from './files.js';

/** Where training batches come from. Random access by (epoch, index) makes resuming exact. */
export interface BatchSource {
  /** Rows in one epoch. */
  readonly rows: number;
  /** Columns (the input dimension). */
  readonly cols: number;
  /**
   * Batch `index` of epoch `epoch`: `batchSize` rows, row-major. Must be a deterministic function
   * of (seed, epoch, index, batchSize); the batches of one epoch should cover the data once.
   */
  batch(epoch: number, index: number, batchSize: number, seed: number): Float32Array | Promise<Float32Array>;
}

/**
 * The row order of epoch `epoch`: a permutation of 0..rows-1 drawn from Rng(seed·65537 + epoch + 1).
 * Batch i of the epoch is positions [i·B, (i+1)·B); the last incomplete batch is dropped.
 *
 * @example const order = data.epochOrder(10000, 0, 3); // the row permutation of epoch 3 for seed 0
 */
export function epochOrder(rows: number, seed: number, epoch: number): Uint32Array {
  return new Rng(seed * 65537 + epoch + 1).permutation(rows);
}

/**
 * The held-out and training rows of a `rows`-row matrix: the rows at the first
 * max(1, round(fraction·rows)) positions of `new Rng(seed).permutation(rows)` are held out (none
 * for fraction 0); both lists ascending.
 *
 * @example const { train, holdout } = data.holdoutSplit(600, 0.1); // 60 held-out rows, 540 training rows
 */
export function holdoutSplit(rows: number, fraction: number, seed = 0, where = 'data.holdoutSplit'): { train: Uint32Array; holdout: Uint32Array } {
  checkInt(where, 'rows', rows, 1);
  checkNumber(where, 'fraction', fraction, 0, 0.9);
  const h = fraction > 0 ? Math.max(1, Math.round(fraction * rows)) : 0;
  if (h >= rows) throw new NestlabArgumentError(where, 'fraction', `small enough to leave training rows (${rows} rows)`, fraction);
  const perm = new Rng(seed).permutation(rows);
  return { train: perm.slice(h).sort(), holdout: perm.slice(0, h).sort() };
}

/** Remembers the current epoch's order (one permutation per epoch, not per batch). */
function orderCache(rows: number): (seed: number, epoch: number) => Uint32Array {
  let cached: { seed: number; epoch: number; order: Uint32Array } | null = null;
  return (seed, epoch) => {
    if (cached === null || cached.seed !== seed || cached.epoch !== epoch) cached = { seed, epoch, order: epochOrder(rows, seed, epoch) };
    return cached.order;
  };
}

/** Options of `data.matrixSource`. */
export interface MatrixSourceOptions {
  /**
   * Train on these rows of the matrix only (e.g. all but a held-out part), in this order: the
   * source then has `rows.length` rows and row i of it is matrix row rows[i]. Default: every row.
   */
  rows?: ArrayLike<number>;
}

/**
 * An in-memory Matrix as a BatchSource, in the order of `epochOrder`; with `options.rows`, a
 * subset of its rows without copying them.
 *
 * @example const rows = await data.matrixSource(x).batch(0, 0, 256, 0); // epoch 0, batch 0: 256 rows of x, row-major
 */
export function matrixSource(m: Matrix, options: MatrixSourceOptions = {}): BatchSource {
  const where = 'data.matrixSource';
  const x = checkMatrix(where, 'data', m, 1, 1);
  checkKnownKeys(where, options, ['rows']);
  let subset: Uint32Array | null = null;
  if (options.rows !== undefined) {
    const r = options.rows;
    if (r === null || typeof r !== 'object' || typeof r.length !== 'number' || r.length < 1) throw new NestlabArgumentError(where, 'options.rows', 'a non-empty array of row indices', r);
    subset = Uint32Array.from(r);
    for (let i = 0; i < r.length; i++) {
      if (!Number.isInteger(r[i]) || r[i] < 0 || r[i] >= x.rows) throw new NestlabArgumentError(where, `options.rows[${i}]`, `a row index in [0, ${x.rows})`, r[i]);
    }
  }
  const rows = subset?.length ?? x.rows;
  const orderOf = orderCache(rows);
  return {
    rows,
    cols: x.cols,
    batch(epoch, index, batchSize, seed) {
      const order = orderOf(seed, epoch);
      const out = new Float32Array(batchSize * x.cols);
      for (let r = 0; r < batchSize; r++) {
        const p = order[index * batchSize + r];
        const i = subset === null ? p : subset[p];
        out.set(x.data.subarray(i * x.cols, (i + 1) * x.cols), r * x.cols);
      }
      return out;
    },
  };
}

interface Shard {
  path: string;
  fd: number;
  rows: number;
  dataStart: number;
}

/**
 * Batches from .npy shards in the order of `epochOrder` over all rows of all shards (the rule of
 * `matrixSource`). Call `close()` when done.
 *
 * @example const src = data.npyShardSource(['acts/0.npy', 'acts/1.npy']); // src.rows over both shards; src.close() when done
 */
export function npyShardSource(paths: string[]): BatchSource & { close(): void; shards: number } {
  const where = 'data.npyShardSource';
  if (!Array.isArray(paths) || paths.length === 0) throw new NestlabArgumentError(where, 'paths', 'a non-empty array of .npy files', paths);
  const shards: Shard[] = [];
  let cols = -1;
  try {
    for (const path of paths) {
      const fd = ioCall(where, 'open', path, () => openSync(path, 'r'));
      shards.push({ path, fd, rows: 0, dataStart: 0 });
      const head = Buffer.alloc(65536);
      const got = readSync(fd, head, 0, head.length, 0);
      const h = parseNpyHeader(new Uint8Array(head.buffer, head.byteOffset, got), path);
      if (h.descr !== '<f4' || h.shape.length !== 2) {
        throw new NestlabArgumentError(where, path, 'a 2-D float32 (<f4) array', `${h.descr}[${h.shape}]`);
      }
      // Zero columns would let a tiny file claim any number of rows (and a row order that size).
      if (h.shape[1] < 1) throw new NestlabArgumentError(where, path, 'a 2-D float32 array with at least one column', `${h.descr}[${h.shape}]`);
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
  const orderOf = orderCache(rows);
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
      const order = orderOf(seed, epoch);
      if ((index + 1) * batchSize > rows) throw new NestlabArgumentError(where, 'index', `a batch within the ${rows} rows of an epoch`, index);
      const out = new Float32Array(batchSize * cols);
      const bytes = new Uint8Array(out.buffer);
      for (let r = 0; r < batchSize; r++) {
        const [shard, local] = locate(order[index * batchSize + r]);
        const n = readSync(shard.fd, bytes, r * rowBytes, rowBytes, shard.dataStart + local * rowBytes);
        if (n !== rowBytes) throw new NestlabError(where, `${shard.path}: short read at row ${local} (did the file change while training?)`);
      }
      return out;
    },
    close() {
      for (const s of shards) closeSync(s.fd);
    },
  };
}
