// Reports are inert (issue #17 item 5): both report kinds, the SAE report (buildSaeReport, also
// through the reportActivations workflow) and the LM text dashboard (buildTextDashboard), are
// rendered with every string that comes from data or files replaced by hostile markup from the
// explicit list HOSTILE below: class names, title, data description, checkpoint path, tensor name,
// file names, cfg.json fields, tokens, documents, genres, tags, hook, sources. Each page is opened
// in headless Chromium (playwright-core, the system chromium), as written and with its CSP meta
// removed (so that the escaping alone is shown to hold): no dialog opens, no payload's marker is
// set, no console message or page error appears, nothing but the page itself is requested, and
// the text shows as written. The raw HTML carries the CSP meta (no script for the SAE report, one
// script by hash for the dashboard) and no http(s) URL outside the escaped data.
// Skipped, saying so, when chromium is missing outside CI; in CI a missing chromium fails.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { initBackend } from '../../src/backend/select.js';
import { createSae, type Sae } from '../../src/sae/model.js';
import { saveSae } from '../../src/sae/checkpoint.js';
import { encodeNpy } from '../../src/data/npy.js';
import { writeSafetensors } from '../../src/data/safetensors.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { escapeHtml, inlineSvg, reportCsp } from '../../src/plot/html.js';
import { buildSaeReport } from '../../src/report/sae-report.js';
import { buildTextDashboard, type TextDashboardData, type TokenContext } from '../../src/report/text-dashboard.js';
import { reportActivations } from '../../src/workflows/activations-sae.js';

/**
 * The hostile strings: each payload that would run sets window.pwned (or opens a dialog, or loads
 * something) if it ever became markup. 30 strings; the count is asserted below.
 */
const HOSTILE: string[] = [
  '<script>alert(1)</script>', // 1-5: the issue's
  '<img src=x onerror=alert(2)>',
  '"',
  "'",
  '&',
  '<script>window.pwned=1;document.title="pwned"</script>',
  '<img src=x onerror="window.pwned=2">',
  '</title><script>window.pwned=3</script>',
  '</style><script>window.pwned=4</script>',
  '</script><script>window.pwned=5</script>',
  'javascript:window.pwned=6',
  '<a href="javascript:window.pwned=7">click</a>',
  '"><svg onload=window.pwned=8>',
  "'><svg/onload=window.pwned=9>",
  'x" onmouseover="window.pwned=10" autofocus onfocus="window.pwned=10',
  "x' onmouseover='window.pwned=11",
  '{{constructor.constructor("window.pwned=12")()}}',
  '${window.pwned=13}`',
  '<svg><script>window.pwned=14</script></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.pwned=15>',
  '<iframe srcdoc="<script>parent.pwned=16</script>"></iframe>',
  'data:text/html,<script>window.pwned=17</script>',
  '<style>body{display:none}</style>url(javascript:window.pwned=18)',
  '<base href="http://example.invalid/"><link rel=stylesheet href="https://example.invalid/x.css">',
  '&lt;script&gt; &amp; &#39; &quot;', // entities as written must not be decoded
  '<!-- <![CDATA[ ]]> -->',
  'a id="clip1" url(#clip1) href="#clip1"', // vega's own ids, as data
  'ünïcödé 日本語 🙂 \u202Eevil\u202C zero\u200Bwidth \u2028\u2029',
  'nul\u0000byte<script>window.pwned=19</script>',
  `<b>${'very long '.repeat(1000)}</b><script>window.pwned=20</script>`,
];

/** How a string shows in the page: HTML cannot carry NUL, which the report writes as U+FFFD. */
const shown = (s: string): string => s.replace(/\u0000/g, '\uFFFD');

/** Names that can be files and folders (no '/', no NUL, short enough to join two in one name). */
const FILE_NAMES = HOSTILE.filter((s) => !/[/\u0000]/.test(s) && Buffer.byteLength(s) < 100);

const SEP = ' ‖ ';
const DATE = new Date('2025-01-02T03:04:00Z');

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const skipBrowser = chromiumPath === undefined && process.env.CI !== 'true';
if (skipBrowser) console.warn('inert.test.ts: headless Chromium checks skipped: chromium not found (apt-get install chromium)');

/** What a page did in the browser, and what it shows. */
interface Visit {
  dialogs: string[];
  console: string[];
  errors: string[];
  requests: string[];
  pwned: unknown;
  title: string;
  /** How many elements of each tag (lowercase). */
  tags: Record<string, number>;
  /** Attributes that are event handlers, or src / href / style values outside what the reports write ("tag name=value"). */
  badAttributes: string[];
  /** textContent of the elements matching each selector asked for. */
  texts: Record<string, string[]>;
  /** Attribute values asked for, per selector + attribute. */
  attrs: Record<string, string[]>;
}

let browser: Browser | undefined;
/** One tab for all visits (a new document each time; opening a tab costs about a second). */
let page: Page | undefined;
/** The visit the tab's listeners record into. */
let current: Visit | undefined;
let dir = '';

/**
 * What a visit reads in the page (plain JavaScript, as text: the tests compile without the DOM
 * types): element counts per tag, attributes that are event handlers or load or style anything
 * the reports do not write, window.pwned, the <title>, and texts and attributes by selector.
 */
const IN_PAGE = String.raw`function (sel, att) {
  var tags = {};
  var badAttributes = [];
  Array.prototype.forEach.call(document.querySelectorAll('*'), function (e) {
    var tag = e.tagName.toLowerCase();
    tags[tag] = (tags[tag] || 0) + 1;
    Array.prototype.forEach.call(e.attributes, function (a) {
      var bad = /^on/i.test(a.name) ||
        (a.name === 'src' && !/^data:image\/png;base64,[A-Za-z0-9+/=]+$/.test(a.value)) ||
        ((a.name === 'href' || a.name === 'xlink:href') && !/^#[\w-]+$/.test(a.value)) ||
        (a.name === 'style' && !/^[\w\s:;,.#()%-]*$/.test(a.value));
      if (bad) badAttributes.push(tag + ' ' + a.name + '=' + a.value.slice(0, 100));
    });
  });
  var all = function (s) { return Array.prototype.slice.call(document.querySelectorAll(s)); };
  var texts = {};
  sel.forEach(function (s) { texts[s] = all(s).map(function (e) { return e.textContent || ''; }); });
  var attrs = {};
  att.forEach(function (p) { attrs[p[0] + '@' + p[1]] = all(p[0]).map(function (e) { return e.getAttribute(p[1]) || ''; }); });
  var title = document.querySelector('title');
  return { pwned: window.pwned, title: title ? title.textContent : '', tags: tags, badAttributes: badAttributes, texts: texts, attrs: attrs };
}`;

async function visit(file: string, texts: string[], attrs: [string, string][] = []): Promise<Visit> {
  const v: Visit = { dialogs: [], console: [], errors: [], requests: [], pwned: undefined, title: '', tags: {}, badAttributes: [], texts: {}, attrs: {} };
  current = v;
  try {
    await page!.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // give event handlers (onerror, onload, onfocus) a moment, had any been created
    await page!.waitForTimeout(200);
    const r = (await page!.evaluate(`(${IN_PAGE})(${JSON.stringify(texts)}, ${JSON.stringify(attrs)})`)) as Partial<Visit>;
    Object.assign(v, r);
  } finally {
    await page!.goto('about:blank');
    current = undefined;
  }
  return v;
}

/** The checks every page must pass: nothing ran, nothing loaded, no element or attribute made from data. */
function expectInert(v: Visit, file: string, scripts: number): void {
  expect(v.dialogs, 'dialogs').toEqual([]);
  expect(v.pwned, 'window.pwned').toBeUndefined();
  expect(v.errors, 'page errors').toEqual([]);
  expect(v.console, 'console messages (CSP refusals included)').toEqual([]);
  expect(v.requests, 'requests').toEqual([pathToFileURL(file).href]);
  expect(v.title).not.toBe('pwned');
  expect(v.tags.script ?? 0, 'script elements').toBe(scripts);
  expect(v.tags.style, 'style elements').toBe(1);
  for (const t of ['iframe', 'object', 'embed', 'base', 'link', 'b', 'mglyph', 'math', 'mtext', 'foreignobject', 'image', 'use']) expect(v.tags[t], t).toBeUndefined();
  expect(v.badAttributes, 'event handlers, loads and styles from data').toEqual([]);
}

/** The raw page: a CSP meta as given, before any other head content but the charset, and no http(s) URL outside the escaped data strings. */
function expectRawInert(html: string, csp: string): void {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`;
  expect(html).toContain(meta);
  expect(html.slice(0, html.indexOf(meta)).replace(/\s+/g, '')).toBe('<!DOCTYPEhtml><htmllang="en"><head><metacharset="utf-8">');
  expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<title>'));
  // the markup alone (tags with their attribute values emptied), and the style and script
  // contents, hold no URL; the data's URLs are only text (element text, titles, aria labels)
  const tags = html.match(/<[^>]*>/g) ?? [];
  expect(tags.map((t) => t.replace(/"[^"]*"/g, '""')).join('')).not.toMatch(/https?:|javascript:|data:text/i);
  for (const m of html.matchAll(/<(style|script)[^>]*>([\s\S]*?)<\/\1>/g)) expect(m[2]).not.toMatch(/https?:\/\//i);
  for (const t of tags) for (const m of t.matchAll(/\s(?:src|href|xlink:href)="([^"]*)"/g)) expect(m[1]).toMatch(/^(data:image\/png;base64,[A-Za-z0-9+/=]+|#[\w-]+)$/);
  expect(html).not.toContain('\u0000');
}

/** Writes a page, and a copy without its CSP meta (to show that the escaping alone holds). */
function writePages(name: string, html: string): { file: string; bare: string } {
  const file = join(dir, `${name}.html`);
  const bare = join(dir, `${name}-no-csp.html`);
  writeFileSync(file, html);
  const stripped = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
  expect(stripped).not.toBe(html);
  writeFileSync(bare, stripped);
  return { file, bare };
}

/** Rows of a pixel-like input in [0, 1]: `perClass` rows for each of HOSTILE.length classes. */
function rows(perClass: number, cols: number): { x: { data: Float32Array; rows: number; cols: number }; y: Int32Array } {
  const n = perClass * HOSTILE.length;
  const data = new Float32Array(n * cols);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (1103515245 * s + 12345) % 2147483648;
    data[i] = s / 2147483648;
  }
  return { x: { data, rows: n, cols }, y: Int32Array.from({ length: n }, (_, i) => i % HOSTILE.length) };
}

const SAE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'nestlab-inert-'));
  if (chromiumPath !== undefined) {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage();
    page.on('dialog', (d) => {
      current?.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('console', (m) => current?.console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => current?.errors.push(String(e)));
    page.on('request', (r) => current?.requests.push(r.url()));
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the hostile strings', () => {
  it('are 30, distinct, and cover the issue\'s five', () => {
    expect(HOSTILE).toHaveLength(30);
    expect(new Set(HOSTILE).size).toBe(30);
    for (const s of ['<script>', '<img src=x onerror=', '"', "'", '&']) expect(HOSTILE.some((h) => h.includes(s))).toBe(true);
    expect(FILE_NAMES.length).toBeGreaterThanOrEqual(10);
  });

  it('are escaped by escapeHtml into text that holds no markup', () => {
    for (const s of HOSTILE) {
      const e = escapeHtml(s);
      expect(e).not.toMatch(/[<>"'\u0000]/);
      expect(e.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
    }
  });

  it('leave inlineSvg alone in text, and inlineSvg refuses active content', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><text>a id="clip1" url(#clip1) href="#clip1"</text></g></svg>';
    const out = inlineSvg(svg, 'p-');
    expect(out).toContain('<clipPath id="p-clip1">');
    expect(out).toContain('clip-path="url(#p-clip1)"');
    expect(out).toContain('<text>a id="clip1" url(#clip1) href="#clip1"</text>');
    expect(out).not.toMatch(/https?:/);
    for (const bad of ['<svg><script>x()</script></svg>', '<svg><g onload="x()"></g></svg>', '<svg><a href="javascript:x()"><text>t</text></a></svg>', '<svg><foreignObject><p>x</p></foreignObject></svg>', '<svg><image href="http://example.invalid/x.png"/></svg>']) {
      expect(() => inlineSvg(bad, 'p-')).toThrow(/active content/);
    }
  });
});

describe('the SAE report with hostile strings', () => {
  let sae: Sae;
  let pixel = '';
  let table = '';
  const title = HOSTILE.join(SEP);
  const source = `runs/${HOSTILE.slice(0, 10).join('/')}`;
  const description = `${FILE_NAMES.join(SEP)} [tensor ${HOSTILE.join(SEP)}]: all rows`;

  beforeAll(async () => {
    // a random, untrained TopK SAE on 4×4 "pictures": inputs, labels and strings are what matter
    sae = createSae({ dIn: 16, dSae: 16, k: 4, activation: 'topk', prefixes: [4, 16] }, { seed: 3 });
    const a = rows(2, 16);
    // pictures, 64 top examples ≥ 60 rows: every firing row, so every class name, is on a card
    pixel = await buildSaeReport(sae, { x: a.x, y: a.y, imageShape: [4, 4], ink: true }, { title, dataDescription: description, source, classNames: HOSTILE, topExamples: 64, maxLatents: 16, probes: false, date: DATE });
    // rows as a table, with SAEBench's probes (30 classes of 20 rows; on random rows every class is
    // left out of absorption, so the page lists all class names there too)
    const b = rows(20, 16);
    table = await buildSaeReport(sae, { x: b.x, y: b.y }, { title, dataDescription: description, source, classNames: HOSTILE, topExamples: 40, maxLatents: 4, date: DATE });
  }, 120_000);

  it('carries a CSP meta without scripts, no script element and no http(s) URL outside the escaped data', () => {
    expect(reportCsp()).toBe(SAE_CSP);
    for (const html of [pixel, table]) {
      expectRawInert(html, SAE_CSP);
      expect(html).not.toContain('script-src');
      expect(html).not.toMatch(/<script/i);
      for (const s of HOSTILE) if (s.includes('<')) expect(html).not.toContain(s);
    }
  });

  it('refuses an SAE whose config fields are not what a config holds', async () => {
    const x = rows(1, 16).x;
    const bad = (cfg: Record<string, unknown>) => buildSaeReport({ ...sae, cfg: { ...sae.cfg, ...cfg } } as Sae, { x }, { probes: false });
    await expect(bad({ activation: HOSTILE[0] })).rejects.toThrow(/sae\.cfg\.activation must be one of/);
    await expect(bad({ prefixes: [4, HOSTILE[1]] })).rejects.toThrow(/sae\.cfg\.prefixes must be strictly increasing integer prefix sizes ending at dSae = 16/);
    await expect(bad({ dSae: HOSTILE[2] })).rejects.toBeInstanceOf(NestlabArgumentError);
  });

  describe.skipIf(skipBrowser)('in headless Chromium', () => {
    it('has headless Chromium (CI must)', () => {
      expect(chromiumPath, 'chromium').toBeDefined();
    });

    it('runs nothing, loads nothing, and shows every string as written (pictures), with and without the CSP', async (c) => {
      if (browser === undefined) c.skip();
      const { file, bare } = writePages('sae-pixel', pixel);
      for (const f of [file, bare]) {
        const v = await visit(f, ['h1', 'p.meta', 'p.meta code', 'figcaption', 'dd'], [['figure img', 'title'], ['figure img', 'alt'], ['path[aria-label^="label: "]', 'aria-label']]);
        expectInert(v, f, 0);
        expect(v.title).toBe(shown(title));
        expect(v.texts.h1).toEqual([shown(title)]);
        expect(v.texts['p.meta code']).toEqual([shown(source)]);
        expect(v.texts['p.meta'][0]).toContain(`Data: ${shown(description)} · generated 2025-01-02 03:04 UTC`);
        // every class name, as a caption "name · activation" and in its picture's tooltip
        const captions = new Set(v.texts.figcaption.map((t) => t.replace(/ · [^·]*$/, '')));
        expect([...captions].sort()).toEqual(HOSTILE.map(shown).sort());
        const tips = v.attrs['figure img@title'].join('\n');
        for (const s of HOSTILE) expect(tips).toContain(`, label ${shown(s)}, activation `);
        for (const alt of v.attrs['figure img@alt']) expect(alt).toMatch(/^row \d+$/);
        // the label charts (vega's SVG): bars labeled with class names exactly as written
        const bars = v.attrs['path[aria-label^="label: "]@aria-label'];
        expect(bars.length).toBeGreaterThan(0);
        const names = new Set(HOSTILE.map(shown));
        for (const b of bars) expect(names.has(/^label: ([\s\S]*); rows: \d+$/.exec(b)![1]), b.slice(0, 80)).toBe(true);
        expect(v.texts.dd).toContain('topk');
      }
    }, 60_000);

    it('runs nothing, loads nothing, and shows every string as written (table of rows, probes)', async (c) => {
      if (browser === undefined) c.skip();
      const { file, bare } = writePages('sae-table', table);
      for (const f of [file, bare]) {
        const v = await visit(f, ['h1', 'table.top td', 'h2', 'p.note']);
        expectInert(v, f, 0);
        expect(v.texts.h1).toEqual([shown(title)]);
        expect(v.texts.h2).toContain('Probes per prefix (SAEBench)');
        const absorption = v.texts['p.note'].find((t) => t.startsWith('Classes left out of absorption'));
        expect(absorption, 'the probes ran').toBeDefined();
        for (const s of HOSTILE) expect(absorption).toContain(shown(s));
        const cells = new Set(v.texts['table.top td']);
        expect(HOSTILE.filter((s) => cells.has(shown(s))).length).toBeGreaterThan(5);
        for (const t of cells) if (!/^[\d.e+-]+$/.test(t)) expect(HOSTILE.map(shown)).toContain(t);
      }
    }, 60_000);

    it('would see a payload that ran, and the CSP would stop it (the control of the checks above)', async (c) => {
      if (browser === undefined) c.skip();
      const payload = '<img src=x onerror="window.pwned=1"><script>alert(1)</script></body>';
      const { file, bare } = writePages('sae-control', pixel.replace('</body>', payload));
      const open = await visit(bare, []);
      expect(open.pwned).toBe(1);
      expect(open.dialogs).toEqual(['1']);
      const closed = await visit(file, []);
      expect(closed.pwned).toBeUndefined();
      expect(closed.dialogs).toEqual([]);
      const refusals = closed.console.join('\n');
      expect(refusals).toMatch(/Executing inline script violates the following Content Security Policy directive/);
      expect(refusals).toMatch(/Executing inline event handler violates/);
      expect(refusals).toMatch(/Loading the image '[^']*\/x' violates the following Content Security Policy directive: "img-src data:". The action has been blocked/);
      // playwright reports the refused load as a request too: the check on requests above is stricter than loads
      expect(closed.requests).toEqual([pathToFileURL(file).href, new URL('x', pathToFileURL(file)).href]);
    }, 60_000);
  });
});

describe('the SAE report through the reportActivations workflow, with hostile file, folder, tensor and cfg.json strings', () => {
  let html = '';
  let dataFile = '';
  let runDir = '';
  const tensor = HOSTILE.join(SEP);

  beforeAll(async () => {
    const sae = createSae({ dIn: 16, dSae: 8, k: 2, activation: 'topk', prefixes: [2, 8] }, { seed: 5 });
    // a checkpoint folder named by hostile strings, with hostile fields in its cfg.json
    runDir = join(dir, ...[0, 2, 4, 6].map((i) => FILE_NAMES.slice(i, i + 2).join(' ')));
    mkdirSync(runDir, { recursive: true });
    saveSae(sae, runDir);
    const cfg = JSON.parse(readFileSync(join(runDir, 'cfg.json'), 'utf8')) as Record<string, unknown>;
    Object.assign(cfg, { model_name: HOSTILE[0], hook_name: HOSTILE[5], dataset_path: HOSTILE[12], context_size: 128 });
    writeFileSync(join(runDir, 'cfg.json'), JSON.stringify(cfg, null, 2));
    const { x, y } = rows(1, 16);
    const dataDir = join(dir, ...[8, 10].map((i) => FILE_NAMES.slice(i, i + 2).join(' ')));
    mkdirSync(dataDir, { recursive: true });
    dataFile = join(dataDir, `${FILE_NAMES[12]}.safetensors`);
    writeSafetensors(dataFile, { [tensor]: { dtype: 'F32', shape: [x.rows, x.cols], data: x.data } }, { note: HOSTILE[1] });
    const labels = join(dataDir, `${FILE_NAMES[13]}.npy`);
    writeFileSync(labels, encodeNpy({ shape: [y.length], data: y }));
    const out = join(dir, 'workflow.html');
    await reportActivations(runDir, { data: dataFile, tensor, labels, maxLatents: 8, out, date: DATE });
    html = readFileSync(out, 'utf8');
  }, 120_000);

  it('carries the CSP meta and no hostile string as markup', () => {
    expectRawInert(html, SAE_CSP);
    expect(html).not.toMatch(/<script/i);
    for (const s of HOSTILE) if (s.includes('<')) expect(html).not.toContain(s);
  });

  it.skipIf(skipBrowser)('runs nothing, loads nothing, and shows the folder, file and tensor names as written', async (c) => {
    if (browser === undefined) c.skip();
    const { file, bare } = writePages('workflow', html);
    for (const f of [file, bare]) {
      const v = await visit(f, ['p.meta', 'p.meta code']);
      expectInert(v, f, 0);
      expect(v.texts['p.meta code']).toEqual([runDir]);
      expect(v.texts['p.meta'][0]).toContain(`Data: ${dataFile} [tensor ${shown(tensor)}]: all ${HOSTILE.length} rows`);
    }
  }, 60_000);
});

describe('the text dashboard with hostile strings', () => {
  let html = '';
  const title = HOSTILE.join(SEP);

  function ctx(tokens: string[], focus: number, document: string, genre: string, row: number): TokenContext {
    return { tokens, values: tokens.map((_, i) => (i === focus ? 4 : (i % 3) / 2)), focus, row, document, genre };
  }

  beforeAll(() => {
    const n = HOSTILE.length;
    const data: TextDashboardData = {
      hook: HOSTILE.join(SEP),
      rows: 100,
      dSae: 8,
      prefixes: [2, 8],
      density: { edges: [-2, -1, 0], counts: [3, 4], dead: 1 },
      latents: [0, 1].map((latent) => ({
        latent,
        group: latent + 1,
        density: 0.2,
        fires: 20,
        maxActivation: 4,
        meanActivation: 2,
        topContexts: HOSTILE.map((s, i) => ctx([HOSTILE[(i + 1) % n], s, HOSTILE[(i + 2) % n]], 1, HOSTILE[(i + 3) % n], HOSTILE[(i + 4) % n], i)),
        buckets: [{ lo: 0, hi: 0.5, count: 5, contexts: [ctx([...HOSTILE], 0, HOSTILE[5], HOSTILE[6], 99)] }],
        histogram: [{ lo: 0, hi: 2, count: 10 }, { lo: 2, hi: 4, count: 10 }],
        topLogits: HOSTILE.slice(0, 15).map((token, i) => ({ token, value: 1 - i / 20 })),
        bottomLogits: HOSTILE.slice(15).map((token, i) => ({ token, value: -1 + i / 20 })),
        correlated: [{ latent: 1 - latent, correlation: 0.5 }],
        tags: HOSTILE.map((name) => ({ name, share: 1 / n })),
        genres: HOSTILE.map((name) => ({ name, share: 1 / n })),
      })),
      sources: HOSTILE.map((s, i) => ({ label: s, value: HOSTILE[(i + 7) % n] })),
      notes: [...HOSTILE],
    };
    html = buildTextDashboard(data, { title, date: DATE });
  });

  it('carries a CSP meta that allows its one script by hash, and no hostile string as markup', () => {
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    expectRawInert(html, reportCsp([script]));
    expect(html).not.toMatch(/script-src[^;"]*unsafe-inline/);
    expect(html.match(/<script/g)).toHaveLength(2); // the JSON data block and the page's script
    for (const s of HOSTILE) if (s.includes('<')) expect(html).not.toContain(s);
  });

  it.skipIf(skipBrowser)('runs nothing from data, loads nothing, shows every string as written, and its own script runs', async (c) => {
    if (browser === undefined) c.skip();
    const { file, bare } = writePages('dashboard', html);
    for (const f of [file, bare]) {
      const v = await visit(f, ['h1', 'p.meta code', '.ctx .toks .tk', '.ctx .src', 'table.shares td.name', 'table.logits td.tok span', 'dl.cfg dt', 'dl.cfg dd', 'p.note', '#index-count'], [['.ctx .toks .tk', 'title'], ['table.index', 'data-ready']]);
      expectInert(v, f, 2);
      expect(v.texts.h1).toEqual([shown(title)]);
      expect(v.texts['p.meta code']).toEqual([shown(HOSTILE.join(SEP))]);
      const all = HOSTILE.map(shown).sort();
      const distinct = (xs: string[]) => [...new Set(xs)].sort();
      expect(distinct(v.texts['.ctx .toks .tk'])).toEqual(all);
      expect(distinct(v.texts['.ctx .src'])).toEqual(all);
      // tags: the first 8 and "other (22)"; genres: all
      expect(v.texts['table.shares td.name']).toContain(`other (${HOSTILE.length - 8})`);
      expect(distinct(v.texts['table.shares td.name'].filter((t) => !/^other \(\d+\)$/.test(t)))).toEqual(all);
      expect(distinct(v.texts['table.logits td.tok span'])).toEqual(all);
      expect(v.texts['dl.cfg dt']).toEqual(HOSTILE.map(shown));
      expect(distinct(v.texts['dl.cfg dd'])).toEqual(all);
      for (const s of HOSTILE) expect(v.texts['p.note']).toContain(shown(s));
      const tips = new Set(v.attrs['.ctx .toks .tk@title'].map((t) => t.replace(/: [^:]*$/, '')));
      expect([...tips].sort()).toEqual(all);
      // its own script (allowed by hash) ran: it marks the table and counts the rows
      expect(v.attrs['table.index@data-ready']).toEqual(['true']);
      expect(v.texts['#index-count']).toEqual(['2 of 2 latents']);
    }
  }, 60_000);
});
