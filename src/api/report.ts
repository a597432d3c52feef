/**
 * `report`: self-contained HTML interpretability reports of trained SAEs (metrics per prefix,
 * SAEBench's density and probes, a card per latent with its top inputs, activation histogram and
 * decoder direction), and the workflows behind `nestlab train-sae` / `nestlab report`: any
 * activations on disk, or MNIST; feature dashboards of SAEs on a language model's activations
 * (top contexts, activation intervals, logit effects, correlated latents, POS and genre mix).
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
export {
  buildTextDashboard,
  type TextDashboardData,
  type TextDashboardOptions,
  type TextDashboardLatent,
  type TokenContext,
  type ActivationBucket,
  type TokenValue,
  type NamedShare,
} from '../report/text-dashboard.js';
export { textDashboardData, lmSaeReport, type TextDashboardCapture, type TextDashboardDataOptions, type LmSaeReportOptions, type LmSaeReportResult } from '../workflows/lm-report.js';
