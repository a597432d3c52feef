/**
 * Neighborhood graphs on point clouds: pairwise distances, kNN and epsilon graphs, in the dense
 * weight form of src/math/graph.ts (an n*n Float64Array, Infinity = no edge, 0 on the diagonal,
 * symmetric), whose shortest paths give geodesic distances.
 */
import { checkInt, checkNumber } from '../errors.js';
import { checkMatrix, type Matrix } from '../data/matrix.js';
import { knnSearch } from '../similarity/knn.js';

/**
 * Euclidean distances between all rows, as an n*n Float64Array (computed in double precision):
 * D_ij = sqrt(Σ_k (x_ik − x_jk)²), scipy's `squareform(pdist(x))` (docs/methods/topology.md §6).
 *
 * @example const d = topology.pairwiseDistances(points); // d[i * points.rows + j]
 */
export function pairwiseDistances(points: Matrix): Float64Array {
  const m = checkMatrix('topology.pairwiseDistances', 'points', points, 1, 1);
  const n = m.rows;
  const d = m.cols;
  const x = m.data;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = x[i * d + k] - x[j * d + k];
        s += t * t;
      }
      const v = Math.sqrt(s);
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}

/**
 * Symmetrized k-nearest-neighbor graph: an edge i–j (weight = Euclidean distance) when j is
 * among the k nearest other points of i or i among those of j (similarity's exact kNN search;
 * ties broken by the lower index); docs/methods/topology.md §6.
 *
 * @example const w = await topology.knnGraph(points, 10); // n*n weights, Infinity = no edge
 */
export async function knnGraph(points: Matrix, k: number): Promise<Float64Array> {
  const m = checkMatrix('topology.knnGraph', 'points', points, 2, 1);
  const n = m.rows;
  checkInt('topology.knnGraph', 'k', k, 1, n - 1);
  const { indices, distances } = await knnSearch(m, null, k, 'euclidean');
  const W = new Float64Array(n * n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    W[i * n + i] = 0;
    for (let q = 0; q < k; q++) {
      const j = indices[i * k + q];
      W[i * n + j] = distances[i * k + q];
      W[j * n + i] = distances[i * k + q];
    }
  }
  return W;
}

/**
 * Epsilon graph: an edge i–j (weight = Euclidean distance) whenever the distance is <= eps:
 * W_ij = D_ij if D_ij <= eps, else Infinity (docs/methods/topology.md §6).
 *
 * @example const w = topology.epsilonGraph(points, 0.3); // n*n weights, Infinity = no edge
 */
export function epsilonGraph(points: Matrix, eps: number): Float64Array {
  const m = checkMatrix('topology.epsilonGraph', 'points', points, 1, 1);
  checkNumber('topology.epsilonGraph', 'eps', eps, 0);
  const D = pairwiseDistances(m);
  for (let i = 0; i < D.length; i++) if (D[i] > eps) D[i] = Infinity;
  return D;
}
