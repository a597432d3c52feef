/**
 * Fuzzed language-model files (issue #17 item 4): tokenizer.json, a model folder's cfg.json and
 * model.safetensors, and a checkpoint's latest.json and trainer_state.safetensors, as `lm.save` /
 * `lm.saveCheckpoint` write them for a tiny model, then mutated byte by byte and field by field
 * (wrong types, absurd values, objects whose string conversion throws). Every read must return a
 * model (disposed here) or throw a NestlabError with a one-line message naming the function the
 * user called, fast. Seeds are fixed; NESTLAB_STRESS scales the case counts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { loadLm, loadLmCheckpoint, saveLm, saveLmCheckpoint } from '../../src/lm/checkpoint.js';
import { LM_ARCHITECTURE_FIELDS, lmArchitecture, lmTraining } from '../../src/lm/config.js';
import { createLm, disposeLm, parameterShapes } from '../../src/lm/model.js';
import { tokenizerFromJson, tokenizerToJson, trainWordTokenizer, type WordTokenizer } from '../../src/lm/tokenizer.js';
import { createLmTrainerState, disposeLmTrainerState } from '../../src/lm/train.js';
import { attempt, mutate, mutations, nastyJson, reportCounts, show, tally, withField, UNCONVERTIBLE } from '../helpers/fuzz.js';
import { stressed } from '../helpers/stress.js';

const TIMEOUT = 60_000;
let dir: string;
let modelDir: string;
let checkpointDir: string;
let tokenizer: WordTokenizer;
let stepFolder: string;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'nestlab-fuzz-lm-'));
  tokenizer = trainWordTokenizer([{ words: 'the cat sat on the mat and the dog sat on the log'.split(' ') }], { vocabSize: 8 });
  const arch = lmArchitecture({ vocabSize: tokenizer.vocab.length, contextLength: 4, dModel: 4, nLayers: 1, nHeads: 2, dMlp: 8 });
  const model = createLm(arch, 0);
  modelDir = join(dir, 'model');
  await saveLm(model, tokenizer, modelDir);
  checkpointDir = join(dir, 'checkpoint');
  const state = createLmTrainerState(model);
  state.step = 3;
  stepFolder = await saveLmCheckpoint(checkpointDir, model, tokenizer, state, lmTraining({ steps: 10 }));
  disposeLmTrainerState(state);
  disposeLm(model);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKENIZER_PATHS = [['format'], ['version'], ['lowercase'], ['vocab'], ['vocab', '0'], ['vocab', '1'], ['vocab', '2'], ['vocab', '3'], ['vocab', '7'], ['extra'], ['__proto__']];
const CFG_PATHS = [['format'], ['version'], ['architecture'], ['extra'], ...LM_ARCHITECTURE_FIELDS.map((f) => ['architecture', f]), ['architecture', 'extra']];
const LATEST_PATHS = [['format'], ['version'], ['step'], ['folder'], ['config_hash'], ['extra']];
const edits = (paths: string[][]) =>
  fc.array(fc.record({ path: fc.constantFrom(...paths), value: fc.oneof({ weight: 6, arbitrary: nastyJson }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(UNCONVERTIBLE) }) }), { minLength: 1, maxLength: 3 });
function applyEdits(text: string, es: { path: string[]; value: unknown }[]): string {
  let out = JSON.parse(text) as Record<string, unknown>;
  for (const e of es) out = JSON.parse(withField(out, e.path, e.value));
  return JSON.stringify(out);
}

describe('fuzzed tokenizer.json (lm.tokenizerFromJson)', () => {
  it('a tokenizer or a named error for mutated and edited files', () => {
    const text = tokenizerToJson(tokenizer);
    fc.assert(
      fc.property(
        fc.oneof(
          mutations.map((ms) => ({ how: show(ms), text: Buffer.from(mutate(Buffer.from(text), ms)).toString('utf8') })),
          edits(TOKENIZER_PATHS).map((es) => ({ how: show(es), text: applyEdits(text, es) })),
          fc.constantFrom('', 'null', '[]', '"x\ny"', '{"format": "nestlab-word-tokenizer", "version": 1, "lowercase": true, "vocab": {"length": 1e9}}', `{"vocab": ${'['.repeat(50000)}${']'.repeat(50000)}}`).map((t) => ({ how: 'fixed', text: t })),
        ),
        ({ how, text: t }) => {
          tally('lm.tokenizerFromJson');
          const r = attempt(['lm.tokenizerFromJson'], () => tokenizerFromJson(t, 'tokenizer.json'), how);
          if (r.ok) {
            expect(Array.isArray(r.value.vocab) && r.value.vocab.every((w) => typeof w === 'string')).toBe(true);
            expect(r.value.vocab.length).toBeLessThanOrEqual(t.length);
          }
        },
      ),
      { seed: 2301, numRuns: stressed(2500) },
    );
  }, TIMEOUT);
});

describe('fuzzed model folders and checkpoints (lm.load, lm.loadCheckpoint)', () => {
  let n = 0;
  const check = (model: { params: Map<string, tf.Variable>; architecture: Parameters<typeof parameterShapes>[0] }) => {
    expect([...model.params.keys()]).toEqual(parameterShapes(model.architecture).map(([name]) => name));
  };

  it('mutated cfg.json, tokenizer.json and model.safetensors: a model or a named error', () => {
    const files = ['cfg.json', 'tokenizer.json', 'model.safetensors'];
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.oneof(mutations.map((ms) => ({ kind: 'bytes' as const, ms })), edits([...CFG_PATHS, ...TOKENIZER_PATHS]).map((es) => ({ kind: 'fields' as const, es }))), (file, how) => {
        tally('lm.load (files)');
        const folder = join(dir, `case-${n++}`);
        cpSync(modelDir, folder, { recursive: true });
        const p = join(folder, file);
        if (how.kind === 'bytes' || !file.endsWith('.json')) writeFileSync(p, mutate(readFileSync(p), how.kind === 'bytes' ? how.ms : [{ kind: 'flip', pos: how.es.length * 31, bit: 3 }]));
        else writeFileSync(p, applyEdits(readFileSync(p, 'utf8'), how.es));
        const r = attempt(['lm.load'], () => loadLm(folder), `${file} ${show(how)}`);
        if (r.ok) {
          check(r.value.model);
          disposeLm(r.value.model);
        }
        rmSync(folder, { recursive: true, force: true });
      }),
      { seed: 2401, numRuns: stressed(250) },
    );
  }, TIMEOUT);

  it('mutated latest.json, trainer_state.safetensors and step folder files: a checkpoint or a named error', () => {
    const step = stepFolder.slice(checkpointDir.length + 1);
    const files = ['latest.json', `${step}/trainer_state.safetensors`, `${step}/cfg.json`, `${step}/model.safetensors`, `${step}/tokenizer.json`];
    const tensorsBefore = tf.memory().numTensors;
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.oneof(mutations.map((ms) => ({ kind: 'bytes' as const, ms })), edits(LATEST_PATHS).map((es) => ({ kind: 'latest' as const, es }))), (file, how) => {
        tally('lm.loadCheckpoint (files)');
        const folder = join(dir, `case-${n++}`);
        cpSync(checkpointDir, folder, { recursive: true });
        if (how.kind === 'bytes') writeFileSync(join(folder, file), mutate(readFileSync(join(folder, file)), how.ms));
        else writeFileSync(join(folder, 'latest.json'), applyEdits(readFileSync(join(folder, 'latest.json'), 'utf8'), how.es));
        const r = attempt(['lm.loadCheckpoint'], () => loadLmCheckpoint(folder), `${file} ${show(how)}`);
        if (r.ok && r.value !== null) {
          check(r.value.model);
          expect(Number.isSafeInteger(r.value.state.step) && r.value.state.step >= 0).toBe(true);
          disposeLm(r.value.model);
          disposeLmTrainerState(r.value.state);
        }
        const m = attempt(['lm.load'], () => loadLm(folder), `lm.load ${file} ${show(how)}`);
        if (m.ok) disposeLm(m.value.model);
        rmSync(folder, { recursive: true, force: true });
      }),
      { seed: 2402, numRuns: stressed(200) },
    );
    expect(tf.memory().numTensors).toBe(tensorsBefore); // failed loads free what they made
  }, TIMEOUT);
});

describe('fuzz case counts', () => {
  it('reports the cases run', () => {
    const { total } = reportCounts('test/lm/fuzz-lm-files.test.ts');
    expect(total).toBeGreaterThan(0);
  });
});
