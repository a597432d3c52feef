/**
 * The GPU check, bundled by bench/gpu/pack.sh and started by bench/gpu/run.sh on the lent
 * GPU machine (or here, on Mesa's llvmpipe, as a dry run). In one process:
 *   1. the backend nestlab picks (webgpu expected) and its adapter;
 *   2. parity: SAE step, RDMs and CKA on that backend against the wasm backend (CPU reference);
 *   3. benchmarks, side by side with PyTorch on the same machine: SAE training rows/s
 *      (d 768, m 16384, k 32, B 4096, Matryoshka with 5 prefixes) and the Euclidean RDM of a
 *      10000 x 768 matrix.
 * Prints one JSON report and writes it to `--out` (gpu-report.json).
 *
 * Usage: node gpu-check.mjs [--size full|smoke] [--out DIR] [--device cuda|cpu]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src/backend/tf.js';
import { initBackend, selectBackend, type BackendInfo } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { createSae } from '../../src/sae/model.js';
import { trainStep } from '../../src/sae/train.js';
import { createTrainerState } from '../../src/sae/state.js';
import { matryoshkaPrefixes, saeArchitecture, saeTraining } from '../../src/sae/config.js';
import { computeRdm } from '../../src/rsa/rdm.js';
import { linearCka } from '../../src/similarity/cka.js';
import { runPeer, timeIt, type BenchRecord } from '../lib.js';

// In the bundle, tfjs-backend-wasm cannot find its .wasm files next to itself: run.sh says where.
if (process.env.NESTLAB_WASM_PATHS) setWasmPaths(process.env.NESTLAB_WASM_PATHS);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const size = arg('size', 'full');
if (size !== 'full' && size !== 'smoke') throw new Error(`--size must be full or smoke, got ${size}`);
const outDir = arg('out', process.env.OUT ?? '.');
const device = arg('device', 'cuda');
const full = size === 'full';
const SAE = full ? { d: 768, m: 16384, k: 32, B: 4096, steps: 5 } : { d: 64, m: 512, k: 8, B: 256, steps: 2 };
const RDM = full ? { n: 10000, p: 768, repeats: 3 } : { n: 400, p: 32, repeats: 2 };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/**
 * Runs `fn` on the backend under test and on wasm; returns both results. Switches with
 * tf.setBackend: both backends are initialized once (re-running the webgpu loader each time,
 * with a new Dawn instance, hung on the third switch in a dry run).
 */
async function onBoth<T>(under: BackendInfo, fn: () => Promise<T>): Promise<[T, T]> {
  const got = await fn();
  await tf.setBackend('wasm');
  const ref = await fn();
  await tf.setBackend(under.name);
  return [got, ref];
}

/** One SAE training step from the same seeded initial weights: parameters after the update. */
async function saeAfterOneStep(path: 'sparse' | 'dense'): Promise<Float32Array[]> {
  const arch = saeArchitecture({ dIn: 48, dSae: 192, k: 6, activation: 'topk', prefixes: [24, 96, 192] });
  const training = saeTraining({ batchSize: 128, learningRate: 1e-3, warmupSteps: 0, seed: 3 }, arch);
  const sae = createSae(arch, { seed: 3 });
  const state = createTrainerState(sae);
  const x = new Rng(4).normalArray(128 * 48);
  await trainStep(sae, state, training, x, 128, 100, path);
  const p = sae.params;
  return [p.wEnc, p.bEnc, p.wDec, p.bDec].map((a) => Float32Array.from(a));
}

async function parity(under: BackendInfo): Promise<Record<string, { diff: number; tolerance: number; pass: boolean }>> {
  const out: Record<string, { diff: number; tolerance: number; pass: boolean }> = {};
  const record = (name: string, diff: number, tolerance: number) => {
    out[name] = { diff, tolerance, pass: diff <= tolerance };
    console.error(`  parity ${name}: diff ${diff.toExponential(2)} (tolerance ${tolerance}) ${diff <= tolerance ? 'ok' : 'FAILED'}`);
  };
  const rng = new Rng(11);
  const x = { data: rng.normalArray(200 * 40), rows: 200, cols: 40 };
  const y = { data: rng.normalArray(200 * 30), rows: 200, cols: 30 };
  for (const method of ['euclidean', 'correlation', 'cosine'] as const) {
    const [got, ref] = await onBoth(under, async () => (await computeRdm(x, { method })).values);
    record(`rdm-${method}`, maxAbsDiff(got, ref), 1e-4);
  }
  for (const debiased of [false, true]) {
    const [got, ref] = await onBoth(under, () => linearCka(x, y, { debiased }));
    record(`cka-linear${debiased ? '-debiased' : ''}`, Math.abs(got - ref), 1e-5);
  }
  for (const path of ['sparse', 'dense'] as const) {
    const [got, ref] = await onBoth(under, () => saeAfterOneStep(path));
    record(`sae-step-${path}`, Math.max(...got.map((g, i) => maxAbsDiff(g, ref[i]))), 1e-4);
  }
  return out;
}

async function saeBench(backend: BackendInfo): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  for (const prefixes of [[SAE.m], matryoshkaPrefixes(SAE.m)]) {
    const arch = saeArchitecture({ dIn: SAE.d, dSae: SAE.m, k: SAE.k, activation: 'topk', prefixes });
    const training = saeTraining({ batchSize: SAE.B, learningRate: 1e-4, warmupSteps: 0, bDecInit: 'zero' }, arch);
    const sae = createSae(arch);
    const state = createTrainerState(sae);
    const xb = new Rng(0).normalArray(SAE.B * SAE.d);
    const seconds = await timeIt(() => trainStep(sae, state, training, xb, SAE.B, 1000), SAE.steps);
    const peer = runPeer('sae_torch.py', { d: SAE.d, m: SAE.m, k: SAE.k, B: SAE.B, prefixes, steps: SAE.steps, warmup: 2, device });
    const peerRows = peer.ok ? Number(peer.result.rows_per_s) : null;
    const ours = SAE.B / seconds;
    records.push({
      name: prefixes.length === 1 ? 'gpu-sae-train' : `gpu-sae-train-matryoshka${prefixes.length}`,
      unit: 'rows/s',
      ours,
      peer: peerRows,
      peerName: peer.ok ? `PyTorch ${peer.result.torch} on ${peer.result.device}` : 'PyTorch',
      ratio: peerRows === null ? null : ours / peerRows,
      config: { ...SAE, prefixes, statistic: 'median' },
      backend: `${backend.name} (${backend.detail})`,
      date: new Date().toISOString(),
      extra: peer.ok ? { oursMsPerStep: seconds * 1000, peerMsPerStep: peer.result.ms_per_step } : { peerMissing: peer.reason },
    });
  }
  return records;
}

async function rdmBench(backend: BackendInfo): Promise<BenchRecord> {
  const x = { data: new Rng(5).normalArray(RDM.n * RDM.p), rows: RDM.n, cols: RDM.p };
  let rdm = new Float64Array(0);
  const seconds = await timeIt(async () => {
    rdm = (await computeRdm(x, { method: 'euclidean' })).values;
  }, RDM.repeats);
  const dir = mkdtempSync(join(tmpdir(), 'nestlab-gpu-rdm-'));
  let peer;
  try {
    writeFileSync(join(dir, 'x.f32'), Buffer.from(x.data.buffer));
    peer = runPeer('rdm_torch.py', { data: join(dir, 'x.f32'), n: RDM.n, p: RDM.p, repeats: RDM.repeats, device });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const peerSeconds = peer.ok ? Number(peer.result.seconds) : null;
  let sum = 0;
  for (const v of rdm) sum += v;
  return {
    name: 'gpu-rdm',
    unit: 's',
    ours: seconds,
    peer: peerSeconds,
    peerName: peer.ok ? `PyTorch ${peer.result.torch} on ${peer.result.device}` : 'PyTorch',
    ratio: peerSeconds === null ? null : peerSeconds / seconds,
    config: { ...RDM, method: 'euclidean', output: 'condensed RDM on the host', statistic: 'median' },
    backend: `${backend.name} (${backend.detail})`,
    date: new Date().toISOString(),
    extra: peer.ok ? { oursMean: sum / rdm.length, peerMean: peer.result.mean } : { peerMissing: peer.reason },
  };
}

const backend = await initBackend();
console.error(`backend: ${backend.name} (${backend.how}; ${backend.detail})`);
await selectBackend('wasm'); // initialize the reference backend (and its BLAS kernels) once
await tf.setBackend(backend.name);
const checks = await parity(backend);
const records = [...(await saeBench(backend)), await rdmBench(backend)];
for (const r of records) console.error(`  ${r.name}: ours ${r.ours.toPrecision(4)} ${r.unit}, ${r.peerName} ${r.peer?.toPrecision(4) ?? 'n/a'} (ratio ${r.ratio?.toFixed(2) ?? 'n/a'}x)`);
const report = { size, backend, parity: checks, records, tfMemory: tf.memory().numTensors };
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'gpu-report.json'), JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report));
