// --rate-iops, --arrival and --latency-target: open-loop rates and the
// latency a search must meet (issue 16, sections 3 and 4). Pure parsing;
// what a rate does is native/core/rate.h, the search is src/run/target-search.ts.
import { usageError } from '../errors.js';

/** The most one worker can be asked to schedule: native/core/rate.h RATE_MAX_IOPS (a gap under 100 ns). */
export const MAX_RATE_PER_WORKER = 10_000_000;

export type Arrival = 'uniform' | 'poisson';

/** --rate-iops N (each worker) or total:N (shared over every worker of every target). */
export interface RatePlan {
  iops: number;
  total: boolean;
  arrival: Arrival;
}

/** 200000, 200k, 1.5m (powers of 1000: these are counts, not bytes). */
function parseRateNumber(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(text);
  const value = m ? Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1e3 : 1e6) : 1) : NaN;
  if (!(value > 0) || !Number.isFinite(value)) {
    throw usageError(`--rate-iops ${text} is not a rate`, 'give I/Os per second for each worker, such as --rate-iops 50000 or 200k, or total:200k for the whole run');
  }
  return value;
}

/** The rate one worker gets: the total shared over workers × targets, or the rate as given. */
export function perWorkerRate(rate: RatePlan, workers: number): number {
  return rate.total ? rate.iops / workers : rate.iops;
}

export function parseRate(text: string, arrivalText: string | undefined, threads: number, targets: number): RatePlan {
  const total = /^\s*total:/.test(text);
  const iops = parseRateNumber(total ? text.replace(/^\s*total:/, '') : text);
  const arrival = parseArrival(arrivalText ?? 'uniform');
  const plan: RatePlan = { iops, total, arrival };
  const workers = threads * Math.max(1, targets);
  const each = perWorkerRate(plan, workers);
  if (each > MAX_RATE_PER_WORKER) {
    const fix = total
      ? `share it over more workers (--threads ${Math.ceil(iops / MAX_RATE_PER_WORKER)} or more), or ask for at most total:${MAX_RATE_PER_WORKER * workers}`
      : `give each worker ${MAX_RATE_PER_WORKER} or less, and more --threads for more`;
    throw usageError(`--rate-iops ${text.trim()} asks ${each.toPrecision(3)} I/Os per second of one worker, more than the ${MAX_RATE_PER_WORKER / 1e6}M a worker can schedule (a gap under 100 ns)`, fix);
  }
  if (each < 1) {
    throw usageError(`--rate-iops ${text.trim()} gives each of ${workers} workers less than one I/O per second`, 'ask for at least 1 I/O per second per worker');
  }
  return plan;
}

export function parseArrival(text: string): Arrival {
  const value = text.trim();
  if (value !== 'uniform' && value !== 'poisson') throw usageError(`--arrival ${text} is not uniform or poisson`, 'use --arrival uniform (evenly spaced) or --arrival poisson (exponential gaps)');
  return value;
}

/** The percentiles a target may name, and the LatencySummary field that holds each. */
export const TARGET_PERCENTILES = { p50: 'p50Us', p90: 'p90Us', p99: 'p99Us', 'p99.9': 'p999Us', p999: 'p999Us', mean: 'meanUs', max: 'maxUs' } as const;
export type TargetPercentile = keyof typeof TARGET_PERCENTILES;

/** --latency-target p99:100us: the highest IOPS whose latency at that percentile stays within. */
export interface LatencyTarget {
  percentile: TargetPercentile;
  /** The summary field compared (p99Us…). */
  field: (typeof TARGET_PERCENTILES)[TargetPercentile];
  limitUs: number;
  /** As given, for labels: p99:100us. */
  text: string;
}

const LATENCY_UNITS: Record<string, number> = { ns: 1e-3, us: 1, µs: 1, ms: 1e3, s: 1e6 };

export function parseLatencyTarget(text: string): LatencyTarget {
  const m = /^\s*([a-z0-9.]+):(\d+(?:\.\d+)?)\s*([a-zµ]*)\s*$/i.exec(text);
  const pct = m?.[1].toLowerCase();
  if (!m || !pct || !(pct in TARGET_PERCENTILES)) {
    throw usageError(`--latency-target ${text} is not PERCENTILE:LATENCY`, `use a percentile (${Object.keys(TARGET_PERCENTILES).join(', ')}) and a latency with its unit: --latency-target p99:100us`);
  }
  const unit = m[3].toLowerCase();
  if (!unit) throw usageError(`--latency-target ${text} has no unit`, `say ns, us, ms or s: --latency-target ${pct}:${m[2]}us`);
  if (!(unit in LATENCY_UNITS)) throw usageError(`--latency-target ${text}: '${m[3]}' is not a unit of time`, `say ns, us, ms or s: --latency-target ${pct}:${m[2]}us`);
  const limitUs = Number(m[2]) * LATENCY_UNITS[unit];
  if (!(limitUs > 0)) throw usageError(`--latency-target ${text} asks for no latency at all`, `give a latency above 0: --latency-target ${pct}:100us`);
  const percentile = pct as TargetPercentile;
  return { percentile, field: TARGET_PERCENTILES[percentile], limitUs, text: `${percentile}:${m[2]}${unit}` };
}
