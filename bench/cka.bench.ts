/**
 * Linear CKA of two 5000 x 512 float32 matrices: nestlab's linearCka (feature form, three tfjs
 * matMuls) vs NumPy running Kornblith et al.'s feature_space_linear_cka on the same float32 data
 * (its BLAS, all cores). Ratio = numpy seconds / nestlab seconds (> 1: nestlab faster).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.js';
import { Rng } from '../src/backend/rng.js';
import { linearCka } from '../src/similarity/cka.js';
import { peakRssMiB, runPeer, timeIt, type Benchmark } from './lib.js';

const N = 5000;
const P = 512;
const REPEATS = 5;

export const benchmark: Benchmark = {
  name: 'cka',
  description: `linear CKA of two ${N}x${P} float32 matrices vs NumPy (Kornblith's feature_space_linear_cka)`,
  async run() {
    const backend = await initBackend();
    const rng = new Rng(0);
    // Y shares structure with X so the value is not ~0: Y = X R + noise for a random 512 x 512 R is
    // expensive in JS, so use Y = tanh(X) + noise (elementwise).
    const x = { data: rng.normalArray(N * P), rows: N, cols: P };
    const yData = new Float32Array(N * P);
    for (let i = 0; i < yData.length; i++) yData[i] = Math.tanh(x.data[i]) + 0.5 * rng.normal();
    const y = { data: yData, rows: N, cols: P };
    let value = NaN;
    const seconds = await timeIt(async () => {
      value = await linearCka(x, y);
    }, REPEATS);
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-cka-'));
    let peer;
    try {
      writeFileSync(join(dir, 'x.f32'), Buffer.from(x.data.buffer));
      writeFileSync(join(dir, 'y.f32'), Buffer.from(y.data.buffer));
      peer = runPeer('cka_numpy.py', { n: N, p: P, repeats: REPEATS, x: join(dir, 'x.f32'), y: join(dir, 'y.f32') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const peerSeconds = peer.ok ? Number(peer.result.seconds) : null;
    return [
      {
        name: 'cka',
        unit: 's',
        ours: seconds,
        peer: peerSeconds,
        peerName: peer.ok ? `numpy ${peer.result.numpy} float32 (BLAS, all cores)` : 'numpy',
        ratio: peerSeconds === null ? null : peerSeconds / seconds,
        config: { n: N, p: P, q: P, dtype: 'float32', repeats: REPEATS, statistic: 'median', form: 'feature', includes: 'validation + upload + 3 matMuls + readback' },
        backend: backend.name,
        date: new Date().toISOString(),
        extra: {
          oursValue: value,
          peakRssMiB: peakRssMiB(),
          ...(peer.ok
            ? { peerValue: peer.result.value, absDiff: Math.abs(value - Number(peer.result.value)), peerSecondsFloat64: peer.result.seconds_f64 }
            : { peerMissing: peer.reason }),
        },
      },
    ];
  },
};
