/**
 * `figures`: the paper figures nestlab reproduces. `figure(id)` runs one (or reads the full-size
 * result `nestlab figures` saved) and returns its typed rows, vega-lite spec and meta;
 * `defineExperiment` makes a new one with size presets and overrides.
 *
 * @example
 * const r = await figures.figure('msae-prefix', { size: 'smoke', overrides: { dSae: 128, k: 8 } });
 * await plot.showChart(r.spec);
 */
export {
  defineExperiment,
  SIZES,
  type Size,
  type Experiment,
  type ExperimentDefinition,
  type ExperimentResult,
  type RunContext,
  type RunOptions,
  type BaseMeta,
} from '../experiments/define.js';
export { figure, saveFigure, readSavedResult, FIGURES_DIR, type FigureOptions, type FigureFiles } from '../experiments/figure.js';
export { EXPERIMENTS, listExperiments, type FigureId, type ParamsOf, type ResultOf } from '../experiments/registry.js';
