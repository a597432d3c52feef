/**
 * One small progress interface for every long loop: a terminal bar in the CLI (cli-progress),
 * a text line per step in notebooks and logs, nothing in tests.
 */
import cliProgress from 'cli-progress';

/** Receives progress from a long computation. `info` is a short status ("loss 0.123"). */
export interface Progress {
  /** A run of `total` steps named `label` begins. */
  start(total: number, label: string): void;
  /** `done` of the `total` steps are finished. */
  update(done: number, info?: string): void;
  /** The run ended; `summary` is a one-line result. */
  stop(summary?: string): void;
}

/** The values NESTLAB_PROGRESS accepts. */
export type ProgressKind = 'bar' | 'lines' | 'silent';

/** Silently drops every update (tests, nested steps). */
export const silentProgress: Progress = { start() {}, update() {}, stop() {} };

/** Options of {@link lineProgress}. */
export interface LineProgressOptions {
  /**
   * Least milliseconds between two lines (default 200): updates in between are dropped, except a
   * run's first and last step. A loop reporting every step can otherwise write thousands of
   * lines a second, which floods a notebook's output (a tslab kernel failed on such a flood).
   */
  minIntervalMs?: number;
}

/**
 * One line per update, at most one per `minIntervalMs`: what a notebook or CI log shows
 * ("epoch 3/10  loss 0.12").
 *
 * @example const progress = backend.lineProgress((line) => log.push(line), { minIntervalMs: 0 }); // 'train 3/10  loss 0.12' per update
 */
export function lineProgress(write: (line: string) => void = (l) => console.log(l), options: LineProgressOptions = {}): Progress {
  const minInterval = options.minIntervalMs ?? 200;
  let total = 0;
  let label = '';
  let last = -Infinity;
  return {
    start(t, l) {
      total = t;
      label = l;
      last = -Infinity;
    },
    update(done, info) {
      const now = performance.now();
      if (now - last < minInterval && done < total) return;
      last = now;
      write(`${label} ${done}/${total}${info ? `  ${info}` : ''}`);
    },
    stop(summary) {
      if (summary) write(`${label} done: ${summary}`);
    },
  };
}

/**
 * A terminal bar with ETA (cli-progress), drawn on stderr.
 *
 * @example const progress = backend.barProgress(); // a cli-progress bar with ETA, on stderr
 */
export function barProgress(): Progress {
  const bar = new cliProgress.SingleBar(
    { format: '{label} [{bar}] {value}/{total} {eta_formatted} {info}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  return {
    start(total, label) {
      bar.start(total, 0, { label, info: '' });
    },
    update(done, info) {
      bar.update(done, { info: info ?? '' });
    },
    stop(summary) {
      bar.stop();
      if (summary) process.stderr.write(`${summary}\n`);
    },
  };
}

/**
 * The default for this process: NESTLAB_PROGRESS if set (bar | lines | silent), else a bar on a
 * terminal and lines elsewhere (notebooks, CI logs).
 *
 * @example const progress = backend.defaultProgress(); // NESTLAB_PROGRESS=lines gives one line per update
 */
export function defaultProgress(): Progress {
  const kind = process.env.NESTLAB_PROGRESS as ProgressKind | undefined;
  if (kind === 'silent') return silentProgress;
  if (kind === 'lines') return lineProgress();
  if (kind === 'bar' || process.stderr.isTTY) return barProgress();
  return lineProgress();
}
