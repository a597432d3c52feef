import { describe, it, expect } from 'vitest';
import * as zlib from 'node:zlib';
import { crc32, encodePng, pngDataUri, PNG_SIGNATURE } from '../../src/plot/png.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { decodePng } from '../helpers/png-decode.js';

describe('the PNG encoder', () => {
  it('computes the standard CRC-32 check value', () => {
    // The CRC-32 "check" value of the ASCII string 123456789 (PNG Annex D / ISO 3309).
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('writes a grayscale image that inflates back to the same pixels', () => {
    const width = 5;
    const height = 3;
    const pixels = Uint8Array.from({ length: width * height }, (_, i) => (i * 17) % 256);
    const png = encodePng({ width, height, channels: 1, pixels });
    expect([...png.subarray(0, 8)]).toEqual([...PNG_SIGNATURE]);
    const decoded = decodePng(png);
    expect(decoded.chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([5, 3, 1]);
    expect([...decoded.pixels]).toEqual([...pixels]);
    // every chunk's CRC covers its type and data
    const view = new DataView(png.buffer, png.byteOffset);
    for (let o = 8; o < png.length; ) {
      const len = view.getUint32(o);
      expect(view.getUint32(o + 8 + len)).toBe(crc32(png, o + 4, o + 8 + len));
      const nodeCrc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
      if (nodeCrc) expect(view.getUint32(o + 8 + len)).toBe(nodeCrc(png.subarray(o + 4, o + 8 + len)));
      o += 12 + len;
    }
  });

  it('writes RGB images and data URIs', () => {
    const pixels = Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30);
    const png = encodePng({ width: 2, height: 2, channels: 3, pixels });
    const decoded = decodePng(png);
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([2, 2, 3]);
    expect([...decoded.pixels]).toEqual([...pixels]);
    const uri = pngDataUri(png);
    expect(uri.startsWith('data:image/png;base64,')).toBe(true);
    expect([...Buffer.from(uri.slice(22), 'base64')]).toEqual([...png]);
  });

  it('rejects bad images with a clear error', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 1, pixels: new Uint8Array(3) })).toThrow(/image.pixels must be a Uint8Array of width·height·channels = 4 bytes/);
    expect(() => encodePng({ width: 0, height: 2, channels: 1, pixels: new Uint8Array(0) })).toThrow(NestlabArgumentError);
    expect(() => encodePng({ width: 1, height: 1, channels: 4 as 3, pixels: new Uint8Array(4) })).toThrow(/channels must be 1 \(gray\) or 3 \(RGB\)/);
  });
});
