/**
 * Activations at named hook points, captured in one forward pass per batch of windows (the
 * TransformerLens `run_with_cache` idea): rows in (window, position) order, one [rows, d] matrix
 * per hook. The pass stops after the last requested hook, so capturing an early layer costs only
 * the layers before it.
 */
import { initBackend } from '../backend/select.js';
import { tf } from '../backend/tf.js';
import { eventLoopYielder } from '../backend/yield.js';
import type { Matrix } from '../data/matrix.js';
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';
import { hookNames, hookWidth, lmForward, type Lm } from './model.js';
import type { TokenBatch } from './train.js';

/** Options of {@link captureBatches} and {@link captureActivations}. */
export interface CaptureOptions {
  /** Windows per forward pass (default 32). */
  batchSize?: number;
}

/** One batch of captured rows: `activations.get(hook)` is [rows, d], row r = window·T + position. */
export interface CapturedBatch {
  /** Index of the batch's first row among all rows of the windows. */
  firstRow: number;
  rows: number;
  activations: Map<string, Float32Array>;
}

/** Checks hook names against the model's and returns them in forward order. */
export function checkHooks(where: string, model: Lm, hooks: readonly string[]): string[] {
  const all = hookNames(model.architecture);
  if (!Array.isArray(hooks) || hooks.length === 0) throw new NestlabArgumentError(where, 'hooks', 'a non-empty array of hook names', hooks);
  for (const h of hooks) {
    if (!all.includes(h)) throw new NestlabArgumentError(where, 'hooks', `names among ${all.slice(0, 4).join(', ')}, … (lm.hookNames)`, h);
  }
  return all.filter((h) => hooks.includes(h));
}

/**
 * Runs `windows` through the model `batchSize` windows at a time and yields the activations at
 * `hooks` for each batch (the memory of one batch at a time).
 *
 * @example for await (const b of lm.captureBatches(model, windows, ['blocks.0.hook_resid_post'])) save(b);
 */
export async function* captureBatches(model: Lm, windows: TokenBatch, hooks: readonly string[], options: CaptureOptions = {}): AsyncGenerator<CapturedBatch> {
  const where = 'lm.captureBatches';
  checkKnownKeys(where, options, ['batchSize']);
  const wanted = checkHooks(where, model, hooks);
  const chunk = checkInt(where, 'options.batchSize', options.batchSize ?? 32, 1, 1e6);
  await initBackend();
  const T = windows.inputs.length / windows.batchSize;
  const yieldNow = eventLoopYielder();
  for (let w0 = 0; w0 < windows.batchSize; w0 += chunk) {
    const nw = Math.min(chunk, windows.batchSize - w0);
    const activations = new Map<string, Float32Array>();
    tf.tidy(() => {
      lmForward(model, windows.inputs.subarray(w0 * T, (w0 + nw) * T), nw, {
        stopAt: wanted[wanted.length - 1],
        hook: (name, x) => {
          if (wanted.includes(name)) activations.set(name, x.dataSync() as Float32Array);
        },
      });
    });
    yield { firstRow: w0 * T, rows: nw * T, activations };
    await yieldNow();
  }
}

/**
 * The activations at `hooks` for every row of `windows`, in memory: one [windows·T, d] Matrix per
 * hook (d = dMlp at `blocks.l.mlp.hook_pre` / `hook_post`, see `lm.hookWidth`), rows in (window,
 * position) order.
 *
 * @example const acts = await lm.captureActivations(model, lm.evaluationWindows(stream, 64, 100), ['blocks.1.hook_resid_pre']);
 */
export async function captureActivations(model: Lm, windows: TokenBatch, hooks: readonly string[], options: CaptureOptions = {}): Promise<Map<string, Matrix>> {
  const wanted = checkHooks('lm.captureActivations', model, hooks);
  const total = windows.inputs.length;
  const out = new Map<string, Matrix>(wanted.map((h) => {
    const d = hookWidth(model.architecture, h);
    return [h, { data: new Float32Array(total * d), rows: total, cols: d }];
  }));
  for await (const b of captureBatches(model, windows, wanted, options)) {
    for (const [h, values] of b.activations) {
      const m = out.get(h) as Matrix;
      m.data.set(values, b.firstRow * m.cols);
    }
  }
  return out;
}
