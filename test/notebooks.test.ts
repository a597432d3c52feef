// Executes every notebook headless at smoke size on the tslab kernel (needs the README's
// set-up: Jupyter from Debian's packages and the kernel registration, and a built dist/).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { executeNotebook, listNotebooks } from '../src/notebooks.js';
import { VEGA_LITE_MIME } from '../src/plot/display.js';

const hasJupyter = spawnSync('jupyter', ['kernelspec', 'list'], { encoding: 'utf8' }).stdout?.includes('tslab') ?? false;
// In CI the set-up must have worked: a missing kernel is a failure there, not a skip.
const skip = !hasJupyter && process.env.CI !== 'true';

/** What each notebook must show besides running without error. */
const EXPECTED_OUTPUTS: Record<string, string[]> = {
  '00-quickstart.ipynb': [VEGA_LITE_MIME, 'image/svg+xml', 'image/png', 'text/html'],
  '01-matryoshka-representations.ipynb': [VEGA_LITE_MIME, 'text/html'],
  '02-matryoshka-sae.ipynb': [VEGA_LITE_MIME, 'text/html'],
  '03-topological-rsa.ipynb': [VEGA_LITE_MIME, 'text/html'],
  '04-topology-probes.ipynb': [VEGA_LITE_MIME, 'text/html'],
  '05-geometry-across-sizes.ipynb': [VEGA_LITE_MIME, 'text/html'],
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
    });
  }
});
