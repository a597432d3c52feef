/**
 * `models`: a small MLP classifier and an All-CNN-C-style convolutional one on tfjs, trained by
 * nestlab's seeded loop, and the activations of their layers (the representations the other
 * namespaces analyze); a mixture VAE (Gaussian-mixture prior) whose posterior means make the
 * MNIST-Nd data sets.
 *
 * @example
 * const net = models.createMlp({ inputDim: 784, hidden: [128], outputDim: 10, seed: 0 });
 * await models.trainClassifier(net, train.x, train.y, { epochs: 5 });
 */
export {
  createMlp,
  trainClassifier,
  evaluateClassifier,
  layerActivations,
  type MlpConfig,
  type TrainClassifierOptions,
  type ClassifierEpoch,
} from '../models/mlp.js';
export { createCnn, CNN_LAYER_NAMES, type CnnConfig } from '../models/cnn.js';
export type { FitOptions, EpochRecord } from '../models/fit.js';
export { captureLayers, type TfModel } from '../models/capture.js';
export {
  createMixtureVae,
  trainMixtureVae,
  encodeMixtureVae,
  mixtureVaeElbo,
  disposeMixtureVae,
  type MixtureVaeConfig,
  type MixtureVae,
  type MixtureVaeTrainOptions,
  type MixtureVaeEpoch,
  type MixtureVaeElbo,
} from '../models/mixture-vae.js';
