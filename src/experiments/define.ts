/**
 * The shape of every figure experiment, written once: `defineExperiment` takes the figure's id,
 * its named size presets (the parameters it runs with), a `run` that returns typed tidy rows and
 * findings, and a `spec` that draws the rows. It adds what every experiment shares: option
 * validation (size, seed, progress, overrides of the preset's parameters), the backend, the
 * timer, and the base meta (id, backend, seed, size, wall time, parameters). A notebook and the
 * CLI call the same experiment, so the figure in a notebook and the file in figures/ cannot
 * drift apart.
 */
import type { TopLevelSpec } from 'vega-lite';
import { initBackend } from '../backend/select.js';
import { silentProgress, type Progress } from '../backend/progress.js';
import { NestlabArgumentError, checkInt, checkKnownKeys, checkOneOf } from '../errors.js';
import type { Row } from '../data/table.js';

/** `smoke`: seconds, for tests and CI; `full`: what figures/ holds. */
export type Size = 'smoke' | 'full';
/** Every size preset name, smallest first (what `options.size` accepts). */
export const SIZES: readonly Size[] = ['smoke', 'full'];

/** What a figure's run function gets. */
export interface RunContext<P> {
  /** The size preset's parameters with the caller's overrides applied. */
  params: P;
  /** The size preset the run was asked for. */
  size: Size;
  /** Every random step derives from this seed. */
  seed: number;
  /** Where to report progress (silent unless the caller passed one). */
  progress: Progress;
}

/** The meta every result carries, beside the experiment's own findings. */
export interface BaseMeta<P> {
  /** The figure id. */
  id: string;
  /** The tfjs backend the run computed on. */
  backend: string;
  /** The seed of the run. */
  seed: number;
  /** The size preset of the run. */
  size: Size;
  /** Wall time of the run in seconds. */
  seconds: number;
  /** The parameters the run used (the size preset with `overrides` applied). */
  params: P;
  /** The parameters changed from the preset, when any (such a run is not the published figure). */
  overrides?: Partial<P>;
}

/** A figure's result: the numbers behind it, the chart, and what it found. */
export interface ExperimentResult<R extends Row = Row, M = unknown> {
  /** The numbers behind the figure; written to figures/<id>.csv. */
  rows: R[];
  /** A vega-lite spec whose data are `rows` (inline values). */
  spec: TopLevelSpec;
  /** BaseMeta (id, backend, seed, size, seconds, params) and the experiment's findings. */
  meta: M;
}

/** Options of an experiment run (and of `figure`). */
export interface RunOptions<P> {
  /** Default 'smoke'. */
  size?: Size;
  /** Default 0. */
  seed?: number;
  /** Default: silent. */
  progress?: Progress;
  /** Parameters to change from the size preset, e.g. `{ dSae: 1024, k: 32 }`. */
  overrides?: Partial<P>;
}

/** A registered figure experiment. */
export interface Experiment<P = unknown, R extends Row = Row, M = unknown> {
  /** The figure id and the file stem in figures/. */
  readonly id: string;
  /** The chart's title, also listed by `nestlab figures`. */
  readonly title: string;
  /** The named size presets. */
  readonly sizes: Readonly<Record<Size, P>>;
  /** Validates the options, runs at the chosen size, and returns rows, spec and meta. */
  run(options?: RunOptions<P>): Promise<ExperimentResult<R, BaseMeta<P> & M>>;
}

/** What `defineExperiment` takes. */
export interface ExperimentDefinition<P, R extends Row, M> {
  /** The figure id and file stem in figures/, e.g. 'msae-prefix'. */
  id: string;
  /** The chart's title. */
  title: string;
  /** The parameters of each size preset; `overrides` may change any of them. */
  sizes: Record<Size, P>;
  /** The computation: typed rows and the findings that go into the meta. */
  run(context: RunContext<P>): Promise<{ rows: R[]; meta: M }>;
  /** The chart of the rows (the meta holds the parameters and findings). */
  spec(rows: R[], meta: BaseMeta<P> & M): TopLevelSpec;
  /** False when the run uses no tfjs tensors (plain typed-array code): no backend is started. Default true. */
  tensors?: boolean;
}

/**
 * A figure experiment from its definition (see the module comment).
 *
 * @example const exp = figures.defineExperiment({ id: 'my-fig', title: 'My figure', sizes: { smoke: { n: 50 }, full: { n: 5000 } }, run: async ({ params }) => ({ rows: [{ n: params.n }], meta: {} }), spec: (rows) => ({ data: { values: rows }, mark: 'point', encoding: { x: { field: 'n', type: 'quantitative' } } }) }); // then await exp.run({ size: 'smoke' })
 */
export function defineExperiment<P extends object, R extends Row, M extends object>(definition: ExperimentDefinition<P, R, M>): Experiment<P, R, M> {
  const { id, title, sizes } = definition;
  return {
    id,
    title,
    sizes,
    async run(options: RunOptions<P> = {}) {
      const where = `figures.figure('${id}')`;
      checkKnownKeys(where, options, ['size', 'seed', 'progress', 'overrides']);
      const size = checkOneOf(where, 'options.size', options.size ?? 'smoke', SIZES);
      const seed = checkInt(where, 'options.seed', options.seed ?? 0);
      const progress = options.progress ?? silentProgress;
      const overrides = checkOverrides(where, sizes[size], options.overrides);
      const params = { ...sizes[size], ...overrides } as P;
      const t0 = performance.now();
      const backend = definition.tensors === false ? 'none (typed-array code, no tfjs)' : (await initBackend()).name;
      const out = await definition.run({ params, size, seed, progress });
      const base: BaseMeta<P> = { id, backend, seed, size, seconds: (performance.now() - t0) / 1000, params };
      if (Object.keys(overrides).length > 0) base.overrides = overrides;
      const meta = { ...base, ...out.meta };
      return { rows: out.rows, spec: definition.spec(out.rows, meta), meta };
    },
  };
}

/** Overrides must name parameters of the preset and keep each one's kind (number, string, array...). */
function checkOverrides<P extends object>(where: string, preset: P, overrides: Partial<P> | undefined): Partial<P> {
  if (overrides === undefined) return {};
  const known = Object.keys(preset);
  checkKnownKeys(where, overrides, known, 'options.overrides');
  for (const [key, value] of Object.entries(overrides)) {
    const base = (preset as Record<string, unknown>)[key];
    if (kindOf(value) !== kindOf(base)) {
      throw new NestlabArgumentError(where, `options.overrides.${key}`, `${kindOf(base)} like the preset's ${JSON.stringify(base)}`, value);
    }
  }
  return { ...overrides };
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}
