/**
 * A small pool of worker threads that run self-contained task functions over index ranges of
 * data in shared memory (a shared WebAssembly.Memory or SharedArrayBuffers), synchronously for the
 * caller: `run` hands a range to each worker, does the first range itself, and blocks on
 * Atomics.wait until every worker has finished. Results go to shared memory, never to messages,
 * so a task's output does not depend on how many threads ran it when each index is written by
 * exactly one range.
 *
 * Why hand-written: the pure-JS/WebAssembly hot loops (the SAE's sparse gradients, Adam) would
 * otherwise use one core of the machine while the BLAS uses all of them; worker-pool packages
 * (piscina, workerpool) are asynchronous and message-based, which costs a structured clone per
 * call and makes the step async. Tasks travel as source text (`Function.prototype.toString`), so
 * they may only use their arguments, globals and the `helpers` shipped with them (plain function
 * declarations, called by name): no imports, no closures over module scope.
 * `NESTLAB_THREADS` sets the number of threads (1: none started); default: the cores, at most 8.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { NestlabComputationError } from '../errors.js';

/** A task: works on indices [lo, hi) of shared data; `thread` is 0 for the caller, 1.. for workers. */
export type Task<C, A> = (ctx: C, lo: number, hi: number, args: A, thread: number) => void;

/** A running pool (see createThreadPool). */
export interface ThreadPool<C> {
  /** Threads that do work, the caller's included (1: everything runs in the caller). */
  readonly size: number;
  /** The caller's own context, made by the same `makeContext` the workers ran. */
  readonly context: C;
  /**
   * Runs tasks[name] on ranges[t] in thread t (ranges[0] in the caller; at most `size` ranges)
   * and returns when all have finished; a task that throws in a worker throws here.
   */
  run<A>(name: string, ranges: [number, number][], args: A): void;
}

/** How long `run` waits for a worker before it gives up (a worker that never answers is a bug, not a slow task). */
const WAIT_MS = 600_000;

/** Threads to use: NESTLAB_THREADS, else the machine's cores (at most 8). */
export function threadCount(): number {
  const env = Number(process.env.NESTLAB_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(8, availableParallelism()));
}

/**
 * Splits [0, n) into `parts` contiguous ranges whose weights (weight(i) per index, e.g. the work
 * an index carries) are as equal as a prefix split allows.
 */
export function splitRanges(n: number, parts: number, weight?: (i: number) => number): [number, number][] {
  const out: [number, number][] = [];
  if (weight === undefined) {
    for (let t = 0; t < parts; t++) out.push([Math.floor((n * t) / parts), Math.floor((n * (t + 1)) / parts)]);
    return out;
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += weight(i);
  let lo = 0;
  let acc = 0;
  for (let t = 0, i = 0; t < parts; t++) {
    const target = (total * (t + 1)) / parts;
    while (i < n && (t === parts - 1 || acc + weight(i) / 2 <= target)) acc += weight(i++);
    out.push([lo, i]);
    lo = i;
  }
  return out;
}

/**
 * A zero-filled Float32Array of n elements in a SharedArrayBuffer (worker threads can write it), or
 * in an ArrayBuffer where SharedArrayBuffer is unavailable.
 */
export function sharedFloat32Array(n: number): Float32Array {
  return typeof SharedArrayBuffer === 'function' ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
}

/**
 * Starts `threads − 1` workers that each build their context with `makeContext(init)` and wait for
 * tasks. `init` must be structured-cloneable (shared memories and SharedArrayBuffers are shared,
 * not copied). With one thread, no worker starts and `run` calls the task directly.
 *
 * @example const pool = createThreadPool({ init: { buf }, makeContext: (i) => new Float32Array(i.buf), tasks: { double } });
 */
export function createThreadPool<I, C>(spec: {
  init: I;
  makeContext: (init: I) => C;
  tasks: Record<string, Task<C, never>>;
  /** Functions the tasks call by name (function declarations using only their arguments). */
  helpers?: ((...args: never[]) => unknown)[];
  threads?: number;
}): ThreadPool<C> {
  const size = Math.max(1, spec.threads ?? threadCount());
  const context = spec.makeContext(spec.init);
  const tasks = spec.tasks as Record<string, Task<C, unknown>>;
  const workers: { worker: Worker; flag: Int32Array; error: Uint8Array }[] = [];
  const source = workerSource(spec.makeContext, tasks, spec.helpers ?? []);
  for (let t = 1; t < size; t++) {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const error = new Uint8Array(new SharedArrayBuffer(1024));
    const worker = new Worker(source, { eval: true, workerData: { init: spec.init, flag, error } });
    worker.unref(); // an idle pool never keeps the process alive
    workers.push({ worker, flag, error });
  }
  return {
    size,
    context,
    run<A>(name: string, ranges: [number, number][], args: A): void {
      const task = tasks[name];
      if (task === undefined) throw new NestlabComputationError('threads', `no task named ${name}`);
      const used = Math.min(ranges.length, size);
      for (let t = 1; t < used; t++) {
        Atomics.store(workers[t - 1].flag, 0, 0);
        workers[t - 1].worker.postMessage({ name, lo: ranges[t][0], hi: ranges[t][1], args, thread: t });
      }
      let failure: unknown = null;
      try {
        if (used > 0) task(context, ranges[0][0], ranges[0][1], args, 0);
      } catch (e) {
        failure = e;
      }
      for (let t = 1; t < used; t++) {
        const { flag, error } = workers[t - 1];
        // Wait until the flag itself says done: a wake-up alone proves nothing, since a worker
        // descheduled between its store and its notify can deliver the previous task's notify
        // after this run reset the flag (seen under CPU oversubscription as runs that read a
        // worker's outputs before it wrote them).
        const deadline = Date.now() + WAIT_MS;
        while (Atomics.load(flag, 0) === 0) {
          const left = deadline - Date.now();
          if (left <= 0 || Atomics.wait(flag, 0, 0, left) === 'timed-out') throw new NestlabComputationError('threads', `worker ${t} did not finish task ${name} within ${WAIT_MS / 1000} s`);
        }
        if (Atomics.load(flag, 0) === 2 && failure === null) {
          const text = new TextDecoder().decode(error.slice()).replace(/\0+$/, '');
          failure = new NestlabComputationError('threads', `task ${name} failed in worker ${t}: ${text}`);
        }
      }
      if (failure !== null) throw failure;
    },
  };
}

/** The worker's program: the context builder and the tasks as source, and a loop that runs them. */
function workerSource(makeContext: (init: never) => unknown, tasks: Record<string, Task<never, unknown>>, helpers: ((...args: never[]) => unknown)[]): string {
  // vitest's module transform turns a call of an imported function into a property of an import
  // object (__vite_ssr_import_1__.quickselect); in the worker the helpers are plain functions.
  const source = (f: (...args: never[]) => unknown) => f.toString().replace(/__vite_ssr_import_\d+__\./g, '');
  const entries = Object.entries(tasks).map(([name, f]) => `${JSON.stringify(name)}: (${source(f)})`);
  return `
const { parentPort, workerData } = require('node:worker_threads');
const __name = (f) => f; // esbuild's keepNames wrapper, present in tasks transpiled by tsx/vitest
${helpers.map(source).join('\n')}
const makeContext = (${source(makeContext)});
const tasks = { ${entries.join(',\n')} };
const ctx = makeContext(workerData.init);
const { flag, error } = workerData;
parentPort.on('message', ({ name, lo, hi, args, thread }) => {
  try {
    tasks[name](ctx, lo, hi, args, thread);
    Atomics.store(flag, 0, 1);
  } catch (e) {
    error.fill(0);
    new TextEncoder().encodeInto(String((e && e.message) || e).slice(0, 500), error);
    Atomics.store(flag, 0, 2);
  }
  Atomics.notify(flag, 0);
});
`;
}
