/**
 * Binary logistic regression on typed arrays: the L2-regularized fit of scikit-learn's
 * `LogisticRegression(penalty='l2', C, solver='lbfgs')` and an L1-regularized fit (the sparse
 * probe SAEBench trains to rank SAE latents, docs/methods/msae.md §5.4). The design matrix is
 * dense (row-major) or a CSR sparse code, behind one small interface.
 *
 * Objectives, with sample weights s_i ≥ 0, labels y_i ∈ {0, 1}, z_i = x_i·w + b and
 * ℓ_i = log(1 + exp(−(2y_i − 1) z_i)) (the intercept b is never penalized):
 *   L2:  F(w, b) = (1/n) Σ_i s_i ℓ_i + ‖w‖² / (2 C n)
 *        (scikit-learn minimizes C Σ_i s_i ℓ_i + ½‖w‖², the same minimizer)
 *   L1:  F(w, b) = (1/n) Σ_i s_i ℓ_i + λ ‖w‖₁
 *        (SAEBench's `train_sparse_multi_probe`: BCEWithLogits averaged over rows, positives
 *        weighted by pos_weight, plus l1_decay·‖w‖₁)
 *
 * Why hand-written: nestlab's analyses run in node without Python, the fits are small (k ≤ 10
 * latents, or d ≤ a few thousand inputs on a few thousand rows), and no maintained npm package
 * offers an L-BFGS logistic regression with sample weights and an unpenalized intercept, nor an
 * L1 fit. L-BFGS (Nocedal & Wright 2006, Alg. 7.4–7.5, memory 10) with a backtracking Armijo line
 * search solves the smooth L2 problem; FISTA (Beck & Teboulle 2009) with backtracking and
 * function-value restarts solves the L1 problem.
 */
import { NestlabArgumentError } from '../errors.js';

/** A design matrix X [rows, cols] seen through its two products. */
export interface Design {
  rows: number;
  cols: number;
  /** z ← X·w + b. */
  mul(w: Float64Array, b: number, z: Float64Array): void;
  /** g ← Xᵀ·r (overwrites g). */
  mulT(r: Float64Array, g: Float64Array): void;
}

/**
 * A dense row-major design [rows, cols]; with `stride` > cols, the first `cols` columns of a
 * [rows, stride] array (so nested column sets share one copy).
 */
export function denseDesign(data: Float32Array | Float64Array, rows: number, cols: number, stride = cols): Design {
  if (stride < cols || data.length < (rows - 1) * stride + cols) throw new NestlabArgumentError('denseDesign', 'data', `${rows} rows of stride ${stride} ≥ ${cols}`, `${data.length} entries`);
  return {
    rows,
    cols,
    // four accumulators / rows at a time: about twice as fast in V8 on pixel-sized rows
    mul(w, b, z) {
      const c4 = cols - (cols % 4);
      for (let i = 0; i < rows; i++) {
        const o = i * stride;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let j = 0;
        for (; j < c4; j += 4) {
          s0 += data[o + j] * w[j];
          s1 += data[o + j + 1] * w[j + 1];
          s2 += data[o + j + 2] * w[j + 2];
          s3 += data[o + j + 3] * w[j + 3];
        }
        for (; j < cols; j++) s0 += data[o + j] * w[j];
        z[i] = b + (s0 + s1 + (s2 + s3));
      }
    },
    mulT(r, g) {
      g.fill(0);
      let i = 0;
      for (; i + 1 < rows; i += 2) {
        const r0 = r[i];
        const r1 = r[i + 1];
        const o0 = i * stride;
        const o1 = o0 + stride;
        for (let j = 0; j < cols; j++) g[j] += data[o0 + j] * r0 + data[o1 + j] * r1;
      }
      for (; i < rows; i++) {
        const ri = r[i];
        const o = i * stride;
        for (let j = 0; j < cols; j++) g[j] += data[o + j] * ri;
      }
    },
  };
}

/** A CSR design: row i's nonzero columns idx[ptr[i] .. ptr[i+1]) with values val (any order). */
export function csrDesign(ptr: Int32Array, idx: Int32Array, val: Float32Array | Float64Array, cols: number): Design {
  const rows = ptr.length - 1;
  return {
    rows,
    cols,
    mul(w, b, z) {
      for (let i = 0; i < rows; i++) {
        let s = b;
        for (let a = ptr[i]; a < ptr[i + 1]; a++) s += val[a] * w[idx[a]];
        z[i] = s;
      }
    },
    mulT(r, g) {
      g.fill(0);
      for (let i = 0; i < rows; i++) {
        const ri = r[i];
        if (ri === 0) continue;
        for (let a = ptr[i]; a < ptr[i + 1]; a++) g[idx[a]] += val[a] * ri;
      }
    },
  };
}

/** A fitted binary logistic regression: P(y = 1 | x) = σ(x·coef + intercept). */
export interface LogisticFit {
  /** Weights w, one per column. */
  coef: Float64Array;
  /** Intercept b (unpenalized). */
  intercept: number;
  /** Objective F(w, b) at the solution (see the module header). */
  loss: number;
  /** Iterations taken. */
  iterations: number;
  /** Whether the stopping rule was met before maxIter. */
  converged: boolean;
}

/** Options of the logistic fits. */
export interface LogisticOptions {
  /** Per-row weights s_i (e.g. scikit-learn's class_weight='balanced'). Default all 1. */
  sampleWeight?: Float64Array;
  /** Iteration limit. Default 1000. */
  maxIter?: number;
  /** L2: stop when max |∂F| ≤ tol (default 1e-9); L1: when the largest step of (w, b) is ≤ tol·(1 + max|w|) (default 1e-7). */
  tol?: number;
}

/** Numerically stable log(1 + e^t). */
function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

function sigmoid(t: number): number {
  if (t >= 0) return 1 / (1 + Math.exp(-t));
  const e = Math.exp(t);
  return e / (1 + e);
}

/** Weights s_i for scikit-learn's class_weight='balanced': n / (2 · n_class(y_i)). */
export function balancedWeights(y: Uint8Array): Float64Array {
  let pos = 0;
  for (const v of y) pos += v;
  const n = y.length;
  const neg = n - pos;
  return Float64Array.from(y, (v) => (v ? (pos > 0 ? n / (2 * pos) : 0) : neg > 0 ? n / (2 * neg) : 0));
}

/** The data term (1/n) Σ s_i ℓ_i and its gradient residuals r_i = s_i (σ(z_i) − y_i)/n. */
function dataTerm(z: Float64Array, y: Uint8Array, s: Float64Array | undefined, r: Float64Array | null): number {
  const n = z.length;
  let f = 0;
  for (let i = 0; i < n; i++) {
    const si = s ? s[i] : 1;
    const zi = z[i];
    f += si * softplus(y[i] ? -zi : zi);
    if (r) r[i] = (si * (sigmoid(zi) - y[i])) / n;
  }
  return f / n;
}

function checkInputs(where: string, x: Design, y: Uint8Array, options: LogisticOptions): void {
  if (y.length !== x.rows) throw new NestlabArgumentError(where, 'y', `${x.rows} labels (one per row)`, y.length);
  if (options.sampleWeight !== undefined && options.sampleWeight.length !== x.rows) throw new NestlabArgumentError(where, 'options.sampleWeight', `${x.rows} weights`, options.sampleWeight.length);
}

/**
 * L2-regularized logistic regression, F(w, b) = (1/n) Σ s_i ℓ_i + ‖w‖²/(2Cn), by L-BFGS; the
 * minimizer of scikit-learn's `LogisticRegression(C=c, penalty='l2')` with the same sample weights.
 */
export function fitLogisticL2(x: Design, y: Uint8Array, c: number, options: LogisticOptions = {}, where = 'fitLogisticL2'): LogisticFit {
  checkInputs(where, x, y, options);
  if (!(c > 0) || !Number.isFinite(c)) throw new NestlabArgumentError(where, 'c', 'a positive finite number', c);
  const { rows: n, cols: d } = x;
  const maxIter = options.maxIter ?? 1000;
  const tol = options.tol ?? 1e-9;
  const s = options.sampleWeight;
  const reg = 1 / (c * n);
  const dim = d + 1; // θ = (w, b); b last
  const z = new Float64Array(n);
  const r = new Float64Array(n);
  const gw = new Float64Array(d);
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    const w = theta.subarray(0, d);
    x.mul(w, theta[d], z);
    let f = dataTerm(z, y, s, r);
    x.mulT(r, gw);
    let ww = 0;
    let gb = 0;
    for (let j = 0; j < d; j++) {
      ww += w[j] * w[j];
      grad[j] = gw[j] + reg * w[j];
    }
    for (let i = 0; i < n; i++) gb += r[i];
    grad[d] = gb;
    f += 0.5 * reg * ww;
    return f;
  };
  const theta = new Float64Array(dim);
  const g = new Float64Array(dim);
  let f = evaluate(theta, g);
  const M = 10;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(M);
  const dir = new Float64Array(dim);
  const next = new Float64Array(dim);
  const gNext = new Float64Array(dim);
  const gMax = (v: Float64Array) => v.reduce((a, t) => Math.max(a, Math.abs(t)), 0);
  let it = 0;
  let converged = gMax(g) <= tol;
  while (!converged && it < maxIter) {
    it++;
    // two-loop recursion: dir = −H·g
    for (let j = 0; j < dim; j++) dir[j] = -g[j];
    for (let h = S.length - 1; h >= 0; h--) {
      let a = 0;
      for (let j = 0; j < dim; j++) a += S[h][j] * dir[j];
      a *= rho[h];
      alpha[h] = a;
      for (let j = 0; j < dim; j++) dir[j] -= a * Y[h][j];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      let yy = 0;
      for (let j = 0; j < dim; j++) yy += Y[last][j] * Y[last][j];
      const gamma = 1 / (rho[last] * yy);
      for (let j = 0; j < dim; j++) dir[j] *= gamma;
    } else {
      const gn = Math.sqrt(g.reduce((a, t) => a + t * t, 0));
      for (let j = 0; j < dim; j++) dir[j] /= Math.max(1, gn); // first step: at most unit length
    }
    for (let h = 0; h < S.length; h++) {
      let b = 0;
      for (let j = 0; j < dim; j++) b += Y[h][j] * dir[j];
      b *= rho[h];
      for (let j = 0; j < dim; j++) dir[j] += S[h][j] * (alpha[h] - b);
    }
    let slope = 0;
    for (let j = 0; j < dim; j++) slope += g[j] * dir[j];
    if (!(slope < 0)) {
      // not a descent direction (rounding): restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let j = 0; j < dim; j++) dir[j] = -g[j];
      slope = -g.reduce((a, t) => a + t * t, 0);
    }
    // backtracking Armijo line search (c1 = 1e-4)
    let step = 1;
    let fNext = Infinity;
    for (let ls = 0; ls < 60; ls++) {
      for (let j = 0; j < dim; j++) next[j] = theta[j] + step * dir[j];
      fNext = evaluate(next, gNext);
      if (fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNext <= f)) break; // no progress possible at this precision
    const sv = new Float64Array(dim);
    const yv = new Float64Array(dim);
    let sy = 0;
    for (let j = 0; j < dim; j++) {
      sv[j] = next[j] - theta[j];
      yv[j] = gNext[j] - g[j];
      sy += sv[j] * yv[j];
    }
    theta.set(next);
    g.set(gNext);
    const fOld = f;
    f = fNext;
    if (sy > 1e-12) {
      if (S.length === M) S.shift(), Y.shift(), rho.shift();
      S.push(sv);
      Y.push(yv);
      rho.push(1 / sy);
    }
    converged = gMax(g) <= tol;
    if (!converged && fOld - f <= 1e-16 * Math.max(1, Math.abs(f)) && gMax(g) <= 1e3 * tol) converged = true;
  }
  return { coef: Float64Array.from(theta.subarray(0, d)), intercept: theta[d], loss: f, iterations: it, converged };
}

/**
 * L1-regularized logistic regression, F(w, b) = (1/n) Σ s_i ℓ_i + λ‖w‖₁ (b unpenalized), by FISTA
 * with backtracking and a restart whenever F rises. SAEBench's sparse probe objective for one
 * class (pos_weight on the positives as s_i, l1_decay as λ).
 */
export function fitLogisticL1(x: Design, y: Uint8Array, lambda: number, options: LogisticOptions = {}, where = 'fitLogisticL1'): LogisticFit {
  checkInputs(where, x, y, options);
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new NestlabArgumentError(where, 'lambda', 'a finite number ≥ 0', lambda);
  const { rows: n, cols: d } = x;
  const maxIter = options.maxIter ?? 1000;
  const tol = options.tol ?? 1e-7;
  const s = options.sampleWeight;
  const z = new Float64Array(n);
  const r = new Float64Array(n);
  const gw = new Float64Array(d);
  const smooth = (w: Float64Array, b: number, grad: Float64Array | null): number => {
    x.mul(w, b, z);
    const f = dataTerm(z, y, s, grad ? r : null);
    if (grad) {
      x.mulT(r, gw);
      grad.set(gw);
      let gb = 0;
      for (let i = 0; i < n; i++) gb += r[i];
      grad[d] = gb;
    }
    return f;
  };
  const l1 = (w: Float64Array) => {
    let a = 0;
    for (let j = 0; j < d; j++) a += Math.abs(w[j]);
    return lambda * a;
  };
  let w = new Float64Array(d);
  let b = 0;
  let vw = new Float64Array(d); // extrapolated point
  let vb = 0;
  let t = 1;
  let L = 1;
  const grad = new Float64Array(d + 1);
  const nw = new Float64Array(d);
  let F = smooth(w, b, null) + l1(w);
  let it = 0;
  let converged = false;
  while (it < maxIter) {
    it++;
    const fv = smooth(vw, vb, grad);
    let nb = 0;
    let fNew = 0;
    // backtracking on L: the quadratic upper bound must hold at the proximal point
    for (let ls = 0; ls < 60; ls++) {
      const step = 1 / L;
      let quad = 0;
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const u = vw[j] - step * grad[j];
        const v = Math.sign(u) * Math.max(0, Math.abs(u) - step * lambda);
        nw[j] = v;
        const dj = v - vw[j];
        quad += grad[j] * dj;
        sq += dj * dj;
      }
      nb = vb - step * grad[d];
      const db = nb - vb;
      quad += grad[d] * db;
      sq += db * db;
      fNew = smooth(nw, nb, null);
      if (fNew <= fv + quad + 0.5 * L * sq + 1e-15 * Math.abs(fv)) break;
      L *= 2;
    }
    const FNew = fNew + l1(nw);
    let change = Math.abs(nb - b);
    let wMax = 0;
    for (let j = 0; j < d; j++) {
      change = Math.max(change, Math.abs(nw[j] - w[j]));
      wMax = Math.max(wMax, Math.abs(nw[j]));
    }
    if (FNew > F) {
      // restart the momentum (O'Donoghue & Candès 2015) and retry from the last iterate
      t = 1;
      vw = Float64Array.from(w);
      vb = b;
      continue;
    }
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const mom = (t - 1) / tNext;
    const nextV = new Float64Array(d);
    for (let j = 0; j < d; j++) nextV[j] = nw[j] + mom * (nw[j] - w[j]);
    vb = nb + mom * (nb - b);
    vw = nextV;
    w = Float64Array.from(nw);
    b = nb;
    t = tNext;
    F = FNew;
    L = Math.max(L / 1.5, 1e-12); // let the step grow back
    if (change <= tol * (1 + wMax)) {
      converged = true;
      break;
    }
  }
  return { coef: w, intercept: b, loss: F, iterations: it, converged };
}

/** Decision values z_i = x_i·coef + intercept. */
export function logisticScores(x: Design, fit: LogisticFit): Float64Array {
  const z = new Float64Array(x.rows);
  x.mul(fit.coef, fit.intercept, z);
  return z;
}
