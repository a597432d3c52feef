/**
 * `report`: self-contained HTML interpretability reports of trained SAEs (metrics per prefix,
 * SAEBench's density and probes, a card per latent with its top inputs, activation histogram and
 * decoder direction), and the workflows behind `nestlab train-sae` / `nestlab report`: any
 * activations on disk, or MNIST.
 *
 * @example
 * const html = await report.buildSaeReport(model, { x: test.x, y: test.y, imageShape: [28, 28] });
 */
export { buildSaeReport, writeSaeReport, type SaeReportData, type SaeReportOptions } from '../report/sae-report.js';
export { trainMnistSae, reportFromCheckpoint, type TrainMnistSaeOptions, type TrainMnistSaeResult, type ReportFromCheckpointOptions } from '../workflows/mnist-sae.js';
export {
  trainActivationsSae,
  reportActivations,
  type TrainActivationsSaeOptions,
  type TrainActivationsSaeResult,
  type ActivationsSaeSource,
  type ActivationsHoldout,
  type ReportActivationsOptions,
} from '../workflows/activations-sae.js';
