/**
 * A minimal PNG encoder (8-bit grayscale or RGB, no interlace) for the images inside HTML reports.
 *
 * Why hand-written: a report needs a few hundred tiny images (28x28 digits, decoder directions)
 * as data: URIs. The PNG format for that case is four chunks (PNG spec, ISO/IEC 15948 §5, §11):
 * the 8-byte signature, IHDR, one IDAT holding the zlib stream (node:zlib's deflate) of the
 * scanlines each prefixed by filter byte 0, and IEND, each chunk closed by a CRC-32 (the
 * reflected polynomial 0xEDB88320). That is 60 lines; going through SVG + resvg per image would
 * be ~100x slower and pull a rasterizer into a code path that only needs raw pixels.
 */
import { deflateSync } from 'node:zlib';
import { NestlabArgumentError, checkInt } from '../errors.js';

/** The 8-byte PNG signature: \x89 P N G \r \n \x1a \n. */
export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309 / PNG Annex D: reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An 8-bit image: `channels` 1 (gray) or 3 (RGB), row-major, `width·height·channels` bytes. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/**
 * Encodes an 8-bit grayscale (color type 0) or RGB (color type 2) image as PNG bytes:
 * signature, IHDR (width, height, bit depth 8, color type, compression 0, filter 0, interlace 0),
 * IDAT = zlib(deflate) of the scanlines each preceded by filter type 0, IEND.
 */
export function encodePng(image: RasterImage): Uint8Array {
  const where = 'report.buildSaeReport';
  if (image === null || typeof image !== 'object') throw new NestlabArgumentError(where, 'image', 'an object {width, height, channels, pixels}', image);
  const width = checkInt(where, 'image.width', image.width, 1, 1 << 24);
  const height = checkInt(where, 'image.height', image.height, 1, 1 << 24);
  if (image.channels !== 1 && image.channels !== 3) throw new NestlabArgumentError(where, 'image.channels', '1 (gray) or 3 (RGB)', image.channels);
  const ch = image.channels;
  if (!(image.pixels instanceof Uint8Array) || image.pixels.length !== width * height * ch) {
    throw new NestlabArgumentError(where, 'image.pixels', `a Uint8Array of width·height·channels = ${width * height * ch} bytes`, image.pixels);
  }
  const stride = width * ch;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(image.pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1); // filter byte 0 = None
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = ch === 1 ? 0 : 2; // color type: grayscale / truecolor
  // compression 0, filter 0, interlace 0: already zero
  const parts = [PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A PNG as a `data:image/png;base64,...` URI. */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}
