/**
 * `lm`: a small GPT-style language model trained here on the Brown corpus, its activations at
 * TransformerLens's hook points, n-gram baselines, SAEs spliced into it (CE loss recovered), and a
 * census of its MLP neurons (dead, token and n-gram detectors, positional).
 *
 * @example
 * const { model, tokenizer, summary } = await lm.trainBrownLm({ out: 'runs/lm', training: { steps: 2000 } });
 * const acts = await lm.captureActivations(model, lm.evaluationWindows(ids, 64, 100), ['blocks.1.hook_resid_pre']);
 */
export {
  lmArchitecture as architecture,
  lmTraining as training,
  learningRateAt,
  LM_ACTIVATIONS as ACTIVATIONS,
  type LmArchitecture as Architecture,
  type LmTraining as Training,
  type LmActivation as Activation,
} from '../lm/config.js';
export {
  createLm as create,
  disposeLm as dispose,
  lmForward as forward,
  lmCrossEntropy as crossEntropy,
  hookNames,
  hookWidth,
  parameterCount,
  type Lm,
  type LmHook as Hook,
  type LmForwardOptions as ForwardOptions,
} from '../lm/model.js';
export {
  lmTrainStep as trainStep,
  lmLoss as loss,
  sampleWindows,
  evaluationWindows,
  createLmTrainerState as createTrainerState,
  type TokenBatch,
  type LmStepRecord as StepRecord,
  type LmTrainerState as TrainerState,
} from '../lm/train.js';
export { trainLm as train, type TrainLmOptions as TrainOptions, type TrainLmResult as TrainResult, type LmEvaluation as Evaluation } from '../lm/fit.js';
export { saveLm as save, loadLm as load, lmArchitectureHash as architectureHash } from '../lm/checkpoint.js';
export {
  trainWordTokenizer,
  encodeWords,
  decodeTokens,
  encodeDocuments,
  tokenId,
  tokenizerToJson,
  tokenizerFromJson,
  UNK_ID,
  DOC_ID,
  type WordTokenizer,
  type TrainWordTokenizerOptions,
  type EncodedDocuments,
} from '../lm/tokenizer.js';
export {
  fitUnigram,
  fitBigram,
  tuneBigramLambda,
  ngramCrossEntropy,
  ngramDistribution,
  type UnigramModel,
  type BigramModel,
  type NgramModel,
  type TunedBigram,
  type FitUnigramOptions,
  type FitBigramOptions,
  type TuneBigramLambdaOptions,
} from '../lm/baselines.js';
export { captureActivations, captureBatches, type CaptureOptions, type CapturedBatch } from '../lm/capture.js';
export { neuronCensus, NEURON_CENSUS_DEFAULTS, type NeuronCensus, type NeuronCensusOptions, type NeuronCensusParameters, type NeuronCensusRow, type NeuronCensusSummary } from '../lm/census.js';
export { spliceEvaluation, type SplicedPrefixRow, type SpliceEvaluationOptions } from '../workflows/lm-sae.js';
export {
  trainBrownLm,
  captureBrown,
  captureRows,
  brownStreams,
  BROWN_SPLITS,
  type BrownStreams,
  type BrownLmSummary,
  type TrainBrownLmOptions,
  type CaptureBrownOptions,
  type CaptureSummary,
  type LmScore,
  type BrownSplitName,
  scoreBrownLm,
  type BrownLmScores,
} from '../workflows/lm-brown.js';
