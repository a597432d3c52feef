import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { barcode } from '../../src/topology/diagram.js';
import { bottleneckDistance, wassersteinDistance } from '../../src/topology/distances.js';
import type { Barcode } from '../../src/topology/persistence.js';
import { Rng } from '../../src/backend/rng.js';
import { NestlabArgumentError } from '../../src/errors.js';

const PY = '/usr/bin/python3';
const hasGudhi = existsSync(PY) && (() => { try { execFileSync(PY, ['-c', 'import gudhi, gudhi.wasserstein, ot'], { stdio: 'ignore' }); return true; } catch { return false; } })();

function randomDiagram(rng: Rng, n: number): Barcode {
  const p: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const b = rng.uniform();
    p.push([b, b + rng.uniform() * 0.5]);
  }
  return barcode(p);
}

/** Brute force: minimum over all matchings with diagonal, by enumerating permutations of the augmented matrix. */
function bruteWasserstein(a: Barcode, b: Barcode, p: number): number {
  const A = Array.from(a.births, (x, i) => [x, a.deaths[i]]);
  const B = Array.from(b.births, (x, i) => [x, b.deaths[i]]);
  const N = A.length + B.length;
  const cost = (i: number, j: number): number => {
    if (i < A.length && j < B.length) return Math.max(Math.abs(A[i][0] - B[j][0]), Math.abs(A[i][1] - B[j][1])) ** p;
    if (i < A.length) return j - B.length === i ? ((A[i][1] - A[i][0]) / 2) ** p : Infinity;
    if (j < B.length) return i - A.length === j ? ((B[j][1] - B[j][0]) / 2) ** p : Infinity;
    return 0;
  };
  let best = Infinity;
  const perm = Array.from({ length: N }, (_, i) => i);
  const rec = (k: number, acc: number): void => {
    if (acc >= best) return;
    if (k === N) { best = acc; return; }
    for (let i = k; i < N; i++) {
      [perm[k], perm[i]] = [perm[i], perm[k]];
      rec(k + 1, acc + cost(k, perm[k]));
      [perm[k], perm[i]] = [perm[i], perm[k]];
    }
  };
  rec(0, 0);
  return best ** (1 / p);
}

describe('diagram distances: hand-computed values (docs/methods/topology.md §8)', () => {
  const d1 = barcode([[1, 2], [2, 3]]);
  const d2 = barcode([[1.1, 2.1], [2.1, 3.1]]);
  it('bottleneck 0.1, W1 = 0.2, W2 = 0.141421, W2 with the L2 ground norm = 0.2', () => {
    expect(bottleneckDistance(d1, d2)).toBeCloseTo(0.1, 12);
    expect(wassersteinDistance(d1, d2, { p: 1 })).toBeCloseTo(0.2, 12);
    expect(wassersteinDistance(d1, d2, { p: 2 })).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect(wassersteinDistance(d1, d2, { p: 2, internal: 2 })).toBeCloseTo(0.2, 12);
  });
  it('a single bar against the empty diagram costs half its lifetime', () => {
    const empty = barcode([]);
    expect(bottleneckDistance(barcode([[0, 2]]), empty)).toBe(1);
    expect(wassersteinDistance(barcode([[0, 2]]), empty)).toBe(1);
    expect(bottleneckDistance(empty, empty)).toBe(0);
  });
  it('infinite bars match among themselves; different counts give Infinity', () => {
    expect(bottleneckDistance(barcode([[0, Infinity], [0, 1]]), barcode([[0.5, Infinity]]))).toBe(0.5);
    expect(bottleneckDistance(barcode([[0, Infinity]]), barcode([]))).toBe(Infinity);
    expect(wassersteinDistance(barcode([[0, Infinity]]), barcode([[0.25, Infinity]]), { p: 2 })).toBeCloseTo(0.25, 12);
  });
  it('W_p equals a brute-force minimum over all matchings on tiny diagrams', () => {
    const rng = new Rng(8);
    for (let t = 0; t < 20; t++) {
      const a = randomDiagram(rng, 1 + rng.int(3));
      const b = randomDiagram(rng, 1 + rng.int(3));
      for (const p of [1, 2]) expect(wassersteinDistance(a, b, { p })).toBeCloseTo(bruteWasserstein(a, b, p), 10);
    }
  });
  it('rejects bad diagrams and options', () => {
    expect(() => bottleneckDistance({ births: Float64Array.from([1]), deaths: Float64Array.from([0]) }, d1)).toThrow(NestlabArgumentError);
    expect(() => wassersteinDistance(d1, d2, { p: 0.5 })).toThrow(/p/);
    expect(() => wassersteinDistance(d1, d2, { q: 2 } as never)).toThrow(/q/);
  });
});

describe.skipIf(!hasGudhi)('diagram distances agree with gudhi 3.7', () => {
  it('bottleneck, W1 and W2 on random diagrams', () => {
    const rng = new Rng(21);
    const cases = Array.from({ length: 6 }, () => [randomDiagram(rng, 5 + rng.int(25)), randomDiagram(rng, 5 + rng.int(25))]);
    const toList = (d: Barcode) => Array.from(d.births, (b, i) => [b, d.deaths[i]]);
    const script = `
import json, sys, numpy as np, gudhi
from gudhi.wasserstein import wasserstein_distance
out = []
for a, b in json.loads(sys.stdin.read()):
    a = np.array(a).reshape(-1, 2); b = np.array(b).reshape(-1, 2)
    out.append([gudhi.bottleneck_distance(a, b), wasserstein_distance(a, b, order=1), wasserstein_distance(a, b, order=2)])
print(json.dumps(out))`;
    const res = JSON.parse(execFileSync(PY, ['-c', script], { input: JSON.stringify(cases.map(([a, b]) => [toList(a), toList(b)])), encoding: 'utf8' }));
    cases.forEach(([a, b], i) => {
      expect(bottleneckDistance(a, b)).toBeCloseTo(res[i][0], 9);
      expect(wassersteinDistance(a, b, { p: 1 })).toBeCloseTo(res[i][1], 9);
      expect(wassersteinDistance(a, b, { p: 2 })).toBeCloseTo(res[i][2], 9);
    });
  });
});
