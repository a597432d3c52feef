/**
 * Topology probes: Vietoris–Rips persistence (ripser-exact), diagram descriptors and distances,
 * neighbourhood graphs and geodesics, and the tidy-row probe.
 */
export {
  ripsPersistence,
  ripsPersistenceFromDistances,
  enclosingRadius,
  type Barcode,
  type PersistenceResult,
  type PersistenceOptions,
  type DistanceOptions,
} from './persistence.js';
export {
  barcode,
  checkBarcode,
  lifetimes,
  longestBars,
  bettiCurve,
  linspace,
  totalPersistence,
  persistenceEntropy,
  persistenceLandscape,
  landscapeNorm,
  persistenceImage,
  erf,
  type Landscape,
  type LandscapeOptions,
  type PersistenceImage,
  type PersistenceImageOptions,
} from './diagram.js';
export { bottleneckDistance, wassersteinDistance, hungarian, minCostAssignment, type WassersteinOptions } from './distances.js';
export { pairwiseDistances, knnGraph, epsilonGraph, checkWeights, connectedComponents, geodesicDistances } from './graph.js';
export { topologyProbe, maxminLandmarks, type ProbeOptions } from './probe.js';
