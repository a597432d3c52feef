/**
 * Special functions for p-values and smoothing kernels: erf / erfc, ln Γ, and the two-sided p-values of
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

/** Coefficients of the Stirling series of ln Γ: B_2j / (2j (2j − 1)), j = 1..8. */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];

/**
 * ln Γ(x) for x > 0 in Float64 to about 1e-15 relative (absolute near its zeros at 1 and 2;
 * exact log-factorials for the integers up to 19): the Stirling series ln Γ(z) = (z − ½) ln z − z + ½ ln 2π + Σ_j B_2j / (2j (2j − 1) z^{2j−1}) at z ≥ 15,
 * reached from smaller x by Γ(x) = Γ(x + m) / (x (x + 1) ... (x + m − 1)). Full precision
 * matters for the expected mutual information, which subtracts log-factorials of size ~N ln N.
 *
 * @example const lnFactorial10 = logGamma(11) // ln(10!) = 15.104412573075516
 */
export function logGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (Number.isInteger(x) && x <= 19) {
    // (x − 1)! is an exact double up to 18!, so the logarithm is correctly rounded (ln Γ(1) = ln Γ(2) = 0).
    let f = 1;
    for (let m = 2; m < x; m++) f *= m;
    return Math.log(f);
  }
  let shift = 0;
  let z = x;
  let product = 1;
  while (z < 15) {
    product *= z;
    z += 1;
  }
  if (product !== 1) shift = Math.log(product);
  const inv = 1 / z;
  const inv2 = inv * inv;
  let series = 0;
  let power = inv;
  for (const coefficient of STIRLING) {
    series += coefficient * power;
    power *= inv2;
  }
  return (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + series - shift;
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

