// The latency histogram's bucket layout, mirrored from native/core/histogram.h:
// log-linear, 2^6 linear buckets per power of two, about 1.6% error.
import type { LatencySummary } from '../model.js';

export const HIST_BITS = 6;
export const HIST_VAL = 1 << HIST_BITS;
export const HIST_GROUPS = 29;
export const HIST_BUCKETS = HIST_GROUPS * HIST_VAL;

/** Lowest latency (ns) that lands in bucket index. */
export function bucketLow(index: number): number {
  if (index < HIST_VAL * 2) return index;
  const errorBits = (index >> HIST_BITS) - 1;
  return 2 ** (errorBits + HIST_BITS) + (index & (HIST_VAL - 1)) * 2 ** errorBits;
}

/** Bucket index for a latency in ns (the inverse of bucketLow). */
export function bucketIndex(ns: number): number {
  if (ns < HIST_VAL * 2) return Math.floor(ns);
  const msb = Math.floor(Math.log2(ns));
  const errorBits = msb - HIST_BITS;
  const index = ((errorBits + 1) << HIST_BITS) + (Math.floor(ns / 2 ** errorBits) & (HIST_VAL - 1));
  return Math.min(index, HIST_BUCKETS - 1);
}

/** Width of a bucket in ns. */
function bucketWidth(index: number): number {
  return index < HIST_VAL * 2 ? 1 : 2 ** ((index >> HIST_BITS) - 1);
}

/**
 * The one percentile rule, for the run's summary (CSV) and for the pooled
 * histograms (plots) alike: the midpoint, in ns, of the bucket that holds the
 * p-th (0..100) percentile's rank among buckets given in ascending order as
 * [index, count]. NaN when they hold nothing.
 */
function bucketPercentileNs(buckets: Iterable<[number, number]>, total: number, p: number): number {
  if (total === 0) return NaN;
  // The small slack keeps 99.9% of 10000 at rank 9990 despite binary rounding.
  const rank = Math.max(1, Math.ceil((p / 100) * total - 1e-9 * total));
  let seen = 0;
  let last = NaN;
  for (const [index, count] of buckets) {
    if (count <= 0) continue;
    last = index;
    seen += count;
    if (seen >= rank) break;
  }
  return bucketLow(last) + (bucketWidth(last) - 1) / 2;
}

function* denseBuckets(counts: ArrayLike<number>): Generator<[number, number]> {
  for (let i = 0; i < counts.length; i++) yield [i, counts[i]];
}

/**
 * The p-th percentile (0..100) of a bucketed histogram, in ns: the midpoint of
 * the bucket holding that rank, clamped to the observed min and max (0 when empty).
 */
export function percentile(counts: ArrayLike<number>, p: number, minNs = 0, maxNs = Infinity): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  return Math.min(Math.max(bucketPercentileNs(denseBuckets(counts), total, p), minNs), maxNs);
}

/**
 * Latency percentile (0..100) in µs from [bucketLowNs, count] pairs (the JSON
 * histograms), by the same rule as percentile(), so p50..p99.9 agree with the
 * CSV; clamped to the observed min and max when given. NaN when empty.
 */
export function histogramPercentile(hist: Array<[number, number]>, pct: number, minUs = 0, maxUs = Infinity): number {
  const buckets = hist.filter(([, c]) => c > 0).map(([low, c]): [number, number] => [bucketIndex(low), c]).sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((s, [, c]) => s + c, 0);
  if (total === 0) return NaN;
  return Math.min(Math.max(bucketPercentileNs(buckets, total, pct) / 1000, minUs), maxUs);
}

/** Sum histograms bucket by bucket (for pooling the repeats of a cell). */
export function mergeHistograms(hists: Array<Array<[number, number]>>): Array<[number, number]> {
  const m = new Map<number, number>();
  for (const h of hists) for (const [low, c] of h) m.set(low, (m.get(low) ?? 0) + c);
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

export interface HistogramTotals {
  counts: ArrayLike<number>;
  count: number;
  sumNs: number;
  minNs: number;
  maxNs: number;
}

/** A run's latency figures (the CSV's lat_* columns) from its histogram and totals. */
export function latencySummary(h: HistogramTotals): LatencySummary {
  const us = (ns: number) => ns / 1000;
  if (h.count === 0) {
    return { minUs: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 };
  }
  const at = (p: number) => us(percentile(h.counts, p, h.minNs, h.maxNs));
  return {
    minUs: us(h.minNs),
    meanUs: us(h.sumNs / h.count),
    p50Us: at(50),
    p90Us: at(90),
    p99Us: at(99),
    p999Us: at(99.9),
    maxUs: us(h.maxNs),
  };
}

/** Non-empty buckets as [lowNs, count] pairs, for JSON. */
export function sparseBuckets(counts: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) out.push([bucketLow(i), counts[i]]);
  return out;
}
