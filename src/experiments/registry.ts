/**
 * Every figure `nestlab figures` regenerates, in the order of the README's figure table. A figure
 * joins by adding its experiment here; the CLI, the notebooks and the figure tests read this map,
 * and its keys type `figure(id)`'s result.
 */
import { NestlabArgumentError } from '../errors.js';
import type { Experiment } from './define.js';
import { mnistMlpQuickstart } from './mnist-mlp-quickstart.js';
import { mrlAccuracy } from './mrl-accuracy.js';
import { mrlRetrieval } from './mrl-retrieval.js';
import { topologySanity } from './topology-sanity.js';
import { geometryNested } from './geometry-nested.js';
import { msaeToy } from './msae-toy.js';
import { msaePrefix } from './msae-prefix.js';
import { trsaIdentification } from './trsa-identification.js';
import { lmMsaePrefix } from './lm-msae-prefix.js';
import { lmGeometryNested } from './lm-geometry-nested.js';
import { lmConceptGeometry } from './lm-concept-geometry.js';
import { deconfoundedSimilarity } from './deconfounded-similarity.js';
import { diffusionEntropy } from './diffusion-entropy.js';
import { neuronCensusFigure } from './neuron-census.js';
import { platonicAlignment } from './platonic-alignment.js';
import { mpSae } from './mp-sae.js';
import { mnistNd } from './mnist-nd.js';
import { mrl2d } from './mrl-2d.js';

/** Every registered figure experiment by id, in the order of the README's figure table. */
export const EXPERIMENTS = {
  'mnist-mlp-quickstart': mnistMlpQuickstart,
  'mrl-accuracy': mrlAccuracy,
  'mrl-retrieval': mrlRetrieval,
  'msae-toy': msaeToy,
  'msae-prefix': msaePrefix,
  'trsa-identification': trsaIdentification,
  'geometry-nested': geometryNested,
  'topology-sanity': topologySanity,
  'lm-msae-prefix': lmMsaePrefix,
  'lm-geometry-nested': lmGeometryNested,
  'lm-concept-geometry': lmConceptGeometry,
  'deconfounded-similarity': deconfoundedSimilarity,
  'diffusion-entropy': diffusionEntropy,
  'neuron-census': neuronCensusFigure,
  'platonic-alignment': platonicAlignment,
  'mp-sae': mpSae,
  'mrl-2d': mrl2d,
  'mnist-nd': mnistNd,
} as const;

/** The id of a registered figure. */
export type FigureId = keyof typeof EXPERIMENTS;
/** The parameters of figure `Id` (what `overrides` may change). */
export type ParamsOf<Id extends FigureId> = (typeof EXPERIMENTS)[Id]['sizes']['full'];
/** The result of figure `Id`: its typed rows and meta. */
export type ResultOf<Id extends FigureId> = Awaited<ReturnType<(typeof EXPERIMENTS)[Id]['run']>>;

/**
 * Every registered experiment, in order.
 *
 * @example const ids = figures.listExperiments().map((e) => e.id); // ['mnist-mlp-quickstart', 'mrl-accuracy', ...]
 */
export function listExperiments(): Experiment[] {
  return Object.values(EXPERIMENTS) as Experiment[];
}

/** The experiment with this id, or an error listing the known ids. */
export function findExperiment(id: string, where = 'figures.figure'): Experiment {
  const e = (EXPERIMENTS as Record<string, Experiment>)[id];
  if (e === undefined) throw new NestlabArgumentError(where, 'id', `a figure id (${Object.keys(EXPERIMENTS).join(', ')})`, id);
  return e;
}
