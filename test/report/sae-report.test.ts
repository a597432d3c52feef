import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { loadMnist } from '../../src/data/mnist.js';
import { trainSae } from '../../src/sae/train.js';
import { cloneSae, type Sae } from '../../src/sae/model.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { buildSaeReport, divergingColor, grayImagePng, prefixGroup, summarizeLatents, writeSaeReport } from '../../src/report/sae-report.js';
import { decodePng, isPng } from '../helpers/png-decode.js';
import { unbalancedTag } from '../helpers/markup.js';

const PREFIXES = [4, 8, 16, 32];
let sae: Sae;
let test: ReturnType<typeof loadMnist>['test'];

/** Every `<svg>…</svg>` block of the page. */
function svgBlocks(html: string): string[] {
  return [...html.matchAll(/<svg[\s>][\s\S]*?<\/svg>/g)].map((m) => m[0]);
}

/** The PNGs in data: URIs, decoded from base64. */
function dataPngs(html: string): Uint8Array[] {
  return [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((m) => new Uint8Array(Buffer.from(m[1], 'base64')));
}

beforeAll(async () => {
  await initBackend();
  const mnist = loadMnist({ limit: 1200 });
  test = mnist.test; // 240 digits: every class has rows for both halves of the probes' split
  // A tiny Matryoshka BatchTopK SAE, a few steps on 960 digits: enough for a report to describe.
  ({ sae } = await trainSae(mnist.train.x, {
    architecture: { dIn: 784, dSae: 32, k: 4, prefixes: PREFIXES },
    training: { batchSize: 96, epochs: 2, learningRate: 2e-3, warmupSteps: 2, thresholdStart: 4, bDecInit: 'mean' },
  }));
});

describe('buildSaeReport on a pixel SAE (MNIST)', () => {
  let html: string;
  beforeAll(async () => {
    html = await buildSaeReport(sae, { x: test.x, y: test.y, imageShape: [28, 28], ink: true }, { maxLatents: 12, dataDescription: 'MNIST <test> subset', date: new Date('2025-01-02T03:04:00Z') });
  });

  it('is one self-contained page: no script, no stylesheet link, no http(s) URL', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<iframe/i);
    for (const m of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) expect(m[1]).toMatch(/^(data:image\/png;base64,|#latent-\d+$)/);
  });

  it('has the header, one metrics row per prefix, and escapes text', () => {
    expect(html).toContain('<title>Matryoshka SAE report</title>');
    expect(html).toContain('MNIST &lt;test&gt; subset');
    expect(html).toContain('2025-01-02 03:04 UTC');
    expect(html).toContain('<dt>prefixes</dt><dd>[4, 8, 16, 32]</dd>');
    expect(html.match(/<tr class="prefix-row">/g)).toHaveLength(PREFIXES.length);
    const firstCells = [...html.matchAll(/<tr class="prefix-row"><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(firstCells).toEqual(PREFIXES);
    for (const h of ['MSE', 'FVU', 'explained variance', 'L0', 'dead fraction', 'dense fraction']) expect(html).toContain(`<th>${h}</th>`);
  });

  it('has one card per latent, in prefix order with its group', () => {
    const ids = [...html.matchAll(/<section class="card[^"]*" id="latent-(\d+)"/g)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(html).toContain('group 1 · latents 0–3');
    expect(html).toContain('group 3 · latents 8–15');
  });

  it('inlines well-formed SVG charts: the reconstruction and density charts plus a histogram and a label chart per live latent', () => {
    const blocks = svgBlocks(html);
    const live = 12 - (html.match(/<section class="card dead"/g) ?? []).length;
    expect(blocks.length).toBe(2 + 2 * live);
    for (const svg of blocks) expect(unbalancedTag(svg)).toBeNull();
    expect(html).toContain('Explained variance');
    // ids stay unique across the page
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("adds SAEBench's density per group and, with labels, k-sparse probing and absorption per prefix", () => {
    expect(html).toContain('Feature density per group');
    const groups = html.match(/<tr class="density-row">/g) ?? [];
    expect(groups.length).toBe(sae.cfg.prefixes.length);
    const probeRows = [...html.matchAll(/<tr class="probe-row"><td>([^<]+)<\/td><td>([^<]+)<\/td>/g)];
    expect(probeRows.map((m) => m[1])).toEqual([...sae.cfg.prefixes.map(String), 'input']);
    // 1-sparse probing on MNIST digits is far above chance (0.5 for balanced one-vs-rest tasks)
    for (const m of probeRows) expect(Number(m[2])).toBeGreaterThan(0.6);
  });

  it('embeds decodable PNGs: 28x28 digits, 28x28 decoder directions', () => {
    const pngs = dataPngs(html);
    expect(pngs.length).toBeGreaterThan(12);
    const sizes = new Map<string, number>();
    for (const png of pngs) {
      expect(isPng(png)).toBe(true);
      const img = decodePng(png);
      const key = `${img.width}x${img.height}x${img.channels}`;
      sizes.set(key, (sizes.get(key) ?? 0) + 1);
    }
    expect(sizes.get('28x28x3')).toBe(12); // one decoder direction per card
    expect(sizes.get('28x28x1')).toBeGreaterThan(0); // top-activating digits
    expect([...sizes.keys()].sort()).toEqual(['28x28x1', '28x28x3']);
  });
});

describe('latent summaries', () => {
  it('counts firings, orders the top rows and bins the activations (hand-made code)', () => {
    // 4 rows, 3 latents. Row 0: {0: 1, 2: 3}; row 1: {0: 2}; row 2: {}; row 3: {0: 2, 1: 0.5}.
    const code = { rows: 4, dSae: 3, ptr: Int32Array.of(0, 2, 3, 3, 5), idx: Int32Array.of(0, 2, 0, 0, 1), val: Float32Array.of(1, 3, 2, 2, 0.5) };
    const y = Int32Array.of(1, 0, 1, 1);
    const [l0, l1, l2] = summarizeLatents(code, [1, 3], 3, { top: 2, labelTop: 2, bins: 2, y, classes: 2 });
    expect(l0.fires).toBe(3);
    expect(l0.frequency).toBe(0.75);
    expect(l0.topRows).toEqual([1, 3]); // tie at 2: lower row first
    expect(l0.topValues).toEqual([2, 2]);
    expect(l0.meanActivation).toBeCloseTo(5 / 3);
    expect(l0.histogram).toEqual([{ lo: 0, hi: 1, count: 0 }, { lo: 1, hi: 2, count: 3 }]); // 1 falls in [1, 2), the max in the last bin
    expect(l0.labelCounts).toEqual([{ label: 0, count: 1 }, { label: 1, count: 1 }]); // labels of rows 1 and 3 (tie: lower label first)
    expect([l0.group, l1.group, l2.group]).toEqual([1, 2, 2]);
    expect(l2.topRows).toEqual([0]);
    expect(prefixGroup([16, 32, 64], 16)).toBe(2);
  });

  it('maps the diverging scale through white at zero', () => {
    expect(divergingColor(0)).toEqual([247, 247, 247]);
    expect(divergingColor(-1)).toEqual([5, 48, 97]);
    expect(divergingColor(1)).toEqual([103, 0, 31]);
    expect(divergingColor(5)).toEqual([103, 0, 31]);
  });
});

describe('buildSaeReport on other inputs', () => {
  it('flags a latent that never fires as dead', async () => {
    const s = cloneSae(sae);
    s.params.bEnc[2] = -1e6;
    const html = await buildSaeReport(s, { x: test.x, y: test.y }, { maxLatents: 4 });
    expect(html).toMatch(/<section class="card dead" id="latent-2"/);
    expect(html).toContain('<span class="flag">DEAD</span>');
    expect(html).toMatch(/<a class="chip dead"[^>]*href="#latent-2"/);
  });

  it('shows top rows as a table when the inputs are not images, and separate pictures when given', async () => {
    const { trainSae: train } = await import('../../src/sae/train.js');
    const rows = test.x.rows;
    const feats = new Float32Array(rows * 6);
    for (let i = 0; i < rows; i++) for (let j = 0; j < 6; j++) feats[i * 6 + j] = test.x.data[i * 784 + 300 + 20 * j];
    const x = { data: feats, rows, cols: 6 };
    const { sae: small } = await train(x, { architecture: { dIn: 6, dSae: 8, k: 2, prefixes: [2, 8] }, training: { batchSize: 40, epochs: 1, bDecInit: 'mean' } });
    const plain = await buildSaeReport(small, { x }, { maxLatents: 8, title: 'Six pixels' });
    expect(plain).toContain('<title>Six pixels</title>');
    expect(plain).toContain('<table class="top">');
    expect(dataPngs(plain)).toHaveLength(0);
    expect(plain).not.toContain('Labels of the top');
    expect(plain).not.toMatch(/digit|MNIST|Pictures/i); // nothing MNIST-specific about rows without pictures
    const pictured = await buildSaeReport(small, { x, y: test.y, images: test.x, imageShape: [28, 28] }, { maxLatents: 3 });
    const sizes = dataPngs(pictured).map((p) => decodePng(p)).map((d) => `${d.width}x${d.height}x${d.channels}`);
    expect(sizes.length).toBeGreaterThan(0);
    expect(new Set(sizes)).toEqual(new Set(['28x28x1'])); // digits, but no decoder image: the SAE is not on pixels
    expect(pictured).toContain('Labels of the top');
  });

  it('reads an SAE whose θ was never estimated with the batch selection, and says so', async () => {
    const s = cloneSae(sae);
    s.threshold = null;
    const html = await buildSaeReport(s, { x: test.x }, { maxLatents: 2 });
    expect(html).toContain('θ not estimated: batch top-k over all rows');
    expect(html).toContain('<dt>inference threshold θ</dt><dd>not estimated</dd>');
  });

  it('charts the most frequent of many labels and escapes class names', async () => {
    const y = Int32Array.from({ length: test.x.rows }, (_, i) => (i * 7) % 50); // 50 classes
    const classNames = Array.from({ length: 50 }, (_, i) => `<b>c${i}</b>`);
    const html = await buildSaeReport(sae, { x: test.x, y }, { maxLatents: 3, classNames });
    expect(html).toMatch(/Labels of the top \d+ \(20 most frequent of \d+ labels\)/);
    expect(html).toContain('&lt;b&gt;c');
    expect(html).not.toContain('<b>c');
    expect(html).toContain('50 distinct labels');
  });

  it('draws pictures light-on-dark by default and as ink on paper with ink', () => {
    const plain = decodePng(grayImagePng([0, 0.5, 1], 1, 3, 0, 1, false));
    const ink = decodePng(grayImagePng([0, 0.5, 1], 1, 3, 0, 1, true));
    expect([...plain.pixels]).toEqual([0, 128, 255]);
    expect([...ink.pixels]).toEqual([255, 128, 0]);
  });

  it('rejects bad inputs with errors naming the argument', async () => {
    const bad = (p: Promise<unknown>, re: RegExp) => expect(p).rejects.toThrow(re);
    await bad(buildSaeReport(sae, { x: { data: new Float32Array(10 * 5), rows: 10, cols: 5 } }), /data\.x\.cols must be the SAE's dIn = 784, got 5/);
    await bad(buildSaeReport(sae, { x: test.x, y: new Int32Array(3) }), /data\.y must be an Int32Array of 240 labels/);
    const nan = test.x.data.slice();
    nan[7] = NaN;
    await bad(buildSaeReport(sae, { x: { data: nan, rows: test.x.rows, cols: 784 } }), /data\.x must be finite numbers only, got NaN at index 7/);
    await bad(buildSaeReport(sae, { x: test.x }, { maxLatents: 33 }), /options\.maxLatents must be an integer in \[0, 32\]/);
    await bad(buildSaeReport(sae, { x: test.x }, { maxLatent: 3 } as never), /options\.maxLatent must be one of the known options/);
    await bad(buildSaeReport(sae, { x: test.x, imageShape: [20, 20] }), /data\.imageShape must be height·width = data\.x\.cols = 784/);
    await bad(buildSaeReport(sae, { x: test.x, images: test.x }), /data\.imageShape must be \[height, width\] of data\.images \(784 columns\)/);
    await bad(buildSaeReport(sae, { x: test.x, y: Int32Array.from(test.y, (v, i) => (i === 5 ? -1 : v)) }), /data\.y\[5\] must be a class label ≥ 0, got -1/);
    await bad(buildSaeReport({} as Sae, { x: test.x }), /sae must be an Sae/);
    await expect(buildSaeReport(sae, null as never)).rejects.toBeInstanceOf(NestlabArgumentError);
    expect(() => writeSaeReport('', '<p>')).toThrow(/path must be a non-empty file path/);
  });
});

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe('rendering in a browser', () => {
  it.skipIf(!chromium)('headless Chromium draws the report (a screenshot with real content)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-report-'));
    const page = join(dir, 'report.html');
    writeSaeReport(page, await buildSaeReport(sae, { x: test.x, y: test.y, imageShape: [28, 28], ink: true }, { maxLatents: 4 }));
    const shot = join(dir, 'shot.png');
    execFileSync(chromium!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'nestlab-chromium-'))}`,
      `--screenshot=${shot}`, '--window-size=1200,1600', `file://${page}`,
    ], { stdio: 'ignore', timeout: 90_000 });
    const img = decodePng(new Uint8Array(readFileSync(shot)));
    expect([img.width, img.height]).toEqual([1200, 1600]);
    // a blank or broken page is (almost) one color; the report has text, charts and digits
    let dark = 0;
    const colors = new Set<number>();
    for (let i = 0; i < img.width * img.height; i++) {
      const o = i * img.channels;
      const [r, g, b] = [img.pixels[o], img.pixels[o + 1], img.pixels[o + 2]];
      if (r + g + b < 300) dark++;
      colors.add((r << 16) | (g << 8) | b);
    }
    expect(dark / (img.width * img.height)).toBeGreaterThan(0.01);
    expect(colors.size).toBeGreaterThan(50);
  });
});
