/**
 * The shape of every figure experiment (DESIGN.md): a pure function of options with a size that
 * returns tidy rows, a vega-lite spec over those rows, and meta. A notebook and the CLI call the
 * same function, so the figure in a notebook and the file in figures/ cannot drift apart.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Progress } from '../backend/progress.js';

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
