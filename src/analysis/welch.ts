// Welch's unequal-variances t-test with a real p-value: Student's t
// distribution through the regularized incomplete beta function (Lanczos lnΓ,
// Lentz's continued fraction).
import { mean as ssMean, sampleVariance } from 'simple-statistics';

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; about 15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) {
    // Reflection: Γ(x)Γ(1-x) = π / sin(πx)
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const MAX_ITER = 1000;
  const EPS = 1e-15;
  const TINY = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b), for 0 <= x <= 1 and a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Complementary error function (W. J. Cody's rational Chebyshev fit as in Numerical Recipes erfcc; |rel err| < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Two-sided p-value of Student's t with df degrees of freedom: P(|T| >= |t|). */
export function tTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return NaN;
  if (!Number.isFinite(t)) return 0;
  if (df > 1e7) return erfc(Math.abs(t) / Math.SQRT2); // the normal limit
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Cumulative distribution function of Student's t: P(T <= t). */
export function studentTCdf(t: number, df: number): number {
  const p = tTwoSidedP(t, df);
  if (Number.isNaN(p)) return NaN;
  return t >= 0 ? 1 - p / 2 : p / 2;
}

export interface WelchResult {
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
  meanA: number;
  meanB: number;
}

/**
 * Welch's unequal-variances t-test, two-sided. Needs at least 2 values on each
 * side (returns null otherwise). When both sides have zero variance, p is 1 for
 * equal means and 0 for different ones.
 */
export function welchTTest(a: number[], b: number[]): WelchResult | null {
  const x = a.filter((v) => Number.isFinite(v));
  const y = b.filter((v) => Number.isFinite(v));
  if (x.length < 2 || y.length < 2) return null;
  const ma = ssMean(x);
  const mb = ssMean(y);
  const va = sampleVariance(x) / x.length;
  const vb = sampleVariance(y) / y.length;
  const se2 = va + vb;
  if (se2 === 0) {
    const same = ma === mb;
    return { t: same ? 0 : (ma > mb ? Infinity : -Infinity), df: x.length + y.length - 2, p: same ? 1 : 0, meanA: ma, meanB: mb };
  }
  const t = (ma - mb) / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (x.length - 1) + (vb * vb) / (y.length - 1));
  return { t, df, p: tTwoSidedP(t, df), meanA: ma, meanB: mb };
}

/** z_{1-α/2} for α = 0.05 and z_{1-β} for power 0.8: the standard normal quantiles. */
export const Z_ALPHA_05_TWO_SIDED = 1.959964;
export const Z_POWER_80 = 0.841621;

/**
 * Repeats per side that would make a difference this large significant at the
 * spread observed: the normal approximation for a two-sample, two-sided test,
 * n ≈ 2·((z_{1−α/2} + z_{1−β})·σ/δ)², α 0.05 and power 0.8, with σ the pooled
 * sample standard deviation sqrt((σa² + σb²)/2) and δ the difference of the means.
 * At least 2 (a t-test needs two per side); undefined when δ or σ is 0 or not
 * finite, or either side has fewer than 2 values (no spread to go by).
 */
export function repeatsToDetect(a: number[], b: number[]): number | undefined {
  const x = a.filter((v) => Number.isFinite(v));
  const y = b.filter((v) => Number.isFinite(v));
  if (x.length < 2 || y.length < 2) return undefined;
  const delta = Math.abs(ssMean(x) - ssMean(y));
  const sd = Math.sqrt((sampleVariance(x) + sampleVariance(y)) / 2);
  if (!(delta > 0) || !(sd > 0) || !Number.isFinite(delta / sd)) return undefined;
  const n = 2 * (((Z_ALPHA_05_TWO_SIDED + Z_POWER_80) * sd) / delta) ** 2;
  return Math.max(2, Math.ceil(n));
}
