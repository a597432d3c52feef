import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import type { Matrix } from '../../src/data/matrix.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { captureBatches } from '../../src/lm/capture.js';
import { neuronCensus, type NeuronCensusRow } from '../../src/lm/census.js';
import { lmArchitecture } from '../../src/lm/config.js';
import { createLm, disposeLm, hookWidth } from '../../src/lm/model.js';
import { evaluationWindows } from '../../src/lm/train.js';

/** Binary entropy in nats. */
const h = (p: number) => (p <= 0 || p >= 1 ? 0 : -p * Math.log(p) - (1 - p) * Math.log(1 - p));

/** A matrix whose column j is columns[j] (one value per row). */
function fromColumns(columns: number[][]): Matrix {
  const rows = columns[0].length;
  const cols = columns.length;
  const data = new Float32Array(rows * cols);
  columns.forEach((col, j) => col.forEach((v, r) => (data[r * cols + j] = v)));
  return { data, rows, cols };
}

describe('neuronCensus on synthetic neurons whose kind is known', () => {
  // 60 windows of 32 positions over 40 token types, with the bigram (3, 5) planted at 50 random
  // places (never at a window's first position) so that a bigram neuron fires often enough.
  const V = 40;
  const T = 32;
  const W = 60;
  const N = W * T;
  const rng = new Rng(4);
  const tokens = Int32Array.from({ length: N }, () => rng.int(V));
  const positions = Int32Array.from({ length: N }, (_, r) => r % T);
  for (let k = 0; k < 50; k++) {
    const r = rng.int(N);
    if (positions[r] === 0) continue;
    tokens[r - 1] = 3;
    tokens[r] = 5;
  }
  const isBigram35 = (r: number) => positions[r] > 0 && tokens[r - 1] === 3 && tokens[r] === 5;
  const rare = new Set([17, 900, 1500]);
  const noise = new Rng(9);
  const columns = [
    Array.from({ length: N }, () => 0), // 0: zero everywhere: dead
    Array.from({ length: N }, (_, r) => (tokens[r] === 7 ? 1.5 : -0.1)), // 1: token 7 only
    Array.from({ length: N }, (_, r) => (isBigram35(r) ? 2 : -0.2)), // 2: bigram (3, 5) only
    Array.from({ length: N }, (_, r) => (positions[r] - 15.5) / 16), // 3: a ramp in position, fires from 16 on
    Array.from({ length: N }, () => noise.normal()), // 4: dense noise
    Array.from({ length: N }, (_, r) => (rare.has(r) ? 1 : -1)), // 5: fires 3 times only
    Array.from({ length: N }, (_, r) => (tokens[r] === 7 || tokens[r] === 8 ? 1 : -1)), // 6: tokens 7 and 8
  ];
  const acts = fromColumns(columns);
  const census = neuronCensus(acts, tokens, positions, { hook: 'blocks.0.mlp.hook_post' });
  const row = (j: number): NeuronCensusRow => census.neurons[j];
  const occurrences = (t: number) => tokens.reduce((s, x) => s + (x === t ? 1 : 0), 0);

  it('counts firings and calls a neuron that never fires dead', () => {
    expect(row(0)).toMatchObject({ fires: 0, fireRate: 0, dead: true, tokenCount: 0, tokens: [], tokenDetector: false, ngramDetector: false, positional: false });
    expect(row(1).fires).toBe(occurrences(7));
    expect(row(3).fires).toBe(N / 2);
    expect(row(5).fires).toBe(3);
    expect(census.neurons.map((r) => r.dead)).toEqual([true, false, false, false, false, false, false]);
  });

  it('finds the token detector and its token', () => {
    expect(row(1)).toMatchObject({ tokenCount: 1, tokens: [7], tokenFireRate: 1, tokenDetector: true, ngramDetector: false, positional: false });
    // Tokens 7 and 8: a detector of two tokens, unless maxTokens is 1.
    expect(row(6)).toMatchObject({ tokenCount: 2, tokenFireRate: 1, tokenDetector: true });
    expect(row(6).tokens.sort((a, b) => a - b)).toEqual([7, 8]);
    const strict = neuronCensus(acts, tokens, positions, { maxTokens: 1 });
    expect(strict.neurons[6]).toMatchObject({ tokenCount: 2, tokens: [occurrences(7) >= occurrences(8) ? 7 : 8], tokenDetector: false });
    expect(strict.neurons[1].tokenDetector).toBe(true);
  });

  it('calls the bigram neuron an n-gram detector, not a token detector: it fires on few of token 5’s occurrences', () => {
    const n35 = Array.from({ length: N }, (_, r) => r).filter(isBigram35).length;
    expect(n35).toBeGreaterThanOrEqual(40);
    const r = row(2);
    expect(r.fires).toBe(n35);
    expect(r).toMatchObject({ tokenCount: 1, tokens: [5], bigramCount: 1, bigrams: [[3, 5]], bigramFireRate: 1, tokenDetector: false, ngramDetector: true, positional: false });
    expect(r.tokenFireRate).toBeCloseTo(n35 / occurrences(5), 12);
    expect(r.tokenFireRate).toBeLessThan(0.9);
  });

  it('calls the ramp positional, with the information of a firing that position decides', () => {
    const r = row(3);
    // H(F | P) = 0 and H(F) = ln 2, less the Miller–Madow bias (T − 1)/2N.
    expect(r.positionalInfo).toBeCloseTo((Math.LN2 - (T - 1) / (2 * N)) / Math.LN2, 10);
    expect(r.positionVarianceShare).toBeCloseTo(1, 6);
    expect(r).toMatchObject({ positional: true, tokenDetector: false, ngramDetector: false });
    expect(r.tokenCount).toBeGreaterThan(30);
  });

  it('leaves dense noise and a neuron that fires too rarely unclassified', () => {
    const r = row(4);
    expect(r.fireRate).toBeGreaterThan(0.4);
    expect(r.fireRate).toBeLessThan(0.6);
    expect(r.positionalInfo).toBeLessThan(0.05);
    expect(r.positionVarianceShare).toBeLessThan(0.05);
    expect(r.tokenCount).toBeGreaterThan(30);
    expect(r).toMatchObject({ dead: false, tokenDetector: false, ngramDetector: false, positional: false });
    // Fires only on 3 rows: 3 tokens cover it and it fires on few of their occurrences, but below minFires it is nothing anyway.
    expect(row(5)).toMatchObject({ dead: false, tokenDetector: false, ngramDetector: false, positional: false });
    expect(neuronCensus(acts, tokens, positions, { minFires: 3, minFireRate: 0 }).neurons[5].tokenDetector).toBe(true);
  });

  it('sums the layer up and carries its parameters and hook', () => {
    expect(census.hook).toBe('blocks.0.mlp.hook_post');
    expect(census.parameters).toEqual({ tokenCoverage: 0.95, maxTokens: 5, maxNgrams: 5, minFireRate: 0.9, minFires: 10, minPositionalInfo: 0.5 });
    const alive = census.neurons.filter((r) => !r.dead);
    expect(census.summary).toMatchObject({
      neurons: 7, rows: N, dead: 1, tokenDetectors: 2, ngramDetectors: 1, positional: 1, tokensCovered: 2,
    });
    expect(census.summary.deadFraction).toBeCloseTo(1 / 7, 12);
    expect(census.summary.tokenDetectorFraction).toBeCloseTo(2 / 7, 12);
    expect(census.summary.meanAliveFireRate).toBeCloseTo(alive.reduce((s, r) => s + r.fireRate, 0) / 6, 12);
  });
});

describe('neuronCensus statistics against hand-computed values', () => {
  it('covering set: the fewest token types holding tokenCoverage of the firings, whatever the ties', () => {
    // Fires 3× on token 1, 2× on token 2, once on 3 and on 4 (7 firings); token 9 never fires.
    const tokens = Int32Array.from([1, 1, 1, 2, 2, 3, 4, 9, 9, 1]);
    const positions = Int32Array.from({ length: 10 }, (_, i) => i);
    const fire = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
    const acts = fromColumns([fire.map((f) => (f ? 1 : -1))]);
    const at = (tokenCoverage: number) => neuronCensus(acts, tokens, positions, { tokenCoverage, minFires: 1 }).neurons[0];
    expect(at(0.95)).toMatchObject({ tokenCount: 4, tokens: [1, 2, 3, 4] });
    expect(at(0.7)).toMatchObject({ tokenCount: 2 }); // 3 + 2 = 5 ≥ 4.9
    expect(at(5 / 7)).toMatchObject({ tokenCount: 2 }); // exactly 5 of 7
    expect(at(0.72)).toMatchObject({ tokenCount: 3 }); // 3 + 2 + 1 = 6 ≥ 5.04
    // Token 1 occurs 4 times and fires 3: the rate over the listed tokens 1..4 is 7 / 8.
    expect(at(0.95).tokenFireRate).toBeCloseTo(7 / 8, 12);
    // The listed tokens are the top maxTokens; ties (tokens 3 and 4, once each) by the smaller id.
    expect(neuronCensus(acts, tokens, positions, { maxTokens: 3, minFires: 1 }).neurons[0]).toMatchObject({ tokenCount: 4, tokens: [1, 2, 3] });
    // Bigrams: position i follows i − 1, so row 0 has no previous token (−1).
    expect(at(0.95).bigrams.slice(0, 2)).toEqual([[1, 1], [-1, 1]]);
    expect(at(0.95).bigramCount).toBe(6); // 6 distinct bigrams, (1, 1) twice: all are needed for 0.95 · 7
  });

  it('positional information: bias-corrected mutual information over the entropy of firing', () => {
    // Two positions, 4 rows each; fires on 3 of position 0 and 1 of position 1.
    const positions = Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]);
    const tokens = new Int32Array(8);
    const values = [2, 1, 2, -1, 2, -1, -3, -1];
    const r = neuronCensus(fromColumns([values]), tokens, positions, { minFires: 1 }).neurons[0];
    const N = 8;
    const I = Math.LN2 - (0.5 * h(3 / 4) + 0.5 * h(1 / 4));
    expect(r.positionalInfo).toBeCloseTo((I - 1 / (2 * N)) / Math.LN2, 12);
    // η²: position means 3/4 and −1/2 around the mean 1/8; total sum of squares of the values.
    const mean = values.reduce((a, b) => a + b) / N;
    const between = 4 * (0.75 - mean) ** 2 + 4 * (-0.5 - mean) ** 2;
    const total = values.reduce((s, v) => s + (v - mean) ** 2, 0);
    expect(r.positionVarianceShare).toBeCloseTo(between / total, 12);
    // Firing on every row or none: no uncertainty to remove.
    expect(neuronCensus(fromColumns([[1, 2, 3, 4, 5, 6, 7, 8]]), tokens, positions).neurons[0].positionalInfo).toBe(0);
  });

  it('takes the previous token only from the row before in the same window', () => {
    // Two windows of 3: the second starts at row 3, whose previous token is none (−1), not token 3 of row 2.
    const tokens = Int32Array.from([4, 6, 3, 5, 3, 5]);
    const positions = Int32Array.from([0, 1, 2, 0, 1, 2]);
    const r = neuronCensus(fromColumns([[-1, -1, -1, 1, -1, 1]]), tokens, positions, { minFires: 1 }).neurons[0];
    expect(r.bigrams).toEqual([[-1, 5], [3, 5]]);
    expect(r.bigramFireRate).toBe(1);
    expect(r.tokenFireRate).toBe(1);
  });
});

describe('neuronCensus argument checks', () => {
  const acts = fromColumns([[1, -1, 1], [0, 0, 2]]);
  const tokens = Int32Array.from([1, 2, 3]);
  const positions = Int32Array.from([0, 1, 2]);

  it('names the argument in one line', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => neuronCensus({ data: new Float32Array(5), rows: 3, cols: 2 }, tokens, positions), /^lm\.neuronCensus: activations must be a Matrix/],
      [() => neuronCensus(fromColumns([[1, NaN, 0]]), tokens, positions), /^lm\.neuronCensus: activations must be finite numbers only, got NaN at index 1$/],
      [() => neuronCensus(acts, Int32Array.from([1, 2]), positions), /^lm\.neuronCensus: tokens must be an Int32Array with one entry per row of activations \(3\), got a Int32Array of length 2$/],
      [() => neuronCensus(acts, [1, 2, 3] as unknown as Int32Array, positions), /^lm\.neuronCensus: tokens must be an Int32Array/],
      [() => neuronCensus(acts, tokens, Int32Array.from([0, -1, 2])), /^lm\.neuronCensus: positions must be ids ≥ 0, got -1 at index 1$/],
      [() => neuronCensus(acts, tokens, positions, { tokenCoverage: 0 }), /^lm\.neuronCensus: options\.tokenCoverage must be a number in \(0, 1\], got 0$/],
      [() => neuronCensus(acts, tokens, positions, { maxTokens: 0 }), /^lm\.neuronCensus: options\.maxTokens must be an integer/],
      [() => neuronCensus(acts, tokens, positions, { maxNgrams: 1.5 }), /^lm\.neuronCensus: options\.maxNgrams must be an integer/],
      [() => neuronCensus(acts, tokens, positions, { minFireRate: 1.1 }), /^lm\.neuronCensus: options\.minFireRate must be a finite number in \[0, 1\]/],
      [() => neuronCensus(acts, tokens, positions, { minFires: 0 }), /^lm\.neuronCensus: options\.minFires must be an integer/],
      [() => neuronCensus(acts, tokens, positions, { minPositionalInfo: -0.1 }), /^lm\.neuronCensus: options\.minPositionalInfo must be a finite number/],
      [() => neuronCensus(acts, tokens, positions, { hook: '' }), /^lm\.neuronCensus: options\.hook must be a non-empty string/],
      [() => neuronCensus(acts, tokens, positions, { tokenCoverge: 0.9 } as never), /^lm\.neuronCensus: options\.tokenCoverge must be one of the known options/],
    ];
    for (const [call, message] of cases) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(NestlabArgumentError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('neuronCensus on a tiny LM’s MLP neurons (random weights)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const activation of ['gelu', 'relu'] as const) {
    it(`captures mlp.hook_pre and hook_post [rows, dMlp], post = ${activation}(pre), and the census of either gives the same firings`, async () => {
      const arch = lmArchitecture({ vocabSize: 17, contextLength: 6, dModel: 8, nLayers: 1, nHeads: 2, dMlp: 24, activation });
      const model = createLm(arch, 3);
      try {
        const stream = Int32Array.from({ length: 200 }, (_, i) => (i * 5 + (i >> 3)) % 17);
        const windows = evaluationWindows(stream, 6, 7); // 42 rows
        const N = windows.inputs.length;
        const hooks = ['blocks.0.mlp.hook_pre', 'blocks.0.mlp.hook_post'];
        const got = new Map<string, Float32Array>(hooks.map((hk) => [hk, new Float32Array(N * hookWidth(arch, hk))]));
        const before = tf.memory().numTensors;
        for await (const b of captureBatches(model, windows, hooks, { batchSize: 3 })) {
          for (const hk of hooks) {
            expect(b.activations.get(hk)!.length, hk).toBe(b.rows * 24);
            got.get(hk)!.set(b.activations.get(hk)!, b.firstRow * 24);
          }
        }
        expect(tf.memory().numTensors).toBe(before);
        expect(hooks.map((hk) => hookWidth(arch, hk))).toEqual([24, 24]);
        const pre = got.get(hooks[0])!;
        const post = got.get(hooks[1])!;
        // GPT-2's tanh GELU ("gelu_new"), or max(0, x).
        const f = activation === 'gelu'
          ? (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
          : (x: number) => Math.max(0, x);
        let err = 0;
        for (let i = 0; i < pre.length; i++) err = Math.max(err, Math.abs(post[i] - f(pre[i])));
        expect(err).toBeLessThanOrEqual(1e-6);
        const positions = Int32Array.from({ length: N }, (_, r) => r % 6);
        const onPost = neuronCensus({ data: post, rows: N, cols: 24 }, windows.inputs, positions, { hook: hooks[1] });
        const onPre = neuronCensus({ data: pre, rows: N, cols: 24 }, windows.inputs, positions);
        expect(onPost.neurons).toHaveLength(24);
        expect(onPost.summary).toMatchObject({ neurons: 24, rows: N });
        expect(onPost.neurons.map((r) => r.fires)).toEqual(onPre.neurons.map((r) => r.fires));
        for (let j = 0; j < 24; j++) {
          let fires = 0;
          for (let r = 0; r < N; r++) if (pre[r * 24 + j] > 0) fires++;
          expect(onPost.neurons[j].fires).toBe(fires);
        }
        // A random GELU/ReLU layer fires on about half its inputs: nothing is dead here.
        expect(onPost.summary.dead).toBe(0);
      } finally {
        disposeLm(model);
      }
    });
  }
});
