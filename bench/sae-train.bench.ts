/**
 * Benchmark `sae-train`: rows/s of one SAE training step, d = 512, m = 4096, k = 32, B = 4096,
 * Adam, TopK, against the same step in PyTorch on the CPU (bench/peers/sae_torch.py, the dense
 * formulation used by dictionary_learning / SAELens). Also the Matryoshka loss with 5 prefixes
 * ([128, 384, 896, 1920, 4096]) and a SAELens-sized SAE (`sae-train-large`: d = 768, m = 16384,
 * k = 64), peak memory, and where our step's time goes, in ms per phase: encoder product + top-k
 * (BLAS, then the run-maximum selection), the sparse loss/gradients (worker threads), the update
 * (projection, clip, Adam, renormalization; worker threads).
 */
import { Rng } from '../src/backend/rng.js';
import { initBackend } from '../src/backend/select.js';
import { threadCount } from '../src/backend/threads.js';
import { createSae, encoderPre, selectTopK, zeroParams } from '../src/sae/model.js';
import { trainStep, applyUpdate } from '../src/sae/train.js';
import { createTrainerState } from '../src/sae/state.js';
import { sparseLossAndGrads } from '../src/sae/step.js';
import { matryoshkaPrefixes, saeArchitecture, saeTraining } from '../src/sae/config.js';
import { type Benchmark, type BenchRecord, peakRssMiB, runPeer } from './lib.js';

const B = 4096;
/** Steps timed (median) after warm-up steps, per case: the first steps of a process compile the loops (here and in the workers). */
const STEPS = Number(process.env.NESTLAB_BENCH_STEPS ?? 10);
const WARMUP = 3;

interface Size {
  d: number;
  m: number;
  k: number;
}

async function median(fn: () => Promise<unknown>, repeats: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

async function oursMsPerStep({ d, m, k }: Size, prefixes: number[], steps: number, warmup: number): Promise<{ ms: number; phases: Record<string, number> }> {
  const arch = saeArchitecture({ dIn: d, dSae: m, k, activation: 'topk', prefixes });
  const training = saeTraining({ batchSize: B, learningRate: 1e-4, warmupSteps: 0, bDecInit: 'zero' }, arch);
  const sae = createSae(arch);
  const state = createTrainerState(sae);
  const x = new Rng(0).normalArray(B * d);
  const ms = await median(() => trainStep(sae, state, training, x, B, 1000), steps, warmup);
  // phase breakdown of the same step, with the trainer's reused buffers
  const phases = { encoderAndTopK: 0, sparseLossAndGrads: 0, optimizerUpdate: 0 };
  const xcBuffer = new Float32Array(B * d);
  const grads = zeroParams(d, m);
  for (let r = 0; r < steps; r++) {
    let t0 = performance.now();
    const { xc, pre } = encoderPre(sae, x, B, xcBuffer);
    const code = await selectTopK(pre, k);
    pre.dispose();
    phases.encoderAndTopK += (performance.now() - t0) / steps;
    t0 = performance.now();
    sparseLossAndGrads(sae.params, sae.cfg, training, x, xc, code, null, grads);
    phases.sparseLossAndGrads += (performance.now() - t0) / steps;
    t0 = performance.now();
    applyUpdate(sae, state, training, grads, 1e-4);
    phases.optimizerUpdate += (performance.now() - t0) / steps;
  }
  return { ms, phases };
}

export const benchmark: Benchmark = {
  name: 'sae-train',
  description: 'rows/s of one TopK SAE training step (d=512, m=4096, k=32, B=4096, Adam) vs PyTorch CPU; Matryoshka with 5 prefixes; d=768, m=16384, k=64',
  async run(): Promise<BenchRecord[]> {
    const backend = await initBackend();
    const base: Size = { d: 512, m: 4096, k: 32 };
    const large: Size = { d: 768, m: 16384, k: 64 };
    const nested = matryoshkaPrefixes(base.m);
    const cases = [
      { name: 'sae-train', size: base, prefixes: [base.m], goal: '>= 6x (step <= 260 ms)', steps: STEPS, warmup: WARMUP },
      { name: 'sae-train-matryoshka5', size: base, prefixes: nested, goal: '-', steps: STEPS, warmup: WARMUP },
      // the peer takes ~9 s a step here
      { name: 'sae-train-large', size: large, prefixes: [large.m], goal: '>= 4x', steps: 3, warmup: 1 },
    ];
    const out: BenchRecord[] = [];
    for (const c of cases) {
      const ours = await oursMsPerStep(c.size, c.prefixes, c.steps, c.warmup);
      const peak = peakRssMiB();
      const peer = runPeer('sae_torch.py', { ...c.size, B, prefixes: c.prefixes, steps: c.steps, warmup: c.warmup });
      const oursRate = B / (ours.ms / 1000);
      const peerRate = peer.ok ? Number(peer.result.rows_per_s) : null;
      out.push({
        name: c.name,
        unit: 'rows/s',
        ours: oursRate,
        peer: peerRate,
        peerName: 'PyTorch (CPU, dense TopK SAE step)',
        ratio: peerRate === null ? null : oursRate / peerRate,
        config: { ...c.size, B, activation: 'topk', optimizer: 'Adam', stepsTimed: c.steps, warmupSteps: c.warmup, prefixes: c.prefixes, threads: threadCount(), goal: c.goal },
        backend: backend.name,
        date: new Date().toISOString(),
        extra: {
          oursMsPerStep: ours.ms,
          oursPhasesMs: ours.phases,
          oursPeakRssMiB: peak,
          encoderGemmGflop: (2 * B * c.size.d * c.size.m) / 1e9,
          ...(peer.ok ? { peerMsPerStep: peer.result.ms_per_step, peerEncoderGemmMs: peer.result.encoder_gemm_ms, peerPeakRssMiB: peer.result.peak_rss_mib, peerThreads: peer.result.threads, peerTorch: peer.result.torch } : { peerMissing: peer.reason }),
        },
      });
    }
    return out;
  },
};
