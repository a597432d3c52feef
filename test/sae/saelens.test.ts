// SAELens interop: folders written the way SAELens v6 writes them load and encode as SAELens'
// formulas say (docs/methods/msae.md §8), nestlab's saves read back identically, and what
// nestlab cannot honor is refused by name.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSae, saveSae } from '../../src/sae/checkpoint.js';
import { createSae, decodeSae, encodeSae, type Sae } from '../../src/sae/model.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../../src/data/safetensors.js';
import { readNpy } from '../../src/data/npy.js';
import type { Matrix } from '../../src/data/matrix.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'nestlab-saelens-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const f32 = (shape: number[], values: number[]): NamedTensor => ({ dtype: 'F32', shape, data: Float32Array.from(values) });

// The shared weights of the hand-computed cases (d_in 3, d_sae 4; decoder row norms [1, 1.5, 1, 0.5]).
const W_ENC = [1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1]; // [3, 4]
const B_ENC = [0, -0.25, -1, 0.25];
const W_DEC = [1, 0, 0, 0, 1.5, 0, 0.6, 0, 0.8, 0, 0, 0.5]; // [4, 3]
const B_DEC = [0.5, 0, -0.5];
const X: Matrix = { data: Float32Array.from([2, 1, -1]), rows: 1, cols: 3 };

/** A SAELens folder with the shared weights, `cfg` merged over a v6 standard cfg, and extra tensors. */
function saeLensFolder(cfg: Record<string, unknown>, extra: Record<string, NamedTensor> = {}, files: Record<string, string> = {}): string {
  const dir = tmp();
  const base = { architecture: 'standard', d_in: 3, d_sae: 4, dtype: 'float32', device: 'cpu', apply_b_dec_to_input: true, normalize_activations: 'none', metadata: { sae_lens_version: '6.18.0' } };
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ ...base, ...cfg }));
  writeSafetensors(join(dir, 'sae_weights.safetensors'), { W_enc: f32([3, 4], W_ENC), b_enc: f32([4], B_ENC), W_dec: f32([4, 3], W_DEC), b_dec: f32([3], B_DEC), ...extra });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function run(model: Sae, x: Matrix = X): Promise<{ f: number[]; recon: number[] }> {
  const code = await encodeSae(model, x);
  const dense = new Array<number>(model.cfg.dSae).fill(0);
  for (let a = code.ptr[0]; a < code.ptr[1]; a++) dense[code.idx[a]] = code.val[a];
  return { f: dense, recon: Array.from(decodeSae(model, code).data) };
}

function close(actual: number[], expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]), `entry ${i}: ${v} vs ${expected[i]}`).toBeLessThan(tol));
}

describe('SAELens folders load and encode by SAELens formulas (hand-computed, x = [2, 1, -1])', () => {
  it('standard: f = relu((x − b_dec)·W_enc + b_enc), with and without apply_b_dec_to_input', async () => {
    const std = loadSae(saeLensFolder({}));
    expect(std.cfg.activation).toBe('relu');
    const a = await run(std);
    close(a.f, [1.5, 0.75, 1, 0]);
    close(a.recon, [2.6, 1.125, 0.3]);
    const raw = loadSae(saeLensFolder({ apply_b_dec_to_input: false }));
    expect(raw.cfg.applyBDecToInput).toBe(false);
    const b = await run(raw);
    close(b.f, [2, 0.75, 1, 0]);
    close(b.recon, [3.1, 1.125, 0.3]);
  });

  it('jumprelu: f = relu(pre)·[pre > θ] with θ per latent (strict >, ReLU kept for a negative θ)', async () => {
    const jr = loadSae(saeLensFolder({ architecture: 'jumprelu' }, { threshold: f32([4], [1.0, 0.75, 0.5, -1.0]) }));
    expect(jr.cfg.activation).toBe('jumprelu');
    expect(Array.from(jr.threshold!)).toEqual([1.0, 0.75, 0.5, -1.0]);
    const r = await run(jr);
    close(r.f, [1.5, 0, 1, 0]);
    close(r.recon, [2.6, 0, 0.3]);
  });

  it('topk: k per row; rescale_acts_by_decoder_norm folded so the codes equal the rescaled ones', async () => {
    close((await run(loadSae(saeLensFolder({ architecture: 'topk', k: 2 })))).f, [1.5, 0, 1, 0]);
    close((await run(loadSae(saeLensFolder({ architecture: 'topk', k: 4 })))).f, [1.5, 0.75, 1, 0]);
    const rescaled = await run(loadSae(saeLensFolder({ architecture: 'topk', k: 2, rescale_acts_by_decoder_norm: true })));
    close(rescaled.f, [1.5, 1.125, 0, 0]);
    close(rescaled.recon, [2.0, 1.125, -0.5]);
  });

  it('normalize_activations: constant_norm_rescale and layer_norm (unbiased σ, ε only on the way in), undone by decode', async () => {
    const cn = await run(loadSae(saeLensFolder({ normalize_activations: 'constant_norm_rescale' })));
    close(cn.f, [0.91421356, 0.45710678, 0.41421356, 0.04289322]);
    close(cn.recon, [2.35147186, 0.96966991, -0.20814755]);
    const ln = await run(loadSae(saeLensFolder({ normalize_activations: 'layer_norm' })));
    close(ln.f, [0.37286585, 0, 0, 0]);
    close(ln.recon, [1.99999127, 0.66666667, -0.09709595]);
  });

  it("expected_average_only_in: the scaling factor is folded in (activation_scaler.json or options.scalingFactor), refused without one", async () => {
    const cfg = { normalize_activations: 'expected_average_only_in' };
    const fromFile = loadSae(saeLensFolder(cfg, {}, { 'activation_scaler.json': '{"scaling_factor": 0.5}' }));
    expect(fromFile.cfg.normalizeActivations).toBe('none');
    const r = await run(fromFile);
    close(r.f, [0.5, 0.25, 0, 0.25]);
    close(r.recon, [2.0, 0.75, -0.75]); // = the unfolded SAE on 0.5·x, output ÷ 0.5
    close((await run(loadSae(saeLensFolder(cfg), { scalingFactor: 0.5 }))).recon, [2.0, 0.75, -0.75]);
    expect(() => loadSae(saeLensFolder(cfg))).toThrow(/sae.load: options.scalingFactor must be a positive factor for normalize_activations 'expected_average_only_in'/);
  });

  it('a SAELens BatchTopK training checkpoint: decoder norms folded, topk_threshold becomes θ per latent', async () => {
    const dir = saeLensFolder({ architecture: 'batchtopk', k: 2, rescale_acts_by_decoder_norm: true }, { topk_threshold: { dtype: 'F64', shape: [], data: Float64Array.from([1.2]) } });
    const model = loadSae(dir);
    expect(model.cfg.activation).toBe('batchtopk');
    expect(Array.from(model.threshold!)).toEqual([1.2, 1.2, 1.2, 1.2].map(Math.fround));
    close(Array.from(model.params.bEnc), [0, -0.375, -1, 0.125]);
    close(Array.from(model.params.wDec), [1, 0, 0, 0, 1, 0, 0.6, 0, 0.8, 0, 0, 1]);
    const r = await run(model);
    close(r.f, [1.5, 0, 0, 0]);
    close(r.recon, [2.0, 0, -0.5]);
  });

  it('legacy (pre-6) cfgs are converted as SAELens converts them', async () => {
    const legacy = { architecture: undefined, metadata: undefined, activation_fn_str: 'topk', activation_fn_kwargs: { k: 2 }, normalize_activations: false, hook_point: 'blocks.0.hook_resid_pre' };
    const model = loadSae(saeLensFolder(legacy));
    expect([model.cfg.activation, model.cfg.k, model.cfg.normalizeActivations]).toEqual(['topk', 2, 'none']);
    expect(() => loadSae(saeLensFolder({ ...legacy, activation_fn_str: 'tanh-relu' }))).toThrow(/cfg.activation_fn must be "relu" or "topk"/);
    // a legacy per-latent decoder scale is folded into W_dec (SAELens 5: decode (f·s)·W_dec)
    const scaled = loadSae(saeLensFolder({}, { scaling_factor: f32([4], [1, 2, 1, 1]) }));
    close(Array.from(scaled.params.wDec.subarray(3, 6)), [0, 3, 0]);
  });

  it('refuses what it cannot honor, naming the field and what is supported', () => {
    expect(() => loadSae(saeLensFolder({ architecture: 'gated' }))).toThrow(/cfg.architecture must be one of "standard", "topk", "jumprelu", "batchtopk", "matryoshka_batchtopk", "matching_pursuit" \(gated SAEs and transcoders are not supported\), got gated/);
    expect(() => loadSae(saeLensFolder({ architecture: 'jumprelu_transcoder' }))).toThrow(/cfg.architecture/);
    expect(() => loadSae(saeLensFolder({ dtype: 'int8' }))).toThrow(/cfg.dtype must be one of "float32"/);
    expect(() => loadSae(saeLensFolder({ dtype: undefined }))).toThrow(/cfg.dtype/);
    expect(() => loadSae(saeLensFolder({ normalize_activations: 'batch_norm' }))).toThrow(/cfg.normalize_activations/);
    expect(() => loadSae(saeLensFolder({}, { W_skip: f32([3, 3], new Array(9).fill(0)) }))).toThrow(/sae_weights.safetensors must be exactly the tensors W_enc, b_enc, W_dec, b_dec of a "standard" SAE, got also W_skip/);
    expect(() => loadSae(saeLensFolder({ architecture: 'jumprelu' }))).toThrow(/threshold must be a tensor of shape \[4\]/);
  });
});

describe('nestlab saves SAELens folders and reads them back', () => {
  const x: Matrix = { data: Float32Array.from({ length: 40 * 6 }, (_, i) => Math.sin(i * 1.7) * 2), rows: 40, cols: 6 };

  it('a BatchTopK SAE with θ is saved as SAELens saves it: architecture jumprelu, θ per latent', async () => {
    const model = createSae({ dIn: 6, dSae: 16, k: 3, prefixes: [4, 16] }, { seed: 1 });
    model.threshold = new Float32Array(16).fill(0.3);
    const dir = tmp();
    saveSae(model, dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
    expect([cfg.architecture, cfg.dtype, cfg.metadata.sae_lens_version, cfg.matryoshka_widths]).toEqual(['jumprelu', 'float32', '6.18.0', [4, 16]]);
    const { tensors } = readSafetensors(join(dir, 'sae_weights.safetensors'));
    expect(Object.keys(tensors).sort()).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_enc', 'threshold']);
    const back = loadSae(dir);
    expect(back.cfg).toEqual(model.cfg);
    expect(back.threshold).toEqual(model.threshold);
    expect(await encodeSae(back, x)).toEqual(await encodeSae(model, x));
    // Read as a plain SAELens folder (nestlab's keys removed), it is a JumpReLU SAE with the same codes.
    const plain = Object.fromEntries(Object.entries(cfg).filter(([k]) => !k.startsWith('nestlab') && k !== 'config_hash' && k !== 'matryoshka_widths'));
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(plain));
    const asJumpRelu = loadSae(dir, { prefixes: [4, 16] });
    expect([asJumpRelu.cfg.activation, asJumpRelu.cfg.prefixes]).toEqual(['jumprelu', [4, 16]]);
    expect((await encodeSae(asJumpRelu, x)).idx).toEqual((await encodeSae(model, x)).idx);
  });

  it('before θ is estimated, a BatchTopK SAE is saved in SAELens training form and encodes only by batch', async () => {
    const model = createSae({ dIn: 6, dSae: 16, k: 3 }, { seed: 2 });
    const dir = tmp();
    saveSae(model, dir);
    expect(JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8')).architecture).toBe('batchtopk');
    const back = loadSae(dir);
    expect(back.threshold).toBeNull();
    await expect(encodeSae(back, x)).rejects.toThrow(/sae.encode: sae.threshold must be an estimated θ .* pass \{ selection: 'batch' \}/);
    const byBatch = await encodeSae(back, x, { selection: 'batch' });
    expect(byBatch.idx.length).toBe(3 * 40); // k·rows over the whole input
  });

  it('topk, relu and float16 / bfloat16 weights round-trip (half precision to its rounding)', async () => {
    for (const activation of ['topk', 'relu'] as const) {
      const model = createSae({ dIn: 6, dSae: 16, k: 3, activation }, { seed: 3 });
      const dir = tmp();
      saveSae(model, dir);
      const back = loadSae(dir);
      expect(back.params).toEqual(model.params);
      expect(await encodeSae(back, x)).toEqual(await encodeSae(model, x));
    }
    const model = createSae({ dIn: 6, dSae: 16, k: 3, activation: 'topk' }, { seed: 4 });
    for (const [dtype, st, rel] of [['float16', 'F16', 2 ** -11], ['bfloat16', 'BF16', 2 ** -8]] as const) {
      const dir = tmp();
      saveSae(model, dir, { dtype });
      expect(readSafetensors(join(dir, 'sae_weights.safetensors')).tensors.W_enc.dtype).toBe(st);
      expect(JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8')).dtype).toBe(dtype);
      const back = loadSae(dir);
      back.params.wEnc.forEach((v, i) => expect(Math.abs(v - model.params.wEnc[i])).toBeLessThanOrEqual(rel * Math.abs(model.params.wEnc[i]) + 1e-7));
    }
    expect(() => saveSae(model, tmp(), { dtype: 'int8' as never })).toThrow(/sae.save: options.dtype must be one of "float32", "float16", "bfloat16"/);
  });
});

const PY = process.env.NESTLAB_PEER_PYTHON ?? '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasNumpy)('a JumpReLU SAE written by a script from SAELens formulas (test/sae/saelens_fixture.py)', () => {
  it('loads and encodes exactly as relu(pre)·[pre > θ] says, in float32 and float16', async () => {
    const out = tmp();
    mkdirSync(out, { recursive: true });
    const res = spawnSync(PY, [join(__dirname, 'saelens_fixture.py'), out], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(res.status, res.stderr).toBe(0);
    const expected = JSON.parse(res.stdout);
    const npy = readNpy(join(out, 'x.npy'));
    const x: Matrix = { data: npy.data as Float32Array, rows: npy.shape[0], cols: npy.shape[1] };
    for (const name of ['jumprelu', 'jumprelu_f16']) {
      const e = expected[name];
      const model = loadSae(join(out, name));
      expect(model.cfg.activation).toBe('jumprelu');
      const code = await encodeSae(model, x, { dense: true });
      // The same support everywhere (no pre-activation is within float32 rounding of its θ here)...
      const support = (v: ArrayLike<number>) => Array.from(v, (a) => (a > 0 ? 1 : 0));
      expect(support(code.data)).toEqual(support(e.f));
      const l0 = support(code.data).reduce((a: number, b) => a + b, 0) / x.rows;
      expect(l0).toBeCloseTo(e.l0, 10); // e.g. 41.4 active latents, where a ReLU reading gives 338
      expect(e.reluL0).toBeGreaterThan(5 * e.l0);
      // ...and the same values and reconstructions to float32 accuracy.
      code.data.forEach((v, i) => expect(Math.abs(v - e.f[i])).toBeLessThan(1e-4));
      const recon = decodeSae(model, await encodeSae(model, x)).data;
      recon.forEach((v, i) => expect(Math.abs(v - e.recon[i])).toBeLessThan(1e-4));
    }
  });
});
