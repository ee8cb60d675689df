// Warnings about a cell's repeats, in hyperfine's manner: figures that should
// not be trusted as they stand, and what to do about it. Computed once, in
// buildResults; the table prints them under itself and the JSON export keeps them.
import type { CellStats } from './stats.js';
import { interferenceWarnings, type InterferenceWarning } from './interference.js';
import { rateWarnings, type RateBehindWarning } from './rate.js';

/** The first repeat is slow when its IOPS are this many σ of the rest below their mean… */
export const SLOW_FIRST_SIGMAS = 2;
/** …and also this share below it. */
export const SLOW_FIRST_SHARE = 0.1;
/** A cell's IOPS vary too much when their coefficient of variation passes this. */
export const HIGH_CV = 0.1;

export type CellWarning =
  /** The first repeat was much slower than the others: cold caches or a device still settling. */
  | { kind: 'slow-first'; repeat: number; iops: number; restMean: number; restSd: number }
  /** A repeat's IOPS are an outlier among the cell's repeats. */
  | { kind: 'outlier'; repeat: number; iops: number; repeats: number; rule: 'tukey' | 'mad' }
  /** The repeats' IOPS spread widely: σ/mean over HIGH_CV. */
  | { kind: 'high-cv'; cv: number; repeats: number }
  /** Another process used the workers' CPUs, or a VM's host stole them (interference.ts). */
  | InterferenceWarning
  /** --rate-iops: the path did not keep up with the offered rate (rate.ts). */
  | RateBehindWarning;

/** σ/mean of a cell's IOPS; NaN with fewer than 2 repeats or a zero mean. */
export function coefficientOfVariation(summary: { n: number; mean: number; sd: number }): number {
  return summary.n >= 2 && summary.mean !== 0 ? summary.sd / Math.abs(summary.mean) : NaN;
}

function meanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, x) => a + (x - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, sd: Math.sqrt(variance) };
}

export function cellWarnings(cell: CellStats): CellWarning[] {
  const warnings: CellWarning[] = [];
  const ok = cell.ok.filter((r) => Number.isFinite(r.iops));
  // The first repeat against at least two others, so the rest have a spread.
  if (ok.length >= 3) {
    const first = ok.reduce((a, r) => (r.repeat < a.repeat ? r : a));
    const rest = meanSd(ok.filter((r) => r !== first).map((r) => r.iops));
    if (first.iops < rest.mean - SLOW_FIRST_SIGMAS * rest.sd && first.iops < (1 - SLOW_FIRST_SHARE) * rest.mean) {
      warnings.push({ kind: 'slow-first', repeat: first.repeat, iops: first.iops, restMean: rest.mean, restSd: rest.sd });
    }
  }
  const rule = cell.iops.n >= 4 ? 'tukey' : 'mad';
  const slowFirst = warnings.length ? (warnings[0] as { repeat: number }).repeat : undefined;
  // A slow first repeat is usually also the outlier: one warning says it, with the fix.
  for (const o of cell.iopsOutliers.filter((x) => x.repeat !== slowFirst)) warnings.push({ kind: 'outlier', repeat: o.repeat, iops: o.value, repeats: cell.iops.n, rule });
  const cv = coefficientOfVariation(cell.iops);
  if (cv > HIGH_CV) warnings.push({ kind: 'high-cv', cv, repeats: cell.iops.n });
  warnings.push(...interferenceWarnings(cell.ok));
  warnings.push(...rateWarnings(cell.ok));
  return warnings;
}
