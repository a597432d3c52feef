/**
 * Executes the project's notebooks headless (jupyter nbconvert on the tslab kernel) and checks
 * what they produced: no error output, and the outputs each notebook promises (a chart, a table).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

export interface NotebookRun {
  notebook: string;
  ok: boolean;
  seconds: number;
  /** Output MIME types seen, e.g. 'application/vnd.vegalite.v5+json', 'text/html'. */
  mimeTypes: string[];
  /** Error name + message of the first failing cell, or nbconvert's complaint. */
  error?: string;
  /** Where the executed notebook was written. */
  output: string;
}

interface NbOutput {
  output_type: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  name?: string;
  text?: string | string[];
}

/** The .ipynb files of `dir`, sorted by name. */
export function listNotebooks(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && !f.includes('.out.'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Runs one notebook with `jupyter nbconvert --execute` under NESTLAB_SIZE=size; in place (saving
 * its outputs) when `inPlace`, else into a temporary folder.
 */
export async function executeNotebook(notebook: string, size: 'smoke' | 'full', inPlace = false, timeoutS = 1200): Promise<NotebookRun> {
  const path = resolve(notebook);
  const outDir = inPlace ? resolve(path, '..') : mkdtempSync(join(tmpdir(), 'nestlab-nb-'));
  const outName = basename(path);
  const output = join(outDir, outName);
  const t0 = performance.now();
  const args = [
    'nbconvert', '--to', 'notebook', '--execute',
    `--ExecutePreprocessor.timeout=${timeoutS}`,
    // The tslab kernel compiles TypeScript at start-up: on a loaded 2-core machine that can
    // take longer than nbclient's default 60 s.
    '--ExecutePreprocessor.startup_timeout=300',
    '--ExecutePreprocessor.kernel_name=tslab',
    '--output-dir', outDir, '--output', outName, path,
  ];
  // Asynchronous on purpose: a test worker must keep its event loop alive while this runs.
  const res = await new Promise<{ status: number | null; stderr: string; error?: Error }>((done) => {
    const child = spawn('jupyter', args, { env: { ...process.env, NESTLAB_SIZE: size, NESTLAB_PROGRESS: 'lines' }, cwd: resolve(path, '..') });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('error', (error) => done({ status: null, stderr, error }));
    child.on('close', (status) => done({ status, stderr }));
  });
  const seconds = (performance.now() - t0) / 1000;
  if (res.error) return { notebook: path, ok: false, seconds, mimeTypes: [], error: `jupyter could not run: ${res.error.message}`, output };
  if (res.status !== 0 || !existsSync(output)) {
    const tail = res.stderr.trim().split('\n').slice(-6).join('\n');
    return { notebook: path, ok: false, seconds, mimeTypes: [], error: `nbconvert exited ${res.status}: ${tail}`, output };
  }
  const nb = JSON.parse(readFileSync(output, 'utf8')) as { cells: { outputs?: NbOutput[] }[] };
  const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
  const mimeTypes = [...new Set(outputs.flatMap((o) => Object.keys(o.data ?? {})))];
  const err = outputs.find((o) => o.output_type === 'error');
  return {
    notebook: path,
    ok: err === undefined,
    seconds,
    mimeTypes,
    error: err ? `${err.ename}: ${err.evalue}` : undefined,
    output,
  };
}
