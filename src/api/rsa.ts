/**
 * `rsa`: representational similarity analysis and topological RSA. RDMs of a representation
 * (rsatoolbox's measures), comparisons between RDMs, geo-topological transforms and geodesic
 * RDMs (Lin & Kriegeskorte), deconfounded RSA (the input RDM regressed out), noise ceilings, model evaluation and bootstrap inference.
 *
 * @example
 * const a = await rsa.computeRdm(layer1, { method: 'correlation' });
 * rsa.compareRdms(a, await rsa.computeRdm(layer2), { method: 'spearman' });
 */
export {
  rdm,
  squareform,
  subsampleRdm,
  type Rdm,
  type RdmLike,
  type PatternDescriptors,
} from '../rsa/condensed.js';
export {
  computeRdm,
  computeRdms,
  crossnobisRdm,
  foldsFromLabels,
  RDM_METHODS,
  type RdmMethod,
  type RdmOptions,
  type SquareMatrixLike,
  type CrossnobisOptions,
} from '../rsa/rdm.js';
export { compareRdms, compareRdmBatch, compareRdmMatrix, COMPARE_METHODS, type CompareMethod, type CompareOptions } from '../rsa/compare.js';
export {
  geoTopological,
  geoTopologicalJoint,
  rgtmFamily,
  rgtmGrid,
  rgtmRegion,
  geodesicRdm,
  rgdm,
  RGTM_REGIONS,
  GT_MODES,
  type GtMode,
  type GtOptions,
  type RgtmRegion,
  type RgtmCell,
  type GeodesicOptions,
  type GeodesicGraph,
} from '../rsa/topological.js';
export {
  poolRdms,
  noiseCeiling,
  evaluateModels,
  bootstrapEvaluate,
  identificationAccuracy,
  type NoiseCeiling,
  type ModelEvaluation,
  type BootstrapOptions,
  type BootstrapEvaluation,
  type PairwiseComparison,
  type IdentificationResult,
} from '../rsa/inference.js';
export { deconfoundRdm, deconfoundedRsa } from '../rsa/deconfound.js';
