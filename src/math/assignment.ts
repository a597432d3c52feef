/**
 * Minimum-cost assignment (the Hungarian algorithm): Kuhn 1955, in the O(n² m) form with row and
 * column potentials (Jonker–Volgenant style shortest augmenting paths, as in e-maxx's "Hungarian
 * algorithm" article). Written by hand because no npm package solves a rectangular Float64 cost
 * matrix with forbidden (Infinity) pairs; it is 40 lines.
 */
import { NestlabArgumentError } from '../errors.js';

/**
 * Minimum-cost assignment of each of n rows to a distinct one of m >= n columns (Kuhn–Munkres
 * with row/column potentials, O(n² m); `cost` is row-major n×m, Infinity marks a forbidden
 * pair). Returns colOf[row]. Used by diagram matching (topology) and SAE latent matching (sae).
 */
export function minCostAssignment(cost: Float64Array, n: number, m: number): Int32Array {
  if (n > m) throw new NestlabArgumentError('sae.matchLatents', 'cost', 'no more rows than columns', `${n} rows, ${m} columns`);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j] = row matched to column j (1-based), 0 = none
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      if (j1 === 0) throw new NestlabArgumentError('sae.matchLatents', 'cost', 'a matrix with a finite assignment', 'none');
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const colOf = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] > 0) colOf[p[j] - 1] = j - 1;
  return colOf;
}

/** Minimum total cost of a perfect assignment of an N×N cost matrix (see minCostAssignment). */
export function hungarian(cost: Float64Array, N: number): number {
  const colOf = minCostAssignment(cost, N, N);
  let total = 0;
  for (let i = 0; i < N; i++) total += cost[i * N + colOf[i]];
  return total;
}
