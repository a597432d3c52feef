/**
 * Distances between persistence diagrams: bottleneck and p-Wasserstein, exact.
 *
 * Hand-written because no JavaScript package computes them. Definitions as gudhi's
 * (`gudhi.bottleneck_distance`, `gudhi.wasserstein.wasserstein_distance` with
 * keep_essential_parts=True): a partial matching between the two diagrams in which any point may
 * instead go to the diagonal; ground cost between points = the L^q distance of (birth, death)
 * (default q = ∞), a point's cost to the diagonal = its L^q distance to the nearest diagonal
 * point, ((d − b)/2)·2^(1/q). Bottleneck = min over matchings of the largest cost; W_p =
 * (min over matchings of Σ cost^p)^(1/p). Bars with infinite death are matched among themselves
 * by birth (sorted order is optimal in one dimension); different numbers of them give Infinity.
 * Methods: W_p by the Hungarian algorithm (Kuhn–Munkres with potentials, O(N³)) on the usual
 * (|A| + |B|)² cost matrix with diagonal copies; bottleneck by binary search over the candidate
 * costs with a Hopcroft–Karp perfect-matching test at each.
 */
import { NestlabArgumentError, checkKnownKeys, checkNumber } from '../errors.js';
import { hungarian } from '../math/assignment.js';
import { checkBarcode } from './diagram.js';
import type { Barcode } from './persistence.js';

interface Split {
  b: number[];
  d: number[];
  inf: number[];
}

function split(bars: Barcode): Split {
  const out: Split = { b: [], d: [], inf: [] };
  for (let i = 0; i < bars.births.length; i++) {
    if (Number.isFinite(bars.deaths[i])) {
      out.b.push(bars.births[i]);
      out.d.push(bars.deaths[i]);
    } else out.inf.push(bars.births[i]);
  }
  out.inf.sort((x, y) => x - y);
  return out;
}

function ground(b1: number, d1: number, b2: number, d2: number, q: number): number {
  const x = Math.abs(b1 - b2);
  const y = Math.abs(d1 - d2);
  if (q === Infinity) return Math.max(x, y);
  if (q === 1) return x + y;
  if (q === 2) return Math.hypot(x, y);
  return (x ** q + y ** q) ** (1 / q);
}

function toDiagonal(b: number, d: number, q: number): number {
  const h = (d - b) / 2;
  return q === Infinity ? h : h * 2 ** (1 / q);
}

/**
 * Bottleneck distance between two diagrams (L∞ ground cost, as gudhi's exact
 * `bottleneck_distance(d1, d2)`): the min over partial matchings (points may go to the diagonal)
 * of the largest cost; docs/methods/topology.md §5.
 *
 * @example topology.bottleneckDistance(topology.barcode([[0, 2]]), topology.barcode([])) // 1 = (d - b)/2
 */
export function bottleneckDistance(a: Barcode, b: Barcode): number {
  const where = 'topology.bottleneckDistance';
  checkBarcode(where, 'a', a);
  checkBarcode(where, 'b', b);
  const A = split(a);
  const B = split(b);
  if (A.inf.length !== B.inf.length) return Infinity;
  let ess = 0;
  for (let i = 0; i < A.inf.length; i++) ess = Math.max(ess, Math.abs(A.inf[i] - B.inf[i]));
  const nA = A.b.length;
  const nB = B.b.length;
  if (nA + nB === 0) return ess;
  // candidate values: every point-point and point-diagonal cost
  const cand: number[] = [0];
  for (let i = 0; i < nA; i++) {
    cand.push(toDiagonal(A.b[i], A.d[i], Infinity));
    for (let j = 0; j < nB; j++) cand.push(ground(A.b[i], A.d[i], B.b[j], B.d[j], Infinity));
  }
  for (let j = 0; j < nB; j++) cand.push(toDiagonal(B.b[j], B.d[j], Infinity));
  const vals = Float64Array.from(cand).sort();
  let lo = 0;
  let hi = vals.length - 1; // the largest candidate is always feasible
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (perfectMatching(A, B, vals[mid])) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(ess, vals[lo]);
}

/**
 * Whether the diagrams match within eps: left = A's points then B's diagonal copies, right = B's
 * points then A's diagonal copies (Hopcroft–Karp).
 */
function perfectMatching(A: Split, B: Split, eps: number): boolean {
  const nA = A.b.length;
  const nB = B.b.length;
  const N = nA + nB;
  const adj: number[][] = [];
  for (let i = 0; i < nA; i++) {
    const row: number[] = [];
    for (let j = 0; j < nB; j++) if (ground(A.b[i], A.d[i], B.b[j], B.d[j], Infinity) <= eps) row.push(j);
    if (toDiagonal(A.b[i], A.d[i], Infinity) <= eps) row.push(nB + i);
    adj.push(row);
  }
  for (let j = 0; j < nB; j++) {
    const row: number[] = [];
    if (toDiagonal(B.b[j], B.d[j], Infinity) <= eps) row.push(j);
    for (let i = 0; i < nA; i++) row.push(nB + i);
    adj.push(row);
  }
  return hopcroftKarp(adj, N) === N;
}

/** Size of a maximum matching of the bipartite graph left i -> adj[i] (right vertices 0..nRight-1). */
function hopcroftKarp(adj: number[][], nRight: number): number {
  const nLeft = adj.length;
  const matchL = new Int32Array(nLeft).fill(-1);
  const matchR = new Int32Array(nRight).fill(-1);
  const dist = new Int32Array(nLeft);
  const queue = new Int32Array(nLeft);
  let result = 0;
  const bfs = (): boolean => {
    let qh = 0;
    let qt = 0;
    let found = false;
    for (let i = 0; i < nLeft; i++) {
      if (matchL[i] === -1) {
        dist[i] = 0;
        queue[qt++] = i;
      } else dist[i] = -1;
    }
    while (qh < qt) {
      const u = queue[qh++];
      for (const v of adj[u]) {
        const w = matchR[v];
        if (w === -1) found = true;
        else if (dist[w] === -1) {
          dist[w] = dist[u] + 1;
          queue[qt++] = w;
        }
      }
    }
    return found;
  };
  const it = new Int32Array(nLeft);
  const dfs = (u: number): boolean => {
    for (; it[u] < adj[u].length; it[u]++) {
      const v = adj[u][it[u]];
      const w = matchR[v];
      if (w === -1 || (dist[w] === dist[u] + 1 && dfs(w))) {
        matchL[u] = v;
        matchR[v] = u;
        it[u]++;
        return true;
      }
    }
    dist[u] = -1;
    return false;
  };
  while (bfs()) {
    it.fill(0);
    for (let i = 0; i < nLeft; i++) if (matchL[i] === -1 && dfs(i)) result++;
  }
  return result;
}

/** Options of `topology.wassersteinDistance`: the order p and the ground norm q. */
export interface WassersteinOptions {
  /** Order p >= 1. Default 1. */
  p?: number;
  /** Ground norm q in [1, ∞] between diagram points. Default Infinity (gudhi's internal_p default). */
  internal?: number;
}

/**
 * p-Wasserstein distance between two diagrams, exact (Hungarian algorithm).
 * W_p(A, B) = (min over matchings Σ cost^p)^(1/p), costs as in the module comment (gudhi's
 * `wasserstein_distance` with keep_essential_parts=True; docs/methods/topology.md §5).
 *
 * @example const w2 = topology.wassersteinDistance(resA.bars[1], resB.bars[1], { p: 2 });
 */
export function wassersteinDistance(a: Barcode, b: Barcode, options: WassersteinOptions = {}): number {
  const where = 'topology.wassersteinDistance';
  checkKnownKeys(where, options, ['p', 'internal']);
  checkBarcode(where, 'a', a);
  checkBarcode(where, 'b', b);
  const p = checkNumber(where, 'options.p', options.p ?? 1, 1);
  const q = options.internal ?? Infinity;
  if (typeof q !== 'number' || Number.isNaN(q) || q < 1) throw new NestlabArgumentError(where, 'options.internal', 'a number in [1, Infinity]', q);
  const A = split(a);
  const B = split(b);
  if (A.inf.length !== B.inf.length) return Infinity;
  let total = 0;
  for (let i = 0; i < A.inf.length; i++) total += Math.abs(A.inf[i] - B.inf[i]) ** p;
  const nA = A.b.length;
  const nB = B.b.length;
  const N = nA + nB;
  if (N > 0) {
    const cost = new Float64Array(N * N);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let c: number;
        if (i < nA && j < nB) c = ground(A.b[i], A.d[i], B.b[j], B.d[j], q) ** p;
        else if (i < nA) c = j - nB === i ? toDiagonal(A.b[i], A.d[i], q) ** p : Infinity;
        else if (j < nB) c = i - nA === j ? toDiagonal(B.b[j], B.d[j], q) ** p : Infinity;
        else c = 0;
        cost[i * N + j] = c;
      }
    }
    total += hungarian(cost, N);
  }
  return total ** (1 / p);
}
