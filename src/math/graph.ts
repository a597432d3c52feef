/**
 * Graphs in one dense form: an n*n Float64Array of edge weights, Infinity = no edge, 0 on the
 * diagonal, symmetric. Connected components and all-pairs shortest-path (geodesic) distances,
 * shared by topology (kNN-graph geodesics) and rsa (geodesic RDMs).
 *
 * Hand-written because these are short textbook algorithms over typed arrays (Dijkstra with a
 * binary heap, union-find) and no dependency is needed for them.
 */
import { NestlabArgumentError, checkInt } from '../errors.js';
import { UnionFind } from './union-find.js';

/** Validates the dense weight form: n*n entries, non-negative or Infinity, symmetric, zero diagonal. */
export function checkWeights(where: string, n: number, weights: unknown): Float64Array {
  checkInt(where, 'n', n, 1);
  if (!(weights instanceof Float64Array)) throw new NestlabArgumentError(where, 'weights', 'a Float64Array of n*n edge weights', weights);
  if (weights.length !== n * n) throw new NestlabArgumentError(where, 'weights', `${n}*${n} = ${n * n} entries`, `${weights.length} entries`);
  for (let i = 0; i < n; i++) {
    if (weights[i * n + i] !== 0) throw new NestlabArgumentError(where, 'weights', 'a zero diagonal', `${weights[i * n + i]} at (${i}, ${i})`);
    for (let j = 0; j < i; j++) {
      const a = weights[i * n + j];
      if (Number.isNaN(a) || a < 0) throw new NestlabArgumentError(where, 'weights', 'non-negative weights or Infinity', `${a} at (${i}, ${j})`);
      if (a !== weights[j * n + i]) {
        throw new NestlabArgumentError(where, 'weights', 'a symmetric matrix', `w(${i},${j}) = ${a} but w(${j},${i}) = ${weights[j * n + i]}`);
      }
    }
  }
  return weights;
}

/**
 * Connected components of the graph (finite off-diagonal weights are edges), by union-find:
 * `count` components, `labels[i]` in 0..count-1 numbered in order of each component's lowest
 * vertex (docs/methods/topology.md §6).
 *
 * @example const { count, labels } = topology.connectedComponents(n, await topology.knnGraph(points, 5));
 */
export function connectedComponents(n: number, weights: Float64Array): { count: number; labels: Int32Array } {
  checkWeights('topology.connectedComponents', n, weights);
  const sets = new UnionFind(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) if (weights[i * n + j] !== Infinity) sets.union(i, j);
  }
  const labels = new Int32Array(n).fill(-1);
  const rootLabel = new Int32Array(n).fill(-1);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const r = sets.find(i);
    if (rootLabel[r] === -1) rootLabel[r] = count++;
    labels[i] = rootLabel[r];
  }
  return { count, labels };
}

/**
 * All-pairs shortest-path (geodesic) distances of a weighted undirected graph. Returns n*n,
 * Infinity between disconnected vertices. d(i, j) = min over paths i -> j of the sum of edge
 * weights (Dijkstra 1959); made exactly symmetric (docs/methods/topology.md §6).
 *
 * How (docs/methods/topology.md §6): zero-weight edges are contracted first (x + 0 = x exactly, so
 * every path sum is unchanged; an RGTM graph with l > 0 has many), then Dijkstra runs from every
 * contracted vertex over CSR adjacency with a typed-array binary heap. After the run from s, an
 * edge (u, v) with d(s, u) + d(s, v) < w(u, v) is dropped: it lies on no shortest path. For u = s
 * this keeps s's "essential" edges, w(s, v) <= d(s, v) (every edge of a shortest path is itself a
 * shortest path; Karger, Koller & Phillips 1993, "hidden paths"), so later runs relax far fewer edges.
 *
 * @example const g = topology.geodesicDistances(n, await topology.knnGraph(points, 10)); // g[i * n + j], Infinity across components
 */
export function geodesicDistances(n: number, weights: Float64Array): Float64Array {
  checkWeights('topology.geodesicDistances', n, weights);
  // 1. contract zero-weight edges: label[i] = the zero-component of i, numbered 0..k-1
  const sets = new UnionFind(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < i; j++) if (weights[row + j] === 0) sets.union(i, j);
  }
  const label = new Int32Array(n).fill(-1);
  const rootLabel = new Int32Array(n).fill(-1);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const r = sets.find(i);
    if (rootLabel[r] === -1) rootLabel[r] = k++;
    label[i] = rootLabel[r];
  }
  // 2. contracted weights (the lightest of parallel edges), then CSR adjacency
  let cw: Float64Array;
  if (k === n) cw = weights;
  else {
    cw = new Float64Array(k * k).fill(Infinity);
    for (let i = 0; i < n; i++) {
      const row = i * n;
      const ci = label[i] * k;
      for (let j = 0; j < n; j++) {
        const x = weights[row + j];
        if (x < cw[ci + label[j]]) cw[ci + label[j]] = x;
      }
    }
    for (let c = 0; c < k; c++) cw[c * k + c] = 0;
  }
  const dk = allPairsDijkstra(k, cw);
  // 3. expand to the n vertices
  if (k === n) return dk;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ci = label[i] * k;
    const row = i * n;
    for (let j = 0; j < n; j++) out[row + j] = dk[ci + label[j]];
  }
  return out;
}

/** Dijkstra from every source of the dense symmetric weights `w` (k*k), with essential-edge pruning; exactly symmetric result. */
function allPairsDijkstra(k: number, w: Float64Array): Float64Array {
  const start = new Int32Array(k + 1);
  for (let i = 0; i < k; i++) {
    const row = i * k;
    let c = 0;
    for (let j = 0; j < k; j++) if (i !== j && w[row + j] !== Infinity) c++;
    start[i + 1] = start[i] + c;
  }
  const m = start[k];
  const nbr = new Int32Array(m);
  const aw = new Float64Array(m);
  const end = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    const row = i * k;
    let e = start[i];
    for (let j = 0; j < k; j++) {
      if (i !== j && w[row + j] !== Infinity) {
        nbr[e] = j;
        aw[e++] = w[row + j];
      }
    }
    end[i] = e;
  }
  const out = new Float64Array(k * k);
  const dist = new Float64Array(k);
  const done = new Uint8Array(k);
  // binary heap of (distance, vertex) with lazy deletion: at most one entry per relaxed arc plus the source
  const hd = new Float64Array(m + 1);
  const hv = new Int32Array(m + 1);
  let live = m;
  let sweepAll = true;
  for (let s = 0; s < k; s++) {
    dist.fill(Infinity);
    done.fill(0);
    dist[s] = 0;
    hd[0] = 0;
    hv[0] = s;
    let size = 1;
    while (size > 0) {
      const d = hd[0];
      const u = hv[0];
      size--;
      if (size > 0) {
        // sift the last entry down from the root
        const ld = hd[size];
        const lv = hv[size];
        let i = 0;
        for (;;) {
          let c = 2 * i + 1;
          if (c >= size) break;
          if (c + 1 < size && hd[c + 1] < hd[c]) c++;
          if (hd[c] >= ld) break;
          hd[i] = hd[c];
          hv[i] = hv[c];
          i = c;
        }
        hd[i] = ld;
        hv[i] = lv;
      }
      if (done[u]) continue;
      done[u] = 1;
      for (let e = start[u], ee = end[u]; e < ee; e++) {
        const v = nbr[e];
        const nd = d + aw[e];
        if (nd < dist[v]) {
          dist[v] = nd;
          // sift up
          let i = size++;
          while (i > 0) {
            const p = (i - 1) >> 1;
            if (hd[p] <= nd) break;
            hd[i] = hd[p];
            hv[i] = hv[p];
            i = p;
          }
          hd[i] = nd;
          hv[i] = v;
        }
      }
    }
    out.set(dist, s * k);
    // Prune with d(s, ·): an edge (u, v) with d(s, u) + d(s, v) < w(u, v) is on no shortest path
    // (u -> s -> v is shorter), so no later run needs it. For u = s this keeps exactly the
    // essential edges w(s, v) <= d(s, v). All lists are swept while sweeps pay (they cost about
    // one run each); otherwise only s's own list, with a full sweep again when s doubles.
    if (sweepAll || ((s + 1) & s) === 0) {
      let removed = 0;
      for (let u = 0; u < k; u++) {
        const du = dist[u];
        if (du === Infinity) continue;
        let e2 = start[u];
        const ee = end[u];
        for (let e = e2; e < ee; e++) {
          if (du + dist[nbr[e]] >= aw[e]) {
            nbr[e2] = nbr[e];
            aw[e2++] = aw[e];
          }
        }
        removed += ee - e2;
        end[u] = e2;
      }
      live -= removed;
      sweepAll = removed > 0.05 * (live + removed);
    } else {
      let e2 = start[s];
      const ee = end[s];
      for (let e = e2; e < ee; e++) {
        if (aw[e] <= dist[nbr[e]]) {
          nbr[e2] = nbr[e];
          aw[e2++] = aw[e];
        }
      }
      live -= ee - e2;
      end[s] = e2;
    }
  }
  // exact symmetry (sums in a different order can differ in the last bit)
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) {
    const x = Math.min(out[i * k + j], out[j * k + i]);
    out[i * k + j] = x;
    out[j * k + i] = x;
  }
  return out;
}
