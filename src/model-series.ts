// The time series (--interval) and steady-state (--steady-state) fields of a
// run record (schema v3), apart from src/model.ts, which re-exports them.

/** One interval's figures: summed over the workers, or one worker's (worker set). */
export interface SeriesPoint {
  /** The interval's place on the run's grid (0-based), its start and end since measuring began, s. */
  index: number;
  startS: number;
  endS: number;
  worker?: number;
  ios: number;
  iops: number;
  bandwidthBps: number;
  /** NaN: no I/O timed in the interval. */
  p50Us: number;
  p99Us: number;
  p999Us: number;
  /** The workers' CPU (user + system) over the interval, % of one CPU. */
  cpuPct: number;
}

export interface SeriesRecord {
  intervalMs: number;
  /** Intervals summed over every worker (per-worker rows in workers). */
  points: SeriesPoint[];
  workers: SeriesPoint[];
  /** Intervals a worker could not publish because nothing read them in time (the ring was full). */
  dropped: number;
}

export type SteadyMetric = 'iops' | 'bw' | 'p99';

export interface SteadyRecord {
  /** The rule as given: iops:10%:5. */
  rule: string;
  steady: boolean;
  /** The window's first interval (grid index), its start since measuring began (s), its length (intervals and s). */
  windowStart: number;
  windowStartS: number;
  windowRounds: number;
  windowS: number;
  /** The figure's range (max - min) and the best-fit line's excursion across the window, % of the mean. */
  rangePct: number;
  slopePct: number;
}
