/**
 * One entry point for a figure's result, shared by the CLI and the notebooks: run the experiment,
 * or, at full size, read the result that `nestlab figures` saved in figures/<id>.result.json
 * (same size and seed). A notebook then shows exactly the numbers the files in figures/ hold,
 * without re-training for minutes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../data/files.js';
import { writeFigure, type FigureFiles } from '../plot/render.js';
import { findExperiment } from './registry.js';
import type { ExperimentOptions, ExperimentResult } from './types.js';

/** figures/ at the top of the repository. */
export const FIGURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'figures');

export interface FigureOptions extends ExperimentOptions {
  /** Run even when a saved full-size result exists. Default false. */
  refresh?: boolean;
  /** Where results are saved and read. Default figures/. */
  dir?: string;
}

/** Path of the saved result of figure `id` in `dir`. */
export function resultPath(id: string, dir = FIGURES_DIR): string {
  return join(dir, `${id}.result.json`);
}

/** Reads a saved result if it matches size and seed, else null. */
export function readSavedResult(id: string, size: string, seed: number, dir = FIGURES_DIR): ExperimentResult | null {
  const path = resultPath(id, dir);
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as ExperimentResult;
    return r.meta?.id === id && r.meta.size === size && r.meta.seed === seed ? r : null;
  } catch {
    return null; // a damaged file is re-made, never trusted
  }
}

/** Writes the figure's files (SVG, PNG, CSV, meta JSON) and its full result, atomically. */
export async function saveFigure(result: ExperimentResult, dir = FIGURES_DIR): Promise<FigureFiles & { result: string }> {
  const files = await writeFigure(result, dir);
  const path = resultPath(result.meta.id, dir);
  writeFileAtomic(path, JSON.stringify(result));
  return { ...files, result: path };
}

/**
 * The result of figure `id`: at size 'smoke' always a fresh run; at 'full' the saved result when
 * one matches (unless `refresh`), else a fresh run that is then saved with its files.
 */
export async function figure(id: string, options: FigureOptions = {}): Promise<ExperimentResult> {
  const { refresh = false, dir = FIGURES_DIR, ...run } = options;
  const exp = findExperiment(id);
  const size = run.size ?? 'smoke';
  const seed = run.seed ?? 0;
  if (size === 'full' && !refresh) {
    const saved = readSavedResult(id, size, seed, dir);
    if (saved) return saved;
  }
  const result = await exp.run({ ...run, size, seed });
  if (size === 'full') await saveFigure(result, dir);
  return result;
}
