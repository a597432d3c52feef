/**
 * Small dense linear algebra in Float64: a symmetric eigensolver, the SVD of a small matrix built
 * on it, a Cholesky factorization, triangular solves and a few products (similarity measures,
 * Mahalanobis RDMs, PCA).
 *
 * Why hand-written: TensorFlow.js has no eigendecomposition and no SVD (tf.linalg offers only
 * QR, band parts and Gram–Schmidt), yet CCA, SVCCA/PWCCA, the Procrustes shape metric and PCA
 * need the spectrum of a d x d covariance or cross-covariance. Those matrices are small
 * (d = the number of units, at most a few hundred to a couple of thousand), so the O(d^3) work is
 * done here in Float64, while every O(n d^2) / O(n^2 d) product over the samples stays on tfjs.
 * The eigensolver is the classic Householder tridiagonalization followed by the implicit QL
 * algorithm with Wilkinson-type shifts (EISPACK tred2/tql2, as in JAMA's
 * EigenvalueDecomposition): backward stable, O(d^3), eigenvectors orthonormal to ~1e-15.
 */
import { NestlabArgumentError, NestlabComputationError } from '../errors.js';

/** Eigen-decomposition of a symmetric matrix: A = V diag(values) V^T. */
export interface SymmetricEigen {
  /** Eigenvalues, in descending order. */
  values: Float64Array;
  /** Eigenvectors as the columns of an n x n row-major matrix: V[i * n + k] is entry i of vector k. */
  vectors: Float64Array;
  n: number;
}

/**
 * Eigenvalues and eigenvectors of the symmetric n x n matrix `a` (row-major; only symmetric
 * input is meaningful, the lower triangle is read). Householder tridiagonalization + implicit QL
 * (EISPACK tred2/tql2). Eigenvalues are returned in descending order.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new NestlabArgumentError('similarity.pca', 'a', `${n * n} entries (n x n)`, `${a.length} entries`);
  // V holds the matrix row-major; we work on it as V[i][j] = v[i * n + j].
  const v = Float64Array.from(a as ArrayLike<number>);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: v, n };
  tred2(v, d, e, n);
  tql2(v, d, e, n);
  // Sort descending (tql2 leaves them ascending).
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const src = order[k];
    values[k] = d[src];
    for (let i = 0; i < n; i++) vectors[i * n + k] = v[i * n + src];
  }
  return { values, vectors, n };
}

function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e) (EISPACK tql2); with V, its rotations are applied to V's columns (eigenvectors), without (null) only the eigenvalues are found. */
function tql2(V: Float64Array | null, d: Float64Array, e: Float64Array, n: number, where = 'similarity.pca'): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        iter++;
        if (iter > 200) throw new NestlabComputationError(where, 'the QL iteration did not converge in 200 steps');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (V === null) continue;
          for (let k = 0; k < n; k++) {
            h = V[k * n + i + 1];
            V[k * n + i + 1] = s * V[k * n + i] + c * h;
            V[k * n + i] = c * V[k * n + i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
}

/**
 * The k algebraically largest eigenpairs of the symmetric n x n matrix `a` (row-major), in the
 * layout of {@link symmetricEigen} but with k columns (V[i * k + c]). Small matrices (n ≤ 300) go
 * through the full solver; larger ones through the Lanczos iteration with full
 * reorthogonalization (Golub & Van Loan, Matrix Computations, §10.1), whose Krylov space is
 * grown from a fixed pseudo-random start until every wanted Ritz pair has a residual below
 * 1e-8·‖A‖ (or the space is all of ℝⁿ): O(n² s) for s steps instead of O(n³), which is what
 * makes spectral clustering of a few thousand items take seconds rather than minutes. A Krylov
 * space sees one vector of each eigenspace, so the search is repeated in the orthogonal complement
 * of the pairs found (deflation) until nothing above the k-th is left: repeated eigenvalues, such
 * as a graph's 1s, one per component, are all found.
 */
export function topSymmetricEigen(a: Float64Array, n: number, k: number): SymmetricEigen {
  if (k < 1 || k > n) throw new NestlabArgumentError('topSymmetricEigen', 'k', `an integer in [1, ${n}]`, k);
  if (n <= 300) {
    const full = symmetricEigen(a, n);
    const vectors = new Float64Array(n * k);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) vectors[i * k + c] = full.vectors[i * n + c];
    return { values: full.values.slice(0, k), vectors, n };
  }
  let norm = 0;
  for (const v of a) norm = Math.max(norm, Math.abs(v));
  norm *= n; // a bound on ‖A‖₂
  // One Krylov space holds one vector per eigenspace, so a repeated eigenvalue (a graph with
  // several components) would be missed: run again in the orthogonal complement of what was
  // found until the complement's largest eigenvalue is not above the k-th found.
  let found: { value: number; vector: Float64Array }[] = [];
  for (;;) {
    const locked = found.map((f) => f.vector);
    const room = n - locked.length;
    const want = Math.min(k, room);
    let run = lanczos(a, n, want, Math.min(room, Math.max(4 * want + 40, 100)), locked);
    for (let steps = Math.min(room, Math.max(4 * want + 40, 100)); run.residual > 1e-8 * norm && steps < room; ) {
      steps = Math.min(room, 2 * steps);
      run = lanczos(a, n, want, steps, locked);
    }
    const kth = found.length >= k ? found[k - 1].value : -Infinity;
    if (run.pairs.length === 0 || run.pairs[0].value <= kth + 1e-10 * norm) break;
    found = [...found, ...run.pairs].sort((x, y) => y.value - x.value).slice(0, k);
    if (room === want) break; // nothing left outside what was found
  }
  const vectors = new Float64Array(n * k);
  found.forEach((f, c) => f.vector.forEach((v, i) => (vectors[i * k + c] = v)));
  return { values: Float64Array.from({ length: k }, (_, c) => found[c]?.value ?? NaN), vectors, n };
}

/**
 * s Lanczos steps (full reorthogonalization) in the orthogonal complement of the unit vectors
 * `locked`, and the top-k Ritz pairs with their largest residual ‖A y − θ y‖ (fewer pairs when the
 * Krylov space closes early: those are then exact).
 */
function lanczos(a: Float64Array, n: number, k: number, s: number, locked: Float64Array[]): { pairs: { value: number; vector: Float64Array }[]; residual: number } {
  const deflate = (w: Float64Array) => {
    for (const u of locked) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += w[r] * u[r];
      for (let r = 0; r < n; r++) w[r] -= dot * u[r];
    }
  };
  const q = new Float64Array(s * n); // the Lanczos vectors, one per row
  const alpha = new Float64Array(s);
  const beta = new Float64Array(s);
  // A fixed start with no special structure (the all-ones vector is orthogonal to too many eigenvectors).
  for (let i = 0; i < n; i++) {
    const v = Math.sin(12.9898 * (i + 1) + locked.length) * 43758.5453;
    q[i] = v - Math.floor(v) - 0.5;
  }
  const q0 = q.subarray(0, n);
  deflate(q0);
  deflate(q0);
  let start = 0;
  for (let i = 0; i < n; i++) start += q[i] * q[i];
  for (let i = 0; i < n; i++) q[i] /= Math.sqrt(start);
  const w = new Float64Array(n);
  let steps = s;
  for (let j = 0; j < s; j++) {
    const qj = q.subarray(j * n, (j + 1) * n);
    for (let r = 0; r < n; r++) {
      let t = 0;
      for (let c = 0; c < n; c++) t += a[r * n + c] * qj[c];
      w[r] = t;
    }
    let aj = 0;
    for (let r = 0; r < n; r++) aj += w[r] * qj[r];
    alpha[j] = aj;
    // Full reorthogonalization against the locked and every earlier vector, twice (classical Gram–Schmidt, "twice is enough").
    for (let pass = 0; pass < 2; pass++) {
      deflate(w);
      for (let i = 0; i <= j; i++) {
        const qi = q.subarray(i * n, (i + 1) * n);
        let dot = 0;
        for (let r = 0; r < n; r++) dot += w[r] * qi[r];
        for (let r = 0; r < n; r++) w[r] -= dot * qi[r];
      }
    }
    let b = 0;
    for (let r = 0; r < n; r++) b += w[r] * w[r];
    b = Math.sqrt(b);
    if (j === s - 1) break;
    if (b < 1e-12) {
      steps = j + 1; // an invariant subspace: the Ritz pairs are exact
      break;
    }
    beta[j] = b;
    for (let r = 0; r < n; r++) q[(j + 1) * n + r] = w[r] / b;
  }
  const t = new Float64Array(steps * steps);
  for (let j = 0; j < steps; j++) {
    t[j * steps + j] = alpha[j];
    if (j + 1 < steps) t[j * steps + j + 1] = t[(j + 1) * steps + j] = beta[j];
  }
  const ritz = symmetricEigen(t, steps);
  const kk = Math.min(k, steps);
  const pairs: { value: number; vector: Float64Array }[] = [];
  let residual = 0;
  for (let c = 0; c < kk; c++) {
    const vector = new Float64Array(n);
    for (let j = 0; j < steps; j++) {
      const y = ritz.vectors[j * steps + c];
      for (let i = 0; i < n; i++) vector[i] += y * q[j * n + i];
    }
    let r2 = 0;
    for (let r = 0; r < n; r++) {
      let t2 = -ritz.values[c] * vector[r];
      for (let i = 0; i < n; i++) t2 += a[r * n + i] * vector[i];
      r2 += t2 * t2;
    }
    residual = Math.max(residual, Math.sqrt(r2));
    pairs.push({ value: ritz.values[c], vector });
  }
  return { pairs, residual };
}

/** Singular value decomposition of a small matrix: M = U diag(s) V^T (thin). */
export interface SmallSvd {
  /** Singular values, descending, length min(rows, cols). */
  s: Float64Array;
  /** rows x r, row-major, orthonormal columns (r = min(rows, cols)). */
  u: Float64Array;
  /** cols x r, row-major, orthonormal columns. */
  v: Float64Array;
  rank: number;
}

/**
 * Thin SVD of the rows x cols row-major matrix `m` through the symmetric eigenproblem of the
 * smaller of M^T M and M M^T. Singular values below 1e-7 * s_max are not resolved (they are
 * recovered as sqrt of eigenvalues) and are returned as exact zeros, their left vectors completed
 * to an orthonormal set by Gram–Schmidt. Fine for nuclear norms, CCA correlations (all in [0, 1]) and
 * Procrustes rotations, which is all it is used for.
 */
export function smallSvd(m: ArrayLike<number>, rows: number, cols: number): SmallSvd {
  if (rows < cols) {
    const t = transpose(m, rows, cols);
    const r = smallSvd(t, cols, rows);
    return { s: r.s, u: r.v, v: r.u, rank: r.rank };
  }
  // rows >= cols: eig of M^T M (cols x cols).
  const mtm = gramT(m, rows, cols);
  const eig = symmetricEigen(mtm, cols);
  const k = cols;
  const s = new Float64Array(k);
  for (let i = 0; i < k; i++) s[i] = Math.sqrt(Math.max(0, eig.values[i]));
  const v = eig.vectors; // cols x cols, columns = right singular vectors
  const u = new Float64Array(rows * k);
  // sqrt of an eigenvalue of M^T M resolves singular values only down to ~sqrt(eps) s_max.
  const tol = (s[0] || 0) * 1e-7;
  let rank = 0;
  for (let j = 0; j < k; j++) {
    if (s[j] > tol) {
      rank++;
      for (let i = 0; i < rows; i++) {
        let acc = 0;
        for (let c = 0; c < cols; c++) acc += m[i * cols + c] * v[c * k + j];
        u[i * k + j] = acc / s[j];
      }
    } else {
      s[j] = 0; // below the resolution of this method: treated as an exact zero
    }
  }
  // Re-orthonormalise U (modified Gram–Schmidt, twice) and complete the null columns.
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < k; j++) {
      if (j >= rank && pass === 0) {
        // A unit basis vector not yet in the span; Gram–Schmidt below makes it orthogonal.
        for (let i = 0; i < rows; i++) u[i * k + j] = 0;
        u[(j % rows) * k + j] = 1;
      }
      for (let q = 0; q < j; q++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += u[i * k + j] * u[i * k + q];
        for (let i = 0; i < rows; i++) u[i * k + j] -= dot * u[i * k + q];
      }
      let norm = 0;
      for (let i = 0; i < rows; i++) norm += u[i * k + j] ** 2;
      norm = Math.sqrt(norm);
      if (norm < 1e-8) {
        // Try other unit vectors until one is independent of the earlier columns.
        for (let t = 0; t < rows && norm < 1e-8; t++) {
          for (let i = 0; i < rows; i++) u[i * k + j] = i === t ? 1 : 0;
          for (let q = 0; q < j; q++) {
            let dot = 0;
            for (let i = 0; i < rows; i++) dot += u[i * k + j] * u[i * k + q];
            for (let i = 0; i < rows; i++) u[i * k + j] -= dot * u[i * k + q];
          }
          norm = 0;
          for (let i = 0; i < rows; i++) norm += u[i * k + j] ** 2;
          norm = Math.sqrt(norm);
        }
      }
      for (let i = 0; i < rows; i++) u[i * k + j] /= norm;
    }
  }
  return { s, u, v, rank };
}

/**
 * Upper-triangular R with A = R^T R for a symmetric positive definite n x n matrix (row-major;
 * R^T is the lower factor L of A = L L^T). Errors name `where`: with `argument` the matrix came
 * from the caller (a NestlabArgumentError), without it was computed (a NestlabComputationError).
 */
export function cholesky(a: ArrayLike<number>, n: number, where = 'cholesky', argument?: string): Float64Array {
  const r = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= r[k * n + j] ** 2;
    if (!(s > 0)) {
      if (argument !== undefined) throw new NestlabArgumentError(where, argument, 'a symmetric positive definite matrix', `a non-positive pivot ${s} at row ${j}`);
      throw new NestlabComputationError(where, `a matrix that must be positive definite is not (pivot ${s} at row ${j})`);
    }
    const rjj = Math.sqrt(s);
    r[j * n + j] = rjj;
    for (let i = j + 1; i < n; i++) {
      let t = a[j * n + i];
      for (let k = 0; k < j; k++) t -= r[k * n + j] * r[k * n + i];
      r[j * n + i] = t / rjj;
    }
  }
  return r;
}

/** Solves R^T X = B for X (R upper triangular n x n, B n x m row-major). */
export function solveUpperTransposed(r: Float64Array, n: number, b: ArrayLike<number>, m: number): Float64Array {
  const x = Float64Array.from(b as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m; c++) {
      let s = x[i * m + c];
      for (let k = 0; k < i; k++) s -= r[k * n + i] * x[k * m + c];
      x[i * m + c] = s / r[i * n + i];
    }
  }
  return x;
}

/** Row-major product (a: r x k) (b: k x c). */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let q = 0; q < k; q++) {
      const aiq = a[i * k + q];
      if (aiq === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] += aiq * b[q * c + j];
    }
  }
  return out;
}

/** Transpose of a row-major r x c matrix. */
export function transpose(a: ArrayLike<number>, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

/** M^T M for a row-major r x c matrix (c x c). */
export function gramT(m: ArrayLike<number>, r: number, c: number): Float64Array {
  const out = new Float64Array(c * c);
  for (let i = 0; i < r; i++) {
    for (let a = 0; a < c; a++) {
      const x = m[i * c + a];
      if (x === 0) continue;
      for (let b = a; b < c; b++) out[a * c + b] += x * m[i * c + b];
    }
  }
  for (let a = 0; a < c; a++) for (let b = 0; b < a; b++) out[a * c + b] = out[b * c + a];
  return out;
}

/** Trace of a square n x n row-major matrix. */
export function trace(a: ArrayLike<number>, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i];
  return t;
}

/**
 * Eigenvalues only of the symmetric n x n matrix `a` (row-major; the lower triangle is read), in
 * descending order: Householder tridiagonalization without accumulating the transformations
 * (EISPACK tred1; Numerical Recipes' tred2 with its eigenvector steps left out) followed by the
 * implicit QL iteration on the tridiagonal matrix alone (EISPACK tql1: {@link symmetricEigen}'s
 * tql2 without the rotations of V). About 4n³/3 multiply-adds instead of the ~9n³ of
 * symmetricEigen, all on rows (the rank-2 updates are applied to the whole leading block so that
 * every inner loop runs along a row): n = 2000 takes seconds, not a minute. Used where only the
 * spectrum is needed (diffusion spectral entropy, docs/methods/diffusion-entropy.md §2).
 *
 * @throws NestlabArgumentError when `a` does not have n² entries; NestlabComputationError when the
 *   QL iteration does not converge (not seen on finite input).
 *
 * @example const lambda = symmetricEigenvalues([2, 1, 1, 2], 2); // Float64Array [3, 1]
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number, where = 'symmetricEigenvalues'): Float64Array {
  if (a.length !== n * n) throw new NestlabArgumentError(where, 'a', `${n * n} entries (n x n)`, `${a.length} entries`);
  const A = Float64Array.from(a as ArrayLike<number>);
  // Mirror the lower triangle, so that the updates below may run along whole rows.
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A[j * n + i] = A[i * n + j];
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const ri = i * n;
    if (l === 0) {
      e[i] = A[ri];
      continue;
    }
    let scale = 0;
    for (let k = 0; k <= l; k++) scale += Math.abs(A[ri + k]);
    if (scale === 0) {
      e[i] = A[ri + l];
      continue;
    }
    let h = 0;
    for (let k = 0; k <= l; k++) {
      A[ri + k] /= scale;
      h += A[ri + k] * A[ri + k];
    }
    const f0 = A[ri + l];
    const g0 = f0 >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * g0;
    h -= f0 * g0;
    A[ri + l] = f0 - g0;
    // u = row i's leading part; p = A u / h (into e[0..l]); K = uᵀp / 2h; q = p − K u.
    let f = 0;
    for (let j = 0; j <= l; j++) {
      const rj = j * n;
      let g = 0;
      for (let k = 0; k <= l; k++) g += A[rj + k] * A[ri + k];
      e[j] = g / h;
      f += e[j] * A[ri + j];
    }
    const hh = f / (h + h);
    for (let j = 0; j <= l; j++) e[j] -= hh * A[ri + j];
    // A ← A − u qᵀ − q uᵀ on the leading (l+1) x (l+1) block.
    for (let j = 0; j <= l; j++) {
      const rj = j * n;
      const uj = A[ri + j];
      const qj = e[j];
      for (let k = 0; k <= l; k++) A[rj + k] -= uj * e[k] + qj * A[ri + k];
    }
  }
  for (let i = 0; i < n; i++) d[i] = A[i * n + i];
  e[0] = 0;
  tql2(null, d, e, n, where);
  return d.sort().reverse();
}

