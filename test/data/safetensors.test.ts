import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from '../../src/data/safetensors.js';

/** A file made by hand, byte by byte, as the format's spec describes it. */
function handMade(header: object, data: number[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors files', () => {
  it('reads a hand-made file: an F32 [2] tensor holding 1.0 and -2.0', () => {
    // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0 (little-endian IEEE 754)
    const bytes = handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, __metadata__: { format: 'pt' } }, [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Array.from(tensors.w.data as Float32Array)).toEqual([1, -2]);
    expect(metadata).toEqual({ format: 'pt' });
  });

  it('round-trips several tensors and metadata through a file, written atomically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'sae.safetensors');
    const W_enc = new Float32Array([1, 2, 3, 4, 5, 6]);
    writeSafetensors(
      path,
      { W_enc: { dtype: 'F32', shape: [2, 3], data: W_enc }, steps: { dtype: 'I32', shape: [1], data: new Int32Array([7]) }, b: { dtype: 'F64', shape: [3], data: new Float64Array([0.1, 0.2, 0.3]) } },
      { d_in: '2' },
    );
    expect(readdirSync(dir)).toEqual(['sae.safetensors']); // no temp file left behind
    const back = readSafetensors(path);
    expect(back.tensors.W_enc.shape).toEqual([2, 3]);
    expect(back.tensors.W_enc.data).toEqual(W_enc);
    expect(back.tensors.steps.data).toEqual(new Int32Array([7]));
    expect(back.tensors.b.data).toEqual(new Float64Array([0.1, 0.2, 0.3]));
    expect(back.metadata).toEqual({ d_in: '2' });
  });

  it('rejects truncated and malformed files, naming the problem', () => {
    const good = encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(good.subarray(0, 5))).toThrow(/at least 8 bytes/);
    expect(() => decodeSafetensors(good.subarray(0, 20))).toThrow(/header length within the file/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1))).toThrow(/tensor w must be data within the file/);
    expect(() => decodeSafetensors(handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0)))).toThrow(/12 bytes for F32\[3\], got 8 bytes/);
    expect(() => decodeSafetensors(handMade({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, [0]))).toThrow(/w.dtype must be one of/);
    expect(() => decodeSafetensors(handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, [0, 0, 0, 0]))).toThrow(/data_offsets/);
    const notJson = handMade({}, []);
    notJson[8] = 0x7b + 1;
    expect(() => decodeSafetensors(notJson)).toThrow(/a JSON header/);
  });

  it('refuses to encode data that does not match its shape or dtype', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/3 entries for shape \[3\]/);
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(/a Float32Array for dtype F32/);
  });
});
