/**
 * The house theme for every figure: sans-serif (DejaVu Sans, the system font here), sizes that
 * stay readable when the PNG is shown at 2x, a color-blind-safe categorical scheme.
 */
import type { Config } from 'vega-lite';

/** The font every chart asks for (rendered from the system's fonts by resvg). */
export const HOUSE_FONT = 'DejaVu Sans';

/** The house vega-lite config: DejaVu Sans, readable sizes, white background, Tableau 10 categorical colors. */
export const houseConfig: Config = {
  font: HOUSE_FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#ddd' },
  title: { fontSize: 15, fontWeight: 'bold', anchor: 'start', offset: 10 },
  axis: { labelFontSize: 12, titleFontSize: 13, gridColor: '#eee', domainColor: '#888', tickColor: '#888' },
  legend: { labelFontSize: 12, titleFontSize: 13 },
  header: { labelFontSize: 13, titleFontSize: 13 },
  range: { category: { scheme: 'tableau10' } },
  line: { strokeWidth: 2 },
  point: { size: 40 },
};

/**
 * Adds the house config under any config the spec sets itself (the spec wins).
 *
 * @example const themed = plot.withHouseTheme({ ...spec, config: { font: 'serif' } }); // house config with the spec's font
 */
export function withHouseTheme<T extends { config?: Config }>(spec: T): T {
  return { ...spec, config: { ...houseConfig, ...(spec.config ?? {}) } };
}
