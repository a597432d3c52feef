/**
 * HTML interpretability reports (DESIGN.md "report/"): the SAE report, its MNIST trainer and
 * checkpoint entry point, and the small PNG encoder the pages use. src/index.ts re-exports this.
 */
export {
  buildSaeReport, writeSaeReport, reportFromCheckpoint, summarizeLatents, prefixGroup, divergingColour, divergingImagePng, greyImagePng,
  type SaeReportData, type SaeReportOptions, type ReportFromCheckpointOptions, type LatentSummary,
} from './sae-report.js';
export { trainMnistSae, loadMnistReportData, MNIST_SOURCE_VERSION, type TrainMnistSaeOptions, type MnistSaeSource } from './train-mnist-sae.js';
export { encodePng, pngDataUri, crc32, PNG_SIGNATURE, type RasterImage } from './png.js';
export { escapeHtml, formatNumber, inlineSvg } from './html.js';
