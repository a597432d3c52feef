import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { fitBigram, fitUnigram, ngramCrossEntropy, ngramDistribution, tuneBigramLambda } from '../../src/lm/baselines.js';
import { evaluationWindows } from '../../src/lm/train.js';

// A 3-word toy stream: ids 0, 1, 2.
const toy = Int32Array.from([0, 1, 2, 0, 1, 0]);

describe('n-gram baselines on hand-computed values', () => {
  it('the add-α unigram: P(w) = (c(w) + α) / (N + α·V)', () => {
    // c = (3, 2, 1), N = 6, V = 3, α = 1: P = (4/9, 3/9, 2/9).
    const uni = fitUnigram(toy, 3);
    expect(Array.from(uni.counts)).toEqual([3, 2, 1]);
    expect(uni.probabilities[0]).toBeCloseTo(4 / 9, 15);
    expect(uni.probabilities[1]).toBeCloseTo(3 / 9, 15);
    expect(uni.probabilities[2]).toBeCloseTo(2 / 9, 15);
    // α = 0.5: (3.5, 2.5, 1.5) / 7.5.
    expect(fitUnigram(toy, 3, { alpha: 0.5 }).probabilities[2]).toBeCloseTo(1.5 / 7.5, 15);
  });

  it('the Jelinek–Mercer bigram: λ·c(a, w)/c(a) + (1 − λ)·P_uni(w)', () => {
    // Pairs: (0,1) (1,2) (2,0) (0,1) (1,0): c(0,1) = 2, c(1,2) = 1, c(1,0) = 1, c(2,0) = 1;
    // contexts c(0) = 2, c(1) = 2, c(2) = 1. With λ = 0.5 and P_uni = (4/9, 3/9, 2/9):
    //   P(1|0) = 0.5·2/2 + 0.5·3/9 = 2/3     P(0|0) = 0.5·4/9 = 2/9     P(2|0) = 0.5·2/9 = 1/9
    //   P(2|1) = 0.5·1/2 + 0.5·2/9 = 13/36   P(0|1) = 0.5·1/2 + 0.5·4/9 = 17/36   P(1|1) = 0.5·3/9 = 6/36
    //   P(0|2) = 0.5·1/1 + 0.5·4/9 = 13/18   P(1|2) = 0.5·3/9 = 3/18           P(2|2) = 0.5·2/9 = 2/18
    const bi = fitBigram(toy, 3, { lambda: 0.5 });
    expect(Array.from(bi.contextCounts)).toEqual([2, 2, 1]);
    expect(Array.from(bi.rowStart)).toEqual([0, 1, 3, 4]); // rows: {1}, {0, 2}, {0}
    expect(Array.from(bi.next)).toEqual([1, 0, 2, 0]);
    expect(Array.from(bi.pairCounts)).toEqual([2, 1, 1, 1]);
    const close = (a: Float64Array, b: number[]) => b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 15));
    close(ngramDistribution(bi, 0), [2 / 9, 2 / 3, 1 / 9]);
    close(ngramDistribution(bi, 1), [17 / 36, 6 / 36, 13 / 36]);
    close(ngramDistribution(bi, 2), [13 / 18, 3 / 18, 2 / 18]);
  });

  it('cross-entropy on exactly the targets of evaluationWindows, each from the token before it', () => {
    // T = 2: ⌊(6 − 1)/2⌋ = 2 windows, inputs [0 1 | 2 0], targets [1 2 | 0 1].
    const w = evaluationWindows(toy, 2);
    expect(Array.from(w.inputs)).toEqual([0, 1, 2, 0]);
    expect(Array.from(w.targets)).toEqual([1, 2, 0, 1]);
    // Bigram (λ = 0.5): −[ln P(1|0) + ln P(2|1) + ln P(0|2) + ln P(1|0)] / 4.
    const bigram = -(2 * Math.log(2 / 3) + Math.log(13 / 36) + Math.log(13 / 18)) / 4; // 0.5387...
    expect(ngramCrossEntropy(fitBigram(toy, 3, { lambda: 0.5 }), w)).toBeCloseTo(bigram, 14);
    // Unigram: −[2·ln(3/9) + ln(2/9) + ln(4/9)] / 4.
    const unigram = -(2 * Math.log(3 / 9) + Math.log(2 / 9) + Math.log(4 / 9)) / 4; // 1.1281...
    expect(ngramCrossEntropy(fitUnigram(toy, 3), w)).toBeCloseTo(unigram, 14);
    // Negative targets are ignored: only −ln P(1|0) and −ln P(0|2) remain.
    const masked = { ...w, targets: Int32Array.from([1, -1, 0, -1]) };
    expect(ngramCrossEntropy(fitBigram(toy, 3, { lambda: 0.5 }), masked)).toBeCloseTo(-(Math.log(2 / 3) + Math.log(13 / 18)) / 2, 14);
  });

  it('gives a context it never saw the unigram, and every context a distribution summing to 1', () => {
    // Vocabulary of 5: id 3 never occurs, id 4 only last (never a context).
    const stream = Int32Array.from([0, 1, 2, 0, 1, 0, 2, 2, 1, 4]);
    for (const lambda of [0, 0.3, 0.9, 1]) {
      const bi = fitBigram(stream, 5, { lambda, alpha: 0.25 });
      for (let a = 0; a < 5; a++) {
        const p = ngramDistribution(bi, a);
        expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 14);
      }
      expect(Array.from(ngramDistribution(bi, 3))).toEqual(Array.from(bi.unigram.probabilities));
      expect(Array.from(ngramDistribution(bi, 4))).toEqual(Array.from(bi.unigram.probabilities));
    }
    expect(fitUnigram(stream, 5).probabilities.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 14);
  });

  it('scores log V for a uniform unigram', () => {
    const V = 17;
    const stream = new Int32Array(V * 5).map((_, i) => i % V); // every id equally often
    const w = evaluationWindows(stream, 8);
    expect(ngramCrossEntropy(fitUnigram(stream, V), w)).toBeCloseTo(Math.log(V), 12);
    // ... and with α large on any stream (the counts no longer matter).
    expect(ngramCrossEntropy(fitUnigram(toy, 3, { alpha: 1e12 }), evaluationWindows(toy, 2))).toBeCloseTo(Math.log(3), 9);
  });

  it('bigram beats unigram on a stream with strong bigram structure, and λ tuning picks the grid minimum', () => {
    // w_{i+1} = (7·w_i + 3) mod 50 with probability 0.9, else uniform: the next token is nearly
    // determined by the previous one, while all 50 tokens are about equally frequent.
    const V = 50;
    const rng = new Rng(3);
    const make = (n: number) => {
      const s = new Int32Array(n);
      for (let i = 1; i < n; i++) s[i] = rng.uniform() < 0.9 ? (7 * s[i - 1] + 3) % V : rng.int(V);
      return s;
    };
    const train = make(20_000);
    const valid = evaluationWindows(make(4_001), 16);
    const uni = ngramCrossEntropy(fitUnigram(train, V), valid);
    const bi = ngramCrossEntropy(fitBigram(train, V, { lambda: 0.9 }), valid);
    expect(uni).toBeGreaterThan(Math.log(V) - 0.05); // ≈ ln 50 = 3.91
    // The true conditional entropy: −0.902·ln 0.902 − 49·0.002·ln 0.002 ≈ 0.70 nats.
    expect(bi).toBeLessThan(0.85);
    const tuned = tuneBigramLambda(train, valid, V);
    expect(tuned.losses.map((l) => l.lambda)).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]);
    const min = Math.min(...tuned.losses.map((l) => l.loss));
    expect(tuned.losses.find((l) => l.lambda === tuned.lambda)!.loss).toBe(min);
    expect(ngramCrossEntropy(tuned.model, valid)).toBe(min);
    // Measured: unigram 3.93 nats, bigram (λ = 0.9) 0.720; the grid's minimum is λ = 0.95 (0.707).
    expect(tuned.lambda).toBe(0.95);
  });

  it('stores counts sparsely at V = 8192', () => {
    const V = 8192;
    const rng = new Rng(0);
    const stream = new Int32Array(50_000).map(() => rng.int(V));
    const bi = fitBigram(stream, V);
    expect(bi.next.length).toBeLessThanOrEqual(stream.length - 1);
    expect(bi.rowStart.length).toBe(V + 1);
    const p = ngramDistribution(bi, stream[0]);
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });

  it('names the argument of a bad input', () => {
    expect(() => fitUnigram(toy, 2)).toThrow(NestlabArgumentError);
    expect(() => fitUnigram(toy, 2)).toThrow(/^lm\.fitUnigram: trainStream\[2\] must be a token id in \[0, 1\], got 2/);
    expect(() => fitBigram(toy, 3, { lambda: 1.5 })).toThrow(/^lm\.fitBigram: options\.lambda must be a number in \[0, 1\]/);
    expect(() => fitBigram(toy, 3, { lamda: 0.5 } as never)).toThrow(/options\.lamda/);
    expect(() => fitUnigram(toy, 3, { alpha: 0 })).toThrow(/options\.alpha/);
    expect(() => fitBigram(Int32Array.from([1]), 3)).toThrow(/trainStream must be an Int32Array of at least 2/);
    expect(() => tuneBigramLambda(toy, evaluationWindows(toy, 2), 3, { grid: [] })).toThrow(/^lm\.tuneBigramLambda: options\.grid/);
    const bad = { inputs: Int32Array.from([0]), targets: Int32Array.from([5]), batchSize: 1 };
    expect(() => ngramCrossEntropy(fitUnigram(toy, 3), bad)).toThrow(/^lm\.ngramCrossEntropy: windows\.targets\[0\]/);
    expect(() => tuneBigramLambda(toy, bad, 3)).toThrow(/^lm\.tuneBigramLambda: validationWindows\.targets\[0\]/);
  });
});
