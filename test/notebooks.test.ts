// Executes every notebook headless at smoke size on the tslab kernel (needs the README's
// set-up: Jupyter from Debian's packages and the kernel registration, and a built dist/).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executeNotebook, listNotebooks } from '../src/notebooks.js';
import { VEGA_LITE_MIME } from '../src/plot/display.js';

const hasJupyter = spawnSync('jupyter', ['kernelspec', 'list'], { encoding: 'utf8' }).stdout?.includes('tslab') ?? false;
// In CI the set-up must have worked: a missing kernel is a failure there, not a skip.
const skip = !hasJupyter && process.env.CI !== 'true';

/**
 * A notebook runs several figures end to end (07 trains four GPTs at smoke size: 108 s alone on
 * this machine, over the 180 s default when the machine is shared), so it gets more than a unit test.
 */
const NOTEBOOK_TIMEOUT_MS = 600_000;

/** What each notebook must show besides running without error. */
const EXPECTED_OUTPUTS: Record<string, string[]> = {
  '00-quickstart.ipynb': [VEGA_LITE_MIME, 'image/png', 'text/html'],
  '01-matryoshka-representations.ipynb': [VEGA_LITE_MIME, 'image/png', 'text/html'],
  '02-matryoshka-sae.ipynb': ['image/png', 'text/html'],
  '03-topological-rsa.ipynb': ['image/png', 'text/html'],
  '04-topology-probes.ipynb': ['image/png', 'text/html'],
  '05-geometry-across-sizes.ipynb': ['image/png', 'text/html'],
  '06-sae-on-a-language-model.ipynb': ['image/png', 'text/html'],
  '07-seed-methods.ipynb': ['image/png'],
};

describe.skipIf(skip)('notebooks execute headless at smoke size', () => {
  it('every notebook has its expected outputs listed here', () => {
    expect(listNotebooks(join(import.meta.dirname, '..', 'notebooks')).map((n) => n.split('/').pop()).sort()).toEqual(Object.keys(EXPECTED_OUTPUTS).sort());
  });

  for (const nb of listNotebooks(join(import.meta.dirname, '..', 'notebooks'))) {
    const name = nb.split('/').pop()!;
    it(name, async () => {
      const run = await executeNotebook(nb, 'smoke');
      expect(run.error).toBeUndefined();
      expect(run.ok).toBe(true);
      for (const mime of EXPECTED_OUTPUTS[name] ?? []) expect(run.mimeTypes).toContain(mime);
    }, NOTEBOOK_TIMEOUT_MS);
  }
});

describe('notebooks use the typed API', () => {
  it('have no type casts (figure results and the API are typed) and import from nestlab only', () => {
    for (const nb of listNotebooks(join(import.meta.dirname, '..', 'notebooks'))) {
      const cells = (JSON.parse(readFileSync(nb, 'utf8')) as { cells: { cell_type: string; source: string[] }[] }).cells;
      const code = cells.filter((c) => c.cell_type === 'code').map((c) => c.source.join('')).join('\n');
      // Strings and templates are text, not code: drop them before looking for `as`.
      const bare = (line: string) => line.replace(/\/\/.*$/, '').replace(/import \* as \w+ from/, '').replace(/`[^`]*`|'[^']*'|"[^"]*"/g, '""');
      const casts = code.split('\n').filter((line) => /\bas\s+(const\b|[A-Za-z_{[(<])/.test(bare(line)));
      expect(casts, nb).toEqual([]);
      expect(code, nb).not.toMatch(/from '\.\.?\//); // no relative imports of the library
      expect(code, nb).not.toMatch(/:\s*any\b/);
    }
  });
});

describe('numbers in notebook prose come from saved results', () => {
  // A measured number is a decimal or a percentage. Every one a markdown cell states must be a
  // value (at the precision written) of the saved result of a figure the notebook loads, so
  // text cannot drift from figures/<id>.result.json. Integers (sizes, counts of a setup, years)
  // are not measurements; the cells print measured counts from the results.
  const root = join(import.meta.dirname, '..');
  const numbersOf = (value: unknown, out: number[] = []): number[] => {
    if (typeof value === 'number') out.push(value);
    else if (Array.isArray(value)) for (const v of value) numbersOf(v, out);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) numbersOf(v, out);
    return out;
  };

  it('every decimal or percentage in a markdown cell matches its notebook figures’ saved results', () => {
    for (const nb of listNotebooks(join(root, 'notebooks'))) {
      const cells = (JSON.parse(readFileSync(nb, 'utf8')) as { cells: { cell_type: string; source: string[] }[] }).cells;
      const code = cells.filter((c) => c.cell_type === 'code').map((c) => c.source.join('')).join('\n');
      const ids = [...code.matchAll(/figure\('([\w-]+)'/g)].map((m) => m[1]);
      const saved = ids.flatMap((id) => {
        const { rows, meta } = JSON.parse(readFileSync(join(root, 'figures', `${id}.result.json`), 'utf8')) as { rows: unknown; meta: unknown };
        return numbersOf([meta, rows]);
      });
      for (const cell of cells.filter((c) => c.cell_type === 'markdown')) {
        const prose = cell.source.join('').replace(/`[^`]*`/g, ''); // code spans are code, not claims
        for (const m of prose.matchAll(/(?<![\w.§])(\d+(?:\.\d+)?\s?%|\d+\.\d+)/g)) {
          const text = m[1];
          const isPercent = text.endsWith('%');
          const value = Number.parseFloat(text);
          const places = (text.replace(/\s?%$/, '').split('.')[1] ?? '').length;
          const tolerance = 0.5 * 10 ** -places * (isPercent ? 0.01 : 1);
          const target = isPercent ? value / 100 : value;
          const found = saved.some((v) => Math.abs(v - target) <= tolerance + 1e-12);
          expect(found, `${nb.split('/').pop()}: "${text}" is not a value of ${ids.join(', ') || 'any loaded figure'}'s saved result`).toBe(true);
        }
      }
    }
  });
});
