import { describe, it, expect } from 'vitest';
import type { TopLevelSpec } from 'vega-lite';
import { rowsToCsv, specToSvg, svgToPng } from '../../src/plot/render.js';
import { pngSize, unbalancedTag } from '../helpers/markup.js';

const spec: TopLevelSpec = {
  title: 'Loss',
  width: 200,
  height: 100,
  data: { values: [{ epoch: 1, loss: 2 }, { epoch: 2, loss: 1 }] },
  mark: 'line',
  encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } },
};

describe('figure rendering', () => {
  it('renders a vega-lite spec to a well-formed SVG with the house font and the data drawn', async () => {
    const svg = await specToSvg(spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('font-family="DejaVu Sans"');
    expect(svg).toContain('>Loss</text>');
    expect(svg).toMatch(/<path[^>]*d="M/); // the line itself
    expect(unbalancedTag(svg)).toBeNull();
  });

  it('rasterizes at 2x: the PNG is twice the SVG size', async () => {
    const svg = await specToSvg(spec);
    const w = Number(/width="(\d+(\.\d+)?)"/.exec(svg)![1]);
    const h = Number(/height="(\d+(\.\d+)?)"/.exec(svg)![1]);
    const png = svgToPng(svg);
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(pngSize(png)).toEqual([Math.round(2 * w), Math.round(2 * h)]);
  });

  it('writes a CSV header of the union of the rows\' columns', () => {
    expect(rowsToCsv([{ a: 1 }, { b: 2 }])).toBe('a,b\n1,\n,2\n');
  });
});
