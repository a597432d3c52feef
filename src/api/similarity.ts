/**
 * `similarity`: how alike two representations of the same stimuli are, and the geometry of one:
 * CKA (linear, RBF, debiased, deconfounded), CCA / SVCCA / PWCCA, the Procrustes shape distance,
 * mutual kNN and the Platonic alignment of two models, exact nearest neighbors, TwoNN intrinsic dimension, participation ratio, diffusion
 * spectral entropy and mutual information, PCA; k-means, spectral clustering, Gaussian mixtures,
 * DBSCAN, and the adjusted mutual information and adjusted Rand index of two partitions; LDA; entropy. Inputs are Matrix or tf.Tensor2D with
 * rows = stimuli.
 *
 * @example
 * await similarity.linearCka(x, y) // 1 for identical representations
 */
export { linearCka, rbfCka, type LinearCkaOptions, type RbfCkaOptions } from '../similarity/cka.js';
export { cca, svcca, pwcca, type CcaOptions, type CcaResult, type SvccaOptions, type PwccaOptions, type PwccaResult } from '../similarity/cca.js';
export { shapeDistance, type ShapeDistanceOptions } from '../similarity/procrustes.js';
export { nearestNeighbors, mutualKnn, mutualKnnAlignment, type KnnOptions, type KnnResult, type MutualKnnOptions, type MutualKnnAlignment, type MutualKnnAlignmentOptions } from '../similarity/knn.js';
export { twoNn, participationRatio, covarianceSpectrum, type TwoNnOptions, type TwoNnResult } from '../similarity/dimension.js';
export { pca, type PcaOptions, type PcaResult } from '../similarity/pca.js';
export {
  diffusionSpectralEntropy,
  diffusionSpectralMutualInformation,
  type DiffusionSpectralEntropyOptions,
  type DiffusionSpectralMutualInformationOptions,
  type DiffusionSpectralEntropyResult,
  type DiffusionSpectralMutualInformationResult,
  type DiffusionSpectralMutualInformationClass,
} from '../similarity/diffusion.js';
export { deconfoundedCka, deconfoundedCkaParts, type DeconfoundedCka, type DeconfoundedCkaOptions } from '../similarity/deconfounded.js';
export {
  kMeans,
  spectralClustering,
  mutualInformation,
  adjustedMutualInformation,
  gaussianMixture,
  dbscan,
  adjustedRandIndex,
  type KMeansOptions,
  type KMeansResult,
  type SpectralClusteringOptions,
  type CovarianceType,
  type GaussianMixtureOptions,
  type GaussianMixtureResult,
  type DbscanOptions,
} from '../similarity/cluster.js';
export { ldaProjection, projectRows, knnEntropy, gaussianEntropy, type LdaOptions, type LdaProjection, type KnnEntropyOptions } from '../similarity/lda.js';
