/**
 * `data`: matrices and the data sets that ship with nestlab. MNIST (the 10,000 digits of the
 * `mnist` package), point clouds with known topology, the hierarchical toy of the Matryoshka SAE
 * paper, activation files (.npy, .safetensors, sharded .npy), and small matrix helpers.
 *
 * @example
 * const { train, test } = data.loadMnist({ seed: 0 });
 */
export {
  matrix,
  fromRows,
  row,
  headRows,
  prefixColumns,
  selectRows,
  columnMeans,
  normalizeRows,
  matmul,
  randomProjection,
  toTensor,
  fromTensor,
  type Matrix,
  type MatrixLike,
} from '../data/matrix.js';
export type { Row, Cell } from '../data/table.js';
export { loadMnist, loadMnistAll, MNIST_SIDE, MNIST_PIXELS, type LabeledImages, type MnistOptions } from '../data/mnist.js';
export { noisyCircle, twoCircles, torus, sphere, type Shape, type CircleOptions, type TwoCirclesOptions, type TorusOptions, type SphereOptions } from '../data/shapes.js';
export { hierarchicalFeatures, activeFeatures, type HierarchicalOptions, type HierarchicalData } from '../data/hierarchical.js';
export { readActivations, writeActivations, readActivationRows, readLabels, readImages, npyShardFiles, safetensorsTensorNames } from '../data/activations.js';
export { readNpy, writeNpy, type NpyArray } from '../data/npy.js';
export { readSafetensors, writeSafetensors, type NamedTensor, type SafetensorsDtype, type TensorData } from '../data/safetensors.js';
export { matrixSource, npyShardSource, epochOrder, holdoutSplit, type BatchSource, type MatrixSourceOptions } from '../data/batches.js';
export { loadBrown, splitBrown, coarseTag, BROWN_GENRES, BROWN_COARSE_TAGS, type BrownCoarseTag, type BrownDocument, type BrownGenre, type BrownSplit, type LoadBrownOptions, type SplitBrownOptions } from '../data/brown.js';
