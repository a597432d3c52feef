/**
 * A representational dissimilarity matrix as a vega-lite heat map (for `plot.showRdm`).
 *
 * Input: the condensed upper triangle in scipy's pdist order, (0,1), (0,2), ..., (0,n-1), (1,2),
 * ..., (n-2,n-1). Output: the full symmetric n x n matrix (zero diagonal) as rect marks, row i
 * from the top and column j from the left in stimulus order, colored by a sequential scale
 * (viridis) whose legend is titled by the measure.
 *
 * Axes are ordinal over stimulus *positions* (numbers, so the order is the stimuli's, never a
 * string sort) and show each position's label through a `rdmLabels` parameter: the labels given,
 * else the stimulus indices. Labels may repeat (e.g. a digit class per stimulus) without merging
 * cells. Readability up to ~200 stimuli: cells of 20 px, shrinking (whole pixels, at least 1) so that
 * the matrix stays within 480 px; past RDM_AXIS_LABEL_MAX (60) stimuli the axes drop their labels and ticks. Past
 * `maxStimuli` (default 200) the map shows that many evenly spaced stimuli and says so.
 * Values are rounded to 6 significant digits in the spec (a picture, not a data file).
 */
import type { TopLevelSpec } from 'vega-lite';
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';
import { pairIndex, type PatternDescriptors } from '../rsa/condensed.js';
import { showChart } from './display.js';

/** An RDM as the heat map reads it: an `rsa` Rdm, or the same fields with any array of values. */
export interface RdmView {
  /** Condensed upper triangle, scipy pdist order: n(n-1)/2 values. */
  values: ArrayLike<number>;
  /** Number of stimuli. */
  n: number;
  /** The dissimilarity measure (legend title), e.g. 'correlation' or 'euclidean'. */
  measure: string;
  /** Per-stimulus labels by name (rsatoolbox's pattern descriptors); the first one labels the axes by default. */
  patternDescriptors?: PatternDescriptors;
}

/** Options of rdmHeatmapSpec and showRdm. */
export interface RdmHeatmapOptions {
  /** Chart title; default `RDM (<measure>, <n> stimuli)`. */
  title?: string;
  /** Most stimuli drawn (default RDM_HEATMAP_MAX_STIMULI): a larger RDM shows that many, evenly spaced. */
  maxStimuli?: number;
  /**
   * Axis labels: one per stimulus, or the name of one of the RDM's pattern descriptors. Default:
   * the RDM's first pattern descriptor, else the stimulus indices.
   */
  labels?: readonly (string | number)[] | string;
}

/** Default `maxStimuli`. */
export const RDM_HEATMAP_MAX_STIMULI = 200;
/** Most stimuli whose labels the axes show. */
export const RDM_AXIS_LABEL_MAX = 60;
/** Side of a cell for small RDMs, and of the whole matrix once cells have to shrink (CSS px). */
const CELL_PX = 20;
const MATRIX_PX = 480;

/** `m` evenly spaced indices of 0..n-1, first and last included (all of them when m >= n). */
function evenlySpaced(n: number, m: number): number[] {
  if (m >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: m }, (_, k) => Math.round((k * (n - 1)) / (m - 1)));
}

/**
 * A vega-lite spec drawing the RDM as an n x n heat map (see the module header). Rows of its
 * data: `{row, col, value}` with row/col the stimulus positions on the axes.
 *
 * @example const spec = plot.rdmHeatmapSpec(rdm, { labels: 'digit', maxStimuli: 100 }); // then plot.specToSvg(spec) or plot.showChart(spec)
 */
export function rdmHeatmapSpec(rdm: RdmView, options: RdmHeatmapOptions = {}, where = 'plot.rdmHeatmapSpec'): TopLevelSpec {
  if (rdm === null || typeof rdm !== 'object') throw new NestlabArgumentError(where, 'rdm', 'an Rdm {values, n, measure}', rdm);
  checkKnownKeys(where, options, ['title', 'maxStimuli', 'labels']);
  const n = checkInt(where, 'rdm.n', rdm.n, 1);
  const values = rdm.values;
  const expected = (n * (n - 1)) / 2;
  if (values == null || typeof values.length !== 'number' || values.length !== expected) {
    throw new NestlabArgumentError(where, 'rdm.values', `the condensed upper triangle of ${n} stimuli (n(n-1)/2 = ${expected} values)`, values);
  }
  if (typeof rdm.measure !== 'string' || rdm.measure === '') throw new NestlabArgumentError(where, 'rdm.measure', 'a non-empty string', rdm.measure);
  const given = typeof options.labels === 'string' ? rdm.patternDescriptors?.[options.labels] : (options.labels ?? Object.values(rdm.patternDescriptors ?? {})[0]);
  if (typeof options.labels === 'string' && given === undefined) {
    throw new NestlabArgumentError(where, 'options.labels', `the name of a pattern descriptor (${Object.keys(rdm.patternDescriptors ?? {}).join(', ') || 'this RDM has none'})`, options.labels);
  }
  if (given !== undefined && (!Array.isArray(given) || given.length !== n)) {
    throw new NestlabArgumentError(where, 'options.labels', `an array of ${n} labels (one per stimulus)`, given);
  }
  const maxStimuli = checkInt(where, 'options.maxStimuli', options.maxStimuli ?? RDM_HEATMAP_MAX_STIMULI, 2);

  const shown = evenlySpaced(n, maxStimuli);
  const m = shown.length;
  const labels = shown.map((s) => String(given?.[s] ?? s));
  const rows: { row: number; col: number; value: number | null }[] = [];
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      const i = Math.min(shown[a], shown[b]);
      const j = Math.max(shown[a], shown[b]);
      const v = i === j ? 0 : Number(values[pairIndex(n, i, j)]);
      rows.push({ row: a, col: b, value: Number.isFinite(v) ? Number(v.toPrecision(6)) : null });
    }
  }

  // Whole pixels per cell: fractional band edges leave anti-aliased seams between the rects.
  const cell = Math.max(1, Math.min(CELL_PX, Math.floor(MATRIX_PX / m)));
  const size = cell * m;
  const withLabels = m <= RDM_AXIS_LABEL_MAX;
  const axis = withLabels
    ? { labelExpr: 'rdmLabels[datum.value]', labelFontSize: Math.max(6, Math.min(11, cell - 1)), labelOverlap: true, ticks: false }
    : { labels: false, ticks: false };
  const stimuli = m < n ? `${m} of ${n} stimuli, evenly spaced` : `${n} stimuli`;
  return {
    title: {
      text: options.title ?? `RDM (${rdm.measure}, ${n} stimuli)`,
      ...(m < n ? { subtitle: `showing ${stimuli}` } : {}),
    },
    params: [{ name: 'rdmLabels', value: labels }],
    data: { values: rows },
    transform: [
      { calculate: 'rdmLabels[datum.row]', as: 'rowLabel' },
      { calculate: 'rdmLabels[datum.col]', as: 'colLabel' },
    ],
    mark: { type: 'rect' },
    width: size,
    height: size,
    encoding: {
      x: { field: 'col', type: 'ordinal', title: withLabels ? 'stimulus' : `stimulus (${stimuli})`, axis: { ...axis, labelAngle: -90 } },
      y: { field: 'row', type: 'ordinal', title: withLabels ? 'stimulus' : `stimulus (${stimuli})`, axis },
      color: { field: 'value', type: 'quantitative', title: rdm.measure, scale: { scheme: 'viridis' } },
      tooltip: [
        { field: 'rowLabel', type: 'nominal', title: 'row' },
        { field: 'colLabel', type: 'nominal', title: 'column' },
        { field: 'value', type: 'quantitative', title: rdm.measure, format: '.4g' },
      ],
    },
  } as TopLevelSpec;
}

/**
 * Shows an RDM inline in a notebook as a heat map (rsatoolbox's `show_rdm`): the full symmetric
 * matrix in stimulus order, colored by its measure, labeled by its pattern descriptors.
 *
 * @example await plot.showRdm(await rsa.computeRdm(x, { patternDescriptors: { digit: labels } }));
 */
export async function showRdm(rdm: RdmView, options: RdmHeatmapOptions = {}): Promise<void> {
  await showChart(rdmHeatmapSpec(rdm, options, 'plot.showRdm'));
}
