/**
 * Inline display in tslab notebooks. A chart goes out as one display_data bundle with the
 * vega-lite MIME type (JupyterLab renders it natively) plus SVG and PNG fallbacks (nbconvert,
 * GitHub, VS Code); a table as HTML plus plain text.
 * Outside a kernel these functions return the bundle without sending it, so they are testable.
 */
import { createRequire } from 'node:module';
import type { TopLevelSpec } from 'vega-lite';
import { specToSvg, svgToPng } from './render.js';
import { withHouseTheme } from './theme.js';

/** A Jupyter MIME bundle: MIME type -> data. */
export type MimeBundle = Record<string, unknown>;

export const VEGA_LITE_MIME = 'application/vnd.vegalite.v5+json';

const requireHere = createRequire(import.meta.url);

/**
 * Sends a MIME bundle to the notebook as one display_data message; returns false outside a
 * running tslab kernel. tslab's public `display.raw` sends a single MIME type, so we call the
 * writer it uses itself (tslab/dist/jupyter's lastWriteDisplayData, set while a cell runs).
 */
function sendBundle(bundle: MimeBundle): boolean {
  let jupyter: { lastWriteDisplayData?: ((msg: object, update: boolean) => void) | null };
  try {
    jupyter = requireHere('tslab/dist/jupyter.js');
  } catch {
    return false;
  }
  if (typeof jupyter.lastWriteDisplayData !== 'function') return false;
  jupyter.lastWriteDisplayData({ data: bundle, metadata: {}, transient: {} }, false);
  return true;
}

/** Builds the chart's MIME bundle: vega-lite JSON + SVG + base64 PNG. */
export async function chartBundle(spec: TopLevelSpec): Promise<MimeBundle> {
  const svg = await specToSvg(spec);
  return {
    // JupyterLab's renderer is vega-lite 5; our specs use no v6-only features.
    [VEGA_LITE_MIME]: { ...withHouseTheme(spec), $schema: 'https://vega.github.io/schema/vega-lite/v5.json' },
    'image/svg+xml': svg,
    'image/png': Buffer.from(svgToPng(svg)).toString('base64'),
    'text/plain': `<vega-lite chart${typeof spec.title === 'string' ? `: ${spec.title}` : ''}>`,
  };
}

/**
 * Shows a vega-lite chart inline in a notebook. Returns no
 * bundle on purpose: tslab would echo a cell's last value as text under the chart.
 */
export async function showChart(spec: TopLevelSpec): Promise<void> {
  sendBundle(await chartBundle(spec));
}

/** Anything with the shape of a danfo.js DataFrame (columns + row values). */
export interface DataFrameLike {
  columns: string[];
  values: unknown[][] | unknown[];
}

function cellText(v: unknown): string {
  return typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v);
}

function escapeHtml(v: unknown): string {
  return cellText(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Builds a table's MIME bundle (HTML + aligned plain text) from a DataFrame or tidy rows. */
export function tableBundle(table: DataFrameLike | Record<string, unknown>[], maxRows = 50): MimeBundle {
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
    `<table class="nestlab-table"><thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${shown.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>${more}`;
  const text = [columns.join('\t'), ...shown.map((r) => r.map(cellText).join('\t'))].join('\n');
  return { 'text/html': html, 'text/plain': text };
}

/** Shows a danfo.js DataFrame (or tidy rows) as a table inline in a notebook (returns nothing, as showChart). */
export function showTable(table: DataFrameLike | Record<string, unknown>[], maxRows = 50): void {
  sendBundle(tableBundle(table, maxRows));
}
