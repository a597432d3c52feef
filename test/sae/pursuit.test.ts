import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { normalizeRowsInPlace, type Matrix } from '../../src/data/matrix.js';
import { hierarchicalFeatures } from '../../src/data/hierarchical.js';
import { saeArchitecture, saeTraining } from '../../src/sae/config.js';
import { codeToDense, createSae, decodeSae, encodeSae, foldActivationScale, pursuitBestAtom, reconstructSae } from '../../src/sae/model.js';
import { matchingPursuit, pursuitCode, pursuitLossAndGrads, type BestAtom } from '../../src/sae/pursuit.js';
import { trainSae } from '../../src/sae/train.js';
import { evaluateSae } from '../../src/sae/metrics.js';
import { loadCheckpoint } from '../../src/sae/checkpoint.js';
import { readSaeLens, writeSaeLens } from '../../src/sae/saelens.js';

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.warn(`test/sae/pursuit.test.ts: skipping the PyTorch cross-check: ${PY} cannot import torch (set NESTLAB_PEER_PYTHON)`);

/** The best atom by brute force in float64 (ties: lower index), for hand-built dictionaries. */
function bruteBest(wDec: Float32Array, m: number, d: number): BestAtom {
  return async (r, rows) => {
    const val = new Float32Array(rows);
    const idx = new Int32Array(rows);
    for (let b = 0; b < rows; b++) {
      let best = -Infinity;
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += r[b * d + i] * wDec[j * d + i];
        if (s > best) (best = s), (idx[b] = j);
      }
      val[b] = best;
    }
    return { val, idx };
  };
}

describe('matchingPursuit', () => {
  it('follows a pursuit worked by hand, including a step with no positively correlated atom', async () => {
    // atoms e1, e2, (e1 + e2)/√2; x = (2, 1). Step 1: correlations 2, 1, 3/√2 → atom 2, c = 3/√2,
    // r = (0.5, −0.5). Step 2: 0.5, −0.5, 0 → atom 0, c = 0.5, r = (0, −0.5). Step 3: 0, −0.5, −0.35 → nothing.
    const s = Math.SQRT1_2;
    const wDec = Float32Array.from([1, 0, 0, 1, s, s]);
    const trace = await matchingPursuit(Float32Array.from([2, 1]), 1, 2, wDec, 3, bruteBest(wDec, 3, 2));
    expect(Array.from(trace.atom)).toEqual([2, 0, -1]);
    expect(trace.coef[0]).toBeCloseTo(3 / Math.SQRT2, 6);
    expect(trace.coef[1]).toBeCloseTo(0.5, 6);
    expect(trace.residual[0]).toBeCloseTo(0, 6);
    expect(trace.residual[1]).toBeCloseTo(-0.5, 6);
    const code = pursuitCode(trace);
    expect(Array.from(code.idx)).toEqual([0, 2]); // index order, as every SparseCode
    expect(code.val[0]).toBeCloseTo(0.5, 6);
    expect(code.val[1]).toBeCloseTo(3 / Math.SQRT2, 6);
  });

  it('adds the coefficients of an atom chosen twice into one latent', async () => {
    // atoms at 229°, 97° and 15°, x = (0.1, −0.5): the pursuit picks 0, 2, 0, 2 (each c > 0.15).
    const wDec = Float32Array.from([229, 97, 15].flatMap((deg) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)]));
    const trace = await matchingPursuit(Float32Array.from([0.1, -0.5]), 1, 2, wDec, 4, bruteBest(wDec, 3, 2));
    expect(Array.from(trace.atom)).toEqual([0, 2, 0, 2]);
    const code = pursuitCode(trace);
    expect(Array.from(code.idx)).toEqual([0, 2]);
    expect(code.val[0]).toBeCloseTo(trace.coef[0] + trace.coef[2], 6);
    expect(code.val[1]).toBeCloseTo(trace.coef[1] + trace.coef[3], 6);
    // x̂ = f·W_dec = x − r_k
    const xHat = [0, 1].map((i) => code.val[0] * wDec[i] + code.val[1] * wDec[4 + i]);
    expect(xHat[0]).toBeCloseTo(0.1 - trace.residual[0], 6);
    expect(xHat[1]).toBeCloseTo(-0.5 - trace.residual[1], 6);
  });
});

/** A random MP-SAE problem: unit atoms, b_dec, rows, a dead set for AuxK. */
function problem(seed: number, B: number, d: number, m: number) {
  const rng = new Rng(seed);
  const wDec = Float32Array.from({ length: m * d }, () => rng.normal());
  normalizeRowsInPlace(wDec, m, d);
  const bDec = Float32Array.from({ length: d }, () => 0.3 * rng.normal());
  const x = Float32Array.from({ length: B * d }, () => rng.normal());
  return { wDec, bDec, x };
}

describe.runIf(hasTorch)('pursuit loss and gradients against PyTorch autograd (float64)', () => {
  // PyTorch runs SAELens' `_encode_matching_pursuit` rule (argmax of the correlations, ReLU'd
  // value, exactly k steps) with autograd through every step, and AuxK through the tied encoder.
  const TORCH = `
import json, sys, numpy as np, torch
d = sys.argv[1]
c = json.load(open(f'{d}/case.json'))
B, D, M, k = c['B'], c['d'], c['m'], c['k']
W = torch.tensor(np.fromfile(f'{d}/wdec.bin', dtype=np.float32).astype(np.float64).reshape(M, D), requires_grad=True)
b = torch.tensor(np.fromfile(f'{d}/bdec.bin', dtype=np.float32).astype(np.float64), requires_grad=True)
x = torch.tensor(np.fromfile(f'{d}/x.bin', dtype=np.float32).astype(np.float64).reshape(B, D))
xc = x - b
r = xc
acts = torch.zeros(B, M, dtype=torch.float64)
for _ in range(k):
    with torch.no_grad():
        idx = (r @ W.T).relu().max(dim=1, keepdim=True).indices
    sel = W[idx.squeeze(1)]
    v = (r * sel).sum(dim=-1, keepdim=True).relu()
    acts = acts.scatter_add(1, idx, v)
    r = r - v * sel
xhat = acts @ W + b
mse = ((x - xhat) ** 2).sum(-1).mean()
loss = mse
aux = torch.tensor(0.0, dtype=torch.float64)
dead = torch.tensor(c['dead'], dtype=torch.bool)
if dead.any():
    z0 = xc @ W.T
    masked = torch.where(dead.unsqueeze(0), z0, torch.full_like(z0, -1e30))
    top = masked.topk(c['kAux'], dim=1)
    z = torch.zeros_like(z0).scatter(1, top.indices, top.values.relu())
    e = (x - xhat).detach()
    denom = ((e - e.mean(0)) ** 2).sum(-1).mean()
    aux = c['auxScale'] * ((z @ W - e) ** 2).sum(-1).mean() / denom
    loss = loss + aux
loss.backward()
json.dump({'mse': mse.item(), 'aux': aux.item(), 'acts': acts.detach().numpy().ravel().tolist(),
           'gW': W.grad.numpy().ravel().tolist(), 'gb': b.grad.numpy().ravel().tolist()}, open(f'{d}/out.json', 'w'))
`;

  const cases = [
    { name: 'more steps than dimensions (atoms repeat), no AuxK', seed: 1, B: 24, d: 5, m: 12, k: 8, dead: [] as number[], kAux: 0 },
    { name: 'k < d with AuxK over 4 dead latents', seed: 2, B: 32, d: 8, m: 16, k: 3, dead: [1, 5, 9, 14], kAux: 2 },
  ];
  for (const c of cases) {
    it(`${c.name}: loss, code, ∂W_dec and ∂b_dec agree to 1e-5 of their scale`, async () => {
      const { wDec, bDec, x } = problem(c.seed, c.B, c.d, c.m);
      const arch = saeArchitecture({ dIn: c.d, dSae: c.m, activation: 'mp', k: c.k });
      const sae = { cfg: arch, params: { wEnc: new Float32Array(c.d * c.m), bEnc: new Float32Array(c.m), wDec, bDec }, threshold: null };
      const xc = Float32Array.from(x, (v, i) => v - bDec[i % c.d]);
      const deadMask = new Uint8Array(c.m);
      c.dead.forEach((j) => (deadMask[j] = 1));
      const auxScale = 0.25;
      let aux = null as null | { ptr: Int32Array; idx: Int32Array; val: Float32Array; scale: number };
      const { selectTopK } = await import('../../src/sae/model.js');
      const best = pursuitBestAtom(sae, c.dead.length === 0 ? undefined : async (pre) => {
        const code = await selectTopK({ ...pre, rowTopK: (r: number) => pre.rowTopK(r, deadMask) }, c.kAux);
        aux = { ptr: code.ptr, idx: code.idx, val: code.val, scale: auxScale };
      });
      const trace = await matchingPursuit(xc, c.B, c.d, wDec, c.k, best);
      const out = { wDec: new Float32Array(c.m * c.d), bDec: new Float32Array(c.d) };
      const ours = pursuitLossAndGrads(trace, xc, wDec, c.d, aux, out);

      const dir = mkdtempSync(join(tmpdir(), 'nestlab-mp-'));
      try {
        writeFileSync(join(dir, 'case.json'), JSON.stringify({ B: c.B, d: c.d, m: c.m, k: c.k, dead: Array.from(deadMask, (v) => v === 1), kAux: c.kAux, auxScale }));
        writeFileSync(join(dir, 'wdec.bin'), wDec);
        writeFileSync(join(dir, 'bdec.bin'), bDec);
        writeFileSync(join(dir, 'x.bin'), x);
        const res = spawnSync(PY, ['-c', TORCH, dir], { encoding: 'utf8' });
        expect(res.status, res.stderr).toBe(0);
        const ref = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { mse: number; aux: number; acts: number[]; gW: number[]; gb: number[] };
        const rel = (a: ArrayLike<number>, b: number[]) => {
          let scale = 1e-12;
          let diff = 0;
          for (let i = 0; i < b.length; i++) (scale = Math.max(scale, Math.abs(b[i]))), (diff = Math.max(diff, Math.abs(a[i] - b[i])));
          return diff / scale;
        };
        expect(Math.abs(ours.mse - ref.mse) / ref.mse).toBeLessThan(1e-5);
        if (c.dead.length > 0) expect(ref.aux).toBeGreaterThan(0);
        expect(Math.abs(ours.aux - ref.aux)).toBeLessThan(1e-5 * Math.max(1e-12, ref.aux) + 1e-12);
        const dense = codeToDense({ rows: c.B, dSae: c.m, ...pursuitCode(trace) });
        expect(rel(dense.data, ref.acts)).toBeLessThan(1e-5);
        expect(rel(out.wDec, ref.gW)).toBeLessThan(1e-5);
        expect(rel(out.bDec, ref.gb)).toBeLessThan(1e-5);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('training and using an MP-SAE', () => {
  const toy = hierarchicalFeatures({ samples: 3000, seed: 3 });

  it('learns the hierarchical toy: FVU falls well below its start, L0 ≤ k, and encode matches the training code', async () => {
    const arch = { dIn: toy.samples.cols, dSae: 20, activation: 'mp' as const, k: 2 };
    const before = createSae(arch, { seed: 0, sample: toy.samples });
    const fvu0 = (await evaluateSae(before, toy.samples))[0].fvu;
    const { sae, history } = await trainSae(toy.samples, { architecture: arch, training: { batchSize: 200, epochs: 8, learningRate: 3e-3, warmupSteps: 20, deadTokens: 2000, seed: 0 } });
    const ev = (await evaluateSae(sae, toy.samples))[0];
    expect(ev.fvu).toBeLessThan(0.5 * fvu0);
    expect(ev.fvu).toBeLessThan(0.4);
    expect(ev.l0).toBeLessThanOrEqual(2);
    expect(history[history.length - 1].loss).toBeLessThan(history[0].loss);
    // tied: W_enc = W_decᵀ, b_enc = 0 after training
    const { dIn: d, dSae: m } = sae.cfg;
    for (let j = 0; j < m; j += 7) for (let i = 0; i < d; i += 3) expect(sae.params.wEnc[i * m + j]).toBe(sae.params.wDec[j * d + i]);
    expect(sae.params.bEnc.every((v) => v === 0)).toBe(true);
    // reconstruct = x − r_k of the pursuit
    const x: Matrix = { data: toy.samples.data.slice(0, 50 * d), rows: 50, cols: d };
    const code = await encodeSae(sae, x);
    const xHat = decodeSae(sae, code);
    const again = await reconstructSae(sae, x);
    expect(Array.from(again.data)).toEqual(Array.from(xHat.data));
  });

  it('folds an input scale into b_dec alone: the same atoms, coefficients ÷ c, reconstruction ÷ c', async () => {
    const { sae } = await trainSae(toy.samples, { architecture: { dIn: 20, dSae: 20, activation: 'mp', k: 2 }, training: { batchSize: 200, epochs: 1, seed: 1 } });
    const c = 2.5;
    const raw = foldActivationScale(sae, c);
    const x: Matrix = { data: toy.samples.data.slice(0, 40 * 20), rows: 40, cols: 20 };
    const xs: Matrix = { ...x, data: x.data.map((v) => v * c) };
    const a = await encodeSae(sae, xs);
    const b = await encodeSae(raw, x);
    expect(Array.from(b.idx)).toEqual(Array.from(a.idx));
    b.val.forEach((v, i) => expect(v).toBeCloseTo(a.val[i] / c, 4));
    const ra = decodeSae(sae, a);
    const rb = decodeSae(raw, b);
    rb.data.forEach((v, i) => expect(v).toBeCloseTo(ra.data[i] / c, 4));
  });

  it('resumes after a stop to the same weights as one uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestlab-mp-ck-'));
    try {
      const options = { architecture: { dIn: 20, dSae: 20, activation: 'mp' as const, k: 2 }, training: { batchSize: 200, epochs: 2, deadTokens: 600, seed: 4 } };
      const whole = (await trainSae(toy.samples, options)).sae;
      await trainSae(toy.samples, { ...options, checkpointDir: dir, checkpointEvery: 5, stopAfterSteps: 13 });
      const resumed = await trainSae(toy.samples, { ...options, checkpointDir: dir, checkpointEvery: 5 });
      expect(resumed.resumedFrom).toBe(13);
      expect(Array.from(resumed.sae.params.wDec)).toEqual(Array.from(whole.params.wDec));
      expect(Array.from(resumed.sae.params.bDec)).toEqual(Array.from(whole.params.bDec));
      expect(loadCheckpoint(dir)?.sae.cfg.activation).toBe('mp');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is written as SAELens\' tied matching_pursuit SAE (k steps, no early stop) and read back', async () => {
    const sae = createSae({ dIn: 6, dSae: 10, activation: 'mp', k: 3 }, { seed: 2 });
    const { cfg, tensors } = writeSaeLens(sae, 'float32', 4);
    expect(cfg.architecture).toBe('matching_pursuit');
    expect(Object.keys(tensors).sort()).toEqual(['W_dec', 'b_dec']);
    expect([cfg.max_iterations, cfg.residual_threshold, cfg.stop_on_duplicate_support]).toEqual([3, 0, false]);
    const back = readSaeLens('sae.load', cfg, tensors, {}).sae;
    expect(back.cfg.activation).toBe('mp');
    expect(Array.from(back.params.wEnc)).toEqual(Array.from(sae.params.wEnc));
    // a SAELens folder without nestlab's keys: read when it runs exactly k steps, refused otherwise
    const plain = Object.fromEntries(Object.entries(cfg).filter(([key]) => !key.startsWith('nestlab') && key !== 'config_hash'));
    expect(readSaeLens('sae.load', plain, tensors, {}).sae.cfg.k).toBe(3);
    expect(() => readSaeLens('sae.load', { ...plain, stop_on_duplicate_support: true }, tensors, {})).toThrow(/cfg\.stop_on_duplicate_support.*false/);
    expect(() => readSaeLens('sae.load', { ...plain, residual_threshold: 0.01 }, tensors, {})).toThrow(/cfg\.residual_threshold/);
  });

  it('refuses what a flat, tied pursuit cannot be, naming the argument', async () => {
    expect(() => saeArchitecture({ dIn: 4, dSae: 8, activation: 'mp', prefixes: [2, 8] })).toThrow(/architecture\.prefixes.*\[dSae\] for activation "mp"/);
    expect(() => saeArchitecture({ dIn: 4, dSae: 8, activation: 'mp', k: 1.5 })).toThrow(/architecture\.k/);
    expect(() => saeTraining({ randomPrefixCount: 4 }, saeArchitecture({ dIn: 4, dSae: 8, activation: 'mp', k: 2 }))).toThrow(/training\.randomPrefixCount/);
    await expect(trainSae(toy.samples, { architecture: { dIn: 20, dSae: 20, activation: 'mp', k: 2 }, training: { batchSize: 200 }, gradients: 'dense' })).rejects.toThrow(/options\.gradients/);
  });
});
