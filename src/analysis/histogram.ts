// The latency histogram's bucket layout, mirrored from native/histogram.h:
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
 * The p-th percentile (0..100) of a bucketed histogram, in ns: the midpoint of
 * the bucket holding that rank, clamped to the observed min and max.
 */
export function percentile(counts: ArrayLike<number>, p: number, minNs = 0, maxNs = Infinity): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) {
      const mid = bucketLow(i) + (bucketWidth(i) - 1) / 2;
      return Math.min(Math.max(mid, minNs), maxNs);
    }
  }
  return maxNs;
}

export interface HistogramTotals {
  counts: ArrayLike<number>;
  count: number;
  sumNs: number;
  minNs: number;
  maxNs: number;
}

export function summarize(h: HistogramTotals): LatencySummary {
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

/** Percentile from the sparse [lowNs, count] pairs kept in JSON exports. */
export function percentileFromSparse(pairs: Array<[number, number]>, p: number): number {
  const counts = new Array<number>(HIST_BUCKETS).fill(0);
  for (const [low, count] of pairs) counts[bucketIndex(low)] += count;
  return percentile(counts, p);
}
