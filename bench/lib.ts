/**
 * Benchmark plumbing: timing, running a peer script side by side, and writing
 * bench/results/<name>.json with {name, unit, ours, peer, peerName, ratio, config, backend, date}.
 * A number is written only if it was measured in this run; a missing peer gives peer: null and
 * ratio: null with the reason, never a remembered figure.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/data/files.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = join(BENCH_DIR, 'results');

/** One result file. `ratio` is oriented so that > 1 means nestlab is better (faster / more per s). */
export interface BenchRecord {
  name: string;
  unit: string;
  ours: number;
  peer: number | null;
  peerName: string;
  ratio: number | null;
  config: Record<string, unknown>;
  backend: string;
  date: string;
  /** Anything else measured (peak memory, secondary rates), and why a peer is missing. */
  extra?: Record<string, unknown>;
}

/** A named benchmark; `run` returns one or more records (e.g. one per backend). */
export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<BenchRecord[]>;
}

/** Median wall time in seconds of `fn` over `repeats` runs after `warmup` runs. */
export async function timeIt(fn: () => Promise<unknown> | unknown, repeats = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** The Python that has Debian's numpy/scipy/torch (not a pyenv shim). */
export const PEER_PYTHON = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';

export type PeerOutcome = { ok: true; result: Record<string, number | string> } | { ok: false; reason: string };

/**
 * Runs a peer script (bench/peers/<script>) with JSON options as its one argument; the script
 * prints one JSON object on its last stdout line.
 */
export function runPeer(script: string, options: Record<string, unknown>, command: string = PEER_PYTHON, timeoutS = 1800): PeerOutcome {
  const res = spawnSync(command, [join(BENCH_DIR, 'peers', script), JSON.stringify(options)], {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) return { ok: false, reason: `${command} could not run: ${res.error.message}` };
  if (res.status !== 0) {
    const err = (res.stderr || '').trim().split('\n').slice(-1)[0] ?? '';
    return { ok: false, reason: `peer exited ${res.status}: ${err}` };
  }
  const last = res.stdout.trim().split('\n').slice(-1)[0];
  try {
    return { ok: true, result: JSON.parse(last) };
  } catch {
    return { ok: false, reason: `peer printed no JSON: ${last?.slice(0, 200)}` };
  }
}

/** The machine a record was measured on: CPU model, cores, SIMD flags, and what a page fault costs. */
export interface MachineFacts {
  cpu: string;
  cores: number;
  /** The vector-instruction flags of /proc/cpuinfo that matter to OpenBLAS and WebAssembly SIMD. */
  simdFlags: string[];
  memoryGiB: number;
  /**
   * Filling a fresh 64 MiB Float32Array 20 times vs one reused buffer 20 times, seconds: the first
   * pays the page faults every time (the cost the hot loops avoid by reusing their buffers).
   */
  pageFaults: { fresh64MiBx20_s: number; reused64MiBx20_s: number };
}

let machine: MachineFacts | null = null;

/** Measured once per process; written into every record's `extra.machine`. */
export function machineFacts(): MachineFacts {
  if (machine !== null) return machine;
  let flags: string[] = [];
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('flags')) ?? '';
    flags = line.split(':')[1]?.trim().split(/\s+/).filter((f) => /^(sse4_2|avx|avx2|fma|f16c|avx512(f|bw|vl|dq|_bf16|_vnni))$/.test(f)) ?? [];
  } catch {
    flags = [];
  }
  const n = (64 << 20) / 4;
  let t0 = performance.now();
  for (let r = 0; r < 20; r++) new Float32Array(n).fill(r);
  const fresh = (performance.now() - t0) / 1000;
  const buf = new Float32Array(n);
  t0 = performance.now();
  for (let r = 0; r < 20; r++) buf.fill(r);
  const reused = (performance.now() - t0) / 1000;
  machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    simdFlags: flags,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    pageFaults: { fresh64MiBx20_s: fresh, reused64MiBx20_s: reused },
  };
  return machine;
}

/** Writes one record to bench/results/<name>.json atomically (with the machine's facts in extra) and echoes a summary line. */
export function writeRecord(rec: BenchRecord): void {
  rec = { ...rec, extra: { ...rec.extra, machine: machineFacts() } };
  writeFileAtomic(join(RESULTS_DIR, `${rec.name}.json`), `${JSON.stringify(rec, null, 2)}\n`);
  const ratio = rec.ratio === null ? 'no peer' : `ratio ${rec.ratio.toFixed(2)}x vs ${rec.peerName}`;
  console.log(`${rec.name}: ours ${fmt(rec.ours)} ${rec.unit}, peer ${rec.peer === null ? '-' : fmt(rec.peer)} (${ratio})`);
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3);
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
