// The mrl-retrieval figure at smoke size: MRL against separately trained FF-m models, over 3 seeds.
import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { MRL_RETRIEVAL_METHODS, mrlRetrieval } from '../../src/experiments/mrl-retrieval.js';

type Result = Awaited<ReturnType<typeof mrlRetrieval.run>>;

describe('mrl-retrieval at smoke size', () => {
  let r: Result;
  beforeAll(async () => {
    await initBackend();
    r = await mrlRetrieval.run({ size: 'smoke' });
  });
  const mean = (method: string, m: number) => r.meta.mapAt10[method][m].mean;

  it('has FF-m rows (method exactly "FF-m") for every size and seed, beside MRL and the FF-d baselines', () => {
    expect(r.meta.seeds).toEqual([0, 1, 2]);
    const { nesting, embeddingDim: d } = r.meta.params;
    for (const method of MRL_RETRIEVAL_METHODS) {
      for (const m of nesting) {
        for (const seed of r.meta.seeds) {
          expect(r.rows.filter((x) => x.kind === 'size' && x.method === method && x.size === m && x.seed === seed), `${method} m=${m} seed ${seed}`).toHaveLength(1);
        }
      }
    }
    const funnels = r.rows.filter((x) => x.kind === 'funnel');
    expect(funnels).toHaveLength(3 * nesting.filter((m) => m < d).length);
    for (const f of funnels) expect(f.cost).toBe(f.size * r.meta.databaseRows + d * r.meta.shortlist);
  });

  it('FF-m retrieves better as m grows, and FF-d searched with all its units is FF-m at m = d', () => {
    const { nesting, embeddingDim: d } = r.meta.params;
    for (let i = 1; i < nesting.length; i++) expect(mean('FF-m', nesting[i])).toBeGreaterThan(mean('FF-m', nesting[i - 1]));
    for (let i = 1; i < nesting.length; i++) expect(mean('MRL', nesting[i])).toBeGreaterThan(mean('MRL', nesting[i - 1]));
    expect(r.meta.mapAt10['FF (first m units)'][d]).toEqual(r.meta.mapAt10['FF-m'][d]);
    expect(mean('MRL', d)).toBeGreaterThan(mean('FF-m', d) - 0.05);
    expect(r.meta.fullSizeMapAt10).toEqual(r.meta.mapAt10.MRL[d]);
  });

  it('re-ranking a shortlist with all d dims recovers most of single-shot full-size search at less cost', () => {
    const last = r.meta.funnels[r.meta.funnels.length - 1];
    expect(last.costRatio).toBeGreaterThan(1);
    expect(last.mapAt10.mean).toBeGreaterThan(r.meta.fullSizeMapAt10.mean - 0.05);
    for (const f of r.meta.funnels) expect(f.mapAt10.mean).toBeGreaterThan(mean('MRL', f.size)); // a funnel beats its shortlist's size alone
    expect(r.meta.verdict.some((l) => l.startsWith(`mAP@10, MRL vs FF-m per size`))).toBe(true);
  });

  it('draws funnels in numeric order with distinct colors, the line on top, and a zoomed y axis', () => {
    const spec = JSON.stringify(r.spec);
    expect(spec).toContain('"type":"ordinal","sort":"ascending"');
    expect(spec).toContain('"scheme":"dark2"');
    expect(spec).toContain('"labelLimit":0');
    expect(spec).toContain('"zero":false');
    expect(spec).toContain('mean over 3 seeds; bars: ± 1 sd over the 3 seeds');
    // the single-shot line comes after the funnel diamonds in the adaptive panel's layers
    expect(spec.indexOf('"shape":"diamond"')).toBeLessThan(spec.indexOf('"type":"line","color":"#333"'));
  });
});
