// Welch's unequal-variances t-test with a real p-value. Student's t
// distribution comes from stdlib (@stdlib/stats-base-dists-t-cdf, its
// regularized incomplete beta underneath); the means and variances from
// simple-statistics.
import { createRequire } from 'node:module';
import { mean as ssMean, sampleVariance } from 'simple-statistics';

type TCdf = (t: number, df: number) => number;
let loaded: TCdf | undefined;
/** stdlib's t CDF, loaded on first use: its ~300 small modules cost a third of a second, which every other command would pay at start-up. */
function tCdf(t: number, df: number): number {
  loaded ??= createRequire(import.meta.url)('@stdlib/stats-base-dists-t-cdf') as TCdf;
  return loaded(t, df);
}

/** Two-sided p-value of Student's t with df degrees of freedom: P(|T| >= |t|). */
export function tTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return NaN;
  if (!Number.isFinite(t)) return 0;
  // The lower tail, doubled, keeps small p-values exact (1 - cdf would round them to 0).
  // stdlib answers 1 for an infinite df; the largest finite one is the normal limit.
  return Math.min(1, 2 * tCdf(-Math.abs(t), Math.min(df, Number.MAX_VALUE)));
}

/** Cumulative distribution function of Student's t: P(T <= t). */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return NaN;
  return tCdf(t, Math.min(df, Number.MAX_VALUE));
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
