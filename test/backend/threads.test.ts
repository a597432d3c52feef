import { describe, it, expect } from 'vitest';
import { createThreadPool, sharedFloat32Array, splitRanges } from '../../src/backend/threads.js';
import { NestlabComputationError } from '../../src/errors.js';
import { quickselect } from '../../src/math/order.js';
import { stressed } from '../helpers/stress.js';

/** out[i] = f(i) for i in [lo, hi), with an inner arrow function (tsx wraps it in __name). */
function squares(ctx: { out: Float32Array }, lo: number, hi: number, args: { offset: number }): void {
  const f = (i: number) => (i + args.offset) ** 2;
  for (let i = lo; i < hi; i++) ctx.out[i] = f(i);
}

/** out[i] = the median of a window around i, by an imported helper shipped to the workers. */
function medians(ctx: { out: Float32Array }, lo: number, hi: number): void {
  for (let i = lo; i < hi; i++) ctx.out[i] = quickselect(Float32Array.of(i, 3 * i, 2 * i), 1);
}

/** Slow on purpose (a spin of `spin` iterations), then out[lo] = the run's number: a run that returns before its workers finish sees an old number. */
function stamp(ctx: { out: Float32Array }, lo: number, _hi: number, args: { run: number; spin: number }): void {
  let x = 0;
  for (let i = 0; i < args.spin; i++) x += i;
  ctx.out[lo] = args.run + (x < 0 ? 1 : 0);
}

/** Fails on any range but the caller's. */
function fails(_ctx: unknown, lo: number): void {
  if (lo > 0) throw new Error(`bad range starting at ${lo}`);
}

describe('splitRanges', () => {
  it('covers [0, n) with contiguous ranges, evenly without weights', () => {
    expect(splitRanges(10, 3)).toEqual([[0, 3], [3, 6], [6, 10]]);
    expect(splitRanges(1, 2)).toEqual([[0, 0], [0, 1]]);
  });

  it('balances the weights: one heavy index gets a range of its own', () => {
    const w = [1, 1, 1, 1, 12, 1, 1, 1, 1];
    const r = splitRanges(w.length, 2, (i) => w[i]);
    expect(r[0][0]).toBe(0);
    expect(r[0][1]).toBe(r[1][0]);
    expect(r[1][1]).toBe(w.length);
    const sums = r.map(([lo, hi]) => w.slice(lo, hi).reduce((a, b) => a + b, 0));
    expect(Math.abs(sums[0] - sums[1])).toBeLessThanOrEqual(12);
    expect(r).toEqual([[0, 5], [5, 9]]);
  });
});

describe('createThreadPool', () => {
  it('runs a task over ranges in workers and the caller, writing shared memory', () => {
    const out = sharedFloat32Array(1000);
    const pool = createThreadPool({ init: { out }, makeContext: (i: { out: Float32Array }) => i, tasks: { squares } as never, threads: 3 });
    expect(pool.size).toBe(3);
    pool.run('squares', splitRanges(1000, 3), { offset: 2 });
    for (let i = 0; i < 1000; i++) expect(out[i]).toBe(Math.fround((i + 2) ** 2));
  });

  it('gives the same output with one thread (no worker)', () => {
    const a = sharedFloat32Array(257);
    const b = sharedFloat32Array(257);
    createThreadPool({ init: { out: a }, makeContext: (i: { out: Float32Array }) => i, tasks: { squares } as never, threads: 1 }).run('squares', [[0, 257]], { offset: -7 });
    const pool = createThreadPool({ init: { out: b }, makeContext: (i: { out: Float32Array }) => i, tasks: { squares } as never, threads: 2 });
    pool.run('squares', splitRanges(257, 2), { offset: -7 });
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('ships helpers the tasks call (imported functions included) to the workers', () => {
    const out = sharedFloat32Array(64);
    const pool = createThreadPool({ init: { out }, makeContext: (i: { out: Float32Array }) => i, tasks: { medians } as never, helpers: [quickselect] as never, threads: 2 });
    pool.run('medians', splitRanges(64, 2), {});
    for (let i = 0; i < 64; i++) expect(out[i]).toBe(2 * i);
  });

  it('returns only when every worker has finished, even with more threads than cores (a late wake-up from the previous run is not a finish)', () => {
    // Workers descheduled between their flag store and their notify used to wake the next run's
    // wait early; oversubscribing the cores makes that likely within a few thousand runs.
    const threads = 6;
    const out = sharedFloat32Array(threads);
    const pool = createThreadPool({ init: { out }, makeContext: (i: { out: Float32Array }) => i, tasks: { stamp } as never, threads });
    const ranges = Array.from({ length: threads }, (_, t) => [t, t + 1] as [number, number]);
    let early = 0;
    const runs = stressed(20000);
    for (let run = 1; run <= runs; run++) {
      pool.run('stamp', ranges, { run, spin: (run * 7919) % 3000 });
      for (let t = 0; t < threads; t++) if (out[t] !== run) early++;
    }
    expect(early, `${early} of ${runs} runs returned before a worker finished`).toBe(0);
  });

  it("reports a worker's exception as a NestlabComputationError naming the task", () => {
    const pool = createThreadPool({ init: {}, makeContext: () => ({}), tasks: { fails } as never, threads: 2 });
    expect(() => pool.run('fails', [[0, 0], [5, 9]], {})).toThrow(NestlabComputationError);
    expect(() => pool.run('fails', [[0, 0], [5, 9]], {})).toThrow(/task fails failed in worker 1: bad range starting at 5/);
    expect(() => pool.run('nothing', [[0, 1]], {})).toThrow(/no task named nothing/);
  });
});
