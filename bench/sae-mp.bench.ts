/**
 * Benchmark `sae-mp`: rows/s of one matching-pursuit SAE training step (d = 128, m = 2048, k = 16,
 * B = 4096, Adam: the mp-sae figure's LM size) against the same step in PyTorch on the CPU
 * (bench/peers/sae_mp_torch.py: SAELens' pursuit loop with autograd). Also where our step's time
 * goes, in ms per phase: the pursuit (k correlation products on the BLAS and the per-row best
 * atom), the hand-written gradient through it, and the update (projection, clip, Adam,
 * renormalization). AuxK is off on both sides (SAELens' MP-SAE has none).
 */
import { Rng } from '../src/backend/rng.js';
import { initBackend } from '../src/backend/select.js';
import { threadCount } from '../src/backend/threads.js';
import { centerRows, createSae, pursuitBestAtom, zeroParams } from '../src/sae/model.js';
import { matchingPursuit, pursuitLossAndGrads } from '../src/sae/pursuit.js';
import { applyUpdate, trainStep } from '../src/sae/train.js';
import { createTrainerState } from '../src/sae/state.js';
import { saeArchitecture, saeTraining } from '../src/sae/config.js';
import { type Benchmark, type BenchRecord, peakRssMiB, runPeer } from './lib.js';

const B = 4096;
const STEPS = Number(process.env.NESTLAB_BENCH_STEPS ?? 5);
const WARMUP = 2;

export const benchmark: Benchmark = {
  name: 'sae-mp',
  description: 'rows/s of one matching-pursuit SAE training step (d=128, m=2048, k=16, B=4096, Adam) vs PyTorch CPU (SAELens loop, autograd)',
  async run(): Promise<BenchRecord[]> {
    const backend = await initBackend();
    const size = { d: 128, m: 2048, k: 16 };
    const arch = saeArchitecture({ dIn: size.d, dSae: size.m, k: size.k, activation: 'mp' });
    const training = saeTraining({ batchSize: B, learningRate: 1e-4, warmupSteps: 0, bDecInit: 'zero', auxK: 0 }, arch);
    const sae = createSae(arch);
    const state = createTrainerState(sae);
    const x = new Rng(0).normalArray(B * size.d);
    const times: number[] = [];
    for (let i = 0; i < WARMUP + STEPS; i++) {
      const t0 = performance.now();
      await trainStep(sae, state, training, x, B, 1000);
      if (i >= WARMUP) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    const phases = { pursuit: 0, gradients: 0, optimizerUpdate: 0 };
    const grads = zeroParams(size.d, size.m);
    for (let r = 0; r < STEPS; r++) {
      let t0 = performance.now();
      const xc = centerRows(x, B, sae.params.bDec);
      const trace = await matchingPursuit(xc, B, size.d, sae.params.wDec, size.k, pursuitBestAtom(sae));
      phases.pursuit += (performance.now() - t0) / STEPS;
      t0 = performance.now();
      pursuitLossAndGrads(trace, xc, sae.params.wDec, size.d, null, grads);
      phases.gradients += (performance.now() - t0) / STEPS;
      t0 = performance.now();
      applyUpdate(sae, state, training, grads, 1e-4);
      phases.optimizerUpdate += (performance.now() - t0) / STEPS;
    }
    const peak = peakRssMiB();
    const peer = runPeer('sae_mp_torch.py', { ...size, B, steps: STEPS, warmup: WARMUP });
    const oursRate = B / (ms / 1000);
    const peerRate = peer.ok ? Number(peer.result.rows_per_s) : null;
    return [{
      name: 'sae-mp',
      unit: 'rows/s',
      ours: oursRate,
      peer: peerRate,
      peerName: 'PyTorch (CPU, SAELens matching-pursuit loop, autograd)',
      ratio: peerRate === null ? null : oursRate / peerRate,
      config: { ...size, B, activation: 'mp', optimizer: 'Adam', auxK: 0, stepsTimed: STEPS, warmupSteps: WARMUP, threads: threadCount(), goal: '>= 1x' },
      backend: backend.name,
      date: new Date().toISOString(),
      extra: {
        oursMsPerStep: ms,
        oursPhasesMs: phases,
        oursPeakRssMiB: peak,
        correlationGemmGflop: (2 * B * size.d * size.m * size.k) / 1e9,
        ...(peer.ok ? { peerMsPerStep: peer.result.ms_per_step, peerPeakRssMiB: peer.result.peak_rss_mib, peerThreads: peer.result.threads, peerTorch: peer.result.torch } : { peerMissing: peer.reason }),
      },
    }];
  },
};
