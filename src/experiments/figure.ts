/**
 * One entry point for a figure's result, shared by the CLI and the notebooks: run the experiment,
 * or, at full size, read the result that `nestlab figures` saved in figures/<id>.result.json
 * (same seed and parameters). A notebook then shows exactly the numbers the files in figures/
 * hold, without re-training for minutes. Also the figure's files: <id>.svg, <id>.png, <id>.csv
 * (the numbers behind it), <id>.json (meta) and <id>.result.json, each written atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../data/files.js';
import { rowsToCsv, specToSvg, svgToPng } from '../plot/render.js';
import type { BaseMeta, ExperimentResult, RunOptions } from './define.js';
import { findExperiment, type FigureId, type ParamsOf, type ResultOf } from './registry.js';

/** figures/ at the top of the repository. */
export const FIGURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'figures');

/** Options of `figure`. */
export interface FigureOptions<P> extends RunOptions<P> {
  /** Run even when a saved full-size result exists. Default false. */
  refresh?: boolean;
  /** Where results are saved and read. Default figures/. */
  dir?: string;
}

/** Paths of the files `writeFigure` produced. */
export interface FigureFiles {
  /** <dir>/<id>.svg: the chart. */
  svg: string;
  /** <dir>/<id>.png: the chart at 2 pixels per CSS pixel. */
  png: string;
  /** <dir>/<id>.csv: the rows behind the chart. */
  csv: string;
  /** <dir>/<id>.json: the meta (parameters, backend, findings). */
  json: string;
}

/** Writes a figure's SVG, PNG, CSV and meta JSON into `dir`, each atomically. */
export async function writeFigure(result: ExperimentResult<ExperimentResult['rows'][number], BaseMeta<unknown>>, dir: string): Promise<FigureFiles> {
  const id = result.meta.id;
  const svg = await specToSvg(result.spec);
  const files = {
    svg: join(dir, `${id}.svg`),
    png: join(dir, `${id}.png`),
    csv: join(dir, `${id}.csv`),
    json: join(dir, `${id}.json`),
  };
  writeFileAtomic(files.svg, svg, 'figures.saveFigure');
  writeFileAtomic(files.png, svgToPng(svg), 'figures.saveFigure');
  writeFileAtomic(files.csv, rowsToCsv(result.rows), 'figures.saveFigure');
  writeFileAtomic(files.json, `${JSON.stringify(result.meta, null, 2)}\n`, 'figures.saveFigure');
  return files;
}

/** Path of the saved result of figure `id` in `dir`. */
export function resultPath(id: string, dir = FIGURES_DIR): string {
  return join(dir, `${id}.result.json`);
}

/**
 * Reads a saved result if it was made with this seed and these parameters at full size, else null.
 *
 * @example const saved = figures.readSavedResult('msae-toy', 0, figures.EXPERIMENTS['msae-toy'].sizes.full); // null unless figures/ holds a matching full-size run
 */
export function readSavedResult(id: string, seed: number, params: unknown, dir = FIGURES_DIR): ExperimentResult<ExperimentResult['rows'][number], BaseMeta<unknown>> | null {
  const path = resultPath(id, dir);
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as ExperimentResult<ExperimentResult['rows'][number], BaseMeta<unknown>>;
    const m = r.meta;
    return m?.id === id && m.size === 'full' && m.seed === seed && m.overrides === undefined && isDeepStrictEqual(m.params, params) ? r : null;
  } catch {
    return null; // a damaged file is re-made, never trusted
  }
}

/**
 * Writes the figure's files (SVG, PNG, CSV, meta JSON) and its full result, atomically.
 *
 * @example const files = await figures.saveFigure(await figures.figure('topology-sanity'), 'out'); // out/topology-sanity.svg, .png, .csv, .json and .result.json
 */
export async function saveFigure(result: ExperimentResult<ExperimentResult['rows'][number], BaseMeta<unknown>>, dir = FIGURES_DIR): Promise<FigureFiles & { result: string }> {
  const files = await writeFigure(result, dir);
  const path = resultPath(result.meta.id, dir);
  writeFileAtomic(path, JSON.stringify(result), 'figures.saveFigure');
  return { ...files, result: path };
}

/**
 * The result of figure `id`, typed by the figure: at size 'smoke' (default) always a fresh run; at
 * 'full' the saved result when one matches (unless `refresh`), else a fresh run that is then saved
 * with its files. A run with `overrides` is never read from or saved to figures/.
 *
 * @example const r = await figures.figure('msae-prefix', { size: 'smoke', overrides: { dSae: 128 } });
 */
export async function figure<Id extends FigureId>(id: Id, options: FigureOptions<ParamsOf<Id>> = {}): Promise<ResultOf<Id>> {
  const { refresh = false, dir = FIGURES_DIR, ...run } = options;
  const exp = findExperiment(id);
  const size = run.size ?? 'smoke';
  const seed = run.seed ?? 0;
  const published = size === 'full' && (run.overrides === undefined || Object.keys(run.overrides).length === 0);
  if (published && !refresh) {
    const saved = readSavedResult(id, seed, exp.sizes.full, dir);
    if (saved) return saved as ResultOf<Id>;
  }
  const result = await exp.run({ ...run, size, seed } as RunOptions<unknown>);
  if (published) await saveFigure(result as ExperimentResult<ExperimentResult['rows'][number], BaseMeta<unknown>>, dir);
  return result as ResultOf<Id>;
}
