import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { saeArchitecture, saeTraining, type SaeArchitectureInput, type SaeTraining, type SaeTrainingInput } from '../../src/sae/config.js';
import { normalizeRowsInPlace } from '../../src/data/matrix.js';
import { createSae, type Sae, type SaeParams } from '../../src/sae/model.js';
import { createTrainerState, type TrainerState } from '../../src/sae/state.js';
import { trainStep, type GradientPath, type StepInfo } from '../../src/sae/train.js';

// Two full training steps of nestlab's SAE trainer (`trainStep`, the step `sae.train` runs; both
// gradient paths) against an independent float64 NumPy implementation written from
// docs/methods/msae.md (step_numpy.py, which checks its hand-derived gradients by finite
// differences). A step is: the dead set from the samples-since-fired counters, the selection
// (TopK per row / BatchTopK over the batch), the Matryoshka loss with prefix weights, AuxK on the
// dead latents, the decoder-gradient projection, global-norm clipping, Adam with warm-up / decay,
// the decoder renormalization, and the bookkeeping (counters; BatchTopK's θ at its first estimate,
// the smallest kept activation, on which the EMA rules in use agree). The runs start mid-training
// from a crafted trainer state (Adam moments, latents at, past and just below `deadTokens`) so
// that every ingredient acts; the second step's dead set comes from the first step's counters.
// Agreement: 1e-4 relative to each tensor's scale: max(1, max|b|) for parameters and losses,
// max|b| for the parameter updates and the Adam moments (far below 1, where 1 would hide errors).
const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const PEER = fileURLToPath(new URL('./step_numpy.py', import.meta.url));
const KEYS = ['wEnc', 'bEnc', 'wDec', 'bDec'] as const;
const STEPS = 2;
const PATHS: GradientPath[] = ['sparse', 'dense'];
const TOL = 1e-4;

interface Case {
  name: string;
  architecture: SaeArchitectureInput;
  training: SaeTrainingInput;
  totalSteps: number;
  /** Steps already done (sets the schedule and Adam's bias correction). */
  step: number;
  /** Latents that have not fired for deadTokens + extra samples (extra −1: alive now, dead at the next step). */
  dead: Record<number, number>;
  /** Gradient scale of the crafted Adam moments. */
  gradScale: number;
  /** Whether the global-norm clip acts (the gradient norm exceeds clipNorm). */
  clips: boolean;
  seed: number;
}

const CASES: Case[] = [
  {
    // d = 16: the WebAssembly SIMD kernels; 5 dead < auxK = 6, so the AuxK scale is α·5/6
    name: 'flat TopK, AuxK on 5 dead latents, clipped, in warm-up and decay',
    architecture: { dIn: 16, dSae: 32, activation: 'topk', k: 4 },
    training: {
      batchSize: 64, auxK: 6, auxAlpha: 0.25, deadTokens: 640, learningRate: 2e-2, warmupSteps: 8, decayStart: 0.5, clipNorm: 0.5,
    },
    totalSteps: 10,
    step: 5,
    dead: { 3: 0, 11: 0, 20: 0, 27: 5000, 7: 64, 15: -1 },
    gradScale: 0.02, // the clipped gradients' size
    clips: true,
    seed: 1,
  },
  {
    // d = 14: the JS loops; 7 dead > auxK = 4, so AuxK picks 4 of them per row at scale α; no
    // clipping, so that a wrong scale of the loss or of one of its terms shows
    name: 'Matryoshka BatchTopK [4, 8, 16, 32], weighted prefixes, AuxK on 7 dead latents, unclipped, in decay',
    architecture: { dIn: 14, dSae: 32, activation: 'batchtopk', k: 3.5, prefixes: [4, 8, 16, 32] },
    training: {
      batchSize: 64, prefixWeights: [0.1, 0.2, 0.3, 0.4], auxK: 4, auxAlpha: 0.1, deadTokens: 1000, learningRate: 1e-2,
      warmupSteps: 50, decayStart: 0.9, clipNorm: 50, thresholdStart: 95,
    },
    totalSteps: 100,
    step: 95,
    dead: { 1: 0, 6: 0, 10: 30, 13: 0, 19: 4000, 25: 0, 30: 0, 22: -1 },
    gradScale: 0.3,
    clips: false,
    seed: 2,
  },
];

/** A mid-training SAE and trainer state: random untied parameters, Adam moments, dead counters (all drawn here). */
function setUp(c: Case): { sae: Sae; state: TrainerState; training: SaeTraining; batches: Float32Array[] } {
  const arch = saeArchitecture(c.architecture);
  const training = saeTraining(c.training, arch);
  const { dIn: d, dSae: m } = arch;
  const B = training.batchSize;
  const rng = new Rng(c.seed);
  const sae = createSae(arch, { seed: c.seed });
  const p = sae.params;
  p.wDec.set(rng.normalArray(m * d));
  normalizeRowsInPlace(p.wDec, m, d);
  p.wEnc.set(rng.normalArray(d * m, 1.5 / Math.sqrt(d)));
  p.bEnc.set(rng.normalArray(m, 0.2));
  p.bDec.set(rng.normalArray(d, 0.3).map((v) => v + 0.5));
  // the dead latents rarely win a selection; those about to die never do
  for (const [j, extra] of Object.entries(c.dead)) p.bEnc[Number(j)] = extra < 0 ? -5 : -2;
  const state = createTrainerState(sae);
  state.step = c.step;
  // moments an EMA of gradients of scale γ would have after `step` steps
  const g = c.gradScale;
  for (const k of KEYS) {
    const n = state.adamM[k].length;
    state.adamM[k].set(rng.normalArray(n, g * (1 - training.beta1 ** c.step)));
    state.adamV[k].set(Float32Array.from({ length: n }, () => (1 - training.beta2 ** c.step) * (g * (0.5 + rng.uniform())) ** 2));
  }
  for (const [j, extra] of Object.entries(c.dead)) state.tokensSinceFired[Number(j)] = training.deadTokens + extra;
  const batches = Array.from({ length: STEPS }, () => rng.normalArray(B * d).map((v) => v + 0.5));
  return { sae, state, training, batches };
}

interface PeerStep {
  learningRate: number;
  dead: number;
  deadLatents: number[];
  overlap: number;
  auxScale: number;
  losses: { total: number; prefixMse: number[]; aux: number };
  gradNorm: number;
  selectionGap: number;
  finiteDifferenceError: number | null;
  params: Record<(typeof KEYS)[number], number[]>;
  adamM: Record<(typeof KEYS)[number], number[]>;
  adamV: Record<(typeof KEYS)[number], number[]>;
  tokensSinceFired: number[];
  minKept: number | null;
}

interface Snapshot {
  info: StepInfo;
  params: SaeParams;
  adamM: SaeParams;
  adamV: SaeParams;
  tokensSinceFired: Float64Array;
  /** The SAE's inference threshold θ (latent 0's), or null before it is estimated. */
  threshold: number | null;
}

const copyParams = (p: SaeParams): SaeParams => ({ wEnc: p.wEnc.slice(), bEnc: p.bEnc.slice(), wDec: p.wDec.slice(), bDec: p.bDec.slice() });

/** max |a − b| and max |b|. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; scale: number } {
  expect(a.length).toBe(b.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { err, scale };
}

describe.skipIf(!hasNumpy)('a training step agrees with an independent NumPy step (float64, 1e-4)', () => {
  /** Our snapshots after each step, per case and gradient path, and the parameters before each step. */
  const ours: Record<GradientPath, Snapshot[]>[] = [];
  const before: SaeParams[][] = [];
  let peer: PeerStep[][];

  beforeAll(async () => {
    await initBackend();
    const configs = [];
    for (const c of CASES) {
      const { sae, state, training, batches } = setUp(c);
      configs.push({
        ...sae.cfg, ...training, totalSteps: c.totalSteps,
        init: {
          params: Object.fromEntries(KEYS.map((k) => [k, Array.from(sae.params[k])])),
          step: state.step,
          adamM: Object.fromEntries(KEYS.map((k) => [k, Array.from(state.adamM[k])])),
          adamV: Object.fromEntries(KEYS.map((k) => [k, Array.from(state.adamV[k])])),
          tokensSinceFired: Array.from(state.tokensSinceFired),
        },
        batches: batches.map((x) => Array.from(x)),
      });
      const runs = {} as Record<GradientPath, Snapshot[]>;
      for (const path of PATHS) {
        const { sae, state, training, batches } = setUp(c);
        const prior: SaeParams[] = [];
        runs[path] = [];
        for (const x of batches) {
          prior.push(copyParams(sae.params));
          const info = await trainStep(sae, state, training, x, training.batchSize, c.totalSteps, path);
          runs[path].push({
            info, params: copyParams(sae.params), adamM: copyParams(state.adamM), adamV: copyParams(state.adamV),
            tokensSinceFired: state.tokensSinceFired.slice(), threshold: sae.threshold === null ? null : sae.threshold[0],
          });
        }
        if (path === 'sparse') before.push(prior);
      }
      ours.push(runs);
    }
    const res = spawnSync(PY, [PEER], { input: JSON.stringify({ configs }), encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(res.stderr);
    peer = (JSON.parse(res.stdout) as { results: PeerStep[][] }).results;
  });

  CASES.forEach((c, ci) => {
    describe(c.name, () => {
      it('exercises every ingredient: dead latents, the clip, a selection far from ties, a peer with right gradients', () => {
        const [first, second] = peer[ci];
        expect(first.finiteDifferenceError).toBeLessThan(1e-6); // the peer's gradients match its loss
        for (const s of peer[ci]) {
          expect(s.dead).toBeGreaterThan(0);
          expect(s.gradNorm > c.training.clipNorm!).toBe(c.clips);
          expect(s.selectionGap).toBeGreaterThan(1e-5); // float32 rounding cannot change the selection
          expect(s.losses.aux).toBeGreaterThan(0);
        }
        // the counters move latents across deadTokens: revived by firing, or dying
        expect(second.deadLatents).not.toEqual(first.deadLatents);
        for (const [j, extra] of Object.entries(c.dead)) {
          if (extra < 0) expect([first.deadLatents.includes(Number(j)), second.deadLatents.includes(Number(j))]).toEqual([false, true]);
        }
      });

      PATHS.forEach((path) => {
        it(`same learning rate, dead count, losses, counters and first θ at each step (${path} gradients)`, () => {
          ours[ci][path].forEach(({ info, tokensSinceFired, threshold }, s) => {
            const q = peer[ci][s];
            expect(info.learningRate).toBeCloseTo(q.learningRate, 12);
            expect(info.dead).toBe(q.dead);
            expect(Array.from(tokensSinceFired)).toEqual(q.tokensSinceFired);
            expect(Math.abs(info.losses.total - q.losses.total)).toBeLessThan(TOL * Math.max(1, q.losses.total));
            expect(Math.abs(info.losses.aux - q.losses.aux)).toBeLessThan(TOL * q.losses.aux);
            const mse = diff(info.losses.prefixMse, q.losses.prefixMse);
            expect(mse.err).toBeLessThan(TOL * Math.max(1, mse.scale));
            if (c.architecture.activation === 'batchtopk' && s === 0) {
              expect(threshold).not.toBeNull();
              expect(Math.abs(threshold! - q.minKept!)).toBeLessThan(TOL * q.minKept!);
            }
          });
        });

        it(`same parameters, parameter updates and Adam moments after each step (${path} gradients)`, () => {
          ours[ci][path].forEach((snap, s) => {
            const q = peer[ci][s];
            for (const k of KEYS) {
              const p = diff(snap.params[k], q.params[k]);
              expect(p.err, `${k} after step ${s + 1}`).toBeLessThan(TOL * Math.max(1, p.scale));
              // the update itself (≈ learningRate) must agree too, relative to its own size
              const prev = s === 0 ? before[ci][0][k] : ours[ci][path][s - 1].params[k];
              const start = s === 0 ? prev : peer[ci][s - 1].params[k];
              const u = diff(Array.from(snap.params[k], (v, i) => v - prev[i]), q.params[k].map((v, i) => v - start[i]));
              expect(u.err, `update of ${k} at step ${s + 1}`).toBeLessThan(TOL * u.scale);
              const am = diff(snap.adamM[k], q.adamM[k]);
              expect(am.err, `Adam m of ${k} after step ${s + 1}`).toBeLessThan(TOL * am.scale);
              const av = diff(snap.adamV[k], q.adamV[k]);
              expect(av.err, `Adam v of ${k} after step ${s + 1}`).toBeLessThan(TOL * av.scale);
            }
          });
        });
      });
    });
  });
});
