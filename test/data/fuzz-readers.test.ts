/**
 * Fuzzed file readers (issue #17 item 4): .npy, .safetensors (every dtype read), folders of .npy
 * shards and the JSON files beside checkpoints. Valid files written by the library's own writers
 * are mutated (bit flips, byte sets, insertions, deletions, truncations, nasty integers over the
 * length fields), cut at every length, and hostile headers are generated directly. Every read
 * must succeed or throw a NestlabError with a one-line message naming the public function
 * (`attempt`), fast, and a successful read returns arrays no bigger than the file justifies
 * (2x for float16 / bfloat16 widened to float32, 4x for bytes widened to a float32 Matrix).
 * Seeds are fixed; NESTLAB_STRESS scales the case counts.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npyShardFiles, readActivationRows, readActivations, readImages, readLabels, safetensorsTensorNames } from '../../src/data/activations.js';
import { readJsonObject } from '../../src/data/files.js';
import { decodeNpy, encodeNpy, readNpy, type NpyArray } from '../../src/data/npy.js';
import { decodeSafetensors, encodeSafetensors, readSafetensors, type NamedTensor, type SafetensorsDtype } from '../../src/data/safetensors.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { attempt, mutate, mutations, nastyJson, nastyNumber, reportCounts, show, tally, typedBytes, withField } from '../helpers/fuzz.js';
import { stressed } from '../helpers/stress.js';

const TIMEOUT = 60_000;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestlab-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// ------------------------------------------------------------------------------------------
// Valid files from the library's writers (and, for the read-only dtypes, by patching them).

type NpyKind = 'f4' | 'f8' | 'i4' | 'u4' | 'i2' | 'u2' | 'u1' | 'i1' | 'f2' | 'i8' | 'u8';
const NPY_KINDS: NpyKind[] = ['f4', 'f8', 'i4', 'u4', 'i2', 'u2', 'u1', 'i1', 'f2', 'i8', 'u8'];

/** Replaces the first occurrence of an ASCII string of the same length in the header. */
function patchHeader(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = Buffer.from(bytes.subarray(0, 256)).toString('latin1');
  const at = text.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error(`patchHeader: ${from} not found`);
  const out = Uint8Array.from(bytes);
  out.set(Buffer.from(to, 'latin1'), at);
  return out;
}

/** A valid .npy of `kind`, shape `shape`, entries from `seed` (small values, so 64-bit ints are exact). */
function validNpy(kind: NpyKind, shape: number[], seed: number, version: 1 | 2 | 3 = 1): Uint8Array {
  const n = product(shape);
  const v = (i: number) => ((seed * 7919 + i * 104729) % 200) - 100;
  let bytes: Uint8Array;
  if (kind === 'f2') bytes = patchHeader(encodeNpy({ shape, data: Uint16Array.from({ length: n }, (_, i) => (seed + i * 2654435761) & 0xffff) }), "'<u2'", "'<f2'");
  else if (kind === 'i8' || kind === 'u8') {
    const ints = kind === 'i8' ? BigInt64Array.from({ length: n }, (_, i) => BigInt(v(i))) : BigUint64Array.from({ length: n }, (_, i) => BigInt(Math.abs(v(i))));
    bytes = patchHeader(encodeNpy({ shape, data: new Float64Array(ints.buffer) }), "'<f8'", `'<${kind}'`);
  } else {
    const ctor = { f4: Float32Array, f8: Float64Array, i4: Int32Array, u4: Uint32Array, i2: Int16Array, u2: Uint16Array, u1: Uint8Array, i1: Int8Array }[kind];
    const data = new ctor(n) as NpyArray['data'];
    for (let i = 0; i < n; i++) data[i] = kind.startsWith('u') ? Math.abs(v(i)) : kind.startsWith('f') ? v(i) / 7 : v(i);
    bytes = encodeNpy({ shape, data });
  }
  if (version === 1) return bytes;
  // v2 / v3: the same header with a 4-byte length (what np.save writes for headers past 64 KiB).
  const headerLen = new DataView(bytes.buffer).getUint16(8, true);
  const out = new Uint8Array(bytes.length + 2);
  out.set(bytes.subarray(0, 6), 0);
  out[6] = version;
  out[7] = 0;
  new DataView(out.buffer).setUint32(8, headerLen, true);
  out.set(bytes.subarray(10), 12);
  return out;
}

const npyShape = fc.oneof(fc.constant([] as number[]), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }));
const npyFile = fc
  .record({ kind: fc.constantFrom(...NPY_KINDS), shape: npyShape, seed: fc.nat({ max: 1000 }), version: fc.constantFrom(1 as const, 1 as const, 2 as const, 3 as const) })
  .map((r) => ({ ...r, bytes: validNpy(r.kind, r.shape, r.seed, r.version) }));

const ST_DTYPES: SafetensorsDtype[] = ['F32', 'F64', 'I32', 'U8', 'I64', 'F16', 'BF16'];
const ST_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1, I64: 8, F16: 2, BF16: 2 };

function tensorOf(dtype: SafetensorsDtype, shape: number[], seed: number): NamedTensor {
  const n = product(shape);
  const v = (i: number) => ((seed * 31 + i * 17) % 50) - 25;
  const data =
    dtype === 'I64' ? BigInt64Array.from({ length: n }, (_, i) => BigInt(v(i)))
    : dtype === 'F64' ? Float64Array.from({ length: n }, (_, i) => v(i) / 3)
    : dtype === 'I32' ? Int32Array.from({ length: n }, (_, i) => v(i))
    : dtype === 'U8' ? Uint8Array.from({ length: n }, (_, i) => v(i) & 0xff)
    : Float32Array.from({ length: n }, (_, i) => v(i) / 4);
  return { dtype, shape, data };
}

const stTensors = fc
  .array(fc.record({ dtype: fc.constantFrom(...ST_DTYPES), shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), seed: fc.nat({ max: 100 }) }), { minLength: 0, maxLength: 3 })
  .map((ts) => Object.fromEntries(ts.map((t, i) => [`t${i}.w`, tensorOf(t.dtype, t.shape, t.seed)])) as Record<string, NamedTensor>);
const stMetadata = fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), { nil: undefined });
const stFile = fc.record({ tensors: stTensors, metadata: stMetadata }).map((r) => ({ ...r, bytes: encodeSafetensors(r.tensors, r.metadata) }));

/** What a successful .npy read must satisfy. */
function checkNpyResult(a: NpyArray, fileBytes: number): void {
  expect(a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
  expect(a.data.length).toBe(product(a.shape));
  expect(a.data.byteLength).toBeLessThanOrEqual(2 * fileBytes); // float16 widened to float32
}

/** What a successful .safetensors read must satisfy. */
function checkSafetensorsResult(r: { tensors: Record<string, NamedTensor>; metadata: Record<string, string> }, fileBytes: number): void {
  for (const t of Object.values(r.tensors)) {
    expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
    expect(t.data.length).toBe(product(t.shape));
  }
  for (const v of Object.values(r.metadata)) expect(typeof v).toBe('string');
  expect(typedBytes(r.tensors)).toBeLessThanOrEqual(2 * fileBytes); // F16 / BF16 widened to float32
}

// ------------------------------------------------------------------------------------------

describe('fuzzed .npy reader', () => {
  it('reads what the writer writes, bit for bit (every dtype, header versions 1-3)', () => {
    fc.assert(
      fc.property(npyFile, ({ kind, shape, bytes }) => {
        tally('npy: valid files');
        const a = decodeNpy(bytes);
        expect(a.shape).toEqual(shape);
        checkNpyResult(a, bytes.length);
        if (kind !== 'f2' && kind !== 'i8' && kind !== 'u8') {
          const again = encodeNpy(a);
          expect(Buffer.from(again.subarray(again.length - a.data.byteLength)).equals(Buffer.from(bytes.subarray(bytes.length - a.data.byteLength)))).toBe(true);
        }
      }),
      { seed: 1701, numRuns: stressed(300) },
    );
  }, TIMEOUT);

  it('survives random mutations of valid files', () => {
    fc.assert(
      fc.property(npyFile, mutations, ({ bytes }, ms) => {
        tally('npy: mutations');
        const bad = mutate(bytes, ms);
        const r = attempt(['data.readNpy'], () => decodeNpy(bad, 'x.npy'), `decodeNpy(${show(ms)})`);
        if (r.ok) checkNpyResult(r.value, bad.length);
      }),
      { seed: 1702, numRuns: stressed(2500) },
    );
  }, TIMEOUT);

  it('refuses every truncation of valid files with a named error', () => {
    let cases = 0;
    for (const kind of NPY_KINDS) {
      for (const version of [1, 2] as const) {
        const bytes = validNpy(kind, [2, 3], 5, version);
        for (let cut = 0; cut < bytes.length; cut++) {
          const r = attempt(['data.readNpy'], () => decodeNpy(bytes.subarray(0, cut), 'x.npy'), `${kind} v${version} cut at ${cut}`);
          expect(r.ok).toBe(false);
          cases++;
        }
      }
    }
    tally('npy: truncations', cases);
  }, TIMEOUT);

  /** One hostile dimension as .npy header text. */
  const dimText = fc.oneof(
    { weight: 4, arbitrary: fc.nat({ max: 6 }).map(String) },
    { weight: 3, arbitrary: fc.constantFrom('1099511627776', '9007199254740992', '18446744073709551616', '4294967296', '-1', '1.5', '1e3', '0x10', '3L', 'nan', 'inf', '', ' ', '(', 'None', '1e400', '00') },
    { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
  );
  const npyHeader = fc.record({
    version: fc.constantFrom(1, 1, 2, 3, 0, 4, 255),
    descr: fc.oneof(fc.constantFrom('<f4', '<f8', '<i4', '<u4', '<i2', '<u2', '|u1', '|i1', '<u1', '<i1', '<f2', '<i8', '<u8'), fc.constantFrom('>f4', '>f8', '=f4', '<c8', '|b1', 'O', '<U3', '|S4', '<M8[s]', "'", ''), fc.string({ maxLength: 5 })),
    fortran: fc.constantFrom('False', 'False', 'True', 'false', '0', 'None'),
    dims: fc.array(dimText, { maxLength: 4 }),
    trailingComma: fc.boolean(),
    lie: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -20, max: 20 }) }, { weight: 1, arbitrary: fc.constantFrom(65535, 2 ** 32 - 1, 2 ** 31) }),
    dataLength: fc.oneof(fc.nat({ max: 64 }), fc.constant(0)),
    junk: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }),
  });

  it('refuses hostile headers (huge, overflowing, negative or non-integer shapes; lying lengths; bad dtypes, big-endian, fortran_order)', () => {
    fc.assert(
      fc.property(npyHeader, fc.nat(), (h, fill) => {
        tally('npy: hostile headers');
        const shape = h.dims.length === 1 && h.trailingComma ? `(${h.dims[0]},)` : `(${h.dims.join(', ')}${h.trailingComma ? ',' : ''})`;
        let header = `{'descr': '${h.descr}', 'fortran_order': ${h.fortran}, 'shape': ${shape}, ${h.junk}}`;
        const pre = h.version === 1 ? 10 : 12;
        header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
        const headerBytes = Buffer.from(header, 'latin1');
        const bytes = new Uint8Array(pre + headerBytes.length + h.dataLength).fill(fill & 0xff);
        bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, h.version, 0], 0);
        const len = Math.max(0, headerBytes.length + h.lie);
        if (pre === 10) new DataView(bytes.buffer).setUint16(8, Math.min(len, 65535), true);
        else new DataView(bytes.buffer).setUint32(8, Math.min(len, 2 ** 32 - 1), true);
        bytes.set(headerBytes, pre);
        const r = attempt(['data.readNpy'], () => decodeNpy(bytes, 'x.npy'), `header ${JSON.stringify(header.trim())} length ${len}`);
        if (r.ok) checkNpyResult(r.value, bytes.length);
      }),
      { seed: 1703, numRuns: stressed(1500) },
    );
  }, TIMEOUT);

  it('fails fast, before allocating, on a 100-byte file whose header claims gigabytes', () => {
    for (const shape of ['(1099511627776, 1099511627776)', '(100000, 100000)', '(4294967296,)', '(9007199254740991, 9007199254740991, 9007199254740991)', '(65536, 65536, 2)']) {
      for (const descr of ['<f8', '<f2', '|u1', '<i8']) {
        let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
        header += ' '.repeat((64 - ((11 + header.length) % 64)) % 64) + '\n';
        const bytes = new Uint8Array(100 + header.length);
        bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
        new DataView(bytes.buffer).setUint16(8, header.length, true);
        bytes.set(Buffer.from(header, 'latin1'), 10);
        // Allocating first would throw a RangeError or take seconds; the budget is loose for loaded CI machines.
        const t0 = performance.now();
        expect(() => decodeNpy(bytes, 'huge.npy')).toThrow(/^data\.readNpy: huge\.npy must be \S+ data bytes for .* \(truncated\)$/);
        expect(performance.now() - t0).toBeLessThan(500);
        expect(() => decodeNpy(bytes, 'huge.npy')).toThrow(NestlabArgumentError);
        tally('npy: gigabyte claims');
      }
    }
  });
});

describe('fuzzed .safetensors reader', () => {
  it('reads what the writer writes (every dtype), the tensors laid end to end', () => {
    fc.assert(
      fc.property(stFile, ({ tensors, metadata, bytes }) => {
        tally('safetensors: valid files');
        const r = decodeSafetensors(bytes);
        checkSafetensorsResult(r, bytes.length);
        expect(Object.keys(r.tensors).sort()).toEqual(Object.keys(tensors).sort());
        for (const [name, t] of Object.entries(tensors)) {
          expect(r.tensors[name].dtype).toBe(t.dtype);
          expect(r.tensors[name].shape).toEqual(t.shape);
          if (t.dtype !== 'F16' && t.dtype !== 'BF16') expect(r.tensors[name].data).toEqual(t.data);
        }
        expect(r.metadata).toEqual(metadata && Object.keys(metadata).length > 0 ? metadata : {});
        expect(Buffer.from(encodeSafetensors(r.tensors, r.metadata)).equals(Buffer.from(bytes))).toBe(true); // bits kept, F16 / BF16 included
      }),
      { seed: 1801, numRuns: stressed(300) },
    );
  }, TIMEOUT);

  it('survives random mutations of valid files', () => {
    fc.assert(
      fc.property(stFile, mutations, ({ bytes }, ms) => {
        tally('safetensors: mutations');
        const bad = mutate(bytes, ms);
        const r = attempt(['data.readSafetensors'], () => decodeSafetensors(bad, 'x.safetensors'), `decodeSafetensors(${show(ms)})`);
        if (r.ok) checkSafetensorsResult(r.value, bad.length);
      }),
      { seed: 1802, numRuns: stressed(2500) },
    );
  }, TIMEOUT);

  it('refuses every truncation of valid files with a named error', () => {
    let cases = 0;
    for (const dtype of ST_DTYPES) {
      const bytes = encodeSafetensors({ a: tensorOf(dtype, [2, 3], 1), b: tensorOf('F32', [2], 2) }, { step: '7' });
      for (let cut = 0; cut < bytes.length; cut++) {
        const r = attempt(['data.readSafetensors'], () => decodeSafetensors(bytes.subarray(0, cut), 'x.safetensors'), `${dtype} cut at ${cut}`);
        expect(r.ok).toBe(false);
        cases++;
      }
    }
    tally('safetensors: truncations', cases);
  }, TIMEOUT);

  const nastyShape = fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.nat({ max: 4 }), { maxLength: 3 }) },
    { weight: 2, arbitrary: fc.array(nastyNumber, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom([2 ** 40, 2 ** 40], [2 ** 53, 2 ** 53], [2 ** 31, 2 ** 31, 2 ** 31], [0, 2 ** 60], [2 ** 60, 0], [1e308, 1e308, 0], [-1], [1.5], ['2'], [null], [[2]], 'shape', null, {}) },
  );
  const entry = fc.record({
    dtype: fc.oneof({ weight: 4, arbitrary: fc.constantFrom<unknown>(...ST_DTYPES) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('f32', 'F8_E4M3', 'BOOL', 'U16', 'I8', 'C64', '', 'F32 ', 'F3\n2') }, { weight: 1, arbitrary: nastyJson }),
    shape: nastyShape,
    /** How the offsets relate to the honest layout: as laid out, shifted, swapped, stretched, or arbitrary. */
    offsets: fc.oneof(
      { weight: 4, arbitrary: fc.constant({ kind: 'honest' as const }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('shift' as const), by: fc.integer({ min: -16, max: 16 }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'swap' as const }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('stretch' as const), by: fc.integer({ min: -8, max: 8 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), value: fc.oneof(fc.tuple(nastyNumber, nastyNumber), nastyJson) }) },
    ),
  });
  const stHeader = fc.record({
    entries: fc.array(entry, { maxLength: 4 }),
    names: fc.array(fc.oneof(fc.constantFrom('w', 'b', '__proto__', 'constructor', 'toString', 'a\nb', 'x'.repeat(300)), fc.string({ maxLength: 6 })), { minLength: 4, maxLength: 4 }),
    metadata: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }) },
      { weight: 2, arbitrary: nastyJson },
      { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), nastyJson, { minKeys: 1, maxKeys: 2 }) },
    ),
    /** The header as written: the object, or some other JSON, or not JSON at all. */
    form: fc.oneof({ weight: 8, arbitrary: fc.constant('object' as const) }, { weight: 1, arbitrary: fc.constantFrom('array' as const, 'number' as const, 'string' as const, 'null' as const, 'garbage' as const, 'empty' as const) }),
    lengthField: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(0n, 1n, 2n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 100n * 1024n * 1024n + 1n) }, { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }).map(BigInt) }),
    extraData: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }) }),
    fill: fc.nat({ max: 255 }),
  });

  it('refuses hostile headers (huge and overflowing shapes, bad offsets, unknown dtypes, lying lengths, odd __metadata__, non-object JSON)', () => {
    fc.assert(
      fc.property(stHeader, (h) => {
        tally('safetensors: hostile headers');
        const header: Record<string, unknown> = {};
        if (h.metadata !== undefined) header.__metadata__ = h.metadata;
        let at = 0;
        h.entries.forEach((e, i) => {
          const elems = Array.isArray(e.shape) && e.shape.every((s) => typeof s === 'number') ? product(e.shape as number[]) : 0;
          const size = typeof e.dtype === 'string' && e.dtype in ST_BYTES ? elems * ST_BYTES[e.dtype as SafetensorsDtype] : elems;
          const honest = [at, at + (Number.isFinite(size) && size < 1e6 ? size : 0)];
          at = honest[1];
          const o = e.offsets;
          const offsets = o.kind === 'honest' ? honest : o.kind === 'shift' ? [honest[0] + o.by, honest[1] + o.by] : o.kind === 'swap' ? [honest[1], honest[0]] : o.kind === 'stretch' ? [honest[0], honest[1] + o.by] : o.value;
          Object.defineProperty(header, `${h.names[i]}${i}`, { value: { dtype: e.dtype, shape: e.shape, data_offsets: offsets }, enumerable: true });
        });
        const text = { object: JSON.stringify(header), array: '[1,2]', number: '8', string: '"safetensors"', null: 'null', garbage: '{"a": [1, 2', empty: '' }[h.form];
        const json = Buffer.from(text, 'utf8');
        const data = Math.max(0, at + h.extraData);
        const bytes = new Uint8Array(8 + json.length + data).fill(h.fill);
        new DataView(bytes.buffer).setBigUint64(0, h.lengthField === null ? BigInt(json.length) : h.lengthField < 0n ? BigInt(json.length) + h.lengthField < 0n ? 0n : BigInt(json.length) + h.lengthField : h.lengthField, true);
        bytes.set(json, 8);
        const r = attempt(['data.readSafetensors'], () => decodeSafetensors(bytes, 'x.safetensors'), `header ${text.slice(0, 400)}`);
        if (r.ok) checkSafetensorsResult(r.value, bytes.length);
      }),
      { seed: 1803, numRuns: stressed(2000) },
    );
  }, TIMEOUT);

  it('fails fast, before allocating, on a small file whose header claims gigabytes', () => {
    const claims: [string, number[], [number, number]][] = [
      ['F32', [2 ** 40, 2 ** 40], [0, 2 ** 82]],
      ['F64', [100000, 100000], [0, 8e10]],
      ['F16', [2 ** 31], [0, 2 ** 32]],
      ['U8', [2 ** 33], [0, 2 ** 33]],
      ['BF16', [2 ** 26, 2 ** 26], [0, 2 ** 53]],
      ['I64', [2 ** 20, 2 ** 20, 2 ** 20], [0, 2 ** 63]],
    ];
    for (const [dtype, shape, data_offsets] of claims) {
      const json = Buffer.from(JSON.stringify({ w: { dtype, shape, data_offsets } }));
      const bytes = new Uint8Array(8 + json.length + 100);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
      bytes.set(json, 8);
      const t0 = performance.now();
      expect(() => decodeSafetensors(bytes, 'huge.safetensors')).toThrow(/^data\.readSafetensors: huge\.safetensors: tensor w(\.data_offsets)? must be /);
      expect(performance.now() - t0).toBeLessThan(500);
      expect(() => decodeSafetensors(bytes, 'huge.safetensors')).toThrow(NestlabArgumentError);
      tally('safetensors: gigabyte claims');
    }
    // A header length past the end of the file, and one past the 100 MB cap.
    for (const n of [2n ** 40n, 2n ** 64n - 1n, 200n]) {
      const bytes = new Uint8Array(100);
      new DataView(bytes.buffer).setBigUint64(0, n, true);
      expect(() => decodeSafetensors(bytes, 'huge.safetensors')).toThrow(/header length within the file/);
      tally('safetensors: gigabyte claims');
    }
  });

  it('refuses overlapping tensors, gaps and trailing bytes (a reader would hand out more than the file holds)', () => {
    const mk = (header: object, data: number) => {
      const json = Buffer.from(JSON.stringify(header));
      const bytes = new Uint8Array(8 + json.length + data);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
      bytes.set(json, 8);
      return bytes;
    };
    const same = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, { dtype: 'F32', shape: [256], data_offsets: [0, 1024] }]));
    expect(() => decodeSafetensors(mk(same, 1024), 'x')).toThrow(/^data\.readSafetensors: x: tensor t\d+\.data_offsets must be to begin at byte 1024, where the previous tensor ends \(no overlap, no gap\), got \[0, 1024\]$/);
    expect(() => decodeSafetensors(mk({ a: { dtype: 'U8', shape: [4], data_offsets: [4, 8] } }, 8), 'x')).toThrow(/tensor a\.data_offsets must be to begin at byte 0/);
    expect(() => decodeSafetensors(mk({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }, 8), 'x')).toThrow(/^data\.readSafetensors: x must be 4 data bytes after the header \(the end of the last tensor\), got 8 bytes$/);
    expect(decodeSafetensors(mk({ b: { dtype: 'U8', shape: [4], data_offsets: [4, 8] }, a: { dtype: 'U8', shape: [2, 2], data_offsets: [0, 4] }, e: { dtype: 'F32', shape: [0, 3], data_offsets: [4, 4] } }, 8)).tensors.b.shape).toEqual([4]);
    tally('safetensors: layout', 4);
  });

  it('keeps a tensor named __proto__ a tensor and refuses __metadata__ that is not strings', () => {
    const mk = (header: string, data: number) => {
      const json = Buffer.from(header);
      const bytes = new Uint8Array(8 + json.length + data);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
      bytes.set(json, 8);
      return bytes;
    };
    const r = decodeSafetensors(mk('{"__proto__": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}', 2));
    expect(Object.keys(r.tensors)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(r.tensors)).toBe(Object.prototype);
    for (const meta of ['null', '5', '[]', '{"step": 5}', '{"a": {"b": "c"}}', '{"a": null}']) {
      expect(() => decodeSafetensors(mk(`{"__metadata__": ${meta}}`, 0), 'm')).toThrow(/^data\.readSafetensors: m: __metadata__(\.\w+)? must be (an object of strings|a string), got /);
    }
    tally('safetensors: layout', 7);
  });
});

describe('fuzzed activation files and shard folders', () => {
  let caseDir = 0;
  const fresh = () => {
    const d = join(dir, `case-${caseDir++}`);
    mkdirSync(d);
    return d;
  };
  const WHERE = ['data.npyShardFiles', 'data.readActivationRows', 'data.readActivations', 'data.readNpy', 'data.readSafetensors', 'data.readLabels', 'data.readImages', 'data.safetensorsTensorNames'];
  const shard = fc.record({ kind: fc.constantFrom<NpyKind>('f4', 'f4', 'f2', 'f8', 'i4', 'u1', 'i8'), rows: fc.nat({ max: 4 }), seed: fc.nat({ max: 99 }) });
  const extra = fc.constantFrom('none', 'none', 'dangling link', 'folder named .npy', 'empty .npy', 'text .npy', 'link to folder');

  it('a folder of .npy shards, mutated, with odd entries: read whole or refused by name', () => {
    fc.assert(
      fc.property(
        fc.array(shard, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat({ max: 3 }),
        fc.option(mutations, { nil: undefined, freq: 3 }),
        extra,
        fc.oneof(fc.constant(Infinity), fc.integer({ min: -1, max: 6 }), fc.constantFrom(NaN, 1.5, 2 ** 60)),
        (shards, cols, which, ms, odd, maxRows) => {
          tally('shard folders');
          const d = fresh();
          let total = 0;
          shards.forEach((s, i) => {
            let bytes = validNpy(s.kind, [s.rows, cols], s.seed);
            if (ms !== undefined && i === which % shards.length) bytes = mutate(bytes, ms);
            writeFileSync(join(d, `part-${i}.npy`), bytes);
            total += bytes.length;
          });
          if (odd === 'dangling link') symlinkSync(join(d, 'missing'), join(d, 'zz.npy'));
          if (odd === 'folder named .npy') mkdirSync(join(d, 'aa.npy'));
          if (odd === 'empty .npy') writeFileSync(join(d, 'part-9.npy'), '');
          if (odd === 'text .npy') writeFileSync(join(d, 'part-8.npy'), 'not numpy\n');
          if (odd === 'link to folder') symlinkSync(d, join(d, 'self.npy'));
          const paths = attempt(WHERE, () => npyShardFiles(d), 'npyShardFiles');
          if (!paths.ok) return;
          const r = attempt(WHERE, () => readActivationRows(paths.value, maxRows), `readActivationRows(${show(ms)}, ${odd}, ${maxRows})`);
          if (r.ok) {
            expect(r.value.data.length).toBe(r.value.rows * r.value.cols);
            expect(r.value.data.byteLength).toBeLessThanOrEqual(4 * total); // bytes widened to float32
          }
          for (const p of paths.value.slice(0, 2)) {
            const size = statSync(p).size;
            const m = attempt(WHERE, () => readActivations(p), `readActivations ${p}`);
            if (m.ok) expect(m.value.data.byteLength).toBeLessThanOrEqual(4 * size);
            const y = attempt(WHERE, () => readLabels(p), `readLabels ${p}`);
            if (y.ok) expect(y.value.byteLength).toBeLessThanOrEqual(4 * size);
            const im = attempt(WHERE, () => readImages(p), `readImages ${p}`);
            if (im.ok) expect(im.value.images.data.byteLength).toBeLessThanOrEqual(4 * size);
          }
          rmSync(d, { recursive: true, force: true });
        },
      ),
      { seed: 1901, numRuns: stressed(300) },
    );
  }, TIMEOUT);

  it('.safetensors activation files, mutated: readActivations and safetensorsTensorNames', () => {
    fc.assert(
      fc.property(fc.constantFrom<SafetensorsDtype>(...ST_DTYPES), fc.nat({ max: 3 }), fc.integer({ min: 1, max: 3 }), fc.option(mutations, { nil: undefined, freq: 4 }), (dtype, rows, cols, ms) => {
        tally('safetensors activation files');
        const p = join(dir, 'acts.safetensors');
        let bytes = encodeSafetensors({ activations: tensorOf(dtype, [rows, cols], rows + cols) });
        if (ms !== undefined) bytes = mutate(bytes, ms);
        writeFileSync(p, bytes);
        const m = attempt(WHERE, () => readActivations(p), `readActivations(${dtype})`);
        if (m.ok) expect(m.value.data.byteLength).toBeLessThanOrEqual(4 * bytes.length);
        attempt(WHERE, () => safetensorsTensorNames(p), 'safetensorsTensorNames');
        attempt(WHERE, () => readSafetensors(p), 'readSafetensors');
      }),
      { seed: 1902, numRuns: stressed(300) },
    );
  }, TIMEOUT);

  it('paths that are not readable files are named errors, not fs errors', () => {
    const sub = fresh();
    mkdirSync(join(sub, 'd.npy'));
    mkdirSync(join(sub, 'd.safetensors'));
    symlinkSync(join(sub, 'nowhere'), join(sub, 'dangling.npy'));
    for (const p of ['d.npy', 'missing.npy', 'dangling.npy']) {
      expect(() => readNpy(join(sub, p))).toThrow(/^data\.readNpy: .* must be a readable file, got /);
      expect(() => readActivations(join(sub, p))).toThrow(NestlabArgumentError);
    }
    for (const p of ['d.safetensors', 'missing.safetensors']) {
      expect(() => readSafetensors(join(sub, p))).toThrow(/^data\.readSafetensors: .* must be a readable file, got /);
      expect(() => safetensorsTensorNames(join(sub, p))).toThrow(/^data\.safetensorsTensorNames: .* must be a readable file, got /);
    }
    expect(() => npyShardFiles(join(sub, 'missing'))).toThrow(NestlabArgumentError);
    expect(() => readActivationRows([join(sub, 'x.npy')], 0)).toThrow(/maxRows must be a positive integer/);
    tally('unreadable paths', 11);
  });
});

describe('fuzzed JSON files (readJsonObject: cfg.json, latest.json, ...)', () => {
  const base = { architecture: 'jumprelu', d_in: 5, d_sae: 12, dtype: 'float32', metadata: { sae_lens_version: '6.18.0' }, matryoshka_widths: [3, 12], nestlab_architecture: { dIn: 5, dSae: 12 } };
  const text = JSON.stringify(base, null, 2);
  it('reads a JSON object or refuses the file by name', () => {
    const p = join(dir, 'cfg.json');
    fc.assert(
      fc.property(
        fc.oneof(
          mutations.map((ms) => mutate(Buffer.from(text), ms)),
          fc.tuple(fc.constantFrom('architecture', 'd_in', 'metadata', 'matryoshka_widths', 'extra'), nastyJson).map(([k, v]) => Buffer.from(withField(base, [k], v))),
          fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')),
          fc.constantFrom('', '\ufeff{}', '[', '{"a": 1}\n{"b": 2}', 'null', '"a\\nb"', `${'['.repeat(20000)}${']'.repeat(20000)}`, '{"__proto__": {"x": 1}}').map((s) => Buffer.from(s)),
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        ),
        (bytes) => {
          tally('readJsonObject');
          writeFileSync(p, bytes);
          attempt(['sae.load'], () => readJsonObject('sae.load', p), `readJsonObject ${JSON.stringify(bytes.toString('utf8').slice(0, 200))}`);
        },
      ),
      { seed: 2001, numRuns: stressed(400) },
    );
  }, TIMEOUT);
});

describe('fuzz case counts', () => {
  it('reports the cases run', () => {
    const { total } = reportCounts('test/data/fuzz-readers.test.ts');
    expect(total).toBeGreaterThan(0);
  });
});
