/**
 * Atomic file writes: nothing half-written is ever left under the final name. A file goes to a
 * temporary name in the same folder, is flushed, then renamed (rename is atomic on one
 * filesystem); a folder (a checkpoint's step folder) is written in full under a hidden temporary
 * name and renamed into place. The same pattern as git's lock files and SQLite's journal: a
 * reader sees the old version or the new one, never a mix. A write that fails (a full or
 * read-only disk) removes its temporary file and throws a one-line `NestlabIoError` naming the
 * path. And the one reader of the small JSON files next to checkpoints, whose errors name the file.
 */
import { mkdirSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync, rmSync, existsSync, readdirSync, statSync } from 'node:fs';
import { NestlabArgumentError, NestlabIoError } from '../errors.js';
import { dirname, basename, join } from 'node:path';

/** What a system error code means, in words (the codes a full, read-only or foreign folder gives). */
const IO_CODES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EFBIG: 'the file is larger than this process may write',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'the path is a folder',
  EEXIST: 'something else already has that name',
  EIO: 'an input/output error of the device',
  ENAMETOOLONG: 'the name is too long',
  ENOENT: 'no such file or folder',
};

/**
 * Runs an fs call and turns a system error into a `NestlabIoError` naming `path`:
 * `sae.train: cannot write runs/x/latest.json: no space left on the device (ENOSPC)`.
 */
export function ioCall<T>(where: string, what: string, path: string, call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw asIoError(where, what, path, e);
  }
}

/** `e` as a NestlabIoError about `path` when it is a system error; other errors unchanged. */
function asIoError(where: string, what: string, path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !(e instanceof Error) || e instanceof NestlabIoError) return e;
  const reason = IO_CODES[code] ?? e.message.split('\n')[0];
  return new NestlabIoError(where, path, code, `cannot ${what} ${path}: ${reason} (${code})`);
}

/** Creates `folder` and its parents (a no-op when it exists); errors name it. */
export function makeFolder(folder: string, where = 'nestlab'): void {
  ioCall(where, 'create the folder', folder, () => mkdirSync(folder, { recursive: true }));
}

/** fsync of a folder, so that a rename in it survives a power cut (not needed for a killed process). */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder; the rename is atomic all the same.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `contents` to `path` atomically (temp file + fsync + rename), creating the folder.
 * A failure leaves `path` as it was and throws a NestlabIoError naming it (`where` first).
 */
export function writeFileAtomic(path: string, contents: string | Uint8Array, where = 'nestlab'): void {
  makeFolder(dirname(path), where);
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
    throw asIoError(where, 'write', path, e);
  }
}

/** Prefix of the hidden folders a step folder is written into before it is renamed into place (and old ones moved to before deletion). */
const STAGING = '.staging-';

/**
 * Deletes a folder so that no half-deleted copy is ever seen under its name: it is renamed to a
 * hidden sibling first (atomic), then removed; a process killed meanwhile leaves only the hidden
 * one, which `commitCheckpoint` sweeps.
 */
function removeFolderAtomic(folder: string, where: string): void {
  const aside = join(dirname(folder), `${STAGING}old-${basename(folder)}.${process.pid}.${Date.now()}`);
  ioCall(where, 'move aside', folder, () => renameSync(folder, aside));
  rmSync(aside, { recursive: true, force: true });
}

/**
 * Writes a folder in full or not at all: `write(tmp)` fills a hidden sibling folder, which is then
 * renamed to `folder` (a folder of that name, left by an earlier run at the same step, is moved
 * aside first and removed after). If `write` throws, the sibling is removed and the error passes on.
 * Returns what `write` returned. A process killed meanwhile leaves only the hidden sibling, which
 * `commitCheckpoint` of the next save removes.
 */
export function writeFolderAtomic<T>(folder: string, write: (tmp: string) => T, where = 'nestlab'): T {
  const parent = dirname(folder);
  const tmp = join(parent, `${STAGING}${basename(folder)}.${process.pid}.${Date.now()}`);
  makeFolder(tmp, where);
  let result: T;
  try {
    result = write(tmp);
    if (existsSync(folder)) removeFolderAtomic(folder, where);
    ioCall(where, 'rename into place', folder, () => renameSync(tmp, folder));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // Name the file by the folder the user knows, not by the hidden one it was written in.
    if (e instanceof NestlabIoError && e.path.startsWith(tmp)) {
      const path = folder + e.path.slice(tmp.length);
      throw new NestlabIoError(e.where, path, e.code, e.detail.replace(e.path, path));
    }
    throw e;
  }
  syncFolder(parent);
  return result;
}

/**
 * Makes a checkpoint folder's newest step current: writes `latest.json` atomically (the pointer,
 * written only after the step folder is complete), then keeps the `keep` newest step folders
 * (by step number: a step past 99,999,999 has a ninth digit; the current one always stays; each
 * older one moved to a hidden name before it is deleted) and removes what killed runs left behind
 * (hidden staging folders, temporary files).
 */
export function commitCheckpoint(dir: string, folderName: string, latest: Record<string, unknown>, keep: number, where = 'nestlab'): void {
  writeFileAtomic(join(dir, 'latest.json'), `${JSON.stringify(latest, null, 2)}\n`, where);
  const names = readdirSync(dir);
  const steps = names
    .filter((n) => /^step-\d+$/.test(n) && statSync(join(dir, n)).isDirectory())
    .sort((x, y) => Number(x.slice(5)) - Number(y.slice(5)));
  for (const old of steps.slice(0, Math.max(0, steps.length - keep))) if (old !== folderName) removeFolderAtomic(join(dir, old), where);
  for (const n of names) if (n.startsWith(STAGING) || /^\.latest\.json\.\d+\.\d+\.tmp$/.test(n)) rmSync(join(dir, n), { recursive: true, force: true });
}

/** The JSON object in `path` (cfg.json, latest.json, source.json...); a missing, unreadable or non-object file is a NestlabArgumentError naming it. */
export function readJsonObject(where: string, path: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    // One short line: a JSON error message quotes the text it stopped at.
    throw new NestlabArgumentError(where, path, 'a readable JSON file', (e as Error).message.replace(/[\r\n\u2028\u2029]+/g, ' ').slice(0, 200));
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new NestlabArgumentError(where, path, 'a JSON object', typeof j === 'string' ? JSON.stringify(j.slice(0, 80)) : j);
  return j as Record<string, unknown>;
}
