/**
 * Every figure `nestlab figures` regenerates, in FIGURES.md order. A figure joins by adding its
 * experiment here; the CLI, the notebooks' smoke tests and the figure tests read this list.
 */
import type { Experiment } from './types.js';
import { mnistMlpQuickstart } from './mnist-mlp-quickstart.js';
import { mrlAccuracy } from './mrl-accuracy.js';
import { mrlRetrieval } from './mrl-retrieval.js';
import { topologySanity } from './topology-sanity.js';
import { geometryNested } from './geometry-nested.js';
import { msaeToy } from './msae-toy.js';
import { msaePrefix } from './msae-prefix.js';
import { trsaIdentification } from './trsa-identification.js';

export const EXPERIMENTS: readonly Experiment[] = [mnistMlpQuickstart, mrlAccuracy, mrlRetrieval, msaeToy, msaePrefix, trsaIdentification, geometryNested, topologySanity];

/** The experiment with this id, or an error listing the known ids. */
export function findExperiment(id: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.id === id);
  if (!e) throw new Error(`unknown figure id ${JSON.stringify(id)}; known: ${EXPERIMENTS.map((x) => x.id).join(', ')}`);
  return e;
}
