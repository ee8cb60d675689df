// Open-loop cells (--rate-iops): what was offered against what was achieved,
// the I/Os that waited for a slot, and the latency from the due time, over
// the ok repeats. A path that cannot keep up gets a warning rather than a
// quietly lower rate.
import type { RunRecord } from '../model.js';
import { histogramPercentile, mergeHistograms } from './histogram.js';

/** Achieved below this share of the offered rate: the path did not keep up. */
export const RATE_SHORTFALL = 0.05;
/** More than this share of the I/Os waited for a free slot: the queue was the bottleneck. */
export const RATE_LATE_SHARE = 0.01;

export interface CellRate {
  arrival: 'uniform' | 'poisson';
  offeredIops: number;
  /** Mean over the ok repeats. */
  achievedIops: number;
  lateIos: number;
  /** lateIos over the I/Os done. */
  lateShare: number;
  maxLagUs: number;
  /** Latency from each I/O's due time, µs: from the pooled histograms where the records have them (JSON), else the repeats' mean (CSV). */
  schedP50Us: number;
  schedP99Us: number;
  schedP999Us: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function cellRate(ok: RunRecord[]): CellRate | undefined {
  const rated = ok.filter((r) => r.rate);
  if (!rated.length) return undefined;
  const rates = rated.map((r) => r.rate!);
  const pooled = rates.every((r) => r.schedHistogram.length) ? mergeHistograms(rates.map((r) => r.schedHistogram)) : undefined;
  const at = (p: number, field: 'p50Us' | 'p99Us' | 'p999Us') => (pooled ? histogramPercentile(pooled, p) : mean(rates.map((r) => r.schedLatency[field])));
  const ios = rated.reduce((s, r) => s + r.ios, 0);
  const late = rates.reduce((s, r) => s + r.lateIos, 0);
  return {
    arrival: rates[0].arrival,
    offeredIops: mean(rates.map((r) => r.offeredIops)),
    achievedIops: mean(rated.map((r) => r.iops)),
    lateIos: late / rated.length,
    lateShare: ios ? late / ios : 0,
    maxLagUs: Math.max(...rates.map((r) => r.maxLagUs)),
    schedP50Us: at(50, 'p50Us'),
    schedP99Us: at(99, 'p99Us'),
    schedP999Us: at(99.9, 'p999Us'),
  };
}

export interface RateBehindWarning {
  kind: 'rate-behind';
  offeredIops: number;
  achievedIops: number;
  lateIos: number;
  lateShare: number;
  schedP99Us: number;
}

/** The path did not keep up with the offered rate: achieved short of it, or I/Os waiting for slots. */
export function rateWarnings(ok: RunRecord[]): RateBehindWarning[] {
  const rate = cellRate(ok);
  if (!rate) return [];
  const short = rate.achievedIops < (1 - RATE_SHORTFALL) * rate.offeredIops;
  if (!short && !(rate.lateShare > RATE_LATE_SHARE)) return [];
  return [{ kind: 'rate-behind', offeredIops: rate.offeredIops, achievedIops: rate.achievedIops, lateIos: rate.lateIos, lateShare: rate.lateShare, schedP99Us: rate.schedP99Us }];
}
