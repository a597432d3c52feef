/**
 * The HTML interpretability report of a trained (Matryoshka) SAE: one self-contained page with the config, a metrics table per prefix, the
 * reconstruction-vs-prefix chart, and a card per latent (its top-activating rows, as a grid of
 * pictures when the rows have pictures of a given height and width, else as a table of row indices,
 * labels and activations; activation histogram; label distribution of the top examples when the
 * rows have integer labels; decoder direction as an image when the inputs themselves are pictures).
 *
 * Self-contained means: no script, no stylesheet or font fetched, no http(s) URL anywhere. Charts
 * are vega-lite specs rendered to SVG by our specToSvg (house theme) and inlined; images are PNGs
 * from our small encoder (png.ts) as data: URIs, drawn at native size and scaled up with
 * `image-rendering: pixelated`. PNG rather than SVG <rect> grids because a 28x28 picture as rects
 * is 784 elements (~40 kB of markup) against ~400 bytes of base64, and a page of 64 cards × 17
 * images would otherwise carry ~850k DOM nodes.
 *
 * Inert (see plot/html.ts): every string from data or files (title, data description, paths,
 * tensor names, class names, the config's activation) goes through escapeHtml, in text and in
 * attributes; only numbers we computed and our own constants (colors, ids) are written raw, and the
 * SAE's config numbers are checked to be integers first. Class names reach the charts as vega data
 * values, which vega escapes in the SVG it writes. A Content-Security-Policy meta forbids every
 * network load and every script (the page has none).
 *
 * Everything derives from one encoding of the data (encodeSae's sparse code), which is also handed
 * to evaluateSae, so the report costs one encoder pass plus ~2 small chart renders per latent.
 *
 * Hand-written: it is page assembly (HTML strings around our own charts and images).
 */
import type { TopLevelSpec } from 'vega-lite';
import { initBackend } from '../backend/select.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { writeFileAtomic } from '../data/files.js';
import { encodeSae, type Sae, type SparseCode } from '../sae/model.js';
import { evaluateSae, featureDensity, type FeatureDensity, type PrefixMetrics } from '../sae/metrics.js';
import { probeAbsorption, sparseProbing, type ProbeAbsorptionRow, type SparseProbingRow } from '../sae/probing.js';
import { ACTIVATIONS, architectureHash } from '../sae/config.js';
import { specToSvg } from '../plot/render.js';
import { encodePng, pngDataUri } from '../plot/png.js';
import { escapeHtml, formatNumber, inlineSvg, reportCspMeta } from '../plot/html.js';

/** The rows a report describes (the `data` argument of `report.buildSaeReport`). */
export interface SaeReportData {
  /** The SAE's inputs, [rows, dIn]. */
  x: Matrix;
  /** One class label (integer ≥ 0) per row; enables the label-distribution charts. */
  y?: Int32Array;
  /**
   * [height, width] of the pictures: of `images`, or of `x` itself when `images` is absent (an SAE
   * on pixels: then decoder directions are drawn as images too). Default: no pictures (cards list
   * the top rows' indices, labels and activations).
   */
  imageShape?: [number, number];
  /**
   * What to show as each row's picture when `x` is not pixels (e.g. an SAE on hidden activations
   * of an MNIST model: the digits themselves), [rows, height·width]. Needs `imageShape`.
   */
  images?: Matrix;
  /**
   * Draw pictures as ink on paper, high values dark (digits, strokes). Default false: grayscale
   * with high values light (photographs, feature maps).
   */
  ink?: boolean;
}

/** Options of `report.buildSaeReport`. */
export interface SaeReportOptions {
  /** Page title. Default "Matryoshka SAE report" (or "SAE report" for one prefix). */
  title?: string;
  /** One line on the data, e.g. "MNIST test split (2,000 digits)". Default: rows × columns. */
  dataDescription?: string;
  /** Where the SAE came from (a checkpoint path), shown in the header. */
  source?: string;
  /** Latent cards for latents 0 … maxLatents−1 (prefix order). Default min(64, dSae). */
  maxLatents?: number;
  /** Top-activating examples shown per latent. Default 16. */
  topExamples?: number;
  /** Top-activating examples whose labels make the label distribution. Default 100. */
  labelExamples?: number;
  /** Bins of the activation histogram. Default 30. */
  histogramBins?: number;
  /** Names of the classes (index = label). Default the label numbers. */
  classNames?: string[];
  /** The date shown in the header. Default now. */
  date?: Date;
  /**
   * With labels, SAEBench's k-sparse probing and probe-based absorption per prefix (one probe per
   * class; absorption costs seconds per prefix). Default true.
   */
  probes?: boolean;
}

const REPORT_OPTIONS = ['title', 'dataDescription', 'source', 'maxLatents', 'topExamples', 'labelExamples', 'histogramBins', 'classNames', 'date', 'probes'];

/** tableau10, the house categorical scheme: one color per prefix group. */
export const GROUP_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** ColorBrewer RdBu (11 classes, ends and every other step), from −1 (blue) through white to +1 (red). */
const RDBU: [number, number, number][] = [
  [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

/** Diverging color of t ∈ [−1, 1] (clamped): piecewise-linear through RDBU. */
export function divergingColor(t: number): [number, number, number] {
  const u = ((Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0)) + 1) / 2) * (RDBU.length - 1);
  const i = Math.min(RDBU.length - 2, Math.floor(u));
  const f = u - i;
  const a = RDBU[i];
  const b = RDBU[i + 1];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

/** A vector as a diverging RGB PNG [h, w], scaled by `scale` (default max |v|): −scale blue, 0 white, +scale red. */
export function divergingImagePng(v: ArrayLike<number>, height: number, width: number, scale?: number): Uint8Array {
  let s = scale ?? 0;
  if (scale === undefined) for (let i = 0; i < v.length; i++) s = Math.max(s, Math.abs(v[i]));
  const px = new Uint8Array(height * width * 3);
  for (let i = 0; i < height * width; i++) {
    const [r, g, b] = divergingColor(s > 0 ? v[i] / s : 0);
    px[3 * i] = r;
    px[3 * i + 1] = g;
    px[3 * i + 2] = b;
  }
  return encodePng({ width, height, channels: 3, pixels: px });
}

/**
 * A vector as a grayscale PNG [h, w] on the scale [lo, hi]: `lo` black and `hi` white, or with
 * `ink`, `lo` white and `hi` black (ink on paper).
 */
export function grayImagePng(v: ArrayLike<number>, height: number, width: number, lo = 0, hi = 1, ink = true): Uint8Array {
  const px = new Uint8Array(height * width);
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < height * width; i++) {
    const t = Math.max(0, Math.min(1, (v[i] - lo) / span));
    px[i] = Math.round(255 * (ink ? 1 - t : t));
  }
  return encodePng({ width, height, channels: 1, pixels: px });
}

// ---------------------------------------------------------------------------------------------
// Validation

function checkSae(where: string, sae: unknown): Sae {
  const s = sae as Sae;
  if (s === null || typeof s !== 'object' || typeof s.cfg !== 'object' || s.cfg === null || typeof s.params !== 'object' || s.params === null) {
    throw new NestlabArgumentError(where, 'sae', 'an Sae {cfg, params, threshold} (trainSae, loadSae)', sae);
  }
  // the page writes these numbers raw (ids, headings): a hand-made or corrupt config fails here
  const dIn = checkInt(where, 'sae.cfg.dIn', s.cfg.dIn, 1);
  const dSae = checkInt(where, 'sae.cfg.dSae', s.cfg.dSae, 1);
  checkOneOf(where, 'sae.cfg.activation', s.cfg.activation, ACTIVATIONS);
  const p = s.cfg.prefixes;
  if (!Array.isArray(p) || p.length === 0 || p.some((v, i) => !Number.isInteger(v) || v < 1 || v > dSae || (i > 0 && v <= p[i - 1])) || p[p.length - 1] !== dSae) {
    throw new NestlabArgumentError(where, 'sae.cfg.prefixes', `strictly increasing integer prefix sizes ending at dSae = ${dSae}`, p);
  }
  if (!(s.params.wDec instanceof Float32Array) || s.params.wDec.length !== dIn * dSae) {
    throw new NestlabArgumentError(where, 'sae.params.wDec', `a Float32Array of dSae·dIn = ${dSae * dIn} values`, s.params.wDec);
  }
  return s;
}

interface ResolvedData {
  x: Matrix;
  y: Int32Array | null;
  classes: number;
  /** Distinct labels among the rows. */
  distinct: number;
  images: Matrix | null;
  shape: [number, number] | null;
  /** Decoder rows are images of this shape (pixel SAE). */
  pixelSae: boolean;
  lo: number;
  hi: number;
  ink: boolean;
}

function resolveData(where: string, sae: Sae, data: SaeReportData): ResolvedData {
  if (data === null || typeof data !== 'object') throw new NestlabArgumentError(where, 'data', 'an object {x, y?, imageShape?, images?}', data);
  checkKnownKeys(where, data, ['x', 'y', 'imageShape', 'images', 'ink']);
  const x = checkMatrix(where, 'data.x', data.x, 1, 1);
  if (x.cols !== sae.cfg.dIn) throw new NestlabArgumentError(where, 'data.x.cols', `the SAE's dIn = ${sae.cfg.dIn}`, x.cols);
  let y: Int32Array | null = null;
  let classes = 0;
  let distinct = 0;
  if (data.y !== undefined) {
    if (!(data.y instanceof Int32Array) || data.y.length !== x.rows) throw new NestlabArgumentError(where, 'data.y', `an Int32Array of ${x.rows} labels (one per row of data.x)`, data.y);
    const seen = new Set<number>();
    for (let i = 0; i < x.rows; i++) {
      if (data.y[i] < 0) throw new NestlabArgumentError(where, `data.y[${i}]`, 'a class label ≥ 0', data.y[i]);
      classes = Math.max(classes, data.y[i] + 1);
      seen.add(data.y[i]);
    }
    distinct = seen.size;
    y = data.y;
  }
  if (data.ink !== undefined && typeof data.ink !== 'boolean') throw new NestlabArgumentError(where, 'data.ink', 'true or false', data.ink);
  let images: Matrix | null = null;
  if (data.images !== undefined) {
    images = checkMatrix(where, 'data.images', data.images, 1, 1);
    if (images.rows !== x.rows) throw new NestlabArgumentError(where, 'data.images.rows', `data.x.rows = ${x.rows}`, images.rows);
  }
  let shape: [number, number] | null = null;
  if (data.imageShape !== undefined) {
    const s = data.imageShape;
    if (!Array.isArray(s) || s.length !== 2) throw new NestlabArgumentError(where, 'data.imageShape', 'a [height, width] pair', s);
    shape = [checkInt(where, 'data.imageShape[0]', s[0], 1, 4096), checkInt(where, 'data.imageShape[1]', s[1], 1, 4096)];
    const cols = (images ?? x).cols;
    if (shape[0] * shape[1] !== cols) {
      throw new NestlabArgumentError(where, 'data.imageShape', `height·width = ${images ? 'data.images' : 'data.x'}.cols = ${cols}`, `[${shape.join(', ')}]`);
    }
  } else if (images !== null) {
    throw new NestlabArgumentError(where, 'data.imageShape', `[height, width] of data.images (${images.cols} columns)`, undefined);
  }
  if (shape !== null && images === null) images = x;
  const pixelSae = shape !== null && images === x;
  let lo = 0;
  let hi = 1;
  if (images !== null) {
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < images.data.length; i++) {
      const v = images.data[i];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (mn < 0 || mx > 1) [lo, hi] = [mn, mx]; // not [0, 1] images: one global gray scale
  }
  return { x, y, classes, distinct, images, shape, pixelSae, lo, hi, ink: data.ink ?? false };
}

// ---------------------------------------------------------------------------------------------
// Per-latent statistics from the sparse code

/** What a latent card shows, computed from the sparse code. */
export interface LatentSummary {
  latent: number;
  /** 1-based prefix group (latents prefixes[g−2] … prefixes[g−1]−1). */
  group: number;
  /** Rows on which the latent fires (activation > 0). */
  fires: number;
  frequency: number;
  meanActivation: number;
  maxActivation: number;
  /** Rows of the top-activating examples, strongest first (ties: lower row first). */
  topRows: number[];
  topValues: number[];
  /** Nonzero activations, as histogram bins [lo, hi) with counts. */
  histogram: { lo: number; hi: number; count: number }[];
  /** The labels among the top `labelExamples` firing rows with their counts, most frequent first (ties: lower label first); empty without labels. */
  labelCounts: { label: number; count: number }[];
  labelExamples: number;
}

/** The 1-based prefix group of latent j: the first g with j < prefixes[g−1]. */
export function prefixGroup(prefixes: number[], j: number): number {
  for (let g = 0; g < prefixes.length; g++) if (j < prefixes[g]) return g + 1;
  return prefixes.length;
}

/**
 * Per-latent summaries of latents 0 … count−1 from a sparse code: firing counts, the top `top`
 * rows, a `bins`-bin histogram of the nonzero activations (equal-width on [0, max]), and label
 * counts among the top `labelTop` firing rows.
 */
export function summarizeLatents(code: SparseCode, prefixes: number[], count: number, opts: { top: number; labelTop: number; bins: number; y: Int32Array | null; classes: number }): LatentSummary[] {
  const n = code.rows;
  const counts = new Int32Array(count);
  for (let a = 0; a < code.idx.length; a++) if (code.idx[a] < count) counts[code.idx[a]]++;
  const start = new Int32Array(count + 1);
  for (let j = 0; j < count; j++) start[j + 1] = start[j] + counts[j];
  const rowsOf = new Int32Array(start[count]);
  const valsOf = new Float32Array(start[count]);
  const fill = start.slice(0, count);
  for (let b = 0; b < n; b++) {
    for (let a = code.ptr[b]; a < code.ptr[b + 1]; a++) {
      const j = code.idx[a];
      if (j >= count) continue;
      rowsOf[fill[j]] = b;
      valsOf[fill[j]++] = code.val[a];
    }
  }
  const out: LatentSummary[] = [];
  for (let j = 0; j < count; j++) {
    const s = start[j];
    const c = counts[j];
    const order = Array.from({ length: c }, (_, i) => s + i).sort((p, q) => valsOf[q] - valsOf[p] || rowsOf[p] - rowsOf[q]);
    let sum = 0;
    let max = 0;
    for (let i = s; i < s + c; i++) {
      sum += valsOf[i];
      max = Math.max(max, valsOf[i]);
    }
    const histogram: LatentSummary['histogram'] = [];
    if (c > 0) {
      const width = max > 0 ? max / opts.bins : 1;
      const h = new Array<number>(opts.bins).fill(0);
      for (let i = s; i < s + c; i++) h[Math.min(opts.bins - 1, Math.floor(valsOf[i] / width))]++;
      h.forEach((count, i) => histogram.push({ lo: i * width, hi: (i + 1) * width, count }));
    }
    const labelExamples = Math.min(c, opts.labelTop);
    const tally = new Map<number, number>();
    if (opts.y) for (let i = 0; i < labelExamples; i++) tally.set(opts.y[rowsOf[order[i]]], (tally.get(opts.y[rowsOf[order[i]]]) ?? 0) + 1);
    const labelCounts = [...tally].map(([label, count]) => ({ label, count })).sort((p, q) => q.count - p.count || p.label - q.label);
    out.push({
      latent: j,
      group: prefixGroup(prefixes, j),
      fires: c,
      frequency: c / n,
      meanActivation: c > 0 ? sum / c : 0,
      maxActivation: max,
      topRows: order.slice(0, opts.top).map((i) => rowsOf[i]),
      topValues: order.slice(0, opts.top).map((i) => valsOf[i]),
      histogram,
      labelCounts,
      labelExamples,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Charts

function reconstructionSpec(metrics: PrefixMetrics[]): TopLevelSpec {
  const values = metrics.map((m) => ({ prefix: m.prefix, explainedVariance: m.explainedVariance, l0: m.l0 }));
  const ratio = metrics.length > 1 ? metrics[metrics.length - 1].prefix / metrics[0].prefix : 1;
  const p0 = metrics[0].prefix;
  const p1 = metrics[metrics.length - 1].prefix;
  // padded domain, so that the value labels of the end points clear the axes
  const scale = ratio >= 8 ? { type: 'log' as const, base: 2, domain: [p0 / 1.35, p1 * 1.35], nice: false } : { domain: [p0 - 0.1 * (p1 - p0) - 0.5, p1 + 0.1 * (p1 - p0) + 0.5], nice: false };
  const x = { field: 'prefix', type: 'quantitative' as const, title: 'prefix size (latents)', scale, axis: { values: metrics.map((m) => m.prefix) } };
  const layer = (field: 'explainedVariance' | 'l0', title: string, format: string) => {
    const v = values.map((r) => r[field]);
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    const pad = Math.max(hi - lo, 1e-6 + Math.abs(hi) * 0.02);
    const y = { field, type: 'quantitative' as const, title: field === 'l0' ? 'L0' : 'explained variance', scale: { domain: [lo - 0.12 * pad, hi + 0.2 * pad], nice: false } };
    return {
      width: 320,
      height: 180,
      title,
      layer: [
        { mark: { type: 'line' as const, point: true }, encoding: { x, y } },
        { mark: { type: 'text' as const, dy: -10, fontSize: 11 }, encoding: { x, y, text: { field, type: 'quantitative' as const, format } } },
      ],
    };
  };
  return {
    data: { values },
    hconcat: [layer('explainedVariance', 'Explained variance', '.3f'), layer('l0', 'L0 (mean active latents per row)', '.1f')],
  } as TopLevelSpec;
}

function histogramSpec(s: LatentSummary, color: string): TopLevelSpec {
  return {
    width: 220,
    height: 80,
    title: { text: `Nonzero activations (n = ${s.fires})`, fontSize: 12 },
    data: { values: s.histogram },
    mark: { type: 'bar', color: color },
    encoding: {
      x: { field: 'lo', type: 'quantitative', bin: { binned: true }, title: 'activation', axis: { tickCount: 5, labelFontSize: 10, titleFontSize: 11 } },
      x2: { field: 'hi' },
      y: { field: 'count', type: 'quantitative', title: 'rows', axis: { tickCount: 3, labelFontSize: 10, titleFontSize: 11 } },
    },
  } as TopLevelSpec;
}

/** Label charts draw every class up to this many classes, else the most frequent labels. */
const LABEL_BARS = 20;

function labelSpec(s: LatentSummary, names: (label: number) => string, classes: number): TopLevelSpec {
  // Few classes: every class in label order (absent ones at 0). Many: the most frequent, by count.
  const all = classes <= LABEL_BARS;
  const bars = all
    ? Array.from({ length: classes }, (_, label) => ({ label, count: s.labelCounts.find((l) => l.label === label)?.count ?? 0 }))
    : s.labelCounts.slice(0, LABEL_BARS);
  const shown = all ? '' : bars.length < s.labelCounts.length ? ` (${bars.length} most frequent of ${s.labelCounts.length} labels)` : '';
  return {
    width: 220,
    height: 80,
    title: { text: `Labels of the top ${s.labelExamples}${shown}`, fontSize: 12 },
    data: { values: bars.map((b, i) => ({ label: names(b.label), order: all ? b.label : i, count: b.count })) },
    mark: { type: 'bar', color: '#666' },
    encoding: {
      x: { field: 'label', type: 'ordinal', sort: { field: 'order' }, title: null, axis: { labelAngle: 0, labelFontSize: 10 } },
      y: { field: 'count', type: 'quantitative', title: 'rows', axis: { tickCount: 3, labelFontSize: 10, titleFontSize: 11 } },
    },
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Page

const CSS = `
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:24px;color:#222;background:#fafafa;font-size:14px;line-height:1.4}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:0}h4{font-size:12px;margin:0 0 4px;color:#555;font-weight:600}
.meta{color:#555;margin:2px 0}
dl.cfg{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0;font-size:13px}
dl.cfg dt{color:#666}dl.cfg dd{margin:0;font-family:"DejaVu Sans Mono",monospace}
table.metrics{border-collapse:collapse;font-size:13px;background:#fff}
table.metrics th,table.metrics td{border:1px solid #ddd;padding:4px 10px;text-align:right}
table.metrics th{background:#f0f0f0}
.chart{background:#fff;display:inline-block;border:1px solid #e4e4e4}
.chips{display:flex;flex-wrap:wrap;gap:3px;margin:8px 0}
.chip{display:inline-block;min-width:30px;padding:1px 4px;font-size:11px;text-align:center;color:#fff;border-radius:3px;text-decoration:none}
.chip.dead{background:#bbb!important;text-decoration:line-through}
.legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-2px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:14px}
.card{background:#fff;border:1px solid #ddd;border-left:6px solid #999;border-radius:4px;padding:10px 12px}
.card.dead{background:#f4f4f4;opacity:.85}
.card header{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
.badge{font-size:11px;color:#fff;padding:1px 6px;border-radius:3px}
.flag{font-size:11px;color:#fff;background:#b2182b;padding:1px 6px;border-radius:3px;font-weight:bold}
.stats{font-size:12px;color:#555;margin:4px 0 8px}
.row{display:flex;gap:14px;flex-wrap:wrap;align-items:flex-start}
.grid{display:grid;grid-template-columns:repeat(4,60px);gap:2px}
.grid figure{margin:0;text-align:center}
.grid figcaption{font-size:10px;color:#555;white-space:nowrap;overflow:hidden}
img.px{image-rendering:pixelated;image-rendering:crisp-edges;border:1px solid #ccc;display:block}
.grid img.px{width:56px;height:56px;margin:0 auto}
.dec img.px{width:140px;height:140px}
.cbar{display:flex;align-items:center;gap:4px;font-size:10px;color:#555;margin-top:3px}
.cbar i{display:inline-block;width:90px;height:8px;border:1px solid #ccc;background:linear-gradient(to right,${RDBU.map((c) => `rgb(${c.join(',')})`).join(',')})}
table.top{font-size:12px;border-collapse:collapse}table.top td,table.top th{padding:1px 8px;text-align:right;border-bottom:1px solid #eee}
.note{color:#777;font-size:12px}
`;

/** θ as the report shows it: one value, a per-latent range, or why there is none. */
function thresholdText(s: Sae): string {
  const t = s.threshold;
  if (s.cfg.activation !== 'batchtopk' && s.cfg.activation !== 'jumprelu') return '—';
  if (t === null) return 'not estimated';
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of t) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  return lo === hi ? formatNumber(lo) : `per latent, ${formatNumber(lo)} … ${formatNumber(hi)}`;
}

/** SAEBench's probes on labeled rows: k-sparse probing (k = 1, 2, 5, with the input baseline) and absorption, per prefix. */
async function saeBenchProbes(sae: Sae, x: Matrix, y: Int32Array, code: SparseCode): Promise<{ probes: SparseProbingRow[]; absorption: ProbeAbsorptionRow[] } | { skipped: string }> {
  const counts = new Map<number, number>();
  for (const v of y) counts.set(v, (counts.get(v) ?? 0) + 1);
  // every class needs rows in both halves of the probes' split
  const small = [...counts].filter(([, c]) => c < 10).map(([label]) => label);
  if (counts.size < 2 || small.length > 0) {
    return { skipped: counts.size < 2 ? 'one class only' : `classes with fewer than 10 rows: ${small.slice(0, 5).join(', ')}${small.length > 5 ? ', …' : ''}` };
  }
  try {
    const probes = await sparseProbing(sae, x, y, { k: [1, 2, 5], code });
    const absorption = await probeAbsorption(sae, x, y, { code });
    return { probes, absorption };
  } catch (e) {
    // e.g. a small class with no row in the probes' random test split: the report goes on without them
    if (e instanceof NestlabArgumentError && e.argument === 'labels') return { skipped: e.message };
    throw e;
  }
}

/** Feature density per Matryoshka group: dead latents apart, the live ones binned by log10 firing frequency. */
async function densitySection(density: FeatureDensity): Promise<string[]> {
  const out = [`<h2>Feature density per group</h2>`];
  out.push(`<p class="note">Firing frequency of each latent on these rows (SAEBench's feature density), binned by log10; latents that never fire are counted as dead, apart from the bins.</p>`);
  const header = ['group (latents)', 'dead', 'median log10 frequency'];
  out.push(`<table class="metrics"><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>`);
  for (const g of density.byGroup) {
    const cells = [`${g.start}–${g.end - 1}`, `${g.dead} of ${g.latents} (${formatNumber(100 * g.deadFraction, 3)}%)`, g.medianLog10 === null ? '—' : formatNumber(g.medianLog10, 3)];
    out.push(`<tr class="density-row">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`);
  }
  out.push(`</tbody></table>`);
  const values = density.byGroup.flatMap((g) => g.counts.map((count, b) => ({ group: `${g.start}–${g.end - 1}`, log10: (density.edges[b] + density.edges[b + 1]) / 2, count })));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { column: { field: 'group', type: 'nominal', title: 'latents', sort: density.byGroup.map((g) => `${g.start}–${g.end - 1}`) } },
    spec: {
      width: 130,
      height: 90,
      mark: 'bar',
      encoding: {
        x: { field: 'log10', type: 'quantitative', bin: { binned: false, step: density.edges[1] - density.edges[0] }, title: 'log10 frequency' },
        y: { field: 'count', type: 'quantitative', aggregate: 'sum', title: 'latents' },
      },
    },
  } as unknown as TopLevelSpec;
  out.push(`<p><span class="chart">${inlineSvg(await specToSvg(spec), 'density-')}</span></p>`);
  return out;
}

/** k-sparse probing and absorption tables. */
function probingSection(probing: { probes: SparseProbingRow[]; absorption: ProbeAbsorptionRow[] } | { skipped: string }, names: (label: number) => string): string[] {
  const out = [`<h2>Probes per prefix (SAEBench)</h2>`];
  if ('skipped' in probing) return [...out, `<p class="note">Not computed: ${escapeHtml(probing.skipped)}.</p>`];
  const { probes, absorption } = probing;
  const mean = probes.filter((r) => r.label === 'mean');
  const ks = [...new Set(mean.filter((r) => r.source === 'sae').map((r) => r.k))].sort((a, b) => a - b);
  const prefixes = [...new Set(mean.filter((r) => r.source === 'sae').map((r) => r.prefix!))];
  out.push(`<p class="note">k-sparse probing: for each class against the rest, the k latents of the prefix with the largest difference in mean activation feed a logistic regression; test accuracy, mean over classes (balanced tasks, 80/20 split). The input rows are the same probe on the k input dimensions with the largest difference, and on all of them. Absorption: SAEBench's probe-based metric (mean absorption fraction and full-absorption rate over the classes whose input probe has F1 > 0.6; split features = main latents per class).</p>`);
  const header = ['prefix', ...ks.map((k) => `k = ${k}`), 'absorption fraction', 'full absorption', 'split features'];
  out.push(`<table class="metrics"><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>`);
  for (const p of prefixes) {
    const a = absorption.find((r) => r.prefix === p && r.label === 'mean');
    const cells = [
      String(p),
      ...ks.map((k) => formatNumber(mean.find((r) => r.source === 'sae' && r.prefix === p && r.k === k)!.accuracy, 3)),
      a ? formatNumber(a.meanAbsorptionFraction, 3) : '—',
      a ? formatNumber(a.fullAbsorptionRate, 3) : '—',
      a ? formatNumber(a.splitFeatures, 3) : '—',
    ];
    out.push(`<tr class="probe-row">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`);
  }
  const input = mean.filter((r) => r.source === 'input');
  out.push(`<tr class="probe-row"><td>input</td>${ks.map((k) => `<td>${escapeHtml(formatNumber(input.find((r) => r.k === k)?.accuracy ?? Number.NaN, 3))}</td>`).join('')}<td colspan="3">all ${input.length > 0 ? escapeHtml(String(Math.max(...input.map((r) => r.k)))) : ''} dims: ${escapeHtml(formatNumber(input.find((r) => r.k === Math.max(...input.map((q) => q.k)))?.accuracy ?? Number.NaN, 3))}</td></tr>`);
  out.push(`</tbody></table>`);
  const excluded = absorption.filter((r) => r.label !== 'mean' && !r.included && r.prefix === prefixes[prefixes.length - 1]).map((r) => names(r.label as number));
  if (excluded.length > 0) out.push(`<p class="note">Classes left out of absorption (input probe F1 ≤ 0.6): ${escapeHtml(excluded.join(', '))}.</p>`);
  return out;
}

/**
 * Builds the report: one self-contained HTML string (no script, no external URL, a CSP meta that
 * forbids network loads and scripts; every data string escaped).
 *
 * Sections: header (config: dIn, dSae, k, activation, prefixes, θ, config hash; the data; the
 * date); per-prefix metrics from evaluateSae (MSE = mean_b ‖x − x̂_p‖², FVU, explained variance
 * = 1 − FVU, L0, dead and dense (> 10% of rows) fractions); explained variance and L0 vs prefix
 * size; then one card for each of latents 0 … maxLatents−1 with its prefix group, firing rate,
 * top-activating inputs, histogram of its nonzero activations, label counts of its top examples
 * and (pixel SAEs) its decoder row W_dec[j] as an image on a symmetric diverging scale.
 * A latent that never fires on `data.x` is flagged dead. Metric definitions: docs/methods/msae.md §5.1.
 *
 * @example const html = await report.buildSaeReport(model, { x: test.x, y: test.y, imageShape: [28, 28] }, { maxLatents: 32 }); // one HTML string
 */
export async function buildSaeReport(sae: Sae, data: SaeReportData, options: SaeReportOptions = {}): Promise<string> {
  const where = 'report.buildSaeReport';
  const s = checkSae(where, sae);
  checkKnownKeys(where, options, REPORT_OPTIONS);
  const d = resolveData(where, s, data);
  const cfg = s.cfg;
  const maxLatents = checkInt(where, 'options.maxLatents', options.maxLatents ?? Math.min(64, cfg.dSae), 0, cfg.dSae);
  const top = checkInt(where, 'options.topExamples', options.topExamples ?? 16, 1, 256);
  const labelTop = checkInt(where, 'options.labelExamples', options.labelExamples ?? 100, 1, 1_000_000);
  const bins = checkInt(where, 'options.histogramBins', options.histogramBins ?? 30, 2, 500);
  for (const k of ['title', 'dataDescription', 'source'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'string') throw new NestlabArgumentError(where, `options.${k}`, 'a string', options[k]);
  }
  if (options.classNames !== undefined && (!Array.isArray(options.classNames) || options.classNames.some((c) => typeof c !== 'string'))) {
    throw new NestlabArgumentError(where, 'options.classNames', 'an array of strings', options.classNames);
  }
  if (options.date !== undefined && !(options.date instanceof Date && Number.isFinite(options.date.getTime()))) {
    throw new NestlabArgumentError(where, 'options.date', 'a valid Date', options.date);
  }
  await initBackend();

  // A BatchTopK SAE without an estimated θ (e.g. a SAELens folder without one) is read with the
  // training-time selection over all rows: the only code it has.
  const batchSelection = cfg.activation === 'batchtopk' && s.threshold === null;
  const code = await encodeSae(s, d.x, batchSelection ? { selection: 'batch' } : {});
  const metrics = await evaluateSae(s, d.x, { code });
  const density = await featureDensity(s, d.x, { code });
  if (options.probes !== undefined && typeof options.probes !== 'boolean') throw new NestlabArgumentError(where, 'options.probes', 'true or false', options.probes);
  const probing = d.y !== null && options.probes !== false ? await saeBenchProbes(s, d.x, d.y, code) : null;
  const latents = summarizeLatents(code, cfg.prefixes, maxLatents, { top, labelTop, bins, y: d.y, classes: d.classes });
  const names = (label: number): string => options.classNames?.[label] ?? String(label);
  const groupColor = (g: number) => GROUP_COLORS[(g - 1) % GROUP_COLORS.length];

  const multi = cfg.prefixes.length > 1;
  const title = options.title ?? (multi ? 'Matryoshka SAE report' : 'SAE report');
  const date = (options.date ?? new Date()).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const dataLine = options.dataDescription ?? `${d.x.rows} rows × ${d.x.cols} columns${d.y ? `, ${d.distinct} distinct labels` : ''}`;
  const part: string[] = [];
  part.push(`<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">${reportCspMeta()}<meta name="viewport" content="width=device-width, initial-scale=1">`);
  part.push(`<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>`);
  part.push(`<h1>${escapeHtml(title)}</h1>`);
  part.push(`<p class="meta">Data: ${escapeHtml(dataLine)} · generated ${escapeHtml(date)}${options.source ? ` · source <code>${escapeHtml(options.source)}</code>` : ''}</p>`);

  // config
  const cfgRows: [string, string][] = [
    ['d_in', String(cfg.dIn)],
    ['d_sae', String(cfg.dSae)],
    ['activation', cfg.activation],
    ['k', cfg.activation === 'relu' ? '— (ReLU)' : String(cfg.k)],
    ['prefixes', `[${cfg.prefixes.join(', ')}]`],
    ['inference threshold θ', thresholdText(s)],
    ['architecture hash', architectureHash(cfg)],
  ];
  const t = s.training;
  if (t !== undefined) {
    cfgRows.push(
      ['prefix weights', `[${t.prefixWeights.map((w) => formatNumber(w, 3)).join(', ')}]`],
      ['AuxK', `${t.auxK} latents, α = ${formatNumber(t.auxAlpha, 3)}`],
      ['training', `batch ${t.batchSize}, epochs ${formatNumber(t.epochs, 3)}, learning rate ${formatNumber(t.learningRate, 3)}, seed ${t.seed}${cfg.activation === 'relu' ? `, L1 ${t.l1Coeff}` : ''}`],
    );
  }
  part.push(`<dl class="cfg">${cfgRows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`);

  // metrics
  part.push(`<h2>Reconstruction and sparsity per prefix</h2>`);
  part.push(`<p class="note">Evaluated on all ${d.x.rows} rows with the inference activation${batchSelection ? ' (θ not estimated: batch top-k over all rows)' : ''}; prefix p uses latents 0…p−1 and b_dec. FVU = mean‖x − x̂‖² / mean‖x − x̄‖²; explained variance = 1 − FVU; dead = never fires on these rows; dense = fires on more than 10% of rows.</p>`);
  const header = ['prefix', 'MSE', 'FVU', 'explained variance', 'L0', 'dead fraction', 'dense fraction'];
  part.push(`<table class="metrics"><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>`);
  for (const m of metrics) {
    const cells = [String(m.prefix), formatNumber(m.mse), formatNumber(m.fvu), formatNumber(m.explainedVariance), formatNumber(m.l0), formatNumber(m.deadFraction, 3), formatNumber(m.denseFraction, 3)];
    part.push(`<tr class="prefix-row">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`);
  }
  part.push(`</tbody></table>`);
  part.push(`<p><span class="chart">${inlineSvg(await specToSvg(reconstructionSpec(metrics)), 'recon-')}</span></p>`);
  part.push(...(await densitySection(density)));
  if (probing !== null) part.push(...probingSection(probing, names));

  // latent index
  part.push(`<h2>Latents 0–${Math.max(0, maxLatents - 1)} of ${cfg.dSae}</h2>`);
  if (maxLatents === 0) part.push(`<p class="note">No latent cards (maxLatents = 0).</p>`);
  else {
    const legend = cfg.prefixes.map((p, g) => `<span><i style="background:${groupColor(g + 1)}"></i>${escapeHtml(`group ${g + 1}: latents ${g === 0 ? 0 : cfg.prefixes[g - 1]}–${p - 1}`)}</span>`).join('');
    part.push(`<p class="legend">${legend}<span><i style="background:#bbb"></i>dead</span></p>`);
    part.push(`<div class="chips">${latents.map((l) => `<a class="chip${l.fires === 0 ? ' dead' : ''}" style="background:${groupColor(l.group)}" href="#latent-${l.latent}" title="${escapeHtml(`latent ${l.latent}: fires on ${(100 * l.frequency).toFixed(2)}% of rows`)}">${l.latent}</a>`).join('')}</div>`);
    const notes: string[] = [];
    if (d.images && d.shape) {
      const range = d.lo === 0 && d.hi === 1 ? 'values 0…1' : `values ${formatNumber(d.lo)}…${formatNumber(d.hi)}`;
      notes.push(`Pictures: ${d.shape[0]}×${d.shape[1]}, ${d.ink ? 'ink dark on white' : 'grayscale, high values light'} (${range}); caption = ${d.y ? 'label' : 'row'} · activation.`);
    }
    if (d.pixelSae) notes.push('Decoder direction W_dec[j] as an image: blue negative, white 0, red positive, scaled by the row\'s max |w|.');
    if (notes.length) part.push(`<p class="note">${escapeHtml(notes.join(' '))}</p>`);
  }

  part.push(`<div class="cards">`);
  for (const l of latents) {
    const color = groupColor(l.group);
    const dead = l.fires === 0;
    const lo = l.group === 1 ? 0 : cfg.prefixes[l.group - 2];
    const c: string[] = [];
    c.push(`<section class="card${dead ? ' dead' : ''}" id="latent-${l.latent}" style="border-left-color:${color}">`);
    c.push(`<header><h3>Latent ${l.latent}</h3><span class="badge" style="background:${color}">group ${l.group} · latents ${lo}–${cfg.prefixes[l.group - 1] - 1}</span>${dead ? '<span class="flag">DEAD</span>' : ''}</header>`);
    c.push(
      dead
        ? `<p class="stats">Never fires on the ${d.x.rows} rows.</p>`
        : `<p class="stats">fires on ${escapeHtml((100 * l.frequency).toFixed(2))}% of rows (${l.fires}) · mean activation ${escapeHtml(formatNumber(l.meanActivation, 3))} · max ${escapeHtml(formatNumber(l.maxActivation, 3))}</p>`,
    );
    c.push(`<div class="row">`);
    if (!dead) {
      if (d.images && d.shape) {
        const [h, w] = d.shape;
        const figs = l.topRows.map((r, i) => {
          const png = pngDataUri(grayImagePng(d.images!.data.subarray(r * h * w, (r + 1) * h * w), h, w, d.lo, d.hi, d.ink));
          const label = d.y ? names(d.y[r]) : `#${r}`;
          const cap = `${label} · ${formatNumber(l.topValues[i], 3)}`;
          return `<figure><img class="px" src="${png}" alt="${escapeHtml(`row ${r}`)}" title="${escapeHtml(`row ${r}, ${d.y ? `label ${label}, ` : ''}activation ${l.topValues[i]}`)}"><figcaption>${escapeHtml(cap)}</figcaption></figure>`;
        });
        c.push(`<div class="top"><h4>Top ${l.topRows.length} activating</h4><div class="grid">${figs.join('')}</div></div>`);
      } else {
        const rows = l.topRows.map((r, i) => `<tr><td>${r}</td>${d.y ? `<td>${escapeHtml(names(d.y[r]))}</td>` : ''}<td>${escapeHtml(formatNumber(l.topValues[i]))}</td></tr>`);
        c.push(`<div class="top"><h4>Top ${l.topRows.length} activating rows</h4><table class="top"><tr><th>row</th>${d.y ? '<th>label</th>' : ''}<th>activation</th></tr>${rows.join('')}</table></div>`);
      }
    }
    if (d.pixelSae && d.shape) {
      const [h, w] = d.shape;
      const dirRow = s.params.wDec.subarray(l.latent * cfg.dIn, (l.latent + 1) * cfg.dIn);
      let mx = 0;
      for (let i = 0; i < dirRow.length; i++) mx = Math.max(mx, Math.abs(dirRow[i]));
      c.push(`<div class="dec"><h4>Decoder direction</h4><img class="px" src="${pngDataUri(divergingImagePng(dirRow, h, w, mx))}" alt="decoder direction of latent ${l.latent}">`);
      c.push(`<div class="cbar">−${escapeHtml(formatNumber(mx, 2))}<i title="color scale"></i>+${escapeHtml(formatNumber(mx, 2))}</div></div>`);
    }
    c.push(`</div>`);
    if (!dead) {
      c.push(`<div class="row charts">`);
      c.push(`<span class="chart">${inlineSvg(await specToSvg(histogramSpec(l, color)), `l${l.latent}h-`)}</span>`);
      if (d.y) c.push(`<span class="chart">${inlineSvg(await specToSvg(labelSpec(l, names, d.classes)), `l${l.latent}y-`)}</span>`);
      c.push(`</div>`);
    }
    c.push(`</section>`);
    part.push(c.join(''));
  }
  part.push(`</div>`);
  part.push(`<p class="note">nestlab SAE report · ${escapeHtml(String(cfg.dSae))} latents, ${escapeHtml(String(d.x.rows))} rows.</p>`);
  part.push(`</body></html>\n`);
  return part.join('\n');
}

/**
 * Writes a report atomically (temp file + rename), creating the folder, so a reader never sees a
 * half-written page.
 *
 * @example report.writeSaeReport('runs/mnist-sae/report.html', html); // html from report.buildSaeReport
 */
export function writeSaeReport(path: string, html: string): void {
  if (typeof path !== 'string' || path === '') throw new NestlabArgumentError('report.writeSaeReport', 'path', 'a non-empty file path', path);
  if (typeof html !== 'string' || html === '') throw new NestlabArgumentError('report.writeSaeReport', 'html', 'a non-empty HTML string (buildSaeReport)', html);
  writeFileAtomic(path, html);
}
