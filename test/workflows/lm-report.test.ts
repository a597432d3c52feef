// The data of the feature dashboards, checked against direct computations on a tiny model: top
// contexts are the rows with the largest activations, logit effects are W_dec·W_Eᵀ (W_dec·W_U when
// untied), correlated latents are the largest Pearson r over rows, tag and genre shares sum to 1,
// and no context crosses a document boundary. Then the whole workflow on a capture folder on disk.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { writeNpy } from '../../src/data/npy.js';
import type { Matrix } from '../../src/data/matrix.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { lmArchitecture } from '../../src/lm/config.js';
import { createLm, disposeLm, type Lm } from '../../src/lm/model.js';
import { saveLm } from '../../src/lm/checkpoint.js';
import type { WordTokenizer } from '../../src/lm/tokenizer.js';
import { createSae, encodeSae, type Sae } from '../../src/sae/model.js';
import { saveSae } from '../../src/sae/checkpoint.js';
import { buildTextDashboard, type TextDashboardData, type TokenContext } from '../../src/report/text-dashboard.js';
import { lmSaeReport, textDashboardData, type TextDashboardCapture } from '../../src/workflows/lm-report.js';

const V = 20;
const D = 8;
const M = 16;
const RADIUS = 3;
/** Document d covers rows [STARTS[d], STARTS[d + 1]). */
const STARTS = [0, 37, 90, 95, 150, 200, 240];
const N = STARTS[STARTS.length - 1];

const tokenizer: WordTokenizer = { kind: 'word', lowercase: true, vocab: ['<unk>', '<doc>', ...Array.from({ length: V - 2 }, (_, i) => `w${i + 2}`)] };
const capture: TextDashboardCapture = {
  documents: [
    { id: 'ca01', genre: 'press' },
    { id: 'cf01', genre: 'lore' },
    { id: 'ca02', genre: 'press' },
    { id: 'cn01', genre: 'adventure' },
    { id: 'cf02', genre: 'lore' },
    { id: 'cg01', genre: 'belles lettres' },
  ],
  tagNames: ['', 'at', 'nn', 'vb', 'in'],
};

/** Synthetic capture rows: each document starts with <doc> at position 0, then words; random tags. */
function syntheticRows(): Int32Array {
  const rng = new Rng(5);
  const rows = new Int32Array(4 * N);
  for (let d = 0; d + 1 < STARTS.length; d++) {
    for (let r = STARTS[d]; r < STARTS[d + 1]; r++) {
      const pos = r - STARTS[d];
      rows[4 * r] = pos === 0 ? 1 : 2 + rng.int(V - 2);
      rows[4 * r + 1] = d;
      rows[4 * r + 2] = pos;
      rows[4 * r + 3] = pos === 0 ? 0 : 1 + rng.int(4);
    }
  }
  return rows;
}

function syntheticActs(): Matrix {
  return { data: new Rng(7).normalArray(N * D), rows: N, cols: D };
}

/** The SAE of the brief, with θ set so that each row is encoded on its own (batches do not matter). */
function tinySae(): Sae {
  const sae = createSae({ dIn: D, dSae: M, k: 2, prefixes: [4, M] }, { seed: 1 });
  sae.threshold = new Float32Array(M).fill(0.3);
  sae.params.bEnc[M - 1] = -100; // the last latent never fires
  return sae;
}

/** The dense code [N, M] by sae.encode, the reference every check reads. */
async function denseCode(sae: Sae, x: Matrix): Promise<Float32Array> {
  return (await encodeSae(sae, x, { dense: true })).data;
}

const docOf = (rows: Int32Array, r: number) => rows[4 * r + 1];

let lm: Lm;
let rows: Int32Array;
let acts: Matrix;
let sae: Sae;
let dense: Float32Array;
let data: TextDashboardData;

beforeAll(async () => {
  await initBackend();
  lm = createLm(lmArchitecture({ vocabSize: V, contextLength: 8, dModel: D, nLayers: 1, nHeads: 2 }), 0);
  rows = syntheticRows();
  acts = syntheticActs();
  sae = tinySae();
  dense = await denseCode(sae, acts);
  data = await textDashboardData(sae, acts, rows, tokenizer, lm, capture, { hook: 'blocks.0.hook_resid_pre', contextRadius: RADIUS, batchSize: 64 });
  return () => disposeLm(lm);
});

describe('textDashboardData on a tiny LM and SAE', () => {
  it('describes latents 0 … min(64, dSae)−1 with their density, group and max', () => {
    expect(data.latents.map((l) => l.latent)).toEqual(Array.from({ length: M }, (_, j) => j));
    expect(data.rows).toBe(N);
    for (const l of data.latents) {
      let fires = 0;
      let max = 0;
      for (let r = 0; r < N; r++) if (dense[r * M + l.latent] > 0) (fires++, (max = Math.max(max, dense[r * M + l.latent])));
      expect(l.fires).toBe(fires);
      expect(l.density).toBeCloseTo(fires / N, 12);
      expect(l.maxActivation).toBe(max);
      expect(l.group).toBe(l.latent < 4 ? 1 : 2);
      expect(l.histogram.reduce((a, h) => a + h.count, 0)).toBe(fires);
    }
    expect(data.latents.filter((l) => l.fires > 0).length).toBeGreaterThan(8); // the checks below see firing latents
    const dead15 = data.latents[M - 1];
    expect(dead15).toMatchObject({ fires: 0, density: 0, maxActivation: 0, topContexts: [], buckets: [], correlated: [], tags: [], genres: [] });
    // density histogram: every latent once, live in the bins, dead apart
    const dead = data.latents.filter((l) => l.fires === 0).length;
    expect(data.density.dead).toBe(dead);
    expect(dead).toBe(1);
    expect(data.density.counts.reduce((a, b) => a + b, 0)).toBe(M - dead);
  });

  it('takes the top contexts from the rows with the largest activations', () => {
    for (const l of data.latents) {
      const j = l.latent;
      const firing = Array.from({ length: N }, (_, r) => r).filter((r) => dense[r * M + j] > 0);
      firing.sort((a, b) => dense[b * M + j] - dense[a * M + j] || a - b);
      const expected = firing.slice(0, 10);
      expect(l.topContexts.map((c) => c.row)).toEqual(expected);
      for (const c of l.topContexts) expect(c.values[c.focus]).toBe(dense[c.row * M + j]);
    }
  });

  it('cuts every context at its document and fills it with the window tokens and activations', () => {
    const check = (c: TokenContext, j: number) => {
      const d = docOf(rows, c.row);
      const lo = Math.max(STARTS[d], c.row - RADIUS);
      const hi = Math.min(STARTS[d + 1] - 1, c.row + RADIUS);
      expect(c.row - c.focus).toBe(lo);
      expect(c.tokens.length).toBe(hi - lo + 1);
      for (let i = 0; i < c.tokens.length; i++) {
        const r = lo + i;
        expect(docOf(rows, r)).toBe(d);
        expect(c.tokens[i]).toBe(tokenizer.vocab[rows[4 * r]]);
        expect(c.values[i]).toBe(dense[r * M + j]);
      }
      expect(c.document).toBe(capture.documents[d].id);
      expect(c.genre).toBe(capture.documents[d].genre);
    };
    let nearBoundary = 0;
    for (const l of data.latents) {
      for (const c of [...l.topContexts, ...l.buckets.flatMap((b) => b.contexts)]) {
        check(c, l.latent);
        if (c.tokens.length < 2 * RADIUS + 1) nearBoundary++;
      }
    }
    expect(nearBoundary).toBeGreaterThan(0); // some windows were cut at a boundary
  });

  it('cuts at the document column even where positions run on, and at a gap in positions', async () => {
    // positions counted over the whole stream: only the document column marks the boundaries
    const global = rows.slice();
    for (let r = 0; r < N; r++) global[4 * r + 2] = r;
    // and a gap inside document 1 (rows 37–89): rows 60 and 61 are not consecutive tokens
    for (let r = 61; r < 90; r++) global[4 * r + 2] += 5;
    const d2 = await textDashboardData(sae, acts, global, tokenizer, lm, capture, { contextRadius: RADIUS, maxLatents: 8 });
    const cuts = [...STARTS.slice(1, -1), 61];
    let seen = 0;
    for (const l of d2.latents) {
      for (const c of [...l.topContexts, ...l.buckets.flatMap((b) => b.contexts)]) {
        const lo = c.row - c.focus;
        const hi = lo + c.tokens.length - 1;
        for (const cut of cuts) expect(lo < cut && hi >= cut, `context rows ${lo}–${hi} across ${cut}`).toBe(false);
        if (cuts.some((cut) => lo === cut || hi === cut - 1)) seen++;
      }
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('puts each interval contexts in its interval and counts every firing row once', () => {
    for (const l of data.latents.filter((x) => x.fires > 0)) {
      expect(l.buckets.map((b) => b.lo)).toEqual([0.8, 0.6, 0.4, 0.2, 0].map((v) => expect.closeTo(v, 12)));
      expect(l.buckets.reduce((a, b) => a + b.count, 0)).toBe(l.fires);
      for (const b of l.buckets) {
        expect(b.contexts.length).toBe(Math.min(3, b.count));
        for (const c of b.contexts) {
          const v = c.values[c.focus] / l.maxActivation;
          expect(v).toBeGreaterThanOrEqual(b.lo - 1e-7);
          expect(v < b.hi || b.hi === 1).toBe(true);
        }
      }
    }
  });

  it('gives logit effects W_dec[i]·W_Eᵀ for tied embeddings', () => {
    const wE = lm.params.get('embed.W_E')!.dataSync() as Float32Array;
    for (const l of [data.latents[0], data.latents[7]]) {
      const eff = Array.from({ length: V }, (_, v) => {
        let s = 0;
        for (let k = 0; k < D; k++) s += sae.params.wDec[l.latent * D + k] * wE[v * D + k];
        return s;
      });
      const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => eff[b] - eff[a]);
      expect(l.topLogits.map((t) => t.token)).toEqual(order.slice(0, 10).map((v) => tokenizer.vocab[v]));
      expect(l.bottomLogits.map((t) => t.token)).toEqual(order.slice(-10).reverse().map((v) => tokenizer.vocab[v]));
      l.topLogits.forEach((t, i) => expect(t.value).toBeCloseTo(eff[order[i]], 6));
    }
  });

  it('gives logit effects W_dec[i]·W_U for an untied unembedding', async () => {
    const untied = createLm(lmArchitecture({ vocabSize: V, contextLength: 8, dModel: D, nLayers: 1, nHeads: 2, tiedEmbeddings: false }), 2);
    try {
      const d2 = await textDashboardData(sae, acts, rows, tokenizer, untied, capture, { maxLatents: 3, logitTokens: 4 });
      const wU = untied.params.get('unembed.W_U')!.dataSync() as Float32Array;
      const j = 2;
      const eff = Array.from({ length: V }, (_, v) => {
        let s = 0;
        for (let k = 0; k < D; k++) s += sae.params.wDec[j * D + k] * wU[k * V + v];
        return s;
      });
      const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => eff[b] - eff[a]);
      expect(d2.latents[j].topLogits.map((t) => t.token)).toEqual(order.slice(0, 4).map((v) => tokenizer.vocab[v]));
      d2.latents[j].bottomLogits.forEach((t, i) => expect(t.value).toBeCloseTo(eff[order[V - 1 - i]], 6));
    } finally {
      disposeLm(untied);
    }
  });

  it('lists the most correlated latents by a direct Pearson r over all rows', () => {
    const col = (j: number) => Array.from({ length: N }, (_, r) => dense[r * M + j]);
    const pearson = (a: number[], b: number[]) => {
      const ma = a.reduce((s, v) => s + v, 0) / N;
      const mb = b.reduce((s, v) => s + v, 0) / N;
      let sab = 0;
      let saa = 0;
      let sbb = 0;
      for (let r = 0; r < N; r++) (sab += (a[r] - ma) * (b[r] - mb)), (saa += (a[r] - ma) ** 2), (sbb += (b[r] - mb) ** 2);
      return sab / Math.sqrt(saa * sbb);
    };
    let compared = 0;
    for (const l of data.latents.filter((x) => x.fires > 0)) {
      const rs = Array.from({ length: M }, (_, k) => k)
        .filter((k) => k !== l.latent && col(k).some((v) => v > 0))
        .map((k) => ({ latent: k, correlation: pearson(col(l.latent), col(k)) }))
        .filter((x) => x.correlation > 0)
        .sort((a, b) => b.correlation - a.correlation)
        .slice(0, 5);
      expect(l.correlated.map((c) => c.latent)).toEqual(rs.map((c) => c.latent));
      l.correlated.forEach((c, i) => expect(c.correlation).toBeCloseTo(rs[i].correlation, 8));
      compared += rs.length;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('gives tag and genre shares of the firing rows that sum to 1', () => {
    for (const l of data.latents.filter((x) => x.fires > 0)) {
      for (const shares of [l.tags, l.genres]) expect(shares.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 12);
      const tagCounts = new Map<string, number>();
      const genreCounts = new Map<string, number>();
      for (let r = 0; r < N; r++) {
        if (!(dense[r * M + l.latent] > 0)) continue;
        const tag = capture.tagNames[rows[4 * r + 3]];
        const genre = capture.documents[docOf(rows, r)].genre;
        tagCounts.set(tag, (tagCounts.get(tag) ?? 0) + 1);
        genreCounts.set(genre, (genreCounts.get(genre) ?? 0) + 1);
      }
      expect(Object.fromEntries(l.tags.map((s) => [s.name, s.share]))).toEqual(Object.fromEntries([...tagCounts].map(([k, c]) => [k, c / l.fires])));
      expect(Object.fromEntries(l.genres.map((s) => [s.name, s.share]))).toEqual(Object.fromEntries([...genreCounts].map(([k, c]) => [k, c / l.fires])));
      for (let i = 1; i < l.tags.length; i++) expect(l.tags[i].share).toBeLessThanOrEqual(l.tags[i - 1].share);
    }
  });

  it('does not depend on how rows are batched (θ set: rows are encoded on their own)', async () => {
    const one = await textDashboardData(sae, acts, rows, tokenizer, lm, capture, { hook: 'blocks.0.hook_resid_pre', contextRadius: RADIUS, batchSize: 4096 });
    expect(one.latents.map((l) => l.correlated)).toEqual(data.latents.map((l) => l.correlated.map((c) => ({ latent: c.latent, correlation: expect.closeTo(c.correlation, 10) }))));
    expect(one.latents.map((l) => l.topContexts)).toEqual(data.latents.map((l) => l.topContexts));
  });

  it('reads a BatchTopK SAE without θ with the batch selection, and says so', async () => {
    const noTheta = createSae({ dIn: D, dSae: M, k: 2, prefixes: [4, M] });
    const d2 = await textDashboardData(noTheta, acts, rows, tokenizer, lm, capture, { maxLatents: 4 });
    const fires = d2.latents.reduce((a, l) => a + l.fires, 0);
    expect(fires).toBeGreaterThan(0);
    expect(d2.notes?.join(' ')).toContain('θ not estimated');
  });

  it('refuses mismatched inputs, naming the argument', async () => {
    const badRows = rows.slice();
    badRows[4 * 5 + 1] = 99;
    await expect(textDashboardData(sae, acts, badRows, tokenizer, lm, capture)).rejects.toThrow('report.textDashboardData: rows[5] document must be a document index in [0, 5], got 99');
    await expect(textDashboardData(sae, acts, rows.subarray(4), tokenizer, lm, capture)).rejects.toThrow(NestlabArgumentError);
    await expect(textDashboardData(sae, acts, rows, { ...tokenizer, vocab: tokenizer.vocab.slice(1) }, lm, capture)).rejects.toThrow("tokenizer must be a word tokenizer of the model's 20 tokens");
    await expect(textDashboardData(sae, acts, rows, tokenizer, lm, capture, { maxLatents: 17 })).rejects.toThrow('options.maxLatents must be an integer in [1, 16]');
    await expect(textDashboardData(sae, acts, rows, tokenizer, lm, capture, { radius: 2 } as never)).rejects.toThrow('options.radius must be one of the known options');
  });

  it('renders into a page with one card per latent', () => {
    const html = buildTextDashboard(data);
    expect(html.match(/<section class="card/g)).toHaveLength(M);
    expect(html.match(/<tr data-i="/g)).toHaveLength(M);
  });
});

describe('lmSaeReport on a capture folder', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nestlab-lm-report-'));
    const cap = join(dir, 'capture');
    // two shards, split inside a document, so that contexts span shards
    const split = 120;
    for (const [h, width] of [['blocks.0.hook_resid_pre', D], ['rows', 4]] as const) {
      mkdirSync(join(cap, h), { recursive: true });
      const src = h === 'rows' ? rows : acts.data;
      writeNpy(join(cap, h, 'part-00000.npy'), { shape: [split, width], data: src.slice(0, split * width) });
      writeNpy(join(cap, h, 'part-00001.npy'), { shape: [N - split, width], data: src.slice(split * width) });
    }
    const summary = { lm: 'lm', hooks: ['blocks.0.hook_resid_pre'], split: 'test', rows: N, contextLength: 8, dModel: D, shards: 2, rowColumns: ['token', 'document', 'position', 'tag'], ...capture };
    writeFileSync(join(cap, 'capture.json'), JSON.stringify(summary));
    saveSae(sae, join(dir, 'sae'));
    await saveLm(lm, tokenizer, join(dir, 'lm'));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  /** The sort and filter data of a page: what its index table shows. */
  const indexData = (html: string) => JSON.parse(/<script type="application\/json" id="index-data">([\s\S]*?)<\/script>/.exec(html)![1]);

  it('writes <sae>/dashboard.html with what textDashboardData computes from the same rows', async () => {
    const res = await lmSaeReport({ sae: join(dir, 'sae'), lm: join(dir, 'lm'), capture: join(dir, 'capture'), contextRadius: RADIUS });
    expect(res.path).toBe(join(dir, 'sae', 'dashboard.html'));
    expect(res.rows).toBe(N);
    expect(res.latents).toBe(M);
    expect(res.seconds).toBeGreaterThan(0);
    const html = readFileSync(res.path, 'utf8');
    const inMemory = buildTextDashboard(data);
    expect(indexData(html)).toEqual(indexData(inMemory));
    // every card the same, contexts included: some span the two shards (row 120 lies in document 3, rows 95–149)
    const cards = (page: string) => page.slice(page.indexOf('<h2>Latent dashboards</h2>'));
    expect(cards(html)).toBe(cards(inMemory));
    expect(data.latents.some((l) => l.topContexts.some((c) => c.row - c.focus < 120 && c.row - c.focus + c.tokens.length > 120))).toBe(true);
    expect(html).toContain('hook <code>blocks.0.hook_resid_pre</code>');
    expect(html).toContain('Content-Security-Policy');
  });

  it('reads at most maxRows rows and refuses a hook the capture lacks', async () => {
    const out = join(dir, 'small.html');
    const res = await lmSaeReport({ sae: join(dir, 'sae'), lm: join(dir, 'lm'), capture: join(dir, 'capture'), hook: 'blocks.0.hook_resid_pre', out, maxRows: 100, maxLatents: 4 });
    expect(res).toMatchObject({ path: out, rows: 100, latents: 4 });
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out, 'utf8')).toContain('100 of 240 rows');
    await expect(lmSaeReport({ sae: join(dir, 'sae'), lm: join(dir, 'lm'), capture: join(dir, 'capture'), hook: 'blocks.1.hook_resid_pre' })).rejects.toThrow(
      "report.lmSaeReport: options.hook must be one of the capture's hooks (blocks.0.hook_resid_pre), got blocks.1.hook_resid_pre",
    );
  });
});
