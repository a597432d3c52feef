// Makes `import ... from 'nestlab'` resolve inside this checkout (notebooks, tslab's type
// checker): node_modules/nestlab -> the repository root. Idempotent.
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const link = join(root, 'node_modules', 'nestlab');
mkdirSync(dirname(link), { recursive: true });
let current = null;
try {
  if (lstatSync(link).isSymbolicLink()) current = readlinkSync(link);
  else rmSync(link, { recursive: true, force: true });
} catch {}
if (current !== '..') {
  if (current !== null) rmSync(link);
  symlinkSync('..', link, 'dir');
}
