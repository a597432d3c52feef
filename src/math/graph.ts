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
 * All-pairs shortest-path (geodesic) distances of a weighted undirected graph: Dijkstra with a
 * binary heap from every source over adjacency lists (O(n · m log n)). Returns n*n, Infinity
 * between disconnected vertices. d(i, j) = min over paths i -> j of the sum of edge weights
 * (Dijkstra 1959); made exactly symmetric (docs/methods/topology.md §6).
 *
 * @example const g = topology.geodesicDistances(n, await topology.knnGraph(points, 10)); // g[i * n + j], Infinity across components
 */
export function geodesicDistances(n: number, weights: Float64Array): Float64Array {
  checkWeights('topology.geodesicDistances', n, weights);
  // adjacency lists (CSR)
  const deg = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && weights[i * n + j] !== Infinity) deg[i + 1]++;
  for (let i = 0; i < n; i++) deg[i + 1] += deg[i];
  const nbr = new Int32Array(deg[n]);
  const w = new Float64Array(deg[n]);
  const fill = deg.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j && weights[i * n + j] !== Infinity) {
        nbr[fill[i]] = j;
        w[fill[i]++] = weights[i * n + j];
      }
    }
  }
  const out = new Float64Array(n * n);
  const dist = new Float64Array(n);
  const done = new Uint8Array(n);
  // binary heap of (distance, vertex), lazy deletion
  let hd = new Float64Array(Math.max(16, deg[n] + n));
  let hv = new Int32Array(hd.length);
  for (let s = 0; s < n; s++) {
    dist.fill(Infinity);
    done.fill(0);
    dist[s] = 0;
    let size = 0;
    const push = (d: number, v: number): void => {
      if (size === hd.length) {
        const nd = new Float64Array(size * 2);
        nd.set(hd);
        hd = nd;
        const nv = new Int32Array(size * 2);
        nv.set(hv);
        hv = nv;
      }
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (hd[p] <= d) break;
        hd[i] = hd[p];
        hv[i] = hv[p];
        i = p;
      }
      hd[i] = d;
      hv[i] = v;
    };
    push(0, s);
    while (size > 0) {
      const d = hd[0];
      const u = hv[0];
      // pop
      size--;
      if (size > 0) {
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
      for (let e = deg[u]; e < deg[u + 1]; e++) {
        const v = nbr[e];
        const nd = d + w[e];
        if (nd < dist[v]) {
          dist[v] = nd;
          push(nd, v);
        }
      }
    }
    out.set(dist, s * n);
  }
  // exact symmetry (sums in a different order can differ in the last bit)
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
    const m = Math.min(out[i * n + j], out[j * n + i]);
    out[i * n + j] = m;
    out[j * n + i] = m;
  }
  return out;
}
