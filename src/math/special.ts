/**
 * Special functions for p-values and smoothing kernels: erf / erfc, and the two-sided p-values of
 * the standard normal and of Student's t.
 *
 * Written by hand because each is a few lines of a textbook formula (Abramowitz & Stegun 7.1.26;
 * Numerical Recipes 6.1 and 6.4) and no small npm package offers all of them in double precision.
 */

/** erfc(x) for x >= 0 (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function erfcPositive(x: number): number {
  const t = 1 / (1 + 0.3275911 * x);
  return t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
}

/** erf(x) to ~1e-7 (Abramowitz & Stegun 7.1.26). Example: erf(1) ≈ 0.8427. */
export function erf(x: number): number {
  const y = 1 - erfcPositive(Math.abs(x));
  return x < 0 ? -y : y;
}

/** Two-sided p-value of a standard normal z: erfc(|z| / √2). Example: normalTwoSidedP(1.96) ≈ 0.05. */
export function normalTwoSidedP(z: number): number {
  return Math.min(1, erfcPositive(Math.abs(z) / Math.SQRT2));
}

/** Two-sided p-value of Student's t with `df` degrees of freedom (regularized incomplete beta I_{df/(df+t²)}(df/2, 1/2)). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  const x = df / (df + t * t);
  return Math.min(1, incompleteBeta(x, df / 2, 0.5));
}

function logGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const ci of c) ser += ci / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Regularized incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes 6.4). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  let f = 1;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < 1e-300) d = 1e-300;
  d = 1 / d;
  f = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = 1 + num / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    f *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = 1 + num / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    f *= del;
    if (Math.abs(del - 1) < 1e-12) break;
  }
  return (front * f) / a;
}

