/**
 * The shape of every figure experiment (DESIGN.md): a pure function of options with a size that
 * returns tidy rows, a vega-lite spec over those rows, and meta. A notebook and the CLI call the
 * same function, so the figure in a notebook and the file in figures/ cannot drift apart.
 */
import type { TopLevelSpec } from 'vega-lite';
import { silentProgress, type Progress } from '../backend/progress.js';
import { checkInt, checkKnownKeys, checkOneOf } from '../errors.js';

/** `smoke`: seconds, for tests and CI; `full`: what figures/ holds. */
export type Size = 'smoke' | 'full';

/** A tidy table: one object per observation, flat values only (written as CSV). */
export type Row = Record<string, string | number | boolean | null>;

export interface ExperimentOptions {
  /** Default 'smoke'. */
  size?: Size;
  /** Every random step derives from this seed. Default 0. */
  seed?: number;
  /** Default: silent. */
  progress?: Progress;
}

export interface ExperimentMeta {
  id: string;
  backend: string;
  seed: number;
  size: Size;
  /** Wall time of the run in seconds. */
  seconds: number;
  /** Sizes and settings actually used (sample counts, epochs...), plus findings in numbers. */
  [key: string]: unknown;
}

export interface ExperimentResult {
  /** The numbers behind the figure; written to figures/<id>.csv. */
  rows: Row[];
  /** A vega-lite spec whose data are `rows` (inline values). */
  spec: TopLevelSpec;
  meta: ExperimentMeta;
}

/** A registered figure. */
export interface Experiment {
  /** The figure id in FIGURES.md and the file stem in figures/. */
  id: string;
  title: string;
  run(options?: ExperimentOptions): Promise<ExperimentResult>;
}

/** The validated common options of an experiment run. */
export interface ResolvedOptions {
  size: Size;
  seed: number;
  progress: Progress;
}

/** Validates an experiment's options (size, seed, progress); errors name `where`. */
export function resolveOptions(where: string, options: ExperimentOptions = {}): ResolvedOptions {
  checkKnownKeys(where, options, ['size', 'seed', 'progress']);
  return {
    size: checkOneOf(where, 'options.size', options.size ?? 'smoke', ['smoke', 'full'] as const),
    seed: checkInt(where, 'options.seed', options.seed ?? 0),
    progress: options.progress ?? silentProgress,
  };
}
