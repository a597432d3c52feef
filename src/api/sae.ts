/**
 * `sae`: Matryoshka sparse autoencoders. Train one on a matrix or on sharded files, encode and
 * decode at any prefix, measure every prefix, save and load SAELens folders (both ways), and the
 * geometry of their concepts (parallelograms, co-occurrence lobes, the spectrum of the decoder cloud).
 *
 * @example
 * const { sae: model } = await sae.train(x, { architecture: { dIn: 784, dSae: 256, k: 16, prefixes: sae.halvingPrefixes(256) } });
 * const codes = await sae.encode(model, x, { prefix: 64, dense: true });
 */
export {
  trainSae as train,
  type TrainSaeOptions as TrainOptions,
  type TrainSaeResult as TrainResult,
  type EpochSummary,
  type StepInfo,
  type GradientPath,
} from '../sae/train.js';
export type { TrainerState } from '../sae/state.js';
export type { StepLosses } from '../sae/step.js';
export {
  createSae as create,
  cloneSae as clone,
  encodeSae as encode,
  decodeSae as decode,
  reconstructSae as reconstruct,
  permuteLatents,
  foldActivationScale,
  truncateCode,
  codeToDense,
  type Sae,
  type SaeParams,
  type SparseCode,
  type EncodeOptions,
  type CreateSaeOptions as CreateOptions,
} from '../sae/model.js';
export {
  saeArchitecture as architecture,
  saeTraining as training,
  matryoshkaPrefixes,
  halvingPrefixes,
  ACTIVATIONS,
  NORMALIZATIONS,
  type SaeNormalization as Normalization,
  type SaeArchitecture as Architecture,
  type SaeArchitectureInput as ArchitectureInput,
  type SaeTraining as Training,
  type SaeTrainingInput as TrainingInput,
  type SaeActivation as Activation,
} from '../sae/config.js';
export {
  evaluateSae as evaluate,
  decoderFeatureCosines,
  meanMaxCosine,
  matchLatents,
  matchSummary,
  absorption,
  latentsByFrequency,
  featureDensity,
  type PrefixMetrics,
  type MatchSummary,
  type AbsorptionResult,
  type ParentAbsorption,
  type FeatureDensity,
  type FeatureDensityOptions,
  type DensityHistogram,
} from '../sae/metrics.js';
export {
  sparseProbing,
  probeAbsorption,
  type SparseProbingOptions,
  type SparseProbingRow,
  type ProbeAbsorptionOptions,
  type ProbeAbsorptionRow,
  type LatentRanking,
} from '../sae/probing.js';
export { saveSae as save, loadSae as load, type SaveSaeOptions as SaveOptions } from '../sae/checkpoint.js';
export { SAE_DTYPES, type SaeDtype as Dtype, type SaeLensReadOptions as LoadOptions } from '../sae/saelens.js';
export {
  parallelogramQuality,
  ldaParallelograms,
  cooccurrencePhi,
  lobeAgreement,
  eigenvaluePowerLaw,
  clusteringEntropy,
  type LdaParallelogramOptions,
  type LdaParallelograms,
  type LobeAgreementOptions,
  type LobeAgreement,
  type EigenvaluePowerLaw,
  type ClusteringEntropy,
} from '../sae/concepts.js';
