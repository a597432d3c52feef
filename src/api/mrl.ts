/**
 * `mrl`: Matryoshka representation learning (Kusupati et al. 2022). An encoder whose every
 * prefix z[:m] of the embedding classifies on its own (MRL, MRL-E, or one FF model per size),
 * retrieval over embedding prefixes with MRL's metrics and adaptive funnels, and 2D Matryoshka
 * encoders nested in depth and width (Starbucks, 2DMSE: `create2d`, `train2d`, `embed2d`, ...).
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
export {
  createMrl2d as create2d,
  trainMrl2d as train2d,
  mrl2dEmbed as embed2d,
  mrl2dAccuracy as accuracy2d,
  mrl2dSchedule as schedule2d,
  disposeMrl2d as dispose2d,
  defaultStarbucksPairs,
  MRL2D_LOSSES,
  type Mrl2dConfig as Config2d,
  type Mrl2dModel as Model2d,
  type Mrl2dPair as Pair2d,
  type Mrl2dStep as Step2d,
  type Mrl2dTerm as Term2d,
  type Mrl2dLossKind as Loss2d,
  type Mrl2dTrainOptions as TrainOptions2d,
} from '../models/mrl2d.js';
export { retrieveNearest, retrievalMetrics, funnelRetrieval, type RetrieveOptions, type FunnelStep } from '../models/retrieval.js';
