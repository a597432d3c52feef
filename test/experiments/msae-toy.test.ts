import { describe, it, expect } from 'vitest';
import { mkdtempSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MSAE_TOY_MODELS, msaeToy } from '../../src/experiments/msae-toy.js';
import { writeFigure } from '../../src/experiments/figure.js';

describe('msae-toy', () => {
  it('trains flat and Matryoshka SAEs (ReLU + L1 as the paper, and BatchTopK) on the tree toy; the Matryoshka SAEs absorb less', async () => {
    const r = await msaeToy.run({ size: 'smoke', seed: 0 });
    expect(r.meta.id).toBe('msae-toy');
    const cos = r.rows.filter((x) => x.kind === 'cosine');
    expect(cos).toHaveLength(4 * 20 * 20 * r.meta.params.seeds); // every seed's heat map
    const abs = r.rows.filter((x) => x.kind === 'absorption');
    expect(abs.map((x) => x.model)).toEqual([...MSAE_TOY_MODELS]);
    // Smoke size (1,500 steps, seed 0; pure-JS path, deterministic). The paper's ReLU + L1 recipe
    // reproduces its toy even this short: the flat SAE absorbs every parent (its children's
    // decoders lean toward the parent) and learns every feature; the Matryoshka SAE absorbs none.
    const m = r.meta;
    expect(m['flat ReLU'].absorption).toBe(1);
    expect(m['flat ReLU'].unlearned).toBe(0);
    expect(m['Matryoshka ReLU'].absorption).toBe(0);
    expect(m['Matryoshka ReLU'].matchedCosine).toBeGreaterThan(m['flat ReLU'].matchedCosine);
    expect(m['Matryoshka BatchTopK'].absorption).toBeLessThan(m['flat BatchTopK'].absorption);
    // the ReLU controller steers L0 toward the toy's 1.12: the flat SAE's absorbed code is shorter (0.85 in the paper)
    expect(m['Matryoshka ReLU'].l0).toBeGreaterThan(m['flat ReLU'].l0);
    expect(Math.abs(m['Matryoshka ReLU'].l0 - 1.12)).toBeLessThan(0.15);
    // BatchTopK keeps θ; ReLU has none
    expect(m['flat BatchTopK'].perSeed[0].threshold).toBeGreaterThan(0);
    expect(m['flat ReLU'].perSeed[0].threshold).toBe(-1);
    expect(Object.keys(r.rows[0]).sort()).toEqual(Object.keys(cos[5]).sort());
    const dir = mkdtempSync(join(tmpdir(), 'msae-toy-'));
    try {
      const files = await writeFigure(r, dir);
      expect(statSync(files.png).size).toBeGreaterThan(1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('rejects unknown options', async () => {
    await expect(msaeToy.run({ size: 'big' as never })).rejects.toThrow(/options.size/);
  });
});
