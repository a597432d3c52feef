/**
 * Memory guards: the budget a computation may use and the check of its estimated peak against it
 * (docs/methods/compute.md §3b). The functions whose memory grows with n² (Rips persistence, RDMs,
 * CKA's Gram matrices) or with n·k (UMAP's graph) estimate their peak bytes from the sizes of
 * their inputs before they allocate, and refuse a run above the budget with a one-line
 * `NestlabArgumentError` that gives the estimate, instead of dying in the allocator (an aborted
 * process loses the notebook kernel and everything computed so far).
 *
 * The budget is `options.memoryBudget` (bytes, or Infinity for no check) when given; else the
 * environment variable NESTLAB_MEMORY_BUDGET (bytes, optionally with a unit: "8GB", "512MiB",
 * or "Infinity"); else half of the memory available to the process at the call
 * (`availableMemory`). Hand-written: a few lines over node:os and /proc/meminfo.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { NestlabArgumentError } from '../errors.js';

/** The share of the available memory a call may use by default. */
export const DEFAULT_BUDGET_FRACTION = 0.5;

/** The environment variable that sets the default budget (bytes, with an optional unit, or "Infinity"). */
export const MEMORY_BUDGET_ENV = 'NESTLAB_MEMORY_BUDGET';

/** A budget checked and resolved: its bytes and where they came from (for the error message). */
export interface MemoryBudget {
  /** Bytes the call may use; Infinity disables the check. */
  bytes: number;
  /** 'option' (options.memoryBudget), 'env' (NESTLAB_MEMORY_BUDGET) or 'default' (a share of the available memory). */
  source: 'option' | 'env' | 'default';
}

/**
 * The memory available to this process now, in bytes: `process.availableMemory()` where Node has
 * it (the kernel's MemAvailable, capped by a cgroup limit less what the process uses), else the
 * larger of `os.freemem()` and /proc/meminfo's MemAvailable (older libuv returned MemFree, which
 * leaves out the page cache the kernel would reclaim).
 *
 * @example const free = availableMemory(); // e.g. 2.3e10 on a 24 GiB machine at rest
 */
export function availableMemory(): number {
  const p = process as { availableMemory?: () => number };
  if (typeof p.availableMemory === 'function') {
    const a = p.availableMemory();
    if (Number.isFinite(a) && a > 0) return a;
  }
  return Math.max(freemem(), memAvailable());
}

/** /proc/meminfo's MemAvailable in bytes, 0 where there is none (not Linux). */
function memAvailable(): number {
  try {
    const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** Parses NESTLAB_MEMORY_BUDGET: "8e9", "8GB", "512 MiB", "Infinity"; throws on anything else. */
function parseEnvBudget(where: string, text: string): number {
  const t = text.trim();
  if (/^(\+?inf(inity)?)$/i.test(t)) return Infinity;
  const m = /^(\d+(?:\.\d*)?(?:e\d+)?)\s*([a-z]*)$/i.exec(t);
  const unit = m === null ? undefined : UNITS[m[2].toLowerCase()];
  const bytes = m === null || unit === undefined ? NaN : Number(m[1]) * unit;
  if (!(bytes > 0 && Number.isFinite(bytes))) {
    throw new NestlabArgumentError(where, MEMORY_BUDGET_ENV, 'a positive number of bytes, optionally with a unit (8GB, 512MiB), or Infinity', text);
  }
  return bytes;
}

/**
 * The budget of one call: `option` (options.memoryBudget) when given, checked to be a positive
 * number of bytes or Infinity; else NESTLAB_MEMORY_BUDGET; else DEFAULT_BUDGET_FRACTION of
 * `availableMemory()`, read at the call.
 *
 * @example const budget = resolveMemoryBudget('rsa.computeRdm', options.memoryBudget); // budget.bytes
 */
export function resolveMemoryBudget(where: string, option: unknown): MemoryBudget {
  if (option !== undefined) {
    if (!(typeof option === 'number' && option > 0 && (option === Infinity || Number.isFinite(option)))) {
      throw new NestlabArgumentError(where, 'options.memoryBudget', 'a positive number of bytes or Infinity', option);
    }
    return { bytes: option, source: 'option' };
  }
  const env = process.env[MEMORY_BUDGET_ENV];
  if (env !== undefined && env !== '') return { bytes: parseEnvBudget(where, env), source: 'env' };
  return { bytes: DEFAULT_BUDGET_FRACTION * availableMemory(), source: 'default' };
}

/**
 * Throws a one-line `NestlabArgumentError` (argument 'options.memoryBudget') when `estimate`
 * bytes exceed the budget: the message gives the estimate (or `what`, a phrase that says it), the
 * budget and where it came from, and the remedies: raise options.memoryBudget, or lower
 * `whatToLower` (e.g. "the number of stimuli"). Nothing is allocated before this check.
 *
 * @example checkMemory('rsa.computeRdm', 12 * n * n, budget, 'the number of stimuli', `for n = ${n}`);
 */
export function checkMemory(where: string, estimate: number, budget: MemoryBudget, whatToLower: string, detail = '', what?: string): void {
  if (estimate <= budget.bytes) return;
  const phrase = what ?? `the estimated peak memory is ${formatBytes(estimate)}${detail === '' ? '' : ` ${detail}`}`;
  const from =
    budget.source === 'default'
      ? ' (the default, half of the available memory)'
      : budget.source === 'env'
        ? ` (from ${MEMORY_BUDGET_ENV})`
        : '';
  throw new NestlabArgumentError(
    where,
    'options.memoryBudget',
    `at least the memory the run needs (${phrase}; raise options.memoryBudget, in bytes or Infinity, or lower ${whatToLower})`,
    `${formatBytes(budget.bytes)}${from}`,
  );
}

/**
 * Bytes as "12.3 MB" / "4.56 GB" (decimal units), for messages.
 *
 * @example formatBytes(7.43e9) // '7.43 GB'
 */
export function formatBytes(b: number): string {
  if (b === Infinity) return 'Infinity';
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB`;
  return `${(b / 1e6).toFixed(1)} MB`;
}
