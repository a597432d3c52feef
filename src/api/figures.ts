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
// Each figure's parameters, rows and findings, for typing your own code around `figure(id)`.
export type { QuickstartParams, QuickstartRow, QuickstartMeta } from '../experiments/mnist-mlp-quickstart.js';
export type { MrlRunSize, MrlModelSize } from '../experiments/mrl-common.js';
export type { MrlAccuracyRow, MrlAccuracyMeta, MrlAccuracyParams, MrlProbeSummary } from '../experiments/mrl-accuracy.js';
export type { MrlRetrievalRow, MrlRetrievalMeta } from '../experiments/mrl-retrieval.js';
export { MSAE_TOY_MODELS, type MsaeToyModel, type MsaeToyParams, type MsaeToyRow, type MsaeToyMeta, type MsaeToySummary, type MsaeToyOutcome } from '../experiments/msae-toy.js';
export type {
  MsaePrefixParams, MsaePrefixRow, MsaePrefixMeta, MsaePrefixFinding, MsaePrefixComparison, MsaePrefixModel, Spread, InputProbe, GroupDensity,
} from '../experiments/msae-prefix.js';
export type { TrsaParams, TrsaRow, TrsaMeta } from '../experiments/trsa-identification.js';
export type { GeometryNestedParams, GeometryNestedMeta } from '../experiments/geometry-nested.js';
export type { NestedGeometryRow } from '../experiments/nested-geometry.js';
export type { TopologySanityParams, TopologySanityRow, TopologySanityMeta } from '../experiments/topology-sanity.js';
export type { LmMsaePrefixParams, LmMsaePrefixRow, LmGroupDensity } from '../experiments/lm-msae-prefix.js';
export { MNIST_ND_METHODS, type MnistNdParams, type MnistNdRow, type MnistNdMeta, type MnistNdMethod } from '../experiments/mnist-nd.js';
