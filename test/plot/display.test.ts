import { describe, it, expect } from 'vitest';
import { chartBundle, showChart, showTable, tableBundle, VEGA_LITE_MIME } from '../../src/plot/display.js';

describe('notebook display helpers', () => {
  it('bundles a chart as vega-lite JSON with SVG and PNG fallbacks', async () => {
    const spec = { data: { values: [{ a: 1 }, { a: 2 }] }, mark: 'point' as const, encoding: { x: { field: 'a', type: 'quantitative' as const } } };
    const bundle = await chartBundle(spec);
    expect(Object.keys(bundle).sort()).toEqual([VEGA_LITE_MIME, 'image/png', 'image/svg+xml', 'text/plain'].sort());
    expect((bundle[VEGA_LITE_MIME] as { mark: string }).mark).toBe('point');
    expect(Buffer.from(bundle['image/png'] as string, 'base64').subarray(1, 4).toString()).toBe('PNG');
    // outside a kernel nothing is sent and nothing throws
    await expect(showChart(spec)).resolves.toBeUndefined();
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
    const b = tableBundle([{ x: '<b>' }, { x: 'y' }, { x: 'z' }], 2);
    expect(b['text/html']).toContain('&lt;b&gt;');
    expect(b['text/html']).toContain('1 more rows');
  });
});
