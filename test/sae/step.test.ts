import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/backend/rng.js';
import { saeArchitecture, type SaeActivation, type SaeArchitecture } from '../../src/sae/config.js';
import { createSae, encoderPre, selectTopK, selectBatchTopK, selectAbove, type Sae, type SaeParams, type SparseCode } from '../../src/sae/model.js';
import { sparseLossAndGrads, denseLossAndGrads, type AuxInput } from '../../src/sae/step.js';

beforeAll(async () => {
  await initBackend();
});

const B = 8;
let d = 6; // 6: the JS loops; 8 (a multiple of 4): the WebAssembly SIMD kernels
const m = 12;

/** A small SAE with random (non-tied) parameters, so that every gradient term is exercised. */
function randomSae(activation: SaeActivation, prefixes: number[], seed = 1): Sae {
  const sae = createSae({ dIn: d, dSae: m, k: 3, activation, prefixes }, { seed });
  const rng = new Rng(seed + 100);
  sae.params.wEnc.set(rng.normalArray(d * m, 0.5));
  sae.params.bEnc.set(rng.normalArray(m, 0.2));
  sae.params.bDec.set(rng.normalArray(d, 0.3));
  return sae;
}

/** The loss weights of the step: equal prefix weights (the default), L1 0.05 (relu). */
function objective(cfg: SaeArchitecture, prefixWeights = cfg.prefixes.map(() => 1 / cfg.prefixes.length)) {
  return { prefixWeights, l1Coeff: 0.05 };
}

async function codes(sae: Sae, x: Float32Array, dead: number[] | null): Promise<{ xc: Float32Array; code: SparseCode; aux: AuxInput | null }> {
  const { xc, pre } = encoderPre(sae, x, B);
  const cfg = sae.cfg;
  const code = cfg.activation === 'topk' ? await selectTopK(pre, cfg.k) : cfg.activation === 'relu' ? await selectAbove(pre) : (await selectBatchTopK(pre, cfg.k)).code;
  let aux: AuxInput | null = null;
  if (dead) {
    const allowed = new Uint8Array(m);
    dead.forEach((j) => (allowed[j] = 1));
    aux = { code: await selectTopK({ ...pre, rowTopK: (r: number) => pre.rowTopK(r, allowed) }, 2), scale: 0.7 };
  }
  pre.dispose();
  return { xc, code, aux };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let mx = 0;
  for (let i = 0; i < a.length; i++) mx = Math.max(mx, Math.abs(a[i] - b[i]));
  return mx;
}

describe('sparse gradients equal tfjs autograd of the dense loss', () => {
  const cases: [SaeActivation, number[], number[] | null][] = [
    ['topk', [12], null],
    ['topk', [2, 5, 12], null],
    ['batchtopk', [3, 7, 12], null],
    ['relu', [4, 12], null],
    ['topk', [2, 5, 12], [1, 4, 7, 10, 11]],
    ['batchtopk', [12], [0, 2, 3, 9]],
  ];
  for (const [activation, prefixes, dead, dim] of cases.flatMap(([a, p, dd]) => [[a, p, dd, 6], [a, p, dd, 8]] as const)) {
    it(`${activation}, prefixes [${prefixes}]${dead ? `, AuxK on dead [${dead}]` : ''}, d = ${dim}`, async () => {
      d = dim;
      const sae = randomSae(activation, prefixes);
      const x = new Rng(7).normalArray(B * d);
      const { xc, code, aux } = await codes(sae, x, dead);
      expect(code.idx.length).toBeGreaterThan(0);
      if (aux) expect(aux.code.idx.length).toBeGreaterThan(0);
      const sparse = sparseLossAndGrads(sae.params, sae.cfg, objective(sae.cfg), x, xc, code, aux);
      const dense = await denseLossAndGrads(sae.params, sae.cfg, objective(sae.cfg), x, code, aux);
      expect(sparse.losses.total).toBeCloseTo(dense.losses.total, 4);
      sparse.losses.prefixMse.forEach((v, i) => expect(v).toBeCloseTo(dense.losses.prefixMse[i], 4));
      expect(sparse.losses.aux).toBeCloseTo(dense.losses.aux, 5);
      if (aux) expect(sparse.losses.aux).toBeGreaterThan(0);
      for (const key of ['wEnc', 'bEnc', 'wDec', 'bDec'] as (keyof SaeParams)[]) {
        expect(maxAbsDiff(sparse.grads[key], dense.grads[key]), key).toBeLessThan(1e-4);
      }
    });
  }
});

describe('the Matryoshka loss', () => {
  it('with one prefix equals the flat loss; with prefixes it is the weighted sum of prefix MSEs', async () => {
    const x = new Rng(3).normalArray(B * d);
    const flat = randomSae('topk', [12]);
    const nested = randomSae('topk', [12]);
    nested.cfg = saeArchitecture({ ...flat.cfg, prefixes: [2, 6, 12] });
    const a = await codes(flat, x, null);
    const lf = sparseLossAndGrads(flat.params, flat.cfg, objective(flat.cfg), x, a.xc, a.code, null);
    // flat = mean_b ‖x − x̂‖² computed by hand from the code
    let sq = 0;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < d; i++) {
        let xh = flat.params.bDec[i];
        for (let q = a.code.ptr[b]; q < a.code.ptr[b + 1]; q++) xh += a.code.val[q] * flat.params.wDec[a.code.idx[q] * d + i];
        sq += (x[b * d + i] - xh) ** 2;
      }
    }
    expect(lf.losses.total).toBeCloseTo(sq / B, 5);
    const ln = sparseLossAndGrads(nested.params, nested.cfg, objective(nested.cfg, [0.5, 0.25, 0.25]), x, a.xc, a.code, null);
    expect(ln.losses.prefixMse[2]).toBeCloseTo(lf.losses.total, 5);
    const [p0, p1, p2] = ln.losses.prefixMse;
    expect(ln.losses.total).toBeCloseTo(0.5 * p0 + 0.25 * p1 + 0.25 * p2, 5);
  });
});

describe('AuxK', () => {
  it('only touches dead latents (their encoder columns, b_enc and decoder rows)', async () => {
    const sae = randomSae('topk', [4, 12]);
    const x = new Rng(11).normalArray(B * d);
    const dead = [1, 5, 8, 9];
    const { xc, code, aux } = await codes(sae, x, dead);
    const without = sparseLossAndGrads(sae.params, sae.cfg, objective(sae.cfg), x, xc, code, null);
    const withAux = sparseLossAndGrads(sae.params, sae.cfg, objective(sae.cfg), x, xc, code, aux);
    expect(withAux.losses.aux).toBeGreaterThan(0);
    for (let q = 0; q < aux!.code.idx.length; q++) expect(dead).toContain(aux!.code.idx[q]);
    let touched = 0;
    for (let j = 0; j < m; j++) {
      let diff = Math.abs(withAux.grads.bEnc[j] - without.grads.bEnc[j]);
      for (let i = 0; i < d; i++) {
        diff += Math.abs(withAux.grads.wDec[j * d + i] - without.grads.wDec[j * d + i]);
        diff += Math.abs(withAux.grads.wEnc[i * m + j] - without.grads.wEnc[i * m + j]);
      }
      if (dead.includes(j)) touched += diff > 0 ? 1 : 0;
      else expect(diff, `latent ${j}`).toBe(0);
    }
    expect(touched).toBeGreaterThan(0);
  });
});
