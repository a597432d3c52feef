/**
 * Child process for bench/vr-persistence.bench.ts: reads a binary lower-triangular float32
 * distance matrix (ripser's `--format binary`), computes persistence with nestlab up to `maxDim`
 * (default 1) with `maxEdgeLength` when given, prints one JSON line {seconds, maxRssMiB, bars,
 * stats}. A separate process so its peak RSS is ours alone.
 * Usage: vr-ours.ts <file> <n> [maxDim] [maxEdgeLength].
 */
import { readFileSync } from 'node:fs';
import { ripsPersistenceFromDistances } from '../../src/topology/persistence.js';

const [file, nStr, dimStr, cutStr] = process.argv.slice(2);
const n = Number(nStr);
const buf = readFileSync(file);
const lower = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const square = new Float32Array(n * n);
let p = 0;
for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) square[i * n + j] = square[j * n + i] = lower[p++];
const t0 = performance.now();
const res = ripsPersistenceFromDistances(square, { maxDim: dimStr === undefined ? 1 : Number(dimStr), ...(cutStr === undefined ? {} : { maxEdgeLength: Number(cutStr) }) });
const seconds = (performance.now() - t0) / 1000;
const bars = res.bars.map((b) => Array.from(b.births, (x, i) => [x, b.deaths[i] === Infinity ? null : b.deaths[i]]));
console.log(JSON.stringify({ seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, bars, stats: res.stats }));
