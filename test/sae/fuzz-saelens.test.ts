/**
 * Fuzzed SAE folders (issue #17 item 4): cfg.json (SAELens v6, legacy and nestlab's own keys),
 * sae_weights.safetensors, activation_scaler.json, latest.json and trainer_state.safetensors, as
 * written by `saveSae` / `saveCheckpoint` for every architecture and weight dtype, then mutated
 * field by field (wrong types, absurd values, objects whose string conversion throws) and byte
 * by byte. `sae.load` and the checkpoint reader must return an SAE or throw a NestlabError with a
 * one-line message naming the function, fast, and never hold more than the files justify.
 * Seeds are fixed; NESTLAB_STRESS scales the case counts.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, type NamedTensor } from '../../src/data/safetensors.js';
import { loadCheckpoint, loadSae, saveCheckpoint, saveSae } from '../../src/sae/checkpoint.js';
import { saeTraining } from '../../src/sae/config.js';
import { createSae, type Sae } from '../../src/sae/model.js';
import { readSaeLens } from '../../src/sae/saelens.js';
import { createTrainerState } from '../../src/sae/state.js';
import { attempt, mutate, mutations, nastyJson, reportCounts, show, tally, typedBytes, withField, UNCONVERTIBLE } from '../helpers/fuzz.js';
import { stressed } from '../helpers/stress.js';

const TIMEOUT = 60_000;
const WHERE = ['sae.load', 'sae.train'];
let dir: string;
/** Base folders: name -> path. */
const bases = new Map<string, string>();

function variant(kind: string): Sae {
  const arch =
    kind === 'relu' ? { dIn: 3, dSae: 4, activation: 'relu' as const }
    : kind === 'topk' ? { dIn: 3, dSae: 4, activation: 'topk' as const, k: 2 }
    : kind === 'jumprelu' ? { dIn: 3, dSae: 4, activation: 'jumprelu' as const }
    : { dIn: 3, dSae: 6, k: 2, prefixes: [2, 6] }; // batchtopk, Matryoshka
  const sae = createSae(arch, { seed: 3 });
  if (kind === 'jumprelu' || kind === 'batchtopk-theta') sae.threshold = new Float32Array(sae.cfg.dSae).fill(0.125);
  sae.training = saeTraining({ learningRate: 1e-3 }, sae.cfg);
  return sae;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestlab-fuzz-sae-'));
  for (const kind of ['relu', 'topk', 'jumprelu', 'batchtopk', 'batchtopk-theta']) {
    for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
      const folder = join(dir, `base-${kind}-${dtype}`);
      saveSae(variant(kind), folder, { dtype });
      bases.set(`${kind}/${dtype}`, folder);
    }
  }
  const ck = join(dir, 'base-checkpoint');
  const sae = variant('batchtopk-theta');
  const state = createTrainerState(sae);
  state.step = 12;
  saveCheckpoint(ck, sae, state);
  bases.set('checkpoint', ck);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes of all files under a folder. */
function folderBytes(folder: string): number {
  let sum = 0;
  for (const name of readdirSync(folder)) {
    const p = join(folder, name);
    const st = statSync(p);
    sum += st.isDirectory() ? folderBytes(p) : st.size;
  }
  return sum;
}

/** What a loaded SAE must satisfy: arrays of its sizes, no more bytes than the files justify. */
function checkSae(sae: Sae, bytes: number): void {
  const { dIn: d, dSae: m } = sae.cfg;
  expect(sae.params.wEnc.length).toBe(d * m);
  expect(sae.params.wDec.length).toBe(m * d);
  expect(sae.params.bEnc.length).toBe(m);
  expect(sae.params.bDec.length).toBe(d);
  if (sae.threshold !== null) expect(sae.threshold.length).toBe(m);
  // F16 / BF16 weights widen 2x; a θ from cfg.json (one number) is filled per latent: a few bytes per latent of the weights.
  expect(typedBytes(sae)).toBeLessThanOrEqual(4 * bytes + 1024);
}

/** cfg.json keys that readers look at (SAELens v6, legacy, nestlab's), and nested paths. */
const CFG_PATHS: string[][] = [
  ...['architecture', 'd_in', 'd_sae', 'dtype', 'apply_b_dec_to_input', 'normalize_activations', 'reshape_activations', 'metadata', 'k', 'rescale_acts_by_decoder_norm', 'matryoshka_widths', 'config_hash', 'nestlab_checkpoint_version', 'nestlab_architecture', 'nestlab_training', 'nestlab_config', 'threshold', 'activation_fn', 'activation_fn_kwargs', 'activation_fn_str', 'hook_point', 'sae_lens_version', '__proto__'].map((k) => [k]),
  ['metadata', 'sae_lens_version'],
  ['activation_fn_kwargs', 'k'],
  ...['dIn', 'dSae', 'activation', 'k', 'prefixes', 'applyBDecToInput', 'normalizeActivations', 'extra'].map((k) => ['nestlab_architecture', k]),
  ...['learningRate', 'epochs', 'batchSize', 'l1Coeff', 'prefixWeights', 'extra'].map((k) => ['nestlab_training', k]),
];
const cfgEdit = fc.record({ path: fc.constantFrom(...CFG_PATHS), value: fc.oneof({ weight: 5, arbitrary: nastyJson }, { weight: 1, arbitrary: fc.constant(undefined) }) });
const cfgEdits = fc.array(cfgEdit, { minLength: 1, maxLength: 3 });

function applyEdits(cfg: Record<string, unknown>, edits: { path: string[]; value: unknown }[]): Record<string, unknown> {
  let out = cfg;
  for (const e of edits) out = JSON.parse(withField(out, e.path, e.value));
  return out;
}

describe('fuzzed SAELens / nestlab cfg.json (readSaeLens, in memory)', () => {
  it('an SAE or a named error for every edited cfg, SAELens or nestlab form, with odd tensors', () => {
    const inputs = [...bases].filter(([k]) => k !== 'checkpoint').map(([key, folder]) => ({
      key,
      cfg: JSON.parse(readFileSync(join(folder, 'cfg.json'), 'utf8')) as Record<string, unknown>,
      tensors: readSafetensors(join(folder, 'sae_weights.safetensors')).tensors,
      bytes: folderBytes(folder),
    }));
    const oddTensor = fc.record({
      name: fc.constantFrom('W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold', 'topk_threshold', 'scaling_factor', 'extra'),
      tensor: fc.constantFrom<NamedTensor | undefined>(
        undefined,
        { dtype: 'I32', shape: [4], data: new Int32Array(4) },
        { dtype: 'I64', shape: [1], data: new BigInt64Array(1) },
        { dtype: 'U8', shape: [3, 4], data: new Uint8Array(12) },
        { dtype: 'F64', shape: [4], data: new Float64Array(4).fill(2) },
        { dtype: 'F32', shape: [], data: new Float32Array([0.5]) },
        { dtype: 'F32', shape: [0], data: new Float32Array(0) },
        { dtype: 'F32', shape: [4, 3], data: new Float32Array(12) },
      ),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...inputs),
        fc.boolean(),
        cfgEdits,
        fc.option(oddTensor, { nil: undefined, freq: 3 }),
        fc.option(fc.oneof(fc.double(), fc.constantFrom(0, -1, 1e300, 2)), { nil: undefined }),
        (input, saeLensOnly, edits, odd, scaler) => {
          tally('readSaeLens (cfg fields)');
          let cfg = input.cfg;
          // Half the cases drop nestlab's keys, so the SAELens (and legacy) reading is fuzzed too.
          if (saeLensOnly) cfg = Object.fromEntries(Object.entries(cfg).filter(([k]) => !k.startsWith('nestlab_') && k !== 'config_hash'));
          cfg = applyEdits(cfg, edits);
          const tensors = { ...input.tensors };
          if (odd !== undefined) {
            if (odd.tensor === undefined) delete tensors[odd.name];
            else tensors[odd.name] = odd.tensor;
          }
          const r = attempt(WHERE, () => readSaeLens('sae.load', cfg, tensors, {}, scaler), `${input.key} ${show(edits)} ${show(odd?.name)}`);
          if (r.ok) checkSae(r.value.sae, input.bytes);
        },
      ),
      { seed: 2101, numRuns: stressed(2500) },
    );
  }, TIMEOUT);

  it('objects whose string conversion throws are refused by name in every field', () => {
    const cfg = JSON.parse(readFileSync(join(bases.get('topk/float32')!, 'cfg.json'), 'utf8'));
    const tensors = readSafetensors(join(bases.get('topk/float32')!, 'sae_weights.safetensors')).tensors;
    let cases = 0;
    for (const path of CFG_PATHS) {
      for (const saeLensOnly of [false, true]) {
        let c = saeLensOnly ? Object.fromEntries(Object.entries(cfg).filter(([k]) => !k.startsWith('nestlab_'))) : cfg;
        c = JSON.parse(withField(c, path, UNCONVERTIBLE));
        attempt(WHERE, () => readSaeLens('sae.load', c, tensors, {}), `${path.join('.')} = {toString: 1, valueOf: 1}`);
        cases++;
      }
    }
    tally('readSaeLens (cfg fields)', cases);
  });
});

describe('fuzzed SAE folders on disk (sae.load, the checkpoint reader)', () => {
  const FILES = ['cfg.json', 'sae_weights.safetensors', 'activation_scaler.json'];
  let n = 0;
  it('mutated cfg.json, weights and scaler files: an SAE or a named error', () => {
    const keys = [...bases.keys()].filter((k) => k !== 'checkpoint');
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.constantFrom(...FILES),
        fc.oneof(mutations.map((ms) => ({ kind: 'bytes' as const, ms })), cfgEdits.map((edits) => ({ kind: 'fields' as const, edits }))),
        (key, file, how) => {
          tally('sae.load (files)');
          const folder = join(dir, `case-${n++}`);
          cpSync(bases.get(key)!, folder, { recursive: true });
          const p = join(folder, file);
          const original = file === 'activation_scaler.json' ? Buffer.from('{"scaling_factor": 2}') : readFileSync(p);
          if (how.kind === 'bytes') writeFileSync(p, mutate(original, how.ms));
          else if (file.endsWith('.json')) writeFileSync(p, JSON.stringify(applyEdits(JSON.parse(original.toString('utf8')), how.edits)));
          else writeFileSync(p, mutate(original, [{ kind: 'truncate', pos: how.edits.length * 7919 }]));
          const r = attempt(WHERE, () => loadSae(folder), `${key} ${file} ${show(how)}`);
          if (r.ok) checkSae(r.value, folderBytes(folder));
          rmSync(folder, { recursive: true, force: true });
        },
      ),
      { seed: 2201, numRuns: stressed(250) },
    );
  }, TIMEOUT);

  it('mutated checkpoints (latest.json, the step folder, trainer_state.safetensors): a checkpoint or a named error', () => {
    const base = bases.get('checkpoint')!;
    const step = readdirSync(base).find((x) => x.startsWith('step-'))!;
    const files = ['latest.json', `${step}/trainer_state.safetensors`, `${step}/cfg.json`, `${step}/sae_weights.safetensors`];
    const latestPaths = ['version', 'folder', 'step', 'config_hash', '__proto__'].map((k) => [k]);
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.oneof(
          mutations.map((ms) => ({ kind: 'bytes' as const, ms })),
          fc.array(fc.record({ path: fc.constantFrom(...latestPaths), value: fc.oneof(nastyJson, fc.constantFrom('step-1', 'step-00000012/../step-00000012', '/etc', 'cfg.json', 2, 3, '3')) }), { minLength: 1, maxLength: 2 }).map((edits) => ({ kind: 'latest' as const, edits })),
        ),
        (file, how) => {
          tally('checkpoint reader (files)');
          const folder = join(dir, `case-${n++}`);
          cpSync(base, folder, { recursive: true });
          if (how.kind === 'bytes') writeFileSync(join(folder, file), mutate(readFileSync(join(folder, file)), how.ms));
          else writeFileSync(join(folder, 'latest.json'), JSON.stringify(applyEdits(JSON.parse(readFileSync(join(folder, 'latest.json'), 'utf8')), how.edits)));
          const r = attempt(WHERE, () => loadCheckpoint(folder), `${file} ${show(how)}`);
          if (r.ok && r.value !== null) {
            checkSae(r.value.sae, folderBytes(folder));
            if (r.value.state !== null) {
              expect(Number.isSafeInteger(r.value.state.step) && r.value.state.step >= 0).toBe(true);
              expect(typedBytes(r.value)).toBeLessThanOrEqual(4 * folderBytes(folder) + 1024);
            }
          }
          attempt(WHERE, () => loadSae(folder), `loadSae ${file} ${show(how)}`);
          rmSync(folder, { recursive: true, force: true });
        },
      ),
      { seed: 2202, numRuns: stressed(200) },
    );
  }, TIMEOUT);
});

describe('fuzz case counts', () => {
  it('reports the cases run', () => {
    const { total } = reportCounts('test/sae/fuzz-saelens.test.ts');
    expect(total).toBeGreaterThan(0);
  });
});
