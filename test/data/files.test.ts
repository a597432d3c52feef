// Atomic writes: a file or a folder appears under its name complete or not at all; failures are
// one-line NestlabIoErrors naming the path; a checkpoint commit keeps the newest step folders and
// sweeps what killed runs left behind.
import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitCheckpoint, writeFileAtomic, writeFolderAtomic } from '../../src/data/files.js';
import { NestlabIoError } from '../../src/errors.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'nestlab-files-'));

describe('writeFileAtomic', () => {
  it('writes the contents, creating the folder, and leaves no temporary file', () => {
    const dir = fresh();
    writeFileAtomic(join(dir, 'a', 'b.json'), '{"x": 1}');
    expect(readFileSync(join(dir, 'a', 'b.json'), 'utf8')).toBe('{"x": 1}');
    expect(readdirSync(join(dir, 'a'))).toEqual(['b.json']);
  });

  it('names the path and the reason when it cannot write (a file where a folder should be)', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'plain'), 'x');
    const target = join(dir, 'plain', 'out.json');
    let error: unknown;
    try {
      writeFileAtomic(target, 'y', 'sae.train');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NestlabIoError);
    const e = error as NestlabIoError;
    expect(e.code).toMatch(/^(ENOTDIR|EEXIST)$/);
    expect(e.message).toMatch(new RegExp(`^sae\\.train: cannot create the folder ${join(dir, 'plain')}: .* \\((ENOTDIR|EEXIST)\\)$`));
  });
});

describe('writeFolderAtomic', () => {
  it('shows the folder only once every file is in it, replacing an older one of the same name', () => {
    const dir = fresh();
    const folder = join(dir, 'step-00000010');
    mkdirSync(folder);
    writeFileSync(join(folder, 'old.txt'), 'old');
    const seen = writeFolderAtomic(folder, (tmp) => {
      writeFileSync(join(tmp, 'a.txt'), 'a');
      expect(readdirSync(folder)).toEqual(['old.txt']); // the previous version is still in force
      writeFileSync(join(tmp, 'b.txt'), 'b');
      return readdirSync(tmp).length;
    });
    expect(seen).toBe(2);
    expect(readdirSync(folder).sort()).toEqual(['a.txt', 'b.txt']);
    expect(readdirSync(dir)).toEqual(['step-00000010']);
  });

  it('leaves nothing when the writer fails, and names the file by its final folder', () => {
    const dir = fresh();
    const folder = join(dir, 'step-00000002');
    expect(() => writeFolderAtomic(folder, () => {
      throw new Error('disk on fire');
    })).toThrow('disk on fire');
    const blocked = join(dir, 'step-00000003');
    let error: unknown;
    try {
      writeFolderAtomic(blocked, (tmp) => {
        writeFileSync(join(tmp, 'file'), '');
        writeFileAtomic(join(tmp, 'file', 'w.safetensors'), 'z', 'sae.train');
      }, 'sae.train');
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(new RegExp(`^sae\\.train: cannot create the folder ${blocked}/file: `));
    expect((error as NestlabIoError).path).toBe(join(blocked, 'file'));
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('commitCheckpoint', () => {
  it('points latest.json at the step, keeps the newest by number and sweeps leftovers of killed runs', () => {
    const dir = fresh();
    for (const n of ['step-00000009', 'step-00000010', 'step-99999999', 'step-100000000', '.staging-step-00000011.123.456', '.staging-old-step-00000010.1.2']) mkdirSync(join(dir, n));
    writeFileSync(join(dir, '.latest.json.123.456.tmp'), '{');
    commitCheckpoint(dir, 'step-100000000', { step: 100000000, folder: 'step-100000000' }, 2);
    expect(readdirSync(dir).sort()).toEqual(['latest.json', 'step-100000000', 'step-99999999']);
    expect(JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'))).toEqual({ step: 100000000, folder: 'step-100000000' });
    expect(existsSync(join(dir, 'step-00000010'))).toBe(false);
  });
});
