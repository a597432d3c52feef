// The feature-dashboard page on hand-made data whose strings are hostile markup: nothing from
// data may reach the page as markup, in text, attributes or the inline JSON; the page loads no
// network resource (CSP); and in headless Chromium the text shows as written, no script from data
// runs, the index table has one row per latent, and its sort and filter work.
// The Chromium checks are skipped, saying so, when chromium is missing outside CI.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestlabArgumentError } from '../../src/errors.js';
import { scriptHash } from '../../src/plot/html.js';
import { buildTextDashboard, type TextDashboardData, type TextDashboardLatent, type TokenContext } from '../../src/report/text-dashboard.js';
import { decodePng } from '../helpers/png-decode.js';
import { unbalancedTag } from '../helpers/markup.js';

const XSS1 = '<script>alert(1)</script>';
const XSS2 = '<img src=x onerror=alert(2)>';
const PWN = "<script>document.title='pwned'</script>";

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const skipBrowser = chromium === undefined && process.env.CI !== 'true';
if (skipBrowser) console.warn('text-dashboard.test.ts: headless Chromium checks skipped: chromium not found (apt-get install chromium)');

function ctx(tokens: string[], values: number[], focus: number, row: number, document: string, genre: string): TokenContext {
  return { tokens, values, focus, row, document, genre };
}

/** Three latents: 0 and 5 fire (their strings are the hostile ones), 2 is dead. */
function handMadeData(): TextDashboardData {
  const l0: TextDashboardLatent = {
    latent: 0,
    group: 1,
    density: 0.25,
    fires: 5,
    maxActivation: 4,
    meanActivation: 2.2,
    topContexts: [
      ctx(['the', XSS1, 'jury', '"'], [0, 4, 1, 0], 1, 11, PWN, XSS2),
      ctx(["'", '&', PWN, 'said'], [0.5, 3, 2, 0], 1, 40, 'ca01', 'press: reportage'),
    ],
    buckets: [
      { lo: 0.5, hi: 1, count: 3, contexts: [ctx(['a', XSS2], [0, 3], 1, 41, 'ca02', '&')] },
      { lo: 0, hi: 0.5, count: 2, contexts: [ctx(['b', '&', 'c'], [0, 1, 0], 1, 70, 'cb01', "'")] },
    ],
    histogram: [
      { lo: 0, hi: 1, count: 1 },
      { lo: 1, hi: 2, count: 1 },
      { lo: 2, hi: 3, count: 1 },
      { lo: 3, hi: 4, count: 2 },
    ],
    topLogits: [{ token: XSS1, value: 0.9 }, { token: '"', value: 0.4 }],
    bottomLogits: [{ token: PWN, value: -0.8 }, { token: '&', value: -0.1 }],
    correlated: [{ latent: 5, correlation: 0.7 }, { latent: 9, correlation: 0.2 }],
    tags: [{ name: XSS1, share: 0.6 }, { name: '', share: 0.2 }, { name: "'", share: 0.2 }],
    genres: [{ name: XSS2, share: 0.8 }, { name: '&', share: 0.2 }],
  };
  const dead: TextDashboardLatent = {
    latent: 2, group: 1, density: 0, fires: 0, maxActivation: 0, meanActivation: 0, topContexts: [], buckets: [], histogram: [],
    topLogits: [{ token: 'x', value: 0.1 }], bottomLogits: [{ token: 'y', value: -0.1 }], correlated: [], tags: [], genres: [],
  };
  const l5: TextDashboardLatent = {
    ...l0,
    latent: 5,
    group: 2,
    density: 0.05,
    fires: 1,
    maxActivation: 9,
    meanActivation: 9,
    topContexts: [ctx(['"', 'z'], [9, 0], 0, 3, '"', "'")],
    buckets: [],
    correlated: [{ latent: 0, correlation: 0.7 }],
  };
  return {
    hook: `blocks.0.hook_resid_pre ${XSS1}`,
    rows: 20,
    dSae: 16,
    prefixes: [4, 16],
    density: { edges: [-2, -1.5, -1, -0.5, 0], counts: [3, 5, 4, 1], dead: 3 },
    latents: [l0, dead, l5],
    sources: [{ label: XSS2, value: PWN }],
    notes: [`a note with ${XSS1} & "quotes"`],
  };
}

function chromiumArgs(profile: string): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`];
}

/** Runs Chromium on a file with extra arguments; returns stdout and stderr. */
function browse(dir: string, file: string, extra: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(chromium!, [...chromiumArgs(mkdtempSync(join(dir, 'profile-'))), '--enable-logging=stderr', '--v=0', ...extra, `file://${file}`], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`chromium failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Console errors and CSP refusals Chromium logs for a page. */
function pageErrors(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /Uncaught|Refused to|Content Security Policy|SyntaxError|TypeError|ReferenceError/.test(l));
}

/** The page with an extra script that its CSP allows by hash (a test driver, a control). */
function withScript(html: string, script: string): string {
  return html.replace('script-src ', `script-src ${scriptHash(script).replace(/'/g, '&#39;')} `).replace('</body>', `<script>${script}</script></body>`);
}

/** The page with every double-quoted string emptied: attribute names stay, attribute values (where escaped data sits) go. */
function withoutQuoted(html: string): string {
  return html.replace(/"[^"]*"/g, '""');
}

const DATE = new Date('2025-01-02T03:04:00Z');

describe('buildTextDashboard: hostile strings stay text', () => {
  const html = buildTextDashboard(handMadeData(), { date: DATE });

  it('has none of the data strings as raw markup, and escapes them where they land', () => {
    for (const s of [XSS1, XSS2, PWN]) expect(html).not.toContain(s);
    expect(html).not.toMatch(/<img/i);
    expect(withoutQuoted(html)).not.toMatch(/<[^>]*\sonerror=/i); // only as escaped text
    // exactly the page's own two script elements: the JSON block and the sort/filter script
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).toContain('<script type="application/json" id="index-data">');
    // in element text
    expect(html).toContain('>&lt;script&gt;alert(1)&lt;/script&gt;</span>');
    expect(html).toContain('>&lt;img src=x onerror=alert(2)&gt;</span>');
    expect(html).toContain('>&quot;</span>');
    expect(html).toContain('>&#39;</span>');
    expect(html).toContain('>&amp;</span>');
    // in attributes: a token's tooltip and a document's
    expect(html).toContain('title="&lt;script&gt;alert(1)&lt;/script&gt;: 4"');
    expect(html).toContain('title="document &lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt; (&lt;img src=x onerror=alert(2)&gt;), row 11"');
    expect(unbalancedTag(html.replace(/<!DOCTYPE[^>]*>/, '').replace(/<(meta|input|br)\b[^>]*>/g, ''))).toBeNull();
  });

  it('forbids network loads with a CSP meta and names no http(s) URL', () => {
    // scripts only by hash: the page's own one, not 'unsafe-inline'
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    const hash = scriptHash(script).replace(/'/g, '&#39;');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; script-src ${hash}; img-src data:;`);
    expect(html).not.toMatch(/script-src[^;"]*unsafe-inline/);
    expect(html.match(/sha256-/g)).toHaveLength(1);
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<style>'));
    expect(html).not.toMatch(/https?:\/\//);
    expect(withoutQuoted(html)).not.toMatch(/<[^>]*\ssrc=/); // no element loads anything
  });

  it('serializes the index data as JSON with < > & escaped, which parses back to the raw strings', () => {
    const block = /<script type="application\/json" id="index-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(block).not.toMatch(/[<>&]/);
    const entries = JSON.parse(block) as { latent: number; group: number; density: number; max: number; text: string }[];
    expect(entries.map((e) => e.latent)).toEqual([0, 2, 5]);
    expect(entries[0]).toEqual({ latent: 0, group: 1, density: 0.25, max: 4, text: `${XSS1} &` });
    expect(entries[1].text).toBe('');
    expect(entries[2]).toMatchObject({ group: 2, max: 9, text: '"' });
  });

  it('shades tokens by activation / max and shows the value on hover', () => {
    // latent 0: max 4; a token at 2 gets opacity 0.5, at 0.5 0.125, at 3 0.75 (the underlined focus), at 4 full
    expect(html).toContain(`<span class="tk" style="background:rgba(242,142,43,0.500)" title="&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;: 2">`);
    expect(html).toContain('<span class="tk" style="background:rgba(242,142,43,0.125)" title="&#39;: 0.5">&#39;</span>');
    expect(html).toContain('<span class="tk focus" style="background:rgba(242,142,43,0.750)" title="&amp;: 3">&amp;</span>');
    expect(html).toContain('<span class="tk focus" style="background:rgba(242,142,43,1.000)" title="&lt;script&gt;alert(1)&lt;/script&gt;: 4">');
    // zero activation: no shade
    expect(html).toContain('<span class="tk" title="the: 0">the</span>');
  });

  it('draws one card per latent, links correlated latents that have one, and flags the dead one', () => {
    expect(html.match(/<section class="card/g)).toHaveLength(3);
    expect(html).toContain('<section class="card dead" id="latent-2"');
    expect(html).toContain('<a href="#latent-5">#5</a>');
    expect(html).toContain('<li>#9 <span class="num">r = 0.2</span></li>'); // 9 has no card
    expect(html).toContain('(no tag)');
    expect(html.match(/<tr data-i="/g)).toHaveLength(3);
  });

  it('refuses malformed data and unknown options, naming the argument', () => {
    const bad = handMadeData();
    bad.latents[0].topContexts[0].values = [1];
    expect(() => buildTextDashboard(bad)).toThrow(NestlabArgumentError);
    expect(() => buildTextDashboard(bad)).toThrow('report.buildTextDashboard: data.latents[0].topContexts[0].values must be an array of 4 numbers');
    const focus = handMadeData();
    focus.latents[2].topContexts[0].focus = 2;
    expect(() => buildTextDashboard(focus)).toThrow('data.latents[2].topContexts[0].focus must be an integer in [0, 1]');
    expect(() => buildTextDashboard(handMadeData(), { titel: 'x' } as never)).toThrow('options.titel must be one of the known options');
  });
});

describe.skipIf(skipBrowser)('the dashboard in headless Chromium', () => {
  let dir = '';
  let file = '';

  beforeAll(() => {
    if (chromium === undefined) return;
    dir = mkdtempSync(join(tmpdir(), 'nestlab-dashboard-'));
    file = join(dir, 'dashboard.html');
    writeFileSync(file, buildTextDashboard(handMadeData(), { title: 'Dashboard test', date: DATE }));
    // one group, so that no group color is the highlight's orange (tableau's second color)
    const oneGroup = handMadeData();
    oneGroup.prefixes = [16];
    for (const l of oneGroup.latents) l.group = 1;
    writeFileSync(join(dir, 'one-group.html'), buildTextDashboard(oneGroup, { date: DATE }));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  it('has headless Chromium (CI must)', () => {
    expect(chromium, 'chromium').toBeDefined();
  });

  it('shows the data strings as text, runs no script from data, and runs its own without errors', (c) => {
    if (chromium === undefined) c.skip();
    const { stdout: dom, stderr } = browse(dir, file, ['--dump-dom']);
    expect(pageErrors(stderr)).toEqual([]);
    expect(dom).toContain('<title>Dashboard test</title>'); // not 'pwned'
    expect(dom).not.toContain('pwned</title>');
    // the DOM holds the strings as text (serialized escaped), no element made from data
    expect(dom).toContain('&lt;script&gt;document.title=\'pwned\'&lt;/script&gt;');
    expect(dom).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(dom).not.toMatch(/<img/i);
    expect(dom.match(/<tr data-i="\d+"/g)).toHaveLength(3);
    // the page script ran to its end: it marks the table
    expect(dom).toContain('<table class="index" id="index" data-ready="true">');
    expect(dom).toContain('<span id="index-count">3 of 3 latents</span>');
  });

  it('would see a network load, a script the CSP refuses, and a script error (the control of the checks above)', (c) => {
    if (chromium === undefined) c.skip();
    const bad = join(dir, 'bad.html');
    const page = withScript(readFileSync(file, 'utf8'), 'undefinedName.f();');
    writeFileSync(bad, page.replace('</body>', '<img src="http://example.invalid/x.png"><script>document.title = "ran";</script></body>'));
    const { stdout: dom, stderr } = browse(dir, bad, ['--dump-dom']);
    const errors = pageErrors(stderr).join('\n');
    expect(errors).toContain("violates the following Content Security Policy directive: \"img-src data:\"");
    expect(errors).toMatch(/inline script violates the following Content Security Policy directive/);
    expect(dom).not.toContain('<title>ran</title>'); // the script without a hash did not run
    expect(errors).toContain('Uncaught ReferenceError'); // the one with its hash in the CSP did
  });

  it('sorts by a column and filters by text (driven by a test script)', (c) => {
    if (chromium === undefined) c.skip();
    const drive = `
      var order = function () { return Array.prototype.map.call(document.querySelectorAll('#index tbody tr'), function (r) { return r.querySelector('a').textContent; }).join(','); };
      var out = [];
      document.querySelector('button[data-key=max]').click(); out.push(order());
      document.querySelector('button[data-key=max]').click(); out.push(order());
      document.querySelector('button[data-key=latent]').click(); out.push(order());
      var f = document.getElementById('index-filter');
      f.value = '&'; f.dispatchEvent(new Event('input'));
      out.push(Array.prototype.filter.call(document.querySelectorAll('#index tbody tr'), function (r) { return !r.hidden; }).length);
      out.push(document.getElementById('index-count').textContent);
      f.value = '5'; f.dispatchEvent(new Event('input'));
      out.push(Array.prototype.filter.call(document.querySelectorAll('#index tbody tr'), function (r) { return !r.hidden; }).length);
      document.title = 'RESULT ' + out.join(' | ');
    `;
    const driven = join(dir, 'driven.html');
    writeFileSync(driven, withScript(readFileSync(file, 'utf8'), drive));
    const { stdout: dom, stderr } = browse(dir, driven, ['--dump-dom']);
    expect(pageErrors(stderr)).toEqual([]);
    const title = /<title>RESULT (.*?)<\/title>/.exec(dom);
    expect(title, 'the test script set the title').not.toBeNull();
    // max descending (first click), then ascending, then by index; '&' is a top token of latent 0 only
    expect(title![1].split(' | ')).toEqual(['5,0,2', '2,0,5', '0,2,5', '1', '1 of 3 latents', '1']);
  });

  it('draws the highlighted tokens (a screenshot has the full-opacity highlight color)', (c) => {
    if (chromium === undefined) c.skip();
    const shot = join(dir, 'shot.png');
    browse(dir, join(dir, 'one-group.html'), [`--screenshot=${shot}`, '--window-size=1300,1600']);
    const img = decodePng(new Uint8Array(readFileSync(shot)));
    let orange = 0;
    for (let i = 0; i < img.width * img.height; i++) {
      const o = i * img.channels;
      if (Math.abs(img.pixels[o] - 242) + Math.abs(img.pixels[o + 1] - 142) + Math.abs(img.pixels[o + 2] - 43) < 12) orange++;
    }
    expect(orange).toBeGreaterThan(200);
  });
});
