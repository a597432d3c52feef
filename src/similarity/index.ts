/**
 * Representation similarity and geometry: CKA (linear, RBF, debiased), CCA / SVCCA / PWCCA,
 * generalised shape (Procrustes) distance, mutual kNN alignment, exact kNN, TwoNN intrinsic
 * dimension, participation ratio, covariance spectrum and PCA. Inputs are Matrix or tf.Tensor2D
 * with rows = the same stimuli; every function is async (tensors are read with `await data()`).
 */
export { linearCKA, rbfCKA, median, type LinearCkaOptions, type RbfCkaOptions } from './cka.js';
export { cca, svcca, pwcca, trimmedMean, type CcaOptions, type CcaResult, type SvccaOptions, type PwccaOptions, type PwccaResult } from './cca.js';
export { shapeDistance, type ShapeDistanceOptions } from './procrustes.js';
export { nearestNeighbors, mutualKnn, type KnnOptions, type KnnResult, type MutualKnnOptions } from './knn.js';
export { twoNN, participationRatio, covarianceSpectrum, type TwoNNOptions, type TwoNNResult } from './dimension.js';
export { pca, type PcaOptions, type PcaResult } from './pca.js';
export { symmetricEigen, smallSvd, type SymmetricEigen, type SmallSvd } from './linalg.js';
