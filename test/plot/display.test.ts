import { describe, it, expect } from 'vitest';
import {
  chartBundle, chartOutput, chartPngScale, showChart, showTable, tableBundle, pageBundle,
  VEGA_LITE_MIME, CHART_SPEC_MAX_CHARS, CHART_PNG_MAX_PIXELS,
} from '../../src/plot/display.js';
import { decodePng } from '../helpers/png-decode.js';

const small = { data: { values: [{ a: 1 }, { a: 2 }] }, mark: 'point' as const, encoding: { x: { field: 'a', type: 'quantitative' as const } }, width: 200, height: 100 };

describe('notebook display helpers', () => {
  it('bundles a small chart as vega-lite JSON + PNG + text, and no SVG', async () => {
    const bundle = await chartBundle(small);
    expect(Object.keys(bundle).sort()).toEqual([VEGA_LITE_MIME, 'image/png', 'text/plain'].sort());
    expect(bundle['image/svg+xml']).toBeUndefined();
    expect((bundle[VEGA_LITE_MIME] as { mark: string }).mark).toBe('point');
    const png = decodePng(new Uint8Array(Buffer.from(bundle['image/png'] as string, 'base64')));
    expect(png.channels).toBe(3); // opaque RGB, no alpha channel
    // outside a kernel nothing is sent and nothing throws
    await expect(showChart(small)).resolves.toBeUndefined();
  });

  it('gives the PNG twice the CSS pixels and says its CSS width in the metadata', async () => {
    const out = await chartOutput(small);
    const png = decodePng(new Uint8Array(Buffer.from(out.data['image/png'] as string, 'base64')));
    const width = (out.metadata['image/png'] as { width: number }).width;
    expect(width).toBeGreaterThan(200); // the plot plus axes and padding
    expect(png.width).toBe(2 * width);
    // not blank: the points and axes are drawn on the white background
    let dark = 0;
    for (let i = 0; i < png.pixels.length; i += 3) if (png.pixels[i] + png.pixels[i + 1] + png.pixels[i + 2] < 600) dark++;
    expect(dark).toBeGreaterThan(100);
    const one = await chartOutput(small, { scale: 1 });
    expect(decodePng(new Uint8Array(Buffer.from(one.data['image/png'] as string, 'base64'))).width).toBe(width);
  });

  it('leaves out the vega-lite JSON of a chart with much inline data (PNG only)', async () => {
    const values = Array.from({ length: 4000 }, (_, i) => ({ x: Math.sin(i) * 3.14159, y: Math.cos(i * 1.7) * 2.71828, group: `g${i % 7}` }));
    const big = { data: { values }, mark: 'point' as const, encoding: { x: { field: 'x', type: 'quantitative' as const }, y: { field: 'y', type: 'quantitative' as const }, color: { field: 'group', type: 'nominal' as const } } };
    expect(JSON.stringify(big).length).toBeGreaterThan(CHART_SPEC_MAX_CHARS);
    const bundle = await chartBundle(big);
    expect(Object.keys(bundle).sort()).toEqual(['image/png', 'text/plain']);
    // the threshold is an option
    expect(Object.keys(await chartBundle(big, { maxSpecChars: Infinity }))).toContain(VEGA_LITE_MIME);
    expect(Object.keys(await chartBundle(small, { maxSpecChars: 0 }))).not.toContain(VEGA_LITE_MIME);
    await expect(chartBundle(small, { scale: 0.5 })).rejects.toThrow(/options\.scale must be a finite number in \[1, 8\]/);
  });

  it('rasterizes a large chart at a lower scale to stay within the pixel cap, never below 1', () => {
    expect(chartPngScale(400, 300)).toBe(2);
    const s = chartPngScale(1309, 1235);
    expect(s).toBeLessThan(2);
    expect(1309 * s * 1235 * s).toBeCloseTo(CHART_PNG_MAX_PIXELS, -3);
    expect(chartPngScale(5000, 5000)).toBe(1);
    expect(chartPngScale(400, 300, 1.5)).toBe(1.5);
  });

  it('renders tidy rows and a danfo.js DataFrame as the same HTML table', async () => {
    const rows = [{ label: 0, accuracy: 0.98765 }, { label: 1, accuracy: 0.5 }];
    const fromRows = tableBundle(rows);
    expect(fromRows['text/html']).toContain('<th>label</th><th>accuracy</th>');
    expect(fromRows['text/html']).toContain('<td>0.9877</td>');
    const dfd = await import('danfojs-node');
    const df = new dfd.DataFrame(rows);
    expect(tableBundle(df as never)['text/html']).toBe(fromRows['text/html']);
    expect(fromRows['text/plain']).toBe('label\taccuracy\n0\t0.9877\n1\t0.5000');
    expect(showTable(rows)).toBeUndefined();
  });

  it('escapes HTML in cells and says how many rows were left out', () => {
    const b = tableBundle([{ x: '<b>' }, { x: 'y' }, { x: 'z' }], { maxRows: 2 });
    expect(b['text/html']).toContain('&lt;b&gt;');
    expect(b['text/html']).toContain('1 more rows');
  });
});

describe('pageBundle: a whole HTML page in a sandboxed frame', () => {
  it('escapes the page into srcdoc, so its markup cannot close the frame early', () => {
    const page = '<!doctype html><p title="a&b">x</p></iframe><script>alert(1)</script>';
    const b = pageBundle(page, { height: 300 });
    const html = b['text/html'] as string;
    expect(html).toMatch(/^<iframe sandbox="allow-scripts" style="width: 100%; height: 300px; [^"]*" srcdoc="[^"]*"><\/iframe>$/);
    expect(html).toContain('&lt;/iframe&gt;&lt;script&gt;');
    expect(html).toContain('title=&quot;a&amp;b&quot;');
    expect(b['text/plain']).toBe('an HTML page (0 kB)');
    expect(() => pageBundle(page, { height: 10 })).toThrow(/plot\.pageBundle: options\.height/);
  });
});
