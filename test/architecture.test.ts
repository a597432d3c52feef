// The layer check: src/ imports only downward (ARCHITECTURE.md), with no cycles, type-only
// imports included. Runs dependency-cruiser with the repository's .dependency-cruiser.cjs.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs the layer check on `src` of `cwd` and returns the violations. */
function violations(cwd: string): Violation[] {
  const r = spawnSync(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[] } };
  return out.summary.violations;
}

describe('layers', () => {
  it('src/ has no upward import, no import between peers of a layer, and no cycle', () => {
    const found = violations(ROOT).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
    expect(found).toEqual([]);
  });

  it('the check catches an upward import, a peer import, a type-only cycle and an unlayered module', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-layers-'));
    const files: Record<string, string> = {
      'src/errors.ts': 'export const e = 1;\n',
      'src/math/order.ts': "import { train } from '../sae/train.js';\nexport const o = train;\n",
      'src/sae/train.ts': "import { rdm } from '../rsa/rdm.js';\nexport const train = rdm;\n",
      'src/rsa/rdm.ts': 'export const rdm = 1;\n',
      'src/data/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
      'src/data/b.ts': "import type { A } from './a.js';\nexport type B = { a?: A };\n",
      'src/scratch/x.ts': "import { e } from '../errors.js';\nexport const x = e;\n",
      'tsconfig.build.json': '{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext" }, "include": ["src"] }\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const rules = new Set(violations(dir).map((v) => v.rule.name));
    expect(rules).toContain('no-upward-from-layer-1'); // math -> sae
    expect(rules).toContain('no-peer-import-sae'); // sae -> rsa
    expect(rules).toContain('no-circular'); // data/a <-> data/b, types only
    expect(rules).toContain('no-unlayered-module'); // src/scratch
  });
});
