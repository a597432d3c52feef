/**
 * `plot`: charts in notebooks and files. Show a vega-lite chart or a table inline (tslab),
 * render specs to SVG and PNG with the house theme, draw an RDM as a heat map (`showRdm`), and embed a
 * representation in 2-D with seeded UMAP (with its trustworthiness).
 *
 * @example
 * await plot.showChart({ data: { values: rows }, mark: 'line', encoding: { x: { field: 'epoch' }, y: { field: 'loss' } } });
 */
export {
  showChart,
  showTable,
  showPage,
  pageBundle,
  chartBundle,
  chartOutput,
  tableBundle,
  VEGA_LITE_MIME,
  type ChartBundleOptions,
  type TableOptions,
  type PageOptions,
  type MimeBundle,
  type DisplayOutput,
  type DataFrameLike,
} from '../plot/display.js';
export { showRdm, rdmHeatmapSpec, type RdmView, type RdmHeatmapOptions } from '../plot/rdm-heatmap.js';
export { specToSvg, svgToPng, rowsToCsv } from '../plot/render.js';
export { houseConfig, withHouseTheme } from '../plot/theme.js';
export { umapEmbed as umap, trustworthiness, type UmapOptions, type TrustworthinessOptions } from '../plot/umap.js';
