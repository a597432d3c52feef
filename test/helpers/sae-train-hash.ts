/**
 * Trains a small SAE in a child process and prints a hash of its parameters and Adam moments:
 * test/sae/train.test.ts runs it under different NESTLAB_THREADS and compares.
 */
import { createHash } from 'node:crypto';
import { Rng } from '../../src/backend/rng.js';
import { trainSae } from '../../src/sae/train.js';

const [activation, dIn, dSae, k] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const rows = 2048;
// rank-3 data: the same few latents win every row, so most die and AuxK runs
const rng = new Rng(5);
const basis = rng.normalArray(3 * dIn);
const data = new Float32Array(rows * dIn);
for (let r = 0; r < rows; r++) for (let c = 0; c < 3; c++) {
  const a = rng.normal();
  for (let j = 0; j < dIn; j++) data[r * dIn + j] += a * basis[c * dIn + j];
}
const x = { data, rows, cols: dIn };
const r = await trainSae(x, {
  architecture: { dIn, dSae, k, activation: activation as 'topk', prefixes: [dSae / 8, dSae / 2, dSae] },
  training: { batchSize: 512, epochs: 3, learningRate: 3e-3, deadTokens: 1024, auxK: 16, ...(activation === 'batchtopk' ? { thresholdStart: 2 } : {}) },
});
const h = createHash('sha256');
for (const p of [r.sae.params, r.state.adamM, r.state.adamV]) for (const a of [p.wEnc, p.bEnc, p.wDec, p.bDec]) h.update(new Uint8Array(a.slice().buffer));
console.log(JSON.stringify({ hash: h.digest('hex'), loss: r.history.at(-1)?.loss, dead: r.history.at(-1)?.dead }));
