/**
 * Benchmark `lm-train`: tokens/s of one training step of the GPT-style decoder (src/lm/model.ts:
 * 2 layers, d 128, 4 heads, dMlp 512, T 64, B 32, V 8192, tied unembedding, GELU, AdamW, clip 1)
 * against the same model and step in PyTorch on the CPU (bench/peers/lm_torch.py, nanoGPT's
 * model). Also `lm-train-4x256` (4 layers, d 256). Where the time goes: the loss's forward pass,
 * forward + backward, and the AdamW update, in ms per step.
 */
import { tf } from '../src/backend/tf.js';
import { initBackend } from '../src/backend/select.js';
import { lmArchitecture, lmTraining } from '../src/lm/config.js';
import { createLm, disposeLm, lmCrossEntropy } from '../src/lm/model.js';
import { createLmTrainerState, disposeLmTrainerState, lmTrainStep, sampleWindows } from '../src/lm/train.js';
import { type Benchmark, type BenchRecord, peakRssMiB, runPeer } from './lib.js';

const V = 8192;
const T = 64;
const B = 32;
const STEPS = Number(process.env.NESTLAB_BENCH_STEPS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function ours(L: number, d: number): Promise<{ ms: number; phases: Record<string, number> }> {
  const arch = lmArchitecture({ vocabSize: V, contextLength: T, dModel: d, nLayers: L, nHeads: 4 });
  const training = lmTraining({ steps: 1000, batchSize: B });
  const model = createLm(arch, 0);
  const state = createLmTrainerState(model);
  const stream = new Int32Array(200_000);
  for (let i = 0; i < stream.length; i++) stream[i] = (i * 7919 + (i >> 3)) % V;
  const vars = [...model.params.values()];
  const step: number[] = [];
  const fwd: number[] = [];
  const fwdBwd: number[] = [];
  try {
    for (let s = 0; s < STEPS + 2; s++) {
      const batch = sampleWindows(stream, B, T, 0, s);
      let t0 = performance.now();
      await lmTrainStep(model, state, training, batch);
      const ms = performance.now() - t0;
      t0 = performance.now();
      const loss = tf.tidy(() => lmCrossEntropy(model, batch.inputs, batch.targets, B));
      await loss.data();
      loss.dispose();
      const f = performance.now() - t0;
      t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => lmCrossEntropy(model, batch.inputs, batch.targets, B), vars);
      await value.data();
      for (const g of Object.values(grads)) await g.data();
      const fb = performance.now() - t0;
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      if (s >= 2) {
        step.push(ms);
        fwd.push(f);
        fwdBwd.push(fb);
      }
    }
  } finally {
    disposeLmTrainerState(state);
    disposeLm(model);
  }
  const ms = median(step);
  const forward = median(fwd);
  const forwardBackward = median(fwdBwd);
  return { ms, phases: { forward, backward: forwardBackward - forward, optimizerAndClip: ms - forwardBackward } };
}

export const benchmark: Benchmark = {
  name: 'lm-train',
  description: 'tokens/s of one GPT training step (2 layers, d 128, T 64, B 32, V 8192, AdamW) vs PyTorch CPU; also 4 layers, d 256',
  async run(): Promise<BenchRecord[]> {
    const backend = await initBackend();
    const date = new Date().toISOString();
    const out: BenchRecord[] = [];
    for (const [name, L, d] of [['lm-train', 2, 128], ['lm-train-4x256', 4, 256]] as const) {
      const o = await ours(L, d);
      const peer = runPeer('lm_torch.py', { V, T, d, L, heads: 4, B, steps: STEPS });
      const oursRate = (B * T) / (o.ms / 1000);
      const peerRate = peer.ok ? Number(peer.result.tokensPerSecond) : null;
      out.push({
        name,
        unit: 'tokens/s',
        ours: oursRate,
        peer: peerRate,
        peerName: 'PyTorch (CPU, nanoGPT model, AdamW)',
        ratio: peerRate === null ? null : oursRate / peerRate,
        config: { vocabSize: V, contextLength: T, batchSize: B, nLayers: L, dModel: d, nHeads: 4, dMlp: 4 * d, activation: 'gelu', tiedEmbeddings: true, optimizer: 'AdamW', stepsTimed: STEPS },
        backend: backend.name,
        date,
        extra: {
          oursMsPerStep: o.ms,
          oursPhasesMs: o.phases,
          oursPeakRssMiB: peakRssMiB(),
          ...(peer.ok ? { peerMsPerStep: peer.result.ms, peerPeakRssMiB: peer.result.peakRssMiB, peerThreads: peer.result.threads, peerTorch: peer.result.torch } : { peerMissing: peer.reason }),
        },
      });
    }
    return out;
  },
};
