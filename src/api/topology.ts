/**
 * `topology`: Vietoris–Rips persistent homology (barcodes identical to ripser's), diagram
 * summaries (Betti curves, landscapes, images, entropy, the long bars by the largest gap),
 * distances between diagrams, kNN and epsilon graphs with their geodesics, and `topologyProbe`,
 * which summarizes a representation's topology as tidy rows.
 *
 * @example
 * const { bars } = topology.ripsPersistence(data.noisyCircle({ n: 200 }).points, { maxDim: 1 });
 */
export {
  ripsPersistence,
  ripsPersistenceFromDistances,
  enclosingRadius,
  type Barcode,
  type PersistenceResult,
  type PersistenceOptions,
  type DistanceOptions,
} from '../topology/persistence.js';
export {
  barcode,
  lifetimes,
  longestBars,
  countLongBars,
  bettiCurve,
  totalPersistence,
  persistenceEntropy,
  persistenceLandscape,
  landscapeNorm,
  persistenceImage,
  type Landscape,
  type LandscapeOptions,
  type PersistenceImage,
  type PersistenceImageOptions,
} from '../topology/diagram.js';
export { bottleneckDistance, wassersteinDistance, type WassersteinOptions } from '../topology/distances.js';
export { pairwiseDistances, knnGraph, epsilonGraph } from '../topology/graph.js';
export { connectedComponents, geodesicDistances } from '../math/graph.js';
export { topologyProbe, maxminLandmarks, type ProbeOptions, type ProbeRow } from '../topology/probe.js';
