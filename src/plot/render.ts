/**
 * vega-lite spec -> SVG (vega's headless View) -> PNG (resvg, whose binary ships in its npm
 * package), and tidy rows -> CSV.
 */
import type { TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { csvFormat } from 'd3-dsv';
import { withHouseTheme, HOUSE_FONT } from './theme.js';
import type { Row } from '../data/table.js';

/**
 * Renders a vega-lite spec to an SVG string with the house theme.
 * Compiled by vega-lite's `compile`, drawn by a headless vega `View` (`toSVG`).
 *
 * @example const svg = await plot.specToSvg(spec); // SVG text, house theme applied
 */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded lazily: vega (and vega-lite, which imports it) pulls in vega-canvas, which has a
  // top-level await; a static import would make the library unloadable by require() (tslab
  // notebooks run as CommonJS).
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  // A copy: vega tags the data objects it ingests (Symbol(vega_id)), and the caller's rows must stay clean.
  const vgSpec = vegaLite.compile(withHouseTheme(structuredClone(spec)) as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterizes SVG to PNG at `scale` (default 2, for high-DPI screens and print).
 * Rendered by resvg (@resvg/resvg-js) with the house font.
 *
 * @example const png = plot.svgToPng(await plot.specToSvg(spec), 2); // PNG bytes, 2 pixels per CSS pixel, white background
 */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: HOUSE_FONT },
    background: 'white',
  });
  return resvg.render().asPng();
}

/**
 * Tidy rows as CSV text (RFC 4180 quoting by d3-dsv).
 *
 * @example const csv = plot.rowsToCsv(rows); // header = the union of the rows' keys, in order of first appearance
 */
export function rowsToCsv(rows: Row[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return `${csvFormat(rows, columns)}\n`;
}
