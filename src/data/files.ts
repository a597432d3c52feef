/**
 * Atomic file writes: nothing half-written is ever left under the final name. Write to a
 * temporary file in the same folder, flush it, then rename (rename is atomic on one filesystem).
 * And the one reader of the small JSON files next to checkpoints, whose errors name the file.
 */
import { mkdirSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync, rmSync } from 'node:fs';
import { NestlabArgumentError } from '../errors.js';
import { dirname, basename, join } from 'node:path';

/** Writes `contents` to `path` atomically (temp file + fsync + rename), creating the folder. */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, contents);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The JSON object in `path` (cfg.json, latest.json, source.json...); a missing, unreadable or non-object file is a NestlabArgumentError naming it. */
export function readJsonObject(where: string, path: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new NestlabArgumentError(where, path, 'a readable JSON file', (e as Error).message.split('\n')[0]);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new NestlabArgumentError(where, path, 'a JSON object', j);
  return j as Record<string, unknown>;
}
