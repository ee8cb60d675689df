// --series-csv <file>: the time series, one row per interval, summed over the
// workers (worker empty) and then per worker. Its own small versioned format
// (series_version 1; results/README.md "Time series CSV"), written whole after
// every cell so a later failure loses nothing. Same safety as every export:
// only a regular file (or '-') is replaced, never a target node (fsutil.ts).
import { stringify } from 'csv-stringify/sync';
import type { RunRecord, SeriesPoint } from '../model.js';
import { writeExport, type OutputPath } from './fsutil.js';

export const SERIES_CSV_VERSION = 1;

type Cell = string | number | boolean;

export const SERIES_CSV_COLUMNS: ReadonlyArray<{ name: string; get(r: RunRecord, p: SeriesPoint): Cell }> = [
  { name: 'series_version', get: () => SERIES_CSV_VERSION },
  { name: 'run_id', get: (r) => r.runId },
  { name: 'target', get: (r) => r.target.path },
  { name: 'target_index', get: (r) => r.targetIndex ?? '' },
  { name: 'engine', get: (r) => r.engine },
  { name: 'workload', get: (r) => r.workload },
  { name: 'bs', get: (r) => r.blockSize },
  { name: 'qd', get: (r) => r.ioDepth },
  { name: 'threads', get: (r) => r.threads },
  { name: 'repeat', get: (r) => r.repeat },
  { name: 'interval_ms', get: (r) => r.series!.intervalMs },
  { name: 'worker', get: (_r, p) => p.worker ?? '' },
  { name: 'interval', get: (_r, p) => p.index },
  { name: 'start_s', get: (_r, p) => p.startS },
  { name: 'end_s', get: (_r, p) => p.endS },
  { name: 'ios', get: (_r, p) => p.ios },
  { name: 'iops', get: (_r, p) => p.iops },
  { name: 'bw_bytes_s', get: (_r, p) => p.bandwidthBps },
  { name: 'lat_p50_us', get: (_r, p) => p.p50Us },
  { name: 'lat_p99_us', get: (_r, p) => p.p99Us },
  { name: 'lat_p999_us', get: (_r, p) => p.p999Us },
  { name: 'cpu_pct', get: (_r, p) => p.cpuPct },
  // --steady-state: whether the interval is in the window the run's figures cover; empty without a rule.
  {
    name: 'in_steady_window',
    get: (r, p) => (r.steady ? p.startS >= r.steady.windowStartS - 1e-6 && p.endS <= r.steady.windowStartS + r.steady.windowS + 1e-6 : ''),
  },
];

const cast = { number: (v: number) => (Number.isFinite(v) ? String(v) : ''), boolean: (v: boolean) => String(v) };

/** The whole file for these records: header, then each record's summed rows, then its per-worker rows. */
export function seriesCsv(records: RunRecord[]): string {
  const rows: Cell[][] = [SERIES_CSV_COLUMNS.map((c) => c.name)];
  for (const r of records) {
    if (!r.series) continue;
    for (const p of [...r.series.points, ...r.series.workers]) rows.push(SERIES_CSV_COLUMNS.map((c) => c.get(r, p)));
  }
  return stringify(rows, { cast, record_delimiter: '\n' });
}

export function writeSeriesCsv(records: RunRecord[], out: string | OutputPath): void {
  writeExport(out, seriesCsv(records));
}
