// The time series of one run: the workers' finished intervals (native
// series(), then the result's leftovers) summed by their place on the run's
// grid, per-interval figures for JSON and --series-csv, and the figures of a
// window of intervals for --steady-state. Interval histograms are merged
// bucket by bucket, so summed percentiles are those of every worker's I/Os.
import type { NativeSeriesChunk, NativeSeriesPoint } from '../native/addon.js';
import type { LatencySummary, SeriesPoint, SeriesRecord, SteadyMetric } from '../model.js';
import { HIST_BUCKETS, bucketLow, latencySummary, percentile, sparseBuckets } from './histogram.js';

/** One grid interval summed over the workers that published it. */
interface Summed {
  index: number;
  startNs: number;
  endNs: number;
  ios: number;
  bytes: number;
  cpuUs: number;
  userUs: number;
  sysUs: number;
  latCount: number;
  latSumNs: number;
  counts: Float64Array;
  workers: number;
  last: boolean;
}

/** A window's figures: what a --steady-state record reports. */
export interface WindowFigures {
  ios: number;
  seconds: number;
  startS: number;
  iops: number;
  bandwidthBps: number;
  userUs: number;
  sysUs: number;
  latency: LatencySummary;
  histogram: Array<[number, number]>;
}

function addPairs(counts: Float64Array, pairs: number[]): void {
  for (let i = 0; i + 1 < pairs.length; i += 2) counts[pairs[i]] += pairs[i + 1];
}

/** Lowest and highest latency the buckets can hold (the interval's own min and max are not kept). */
function bucketRange(counts: Float64Array): { minNs: number; maxNs: number } {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < counts.length; i++) {
    if (!counts[i]) continue;
    if (lo < 0) lo = i;
    hi = i;
  }
  if (lo < 0) return { minNs: 0, maxNs: 0 };
  return { minNs: bucketLow(lo), maxNs: hi + 1 < HIST_BUCKETS ? bucketLow(hi + 1) - 1 : bucketLow(hi) };
}

function pointOf(index: number, startNs: number, endNs: number, ios: number, bytes: number, cpuUs: number, counts: Float64Array, latCount: number): SeriesPoint {
  const s = Math.max(1e-9, (endNs - startNs) / 1e9);
  const us = (p: number) => (latCount ? percentile(counts, p) / 1000 : NaN);
  return {
    index,
    startS: startNs / 1e9,
    endS: endNs / 1e9,
    ios,
    iops: ios / s,
    bandwidthBps: bytes / s,
    p50Us: us(50),
    p99Us: us(99),
    p999Us: us(99.9),
    cpuPct: (cpuUs / 1e6 / s) * 100,
  };
}

export class SeriesCollector {
  private readonly summed = new Map<number, Summed>();
  private readonly perWorker: SeriesPoint[] = [];
  private dropped = 0;

  constructor(
    readonly intervalMs: number,
    private readonly workers: number,
  ) {}

  add(chunk: NativeSeriesChunk | undefined): void {
    if (!chunk) return;
    this.dropped = Math.max(this.dropped, chunk.dropped);
    for (const p of chunk.points) this.addPoint(p);
  }

  private addPoint(p: NativeSeriesPoint): void {
    // A last partial interval under half an interval says little: left out.
    if (p.last && p.endNs - p.startNs < (this.intervalMs * 1e6) / 2) return;
    const counts = new Float64Array(HIST_BUCKETS);
    addPairs(counts, p.lat);
    this.perWorker.push({ ...pointOf(p.index, p.startNs, p.endNs, p.ios, p.bytes, p.userUs + p.sysUs, counts, p.latCount), worker: p.worker });
    let s = this.summed.get(p.index);
    if (!s) {
      s = { index: p.index, startNs: p.startNs, endNs: p.endNs, ios: 0, bytes: 0, cpuUs: 0, userUs: 0, sysUs: 0, latCount: 0, latSumNs: 0, counts: new Float64Array(HIST_BUCKETS), workers: 0, last: false };
      this.summed.set(p.index, s);
    }
    s.startNs = Math.min(s.startNs, p.startNs);
    s.endNs = Math.max(s.endNs, p.endNs);
    s.ios += p.ios;
    s.bytes += p.bytes;
    s.cpuUs += p.userUs + p.sysUs;
    s.userUs += p.userUs;
    s.sysUs += p.sysUs;
    s.latCount += p.latCount;
    s.latSumNs += p.latSumNs;
    s.workers++;
    s.last ||= p.last;
    addPairs(s.counts, p.lat);
  }

  /** Summed intervals in grid order. */
  private ordered(): Summed[] {
    return [...this.summed.values()].sort((a, b) => a.index - b.index);
  }

  /** Whole intervals every worker has published, in order: what the steady-state rule looks at. */
  complete(): SeriesPoint[] {
    return this.ordered()
      .filter((s) => s.workers >= this.workers && !s.last)
      .map((s) => pointOf(s.index, s.startNs, s.endNs, s.ios, s.bytes, s.cpuUs, s.counts, s.latCount));
  }

  record(): SeriesRecord {
    const points = this.ordered().map((s) => pointOf(s.index, s.startNs, s.endNs, s.ios, s.bytes, s.cpuUs, s.counts, s.latCount));
    const workers = [...this.perWorker].sort((a, b) => a.worker! - b.worker! || a.index - b.index);
    return { intervalMs: this.intervalMs, points, workers, dropped: this.dropped };
  }

  /**
   * The figures over rounds whole intervals from grid index start: the ones
   * the rule looked at, so an interval a stalled worker skipped on the grid is
   * not counted as one.
   */
  window(start: number, rounds: number): WindowFigures {
    const picked = this.ordered()
      .filter((s) => s.index >= start && s.workers >= this.workers && !s.last)
      .slice(0, rounds);
    const counts = new Float64Array(HIST_BUCKETS);
    let ios = 0;
    let bytes = 0;
    let userUs = 0;
    let sysUs = 0;
    let latCount = 0;
    let latSumNs = 0;
    for (const s of picked) {
      ios += s.ios;
      bytes += s.bytes;
      userUs += s.userUs;
      sysUs += s.sysUs;
      latCount += s.latCount;
      latSumNs += s.latSumNs;
      for (let i = 0; i < HIST_BUCKETS; i++) counts[i] += s.counts[i];
    }
    const startNs = picked.length ? picked[0].startNs : 0;
    const endNs = picked.length ? picked[picked.length - 1].endNs : 0;
    const seconds = Math.max(1e-9, (endNs - startNs) / 1e9);
    return {
      ios,
      seconds,
      startS: startNs / 1e9,
      iops: ios / seconds,
      bandwidthBps: bytes / seconds,
      userUs,
      sysUs,
      latency: latencySummary({ counts, count: latCount, sumNs: latSumNs, ...bucketRange(counts) }),
      histogram: sparseBuckets(counts),
    };
  }
}

/** The figure a steady-state rule watches, from one interval. */
export function steadyFigure(point: SeriesPoint, metric: SteadyMetric): number {
  return metric === 'iops' ? point.iops : metric === 'bw' ? point.bandwidthBps : point.p99Us;
}
