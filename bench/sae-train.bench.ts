/**
 * Benchmark `sae-train`: rows/s of one SAE training step, d = 512, m = 4096, k = 32, B = 4096,
 * Adam, TopK, against the same step in PyTorch on the CPU (bench/peers/sae_torch.py, the dense
 * formulation used by dictionary_learning / SAELens). Also the Matryoshka loss with 5 prefixes
 * ([128, 384, 896, 1920, 4096]), peak memory, and where our step's time goes (encoder product +
 * top-k on tfjs, sparse loss/gradients in JS, optimizer update in JS), in ms per phase.
 */
import { tf } from '../src/backend/tf.js';
import { Rng } from '../src/backend/rng.js';
import { initBackend } from '../src/backend/select.js';
import { createSae, encoderPre, selectTopK } from '../src/sae/model.js';
import { trainStep, applyUpdate } from '../src/sae/train.js';
import { createTrainerState } from '../src/sae/state.js';
import { sparseLossAndGrads } from '../src/sae/step.js';
import { matryoshkaPrefixes, saeArchitecture, saeTraining } from '../src/sae/config.js';
import { type Benchmark, type BenchRecord, peakRssMiB, runPeer } from './lib.js';

const D = 512;
const M = 4096;
const K = 32;
const B = 4096;
const STEPS = Number(process.env.NESTLAB_BENCH_STEPS ?? 3);

async function median(fn: () => Promise<unknown>, repeats: number): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

async function oursMsPerStep(prefixes: number[]): Promise<{ ms: number; phases: Record<string, number> }> {
  const arch = saeArchitecture({ dIn: D, dSae: M, k: K, activation: 'topk', prefixes });
  const training = saeTraining({ batchSize: B, learningRate: 1e-4, warmupSteps: 0, bDecInit: 'zero' }, arch);
  const sae = createSae(arch);
  const state = createTrainerState(sae);
  const x = new Rng(0).normalArray(B * D);
  const ms = await median(() => trainStep(sae, state, training, x, B, 1000), STEPS);
  // phase breakdown of the same step
  const phases = { encoderAndTopK: 0, sparseLossAndGrads: 0, optimizerUpdate: 0 };
  for (let r = 0; r < STEPS; r++) {
    let t0 = performance.now();
    const { xc, pre } = encoderPre(sae, x, B);
    const code = await selectTopK(pre, K);
    pre.dispose();
    phases.encoderAndTopK += (performance.now() - t0) / STEPS;
    t0 = performance.now();
    const { grads } = sparseLossAndGrads(sae.params, sae.cfg, training, x, xc, code, null);
    phases.sparseLossAndGrads += (performance.now() - t0) / STEPS;
    t0 = performance.now();
    applyUpdate(sae, state, training, grads, 1e-4);
    phases.optimizerUpdate += (performance.now() - t0) / STEPS;
  }
  return { ms, phases };
}

/** The encoder product alone on tfjs ([B, d] × [d, m]), ms (median). */
async function encoderGemmMs(): Promise<number> {
  const x = tf.randomNormal([B, D], 0, 1, 'float32', 1);
  const w = tf.randomNormal([D, M], 0, 1, 'float32', 2);
  try {
    return await median(async () => {
      const y = tf.matMul(x, w);
      await y.data();
      y.dispose();
    }, STEPS);
  } finally {
    x.dispose();
    w.dispose();
  }
}

export const benchmark: Benchmark = {
  name: 'sae-train',
  description: 'rows/s of one TopK SAE training step (d=512, m=4096, k=32, B=4096, Adam) vs PyTorch CPU; also Matryoshka with 5 prefixes',
  async run(): Promise<BenchRecord[]> {
    const backend = await initBackend();
    const nested = matryoshkaPrefixes(M);
    const flat = await oursMsPerStep([M]);
    const mat = await oursMsPerStep(nested);
    const peak = peakRssMiB();
    const gemmMs = await encoderGemmMs();
    const peerFlat = runPeer('sae_torch.py', { d: D, m: M, k: K, B, prefixes: [M], steps: STEPS });
    const peerMat = runPeer('sae_torch.py', { d: D, m: M, k: K, B, prefixes: nested, steps: STEPS });
    const date = new Date().toISOString();
    const config = { d: D, m: M, k: K, B, activation: 'topk', optimizer: 'Adam', stepsTimed: STEPS, matryoshkaPrefixes: nested };
    const rec = (name: string, ours: { ms: number; phases: Record<string, number> }, peer: typeof peerFlat): BenchRecord => {
      const oursRate = B / (ours.ms / 1000);
      const peerRate = peer.ok ? Number(peer.result.rows_per_s) : null;
      return {
        name,
        unit: 'rows/s',
        ours: oursRate,
        peer: peerRate,
        peerName: 'PyTorch (CPU, dense TopK SAE step)',
        ratio: peerRate === null ? null : oursRate / peerRate,
        config,
        backend: backend.name,
        date,
        extra: {
          oursMsPerStep: ours.ms,
          oursPhasesMs: ours.phases,
          oursPeakRssMiB: peak,
          oursEncoderGemmMs: gemmMs,
          encoderGemmGflop: (2 * B * D * M) / 1e9,
          ...(peer.ok ? { peerMsPerStep: peer.result.ms_per_step, peerEncoderGemmMs: peer.result.encoder_gemm_ms, peerPeakRssMiB: peer.result.peak_rss_mib, peerThreads: peer.result.threads, peerTorch: peer.result.torch } : { peerMissing: peer.reason }),
        },
      };
    };
    return [rec('sae-train', flat, peerFlat), rec('sae-train-matryoshka5', mat, peerMat)];
  },
};
