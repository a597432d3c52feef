import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { tf } from '../../src/backend/tf.js';
import { fromRows } from '../../src/data/matrix.js';
import { computeRdm, computeRdms, crossnobisRdm, foldsFromLabels } from '../../src/rsa/rdm.js';
import { pairIndex, rdm, rdmSize, squareform, subsampleRdm, toCondensed, valuesOf, type RdmLike } from '../../src/rsa/condensed.js';

// Pair order everywhere: (0,1), (0,2), (0,3), (1,2), (1,3), (2,3) (scipy pdist / squareform).
// RDMs are float32 Gram products on tfjs, so hand values are checked to 1e-6.
const close = (r: RdmLike, want: number[], tol = 1e-6) => {
  const got = valuesOf(r);
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w), `entry ${i}: ${got[i]} vs ${w}`).toBeLessThan(tol));
};

// T1 of docs/methods/rsa.md §13: 4 stimuli x 2 channels.
const X = fromRows([[0, 0], [1, 0], [0, 2], [1, 2]]);

beforeAll(async () => {
  await initBackend();
});

describe('condensed helpers', () => {
  it('index pairs in scipy order and round-trip through square form', () => {
    expect([pairIndex(4, 0, 1), pairIndex(4, 0, 3), pairIndex(4, 1, 2), pairIndex(4, 3, 2)]).toEqual([0, 2, 3, 5]);
    const v = [1, 2, 3, 4, 5, 6];
    const sq = squareform(v);
    expect(Array.from(sq.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(Array.from(toCondensed(sq, 4))).toEqual(v);
    expect(rdmSize(6)).toBe(4);
    expect(() => rdmSize(5)).toThrow(/n\(n-1\)\/2/);
  });

  it('subsamples stimuli with repeats, NaN between copies of one stimulus', () => {
    const s = subsampleRdm(rdm([1, 2, 3, 4, 5, 6], { measure: 'm', patternDescriptors: { name: ['a', 'b', 'c', 'd'] } }), [3, 0, 0]);
    // pairs (3,0)=3, (3,0)=3, (0,0)=NaN; the descriptors follow the stimuli
    expect(s.values[0]).toBe(3);
    expect(s.values[1]).toBe(3);
    expect(Number.isNaN(s.values[2])).toBe(true);
    expect(s.patternDescriptors).toEqual({ name: ['d', 'a', 'a'] });
    expect(s.measure).toBe('m');
  });

  it('builds an Rdm from condensed or square values, and refuses other lengths', () => {
    const a = rdm([1, 2, 3]);
    expect(a).toEqual({ values: Float64Array.of(1, 2, 3), n: 3, measure: 'dissimilarity' });
    expect(rdm([0, 1, 2, 1, 0, 3, 2, 3, 0], { measure: 'model' }).values).toEqual(Float64Array.of(1, 2, 3));
    expect(() => rdm([1, 2, 3, 4, 5])).toThrow(/rsa.rdm: values must be n\(n-1\)\/2 \(condensed\) or n\*n \(square\) entries, got 5 entries/);
    expect(() => rdm([0, 1, 2, 0])).toThrow(/rsa.rdm: values must be a symmetric matrix/);
    expect(() => rdm([1, 2, 3], { patternDescriptors: { label: [1, 2] } })).toThrow(/patternDescriptors.label must be an array of 3 values/);
  });
});

describe('computeRdm on hand-computed 4 x 2 examples', () => {
  it("'euclidean' is the squared distance divided by the channel count (rsatoolbox)", async () => {
    // (0,3): ((1-0)^2 + (2-0)^2) / 2 = 2.5; (0,1): 1/2; (0,2): 4/2
    close(await computeRdm(X), [0.5, 2, 2.5, 2.5, 2, 0.5]);
    close(await computeRdm(X, { method: 'euclidean', removeMean: false }), [0.5, 2, 2.5, 2.5, 2, 0.5]);
  });

  it('removeMean subtracts each pattern mean over channels first (rsatoolbox remove_mean)', async () => {
    // rows minus their means: [0,0], [.5,-.5], [-1,1], [-.5,.5]; (1,2): (1.5^2 + 1.5^2)/2 = 2.25
    close(await computeRdm(X, { removeMean: true }), [0.25, 1, 0.25, 2.25, 1, 0.25]);
    await expect(computeRdm(X, { method: 'correlation', removeMean: true })).rejects.toThrow(/only with euclidean-type/);
  });

  it("'plain_euclidean' is scipy's pdist", async () => {
    close(await computeRdm(X, { method: 'plain_euclidean' }), [1, 2, Math.sqrt(5), Math.sqrt(5), 2, 1]);
  });

  it("'mahalanobis' with precision diag(1, 1/4) or covariance diag(1, 4) (T2)", async () => {
    // (0,2): [0,-2] diag(1,.25) [0,-2] / 2 = 1/2; (0,3): (1 + 4/4)/2 = 1
    const want = [0.5, 0.5, 1, 1, 0.5, 0.5];
    close(await computeRdm(X, { method: 'mahalanobis', precision: [1, 0, 0, 0.25] }), want);
    close(await computeRdm(X, { method: 'mahalanobis', noiseCovariance: [1, 0, 0, 4] }), want);
  });

  it("'mahalanobis' with a full covariance equals d^T Sigma^-1 d / P", async () => {
    // Sigma = [[2,1],[1,2]], Sigma^-1 = [[2,-1],[-1,2]]/3. d(0,3) = [1,2]: (2 - 4 + 8)/3/2 = 1.
    // d(0,1) = [1,0]: 2/3/2 = 1/3; d(0,2) = [0,2]: 8/3/2 = 4/3; d(1,2) = [-1,2]: (2+4+8)/3/2 = 7/3
    const want = [1 / 3, 4 / 3, 1, 7 / 3, 4 / 3, 1 / 3];
    close(await computeRdm(X, { method: 'mahalanobis', noiseCovariance: [2, 1, 1, 2] }), want);
    close(await computeRdm(X, { method: 'mahalanobis', precision: [2 / 3, -1 / 3, -1 / 3, 2 / 3] }), want);
  });

  it("'correlation' is 1 - Pearson r across channels (T3, and a 2-channel case)", async () => {
    // With 2 channels r = +1 for rising rows, -1 for falling ones.
    close(await computeRdm(fromRows([[0, 1], [1, 0], [2, 3], [5, 1]]), { method: 'correlation' }), [2, 0, 2, 2, 0, 2]);
    // T3: centered rows [-1,0,1], [1,0,-1], [-1,1,0], [-1/3,-4/3,5/3]; (0,2): r = 1/2 -> 0.5
    const Xc = fromRows([[1, 2, 3], [3, 2, 1], [1, 3, 2], [2, 1, 4]]);
    close(await computeRdm(Xc, { method: 'correlation' }), [2, 0.5, 0.3453463293, 1.5, 1.6546536707, 1.3273268354]);
  });

  it("'cosine' is 1 - cosine of the raw patterns", async () => {
    // rows [1,0],[0,1],[1,1],[3,4]: (0,2) 1 - 1/sqrt2; (0,3) 1 - 3/5; (1,3) 1 - 4/5; (2,3) 1 - 7/(5 sqrt2)
    const Xs = fromRows([[1, 0], [0, 1], [1, 1], [3, 4]]);
    close(await computeRdm(Xs, { method: 'cosine' }), [1, 1 - Math.SQRT1_2, 0.4, 1 - Math.SQRT1_2, 0.2, 1 - 7 / (5 * Math.SQRT2)]);
  });

  it("'poisson' follows rsatoolbox's code formula (T4)", async () => {
    // x~ = (x + 0.1)/1.1; (0,2): x~0 = [1, 2.1/1.1], x~2 = [1, 1] -> (0.9090909 * ln 1.9090909)/2
    const Xp = fromRows([[1, 2], [2, 1], [1, 1], [4, 2]]);
    close(await computeRdm(Xp, { method: 'poisson' }), [0.5878428772, 0.2939214386, 1.794104719, 0.2939214386, 0.902148374, 2.0880261576], 1e-5);
  });

  it('crossnobis averages cross-fold products (T5) and labels build the folds', async () => {
    // fold B = X + E; (0,1): ([-1,0].[-0.5,-0.5] + the same the other way) / (2*1) / 2 = 0.25
    const B = fromRows([[0.5, 0], [1, 0.5], [-0.5, 2], [1, 1.5]]);
    const want = [0.25, 2, 1.75, 2.25, 1, 0.75];
    close(await crossnobisRdm([X, B]), want);
    close(await crossnobisRdm([X, B], { precision: [1, 0, 0, 1] }), want);
    // the same data as 8 labeled measurements, conditions given in shuffled order
    const rows = fromRows([[1, 2], [0, 0], [0.5, 0], [1, 0], [0, 2], [1, 1.5], [-0.5, 2], [1, 0.5]]);
    const folds = foldsFromLabels(rows, [3, 0, 0, 1, 2, 3, 2, 1], [0, 0, 1, 0, 0, 1, 1, 1]);
    close(await crossnobisRdm(folds), want);
  });

  it('shares one Gram product between Euclidean, correlation and cosine RDMs (exact identities)', async () => {
    // 700 stimuli with a large common offset: the shared, doubly-centered Gram must still match
    // direct float64 formulas.
    const n = 700;
    const p = 5;
    const data = new Float32Array(n * p).map((_, i) => Math.sin(i * 0.37) * 3 + (i % 7) + 50);
    const m = { data, rows: n, cols: p };
    const rdms = await computeRdms(m, ['euclidean', 'plain_euclidean', 'correlation', 'cosine']);
    expect(rdms.map((r) => r.measure)).toEqual(['euclidean', 'plain_euclidean', 'correlation', 'cosine']);
    const [sq, plain, corr, cos] = rdms.map((r) => r.values);
    const row = (i: number) => Array.from(data.subarray(i * p, (i + 1) * p));
    const direct = (i: number, j: number) => {
      const a = row(i);
      const b = row(j);
      const d2 = a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0);
      const ma = a.reduce((s, v) => s + v, 0) / p;
      const mb = b.reduce((s, v) => s + v, 0) / p;
      const ac = a.map((v) => v - ma);
      const bc = b.map((v) => v - mb);
      const dot = (u: number[], w: number[]) => u.reduce((s, v, k) => s + v * w[k], 0);
      return [d2 / p, Math.sqrt(d2), 1 - dot(ac, bc) / Math.sqrt(dot(ac, ac) * dot(bc, bc)), 1 - dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b))];
    };
    for (const [i, j] of [[0, 1], [3, 650], [200, 699], [10, 11]]) {
      const want = direct(i, j);
      const k = pairIndex(n, i, j);
      expect(sq[k]).toBeCloseTo(want[0], 4);
      expect(plain[k]).toBeCloseTo(want[1], 4);
      expect(corr[k]).toBeCloseTo(want[2], 5);
      expect(cos[k]).toBeCloseTo(want[3], 5);
    }
    const single = await computeRdm(m, { method: 'correlation' });
    expect(Array.from(single.values)).toEqual(Array.from(corr));
  });

  it('does not leak tensors', async () => {
    await computeRdm(X);
    const before = tf.memory().numTensors;
    for (const method of ['euclidean', 'plain_euclidean', 'correlation', 'mahalanobis', 'poisson'] as const) {
      await computeRdm(fromRows([[1, 2, 3], [3, 2, 1], [1, 3, 2], [2, 1, 4]]), { method });
    }
    await computeRdms({ data: new Float32Array(700 * 3).map((_, i) => i % 11), rows: 700, cols: 3 }, ['euclidean', 'correlation', 'cosine']);
    await crossnobisRdm([X, X]);
    await expect(computeRdm(fromRows([[1, 1], [1, 2], [2, 1]]), { method: 'correlation' })).rejects.toThrow(/constant row 0/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('computeRdm rejects bad input with clear errors', () => {
  it('fewer than 3 stimuli, NaN, unknown method or option', async () => {
    await expect(computeRdm(fromRows([[0, 1], [1, 0]]))).rejects.toThrow(/x.rows must be at least 3/);
    await expect(computeRdm(fromRows([[0, 1], [1, NaN], [2, 2]]))).rejects.toThrow(/finite numbers only.*NaN at index 3/);
    await expect(computeRdm(X, { method: 'manhattan' as never })).rejects.toThrow(/options.method must be one of/);
    await expect(computeRdm(X, { metod: 'cosine' } as never)).rejects.toThrow(/options.metod/);
  });

  it('a precision that is not symmetric positive definite, or of the wrong size', async () => {
    await expect(computeRdm(X, { method: 'mahalanobis', precision: [1, 2, 2, 1] })).rejects.toThrow(/positive definite/);
    await expect(computeRdm(X, { method: 'mahalanobis', precision: [1, 0, 0] })).rejects.toThrow(/2 x 2 matrix/);
    await expect(computeRdm(X, { method: 'mahalanobis', precision: [1, 0.5, 0, 1] })).rejects.toThrow(/symmetric/);
    await expect(computeRdm(X, { precision: [1, 0, 0, 1] })).rejects.toThrow(/only with method 'mahalanobis'/);
  });

  it('negative counts for poisson, mismatched crossnobis folds', async () => {
    await expect(computeRdm(fromRows([[1, -1], [1, 2], [2, 1]]), { method: 'poisson' })).rejects.toThrow(/non-negative counts/);
    await expect(crossnobisRdm([X])).rejects.toThrow(/at least 2 fold/);
    await expect(crossnobisRdm([X, fromRows([[0, 0, 1], [1, 0, 1], [0, 2, 1], [1, 2, 1]])])).rejects.toThrow(/folds\[1\] must be a 4 x 2 matrix/);
    expect(() => foldsFromLabels(X, [0, 1, 0, 0], [0, 0, 1, 1])).toThrow(/condition 1 missing from run 1/);
  });
});
