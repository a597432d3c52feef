/**
 * Matryoshka sparse autoencoders (issue 3): config, model, trainer, metrics, checkpoints.
 * The public API of src/sae; src/index.ts re-exports it.
 */
export {
  saeConfig, configHash, matryoshkaPrefixes, toSaeLensCfg, fromSaeLensCfg, ACTIVATIONS, BDEC_INITS,
  type SaeConfig, type SaeConfigInput, type SaeActivation, type BDecInit,
} from './config.js';
export {
  createSae, cloneSae, permuteLatents, encodeSae, decodeSae, reconstructSae, truncateCode, codeToDense, geometricMedian,
  encoderPre, selectTopK, selectBatchTopK, selectAbove,
  type Sae, type SaeParams, type SparseCode, type PreActivations,
} from './model.js';
export { sparseLossAndGrads, denseLossAndGrads, type SaeGrads, type StepLosses, type AuxInput } from './step.js';
export {
  trainSae, trainStep, applyUpdate, matrixSource, createTrainerState, learningRate,
  type BatchSource, type TrainerState, type TrainOptions as SaeTrainOptions, type TrainResult as SaeTrainResult, type EpochSummary, type StepInfo, type GradPath,
} from './train.js';
export {
  evaluateSae, decoderFeatureCosines, meanMaxCosine, matchLatents, matchSummary, absorption,
  type PrefixMetrics, type MatchSummary, type AbsorptionResult, type ParentAbsorption,
} from './metrics.js';
export { saveCheckpoint, loadSae, loadCheckpoint, writeSaeFiles, CHECKPOINT_VERSION } from './checkpoint.js';
