/**
 * nestlab's public API: one namespace per area, plus a few names a notebook uses on every page.
 *
 *   import { sae, rsa, topology, similarity, mrl, models, data, plot, figures, report, backend, lm } from 'nestlab';
 *
 * Everything else in src/ is internal: tests import it from its module.
 */
export * as sae from './api/sae.js';
export * as rsa from './api/rsa.js';
export * as topology from './api/topology.js';
export * as similarity from './api/similarity.js';
export * as mrl from './api/mrl.js';
export * as models from './api/models.js';
export * as data from './api/data.js';
export * as plot from './api/plot.js';
export * as figures from './api/figures.js';
export * as report from './api/report.js';
export * as backend from './api/backend.js';
export * as lm from './api/lm.js';

// Top-level conveniences: what most notebook cells need.
export { tf } from './backend/tf.js';
export { initBackend, type BackendInfo } from './backend/select.js';
export { Rng } from './backend/rng.js';
export { lineProgress, type Progress } from './backend/progress.js';
export { NestlabError, NestlabArgumentError, NestlabComputationError, NestlabBackendError, NestlabIoError } from './errors.js';
export { showChart, showTable } from './plot/display.js';
export { showRdm } from './plot/rdm-heatmap.js';
export { figure } from './experiments/figure.js';
export { loadMnist } from './data/mnist.js';
export type { Matrix } from './data/matrix.js';
export type { Row } from './data/table.js';
export type { Rdm } from './rsa/condensed.js';
export type { Sae } from './sae/model.js';
export type { Size } from './experiments/define.js';

/**
 * The size notebooks run at: NESTLAB_SIZE (smoke in tests and CI), else 'full'.
 *
 * @example const r = await figures.figure('msae-toy', { size: notebookSize() }); // smoke under NESTLAB_SIZE=smoke (tests, CI), else the full, saved figure
 */
export function notebookSize(): 'smoke' | 'full' {
  return process.env.NESTLAB_SIZE === 'smoke' ? 'smoke' : 'full';
}
