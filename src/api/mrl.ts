/**
 * `mrl`: Matryoshka representation learning (Kusupati et al. 2022). An encoder whose every
 * prefix z[:m] of the embedding classifies on its own (MRL, MRL-E, or one FF model per size),
 * and retrieval over embedding prefixes with MRL's metrics and adaptive funnels.
 *
 * @example
 * const model = mrl.create({ inputDim: 784, hidden: [256], embeddingDim: 64, classes: 10 });
 * await mrl.train(model, train.x, train.y, { epochs: 10 });
 */
export {
  createMrl as create,
  trainMrl as train,
  mrlEmbed as embed,
  mrlTestAccuracy as accuracy,
  disposeMrl as dispose,
  defaultNesting,
  type MrlConfig as Config,
  type MrlModel as Model,
  type MrlTrainOptions as TrainOptions,
} from '../models/mrl.js';
export { retrieveNearest, retrievalMetrics, funnelRetrieval, type RetrieveOptions, type FunnelStep } from '../models/retrieval.js';
