/**
 * nestlab's public API. Notebooks import from 'nestlab'; the CLI and the experiments use the
 * same functions.
 */
export { tf } from './backend/tf.js';
export { initBackend, selectBackend, BACKEND_NAMES, type BackendName, type BackendInfo } from './backend/select.js';
export { Rng } from './backend/rng.js';
export { loadBlas, blasStatus, type Cblas, type BlasStatus } from './backend/blas.js';
export { useBlasForWasmMatMul, wasmMatMulKernel, matMulT } from './backend/wasm-matmul.js';
export { withValues } from './backend/read.js';
export { defaultProgress, lineProgress, barProgress, silentProgress, type Progress } from './backend/progress.js';
export { NestlabArgumentError } from './errors.js';

export * from './data/matrix.js';
export { loadMnist, loadMnistAll, MNIST_PIXELS, MNIST_SIDE, type LabelledImages, type MnistOptions } from './data/mnist.js';
export * from './data/npy.js';
export * from './data/safetensors.js';
export { readActivations, writeActivations } from './data/activations.js';
export { writeFileAtomic } from './data/files.js';
export { npyShardSource, type RowBatchSource } from './data/shards.js';

export * from './models/mlp.js';
export * from './models/mrl.js';
export * from './models/retrieval.js';
export * from './sae/index.js';
export * from './data/hierarchical.js';

export { specToSvg, svgToPng, rowsToCsv, writeFigure } from './plot/render.js';
export { showChart, showTable, chartBundle, tableBundle, VEGA_LITE_MIME } from './plot/display.js';
export { houseConfig, withHouseTheme } from './plot/theme.js';
export { umapEmbed, trustworthiness } from './plot/umap.js';

export * from './similarity/index.js';
export * from './report/index.js';
export * from './rsa/index.js';
export * from './topology/index.js';
export { noisyCircle, twoCircles, torus, sphere } from './data/shapes.js';

export type { Experiment, ExperimentOptions, ExperimentResult, Row, Size } from './experiments/types.js';
export { EXPERIMENTS, findExperiment } from './experiments/registry.js';
export { figure, saveFigure, readSavedResult, FIGURES_DIR, type FigureOptions } from './experiments/figure.js';
export { runMnistMlpQuickstart, mnistMlpQuickstart } from './experiments/mnist-mlp-quickstart.js';
export { runMrlAccuracy, mrlAccuracy, mrlVerdict, summarise as summariseMrlAccuracy } from './experiments/mrl-accuracy.js';
export { runMrlRetrieval, mrlRetrieval } from './experiments/mrl-retrieval.js';
export { topologySanity } from './experiments/topology-sanity.js';
export { msaeToy, runMsaeToy } from './experiments/msae-toy.js';
export { msaePrefix, runMsaePrefix, latentsByFrequency, halvingPrefixes } from './experiments/msae-prefix.js';
export { trsaIdentification, runTrsaIdentification } from './experiments/trsa-identification.js';
export { runGeometryNested, geometryNested } from './experiments/geometry-nested.js';
export { nestedGeometryRows, unitScale, TRSA_LU, type NestedFamily } from './experiments/nested-geometry.js';

/** The size notebooks run at: NESTLAB_SIZE (smoke in tests and CI), else 'full'. */
export function notebookSize(): 'smoke' | 'full' {
  return process.env.NESTLAB_SIZE === 'smoke' ? 'smoke' : 'full';
}
