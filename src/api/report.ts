/**
 * `report`: self-contained HTML interpretability reports of trained SAEs (metrics per prefix,
 * a card per latent with its top inputs, activation histogram and decoder direction), and the
 * MNIST workflow behind `nestlab train-sae` / `nestlab report`.
 *
 * @example
 * const html = await report.buildSaeReport(model, { x: test.x, y: test.y, imageShape: [28, 28] });
 */
export { buildSaeReport, writeSaeReport, type SaeReportData, type SaeReportOptions } from '../report/sae-report.js';
export { trainMnistSae, reportFromCheckpoint, type TrainMnistSaeOptions, type ReportFromCheckpointOptions } from '../workflows/mnist-sae.js';
