/**
 * Inline display in tslab notebooks: charts as one display_data bundle, tables as HTML plus text.
 * Outside a kernel these functions return the bundle without sending it, so they are testable.
 *
 * What a chart's bundle holds, and why (checked against nbconvert 6.5's HTML exporter, Debian 12):
 *
 * - `image/png`, always: the one image every front end shows. nbconvert's HTML exporter (what
 *   nbviewer and most sites run) keeps, of each output, the first MIME type of its priority list
 *   (widget, javascript, html, markdown, **svg**, latex, **png**, jpeg, plain) and drops the others;
 *   the vega-lite type is not on that list. Classic Notebook 6.x has no vega-lite renderer either
 *   (its OutputArea.display_order: javascript, html, markdown, latex, svg, png, ...), nor have
 *   GitHub's notebook view or VS Code without an extension (those two not checked here).
 *   Metadata `{'image/png': {width}}` (the chart's size in CSS pixels), which nbconvert, Notebook
 *   and JupyterLab honor, draws the PNG at the chart's own size, so its extra pixels go to
 *   high-DPI screens rather than to a bigger picture.
 * - No `image/svg+xml`: nbconvert would pick it before the PNG, then pass it through lxml's HTML
 *   cleaner (`clean_html`), which strips every SVG element and keeps only the text nodes: the
 *   chart came out as a blank `<svg class="marks">` holding its axis labels as one string.
 * - `application/vnd.vegalite.v5+json` (the spec, house theme and inline data) only while its
 *   JSON is at most CHART_SPEC_MAX_CHARS (100,000) characters. JupyterLab then draws the live
 *   chart (its vega renderer outranks images). Of the notebooks' eight charts, five have specs of
 *   1-54 kB and keep it; three carry 800-9,300 rows inline (0.24-1.1 MB: the SAE absorption
 *   scatter, the persistence diagrams, the UMAP panels), which would only bloat the notebook, so
 *   there JupyterLab shows the PNG like everyone else.
 * - `text/plain`: a one-line description.
 *
 * The PNG: 2 PNG pixels per CSS pixel (sharp on high-DPI screens and when zoomed), lowered for a
 * large chart so that the image stays within CHART_PNG_MAX_PIXELS (4 megapixels), never below 1;
 * white background, encoded as 8-bit RGB with zlib level 9 (about half the bytes of resvg's own
 * RGBA PNG for these charts, lossless).
 */
import { createRequire } from 'node:module';
import type { TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { specToSvg } from './render.js';
import { withHouseTheme, HOUSE_FONT } from './theme.js';
import { encodePng } from './png.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';
import { escapeHtml } from './html.js';

/** A Jupyter MIME bundle: MIME type -> data. */
export type MimeBundle = Record<string, unknown>;

/** A display_data output's `data` (the MIME bundle) and `metadata` (per MIME type). */
export interface DisplayOutput {
  /** MIME type -> content (PNG as base64, vega-lite as JSON, text). */
  data: MimeBundle;
  /** MIME type -> display hints, e.g. `{'image/png': {width}}` in CSS pixels. */
  metadata: Record<string, unknown>;
}

/** The MIME type of a vega-lite 5 spec in a Jupyter bundle (what JupyterLab's vega renderer draws). */
export const VEGA_LITE_MIME = 'application/vnd.vegalite.v5+json';

/** Largest vega-lite JSON (characters) that a chart bundle carries besides its PNG. */
export const CHART_SPEC_MAX_CHARS = 100_000;
/** PNG pixels per CSS pixel of a chart (before the CHART_PNG_MAX_PIXELS cap). */
export const CHART_PNG_SCALE = 2;
/** Most pixels in a chart's PNG: a bigger chart is rasterized at a lower scale (but at least 1). */
export const CHART_PNG_MAX_PIXELS = 4_000_000;

/** Options of chartBundle / chartOutput / showChart. */
export interface ChartBundleOptions {
  /** Largest vega-lite JSON kept in the bundle, in characters (default CHART_SPEC_MAX_CHARS; 0 = never, Infinity = always). */
  maxSpecChars?: number;
  /** PNG pixels per CSS pixel, in [1, 8] (default CHART_PNG_SCALE); capped by CHART_PNG_MAX_PIXELS, at least 1. */
  scale?: number;
}

const requireHere = createRequire(import.meta.url);

/**
 * Sends a MIME bundle to the notebook as one display_data message; returns false outside a
 * running tslab kernel. tslab's public `display.raw` sends a single MIME type, so we call the
 * writer it uses itself (tslab/dist/jupyter's lastWriteDisplayData, set while a cell runs).
 */
function sendBundle(bundle: MimeBundle, metadata: Record<string, unknown> = {}): boolean {
  let jupyter: { lastWriteDisplayData?: ((msg: object, update: boolean) => void) | null };
  try {
    jupyter = requireHere('tslab/dist/jupyter.js');
  } catch {
    return false;
  }
  if (typeof jupyter.lastWriteDisplayData !== 'function') return false;
  jupyter.lastWriteDisplayData({ data: bundle, metadata, transient: {} }, false);
  return true;
}

/** The scale a chart of `width` x `height` CSS pixels is rasterized at (see the module header). */
export function chartPngScale(width: number, height: number, scale = CHART_PNG_SCALE): number {
  const cap = Math.sqrt(CHART_PNG_MAX_PIXELS / Math.max(1, width * height));
  return Math.max(1, Math.min(scale, cap));
}

/** Rasterizes a chart's SVG on white as an RGB PNG; returns the bytes and the CSS width. */
function chartPng(svg: string, scale: number): { png: Uint8Array; cssWidth: number } {
  const options = { font: { loadSystemFonts: true, defaultFontFamily: HOUSE_FONT }, background: 'white' };
  const natural = new Resvg(svg, options);
  const cssWidth = Math.round(natural.width);
  const s = chartPngScale(natural.width, natural.height, scale);
  const image = new Resvg(svg, { ...options, fitTo: { mode: 'zoom', value: s } }).render();
  const rgba = image.pixels;
  const n = image.width * image.height;
  const rgb = new Uint8Array(n * 3);
  // The background is opaque white, so alpha is 255 everywhere: RGB loses nothing.
  for (let i = 0; i < n; i++) {
    rgb[3 * i] = rgba[4 * i];
    rgb[3 * i + 1] = rgba[4 * i + 1];
    rgb[3 * i + 2] = rgba[4 * i + 2];
  }
  return { png: encodePng({ width: image.width, height: image.height, channels: 3, pixels: rgb }), cssWidth };
}

/**
 * A chart's display_data output: PNG (+ vega-lite JSON when small) + text, with the PNG's CSS
 * width in the metadata. The module header gives the rule.
 *
 * @example const { data: bundle, metadata } = await plot.chartOutput(spec, { scale: 2 }); // bundle and metadata of one display_data message
 */
export async function chartOutput(spec: TopLevelSpec, options: ChartBundleOptions = {}): Promise<DisplayOutput> {
  const scale = checkNumber('plot.chartBundle', 'options.scale', options.scale ?? CHART_PNG_SCALE, 1, 8);
  const maxSpecChars =
    options.maxSpecChars === Infinity ? Infinity : checkNumber('plot.chartBundle', 'options.maxSpecChars', options.maxSpecChars ?? CHART_SPEC_MAX_CHARS, 0);
  const svg = await specToSvg(spec);
  const { png, cssWidth } = chartPng(svg, scale);
  const data: MimeBundle = {};
  // JupyterLab's renderer is vega-lite 5; our specs use no v6-only features.
  const vl = { ...withHouseTheme(spec), $schema: 'https://vega.github.io/schema/vega-lite/v5.json' };
  if (JSON.stringify(vl).length <= maxSpecChars) data[VEGA_LITE_MIME] = vl;
  data['image/png'] = Buffer.from(png).toString('base64');
  data['text/plain'] = `<vega-lite chart${typeof spec.title === 'string' ? `: ${spec.title}` : ''}>`;
  return { data, metadata: { 'image/png': { width: cssWidth } } };
}

/**
 * Builds the chart's MIME bundle (chartOutput's `data`: PNG, vega-lite JSON when small, text).
 *
 * @example const bundle = await plot.chartBundle(spec); // { 'image/png': base64, 'text/plain': ..., [plot.VEGA_LITE_MIME]: spec when small }
 */
export async function chartBundle(spec: TopLevelSpec, options: ChartBundleOptions = {}): Promise<MimeBundle> {
  return (await chartOutput(spec, options)).data;
}

/**
 * Shows a vega-lite chart inline in a notebook. Returns no
 * bundle on purpose: tslab would echo a cell's last value as text under the chart.
 * The bundle is `chartOutput`'s: a PNG every front end shows, plus the vega-lite JSON JupyterLab
 * draws live when the spec is small (see the module header).
 *
 * @example await plot.showChart({ data: { values: rows }, mark: 'line', encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } } });
 */
export async function showChart(spec: TopLevelSpec, options: ChartBundleOptions = {}): Promise<void> {
  const out = await chartOutput(spec, options);
  sendBundle(out.data, out.metadata);
}

/** Anything with the shape of a danfo.js DataFrame (columns + row values). */
export interface DataFrameLike {
  /** Column names, in display order. */
  columns: string[];
  /** One array of cells per row (or one cell per row for a single column). */
  values: unknown[][] | unknown[];
}

function cellText(v: unknown): string {
  return typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v);
}


/** Options of `showTable` / `tableBundle`. */
export interface TableOptions {
  /** Rows shown; the rest are counted. Default 50. */
  maxRows?: number;
}

/**
 * Builds a table's MIME bundle (HTML + aligned plain text) from a DataFrame or tidy rows.
 *
 * @example const bundle = plot.tableBundle(rows, { maxRows: 20 }); // { 'text/html': '<table ...>', 'text/plain': tab-separated }
 */
export function tableBundle(table: DataFrameLike | Record<string, unknown>[], options: TableOptions = {}): MimeBundle {
  checkKnownKeys('plot.showTable', options, ['maxRows']);
  const maxRows = checkInt('plot.showTable', 'options.maxRows', options.maxRows ?? 50, 1);
  let columns: string[];
  let values: unknown[][];
  if (Array.isArray(table)) {
    columns = [...new Set(table.flatMap((r) => Object.keys(r)))];
    values = table.map((r) => columns.map((c) => r[c]));
  } else {
    columns = table.columns;
    values = (table.values as unknown[]).map((r) => (Array.isArray(r) ? r : [r]));
  }
  const shown = values.slice(0, maxRows);
  const more = values.length > maxRows ? `<p>… ${values.length - maxRows} more rows</p>` : '';
  const html =
    `<table class="nestlab-table"><thead><tr>${columns.map((c) => `<th>${escapeHtml(cellText(c))}</th>`).join('')}</tr></thead>` +
    `<tbody>${shown.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(cellText(v))}</td>`).join('')}</tr>`).join('')}</tbody></table>${more}`;
  const text = [columns.join('\t'), ...shown.map((r) => r.map(cellText).join('\t'))].join('\n');
  return { 'text/html': html, 'text/plain': text };
}

/**
 * Shows a danfo.js DataFrame (or tidy rows) as a table inline in a notebook (returns nothing, as showChart).
 *
 * @example plot.showTable(rows, { maxRows: 20 }); // tidy rows or a danfo.js DataFrame; numbers to 4 significant digits
 */
export function showTable(table: DataFrameLike | Record<string, unknown>[], options: TableOptions = {}): void {
  sendBundle(tableBundle(table, options));
}

/** Options of {@link showPage} and {@link pageBundle}. */
export interface PageOptions {
  /** Height of the frame in CSS pixels. Default 600. */
  height?: number;
}

/**
 * A whole HTML page (a report, a dashboard) as a notebook output: an iframe whose `srcdoc` is the
 * page, sandboxed to run its own scripts only. Why a frame: the page keeps its styles, scripts and
 * Content-Security-Policy to itself instead of leaking into the notebook's, and nbconvert's HTML
 * export keeps it as it is.
 *
 * @example const bundle = plot.pageBundle('<!doctype html><p>hi</p>', { height: 200 }); // bundle['text/html'] starts with '<iframe'
 */
export function pageBundle(html: string, options: PageOptions = {}): MimeBundle {
  checkKnownKeys('plot.pageBundle', options, ['height']);
  const height = checkInt('plot.pageBundle', 'options.height', options.height ?? 600, 50, 20000);
  if (typeof html !== 'string') throw new NestlabArgumentError('plot.pageBundle', 'html', 'a string of HTML', html);
  return {
    'text/html': `<iframe sandbox="allow-scripts" style="width: 100%; height: ${height}px; border: 1px solid #ddd" srcdoc="${escapeHtml(html)}"></iframe>`,
    'text/plain': `an HTML page (${Math.round(html.length / 1024)} kB)`,
  };
}

/**
 * Shows a whole HTML page inline in a notebook, in a sandboxed frame (see {@link pageBundle}).
 *
 * @example plot.showPage(report.buildTextDashboard(data), { height: 800 }); // the dashboards inline, scripts and all
 */
export function showPage(html: string, options: PageOptions = {}): void {
  sendBundle(pageBundle(html, options));
}
