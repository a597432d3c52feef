/**
 * Shared pieces of the fuzzed-reader tests (test/data/fuzz-readers.test.ts,
 * test/sae/fuzz-saelens.test.ts, test/lm/fuzz-lm-files.test.ts): byte mutations of a valid file,
 * hostile JSON values, and `attempt`, the one property every reader must keep: a read either
 * succeeds or throws a NestlabError whose message is one line starting with the function the
 * user called, quickly, and never any other exception.
 */
import fc from 'fast-check';
import { NestlabError } from '../../src/errors.js';

/** The most one read may take (ms): a reader that is slower on a tiny file loops on its input. */
export const READ_BUDGET_MS = 2000;

/** Cases run per reader, reported by `reportCounts` at the end of each fuzz file. */
export const counts = new Map<string, number>();

/** Adds `n` cases to the count of `reader`. */
export function tally(reader: string, n = 1): void {
  counts.set(reader, (counts.get(reader) ?? 0) + n);
}

/** The counts as one line per reader and a total; printed by the last test of a fuzz file. */
export function reportCounts(file: string): { total: number; lines: string[] } {
  let total = 0;
  const lines: string[] = [];
  for (const [reader, n] of [...counts].sort()) {
    lines.push(`  ${reader}: ${n}`);
    total += n;
  }
  console.log(`${file}: ${total} fuzz cases\n${lines.join('\n')}`);
  return { total, lines };
}

/**
 * Runs one read: returns `{ ok: true, value }`, or `{ ok: false, error }` for a NestlabError that
 * names one of `wheres` on one line; anything else (another exception type, a multi-line or
 * misattributed message, a read slower than READ_BUDGET_MS) is thrown as a test failure
 * that says which input did it.
 */
export function attempt<T>(wheres: readonly string[], fn: () => T, label = ''): { ok: true; value: T } | { ok: false; error: NestlabError } {
  const t0 = performance.now();
  let out: { ok: true; value: T } | { ok: false; error: NestlabError };
  try {
    out = { ok: true, value: fn() };
  } catch (e) {
    if (!(e instanceof NestlabError)) {
      const err = e as Error;
      throw new Error(`${label}: a raw ${err?.constructor?.name ?? typeof e} escaped the reader: ${String(err?.message ?? e).slice(0, 300)}\n${err?.stack ?? ''}`);
    }
    if (!wheres.includes(e.where)) throw new Error(`${label}: error from ${e.where}, expected one of ${wheres.join(', ')}: ${e.message.slice(0, 300)}`);
    if (!e.message.startsWith(`${e.where}: `) || /[\n\r]/.test(e.message)) throw new Error(`${label}: not a one-line message: ${JSON.stringify(e.message.slice(0, 600))}`);
    out = { ok: false, error: e };
  }
  const ms = performance.now() - t0;
  if (ms > READ_BUDGET_MS) throw new Error(`${label}: the read took ${ms.toFixed(0)} ms (budget ${READ_BUDGET_MS} ms)`);
  return out;
}

/** A test input as one line of JSON (bigints as `123n`), cut to `max` characters, for failure labels. */
export function show(value: unknown, max = 400): string {
  let text: string;
  try {
    text = JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : ArrayBuffer.isView(v) ? `<${v.byteLength} bytes>` : v)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** The total bytes of the typed arrays anywhere in `value` (objects, arrays and maps, walked once). */
export function typedBytes(value: unknown, seen = new Set<unknown>()): number {
  if (value === null || typeof value !== 'object' || seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value.byteLength;
  let sum = 0;
  const items = value instanceof Map ? [...value.values()] : Object.values(value);
  for (const v of items) sum += typedBytes(v, seen);
  return sum;
}

/** One edit of a byte string. */
export type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'set'; pos: number; byte: number }
  | { kind: 'insert'; pos: number; bytes: number[] }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'truncate'; pos: number }
  | { kind: 'int'; pos: number; width: 2 | 4 | 8; value: bigint };

/** Integers that break length fields: 0, 1, powers of two and their neighbors, all ones. */
const NASTY_INTS: bigint[] = [0n, 1n, 2n, 7n, 8n, 63n, 64n, 255n, 256n, 65535n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 40n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

/** Positions biased to the start of a file, where the headers are. */
const position = fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 160 }) }, { weight: 2, arbitrary: fc.nat({ max: 1 << 20 }) });

/** One mutation (positions are taken modulo the file's length when applied). */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), pos: position, bit: fc.nat({ max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), pos: position, byte: fc.oneof(fc.nat({ max: 255 }), fc.constantFrom(0, 0x22, 0x27, 0x28, 0x29, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0xff)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), pos: position, bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pos: position, len: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), pos: position }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('int' as const), pos: fc.oneof(fc.constantFrom(0, 6, 8), position), width: fc.constantFrom(2 as const, 4 as const, 8 as const), value: fc.constantFrom(...NASTY_INTS) }),
  },
);

/** 1 to 4 mutations. */
export const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

/** `bytes` with the mutations applied in order (a new array; positions modulo the length). */
export function mutate(bytes: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(bytes);
  for (const m of ms) {
    const n = b.length;
    const at = n === 0 ? 0 : m.pos % (n + (m.kind === 'insert' || m.kind === 'truncate' ? 1 : 0));
    switch (m.kind) {
      case 'flip':
        if (n > 0) b[at] ^= 1 << m.bit;
        break;
      case 'set':
        if (n > 0) b[at] = m.byte;
        break;
      case 'insert': {
        const out = new Uint8Array(n + m.bytes.length);
        out.set(b.subarray(0, at), 0);
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        const out = new Uint8Array(Math.max(0, n - Math.min(m.len, n - at)));
        out.set(b.subarray(0, at), 0);
        out.set(b.subarray(at + m.len), at);
        b = out;
        break;
      }
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'int': {
        if (n < m.width) break;
        const p = Math.min(at, n - m.width);
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        if (m.width === 2) v.setUint16(p, Number(m.value & 0xffffn), true);
        else if (m.width === 4) v.setUint32(p, Number(m.value & 0xffffffffn), true);
        else v.setBigUint64(p, m.value & (2n ** 64n - 1n), true);
        break;
      }
    }
  }
  return b;
}

/** Numbers a hostile header or cfg puts where a size goes (all JSON-representable). */
export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, -1, -0, 0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e300, -1e300, Number.MAX_VALUE, Number.MIN_VALUE, -(2 ** 40)),
  fc.integer({ min: -5, max: 40 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** An object whose string conversion throws (`String(x)`, `${x}`, `Number(x)` all raise a TypeError). */
export const UNCONVERTIBLE = { toString: 1, valueOf: 1 };

/** Any JSON value, weighted to the ones that break readers: wrong types, absurd numbers, odd strings. */
export const nastyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyNumber },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, '', 'none', 'float32', 'topk', 'relu', 'jumprelu', 'standard', 'nestlab-lm', 'word', '6.0.0', 'step-00000001', '../..', 'a\nb', '\u2028', '__proto__', 'x'.repeat(500)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(UNCONVERTIBLE, {}, [], [[]], { __proto__: null, a: 1 }, [1, 2, 3], [2 ** 40, 2 ** 40], [-1], [1.5], ['1']) },
  { weight: 1, arbitrary: fc.array(nastyNumber, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** A JSON object with `key` set to `value`, or deleted when `value` is undefined; the result as JSON text. */
export function withField(object: Record<string, unknown>, path: readonly string[], value: unknown): string {
  const copy = JSON.parse(JSON.stringify(object)) as Record<string, unknown>;
  let at: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = at[key];
    if (next === null || typeof next !== 'object') return JSON.stringify(copy);
    at = next as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete at[last];
  else Object.defineProperty(at, last, { value, enumerable: true, writable: true, configurable: true });
  return JSON.stringify(copy);
}
