// Statistics over RunRecords: cells (one configuration, N repeats), summaries,
// ratios with propagated error, outliers. Welch's t-test is in welch.ts, the
// percentiles of the stored latency histograms in histogram.ts.
//
// Outlier rule (documented in results/README.md): a repeat is an outlier when its
// value lies beyond Tukey's fences, below Q1 - 1.5*IQR or above Q3 + 1.5*IQR of
// the repeats of its own cell, with the IQR taken as at least 2% of the median
// so that a percent of run-to-run jitter among tightly clustered repeats is
// never flagged. Needs at least 4 repeats: with fewer, quartiles say nothing and
// no repeat is flagged. (|z| > 2 cannot fire below 6 samples, since max |z| is
// (n-1)/sqrt(n), so it was not used.)
import { mean as ssMean, median as ssMedian, quantile, sampleVariance } from 'simple-statistics';
import type { RunRecord } from '../model.js';

// ---------------------------------------------------------------------------
// Metrics: the names are the CSV column names, so --metric takes the same words.

export interface MetricDef {
  /** CSV column name, also the --metric word. */
  name: string;
  /** Short human label with unit, for tables and axes. */
  label: string;
  higherIsBetter: boolean;
  get(r: RunRecord): number;
}

export const METRICS: readonly MetricDef[] = [
  { name: 'iops', label: 'IOPS', higherIsBetter: true, get: (r) => r.iops },
  { name: 'bw_bytes_s', label: 'bandwidth (B/s)', higherIsBetter: true, get: (r) => r.bandwidthBps },
  { name: 'lat_min_us', label: 'min latency (µs)', higherIsBetter: false, get: (r) => r.latency.minUs },
  { name: 'lat_mean_us', label: 'mean latency (µs)', higherIsBetter: false, get: (r) => r.latency.meanUs },
  { name: 'lat_p50_us', label: 'p50 latency (µs)', higherIsBetter: false, get: (r) => r.latency.p50Us },
  { name: 'lat_p90_us', label: 'p90 latency (µs)', higherIsBetter: false, get: (r) => r.latency.p90Us },
  { name: 'lat_p99_us', label: 'p99 latency (µs)', higherIsBetter: false, get: (r) => r.latency.p99Us },
  { name: 'lat_p999_us', label: 'p99.9 latency (µs)', higherIsBetter: false, get: (r) => r.latency.p999Us },
  { name: 'lat_max_us', label: 'max latency (µs)', higherIsBetter: false, get: (r) => r.latency.maxUs },
  { name: 'cpu_usr_pct', label: 'CPU usr %', higherIsBetter: false, get: (r) => r.cpuUserPct },
  { name: 'cpu_sys_pct', label: 'CPU sys %', higherIsBetter: false, get: (r) => r.cpuSysPct },
  { name: 'cpu_ns_per_io', label: 'CPU ns per I/O', higherIsBetter: false, get: (r) => r.cpuNsPerIo },
  { name: 'sys_cpu_ns_per_io', label: 'system CPU ns per I/O', higherIsBetter: false, get: (r) => r.sysCpuNsPerIo },
  { name: 'irqs_per_io', label: 'interrupts per I/O', higherIsBetter: false, get: (r) => r.irqsPerIo },
  { name: 'ctxsw_per_io', label: 'context switches per I/O', higherIsBetter: false, get: (r) => r.ctxswPerIo },
  { name: 'ios_per_submit_call', label: 'I/Os per submit call', higherIsBetter: true, get: (r) => r.iosPerSubmitCall },
  { name: 'ios_per_reap_call', label: 'I/Os per reap call', higherIsBetter: true, get: (r) => r.iosPerReapCall },
  { name: 'waf', label: 'write amplification (FDP)', higherIsBetter: false, get: (r) => r.fdp?.waf ?? NaN },
];

export function findMetric(name: string): MetricDef | undefined {
  return METRICS.find((m) => m.name === name);
}

// ---------------------------------------------------------------------------
// Cells: what defines a configuration.

export interface CellConfig {
  workload: string;
  engine: string;
  blockSize: number;
  ioDepth: number;
  threads: number;
  readPercent: number;
  batchSubmit: number;
  batchComplete: number;
  fixedBufs: boolean;
  regFiles: boolean;
  sqpoll: boolean;
  direct: boolean;
  verify: boolean;
  cpus: string;
  offset: number;
  size: number;
  /** --lat: 'all' also for records that do not say (CSV, and runs from before --lat). */
  latency: string;
  /** The clock that stamped latencies: 'monotonic' also for records that do not say (CSV, runs from before --clock). */
  clock: string;
  targetKind: string;
  deviceModel: string;
  deviceFirmware: string;
  /** Several targets: '0', '1'… for a target's row, 'all' for the aggregate; '' for a run on one target. */
  target: string;
  /** --rate-iops: the offered rate and arrivals ('200000 uniform'); '' for a closed loop. */
  rate: string;
  /** Plans (v3): the plan entry; '' outside a plan. */
  planEntry: string;
  /** Jobs side by side (v3): the job's name, so one job's latencies never mix with another's; '' without jobs. */
  job: string;
  /** Metadata formats (v3): the metadata bytes and layout and who made the PI with what checked ('8e pi1 controller guard;reftag'); '' without metadata. */
  pi: string;
}

/** Every field that defines the configuration of a cell (not the target path, not runtime). */
export function cellConfig(r: RunRecord): CellConfig {
  const o = r.options;
  return {
    workload: r.workload,
    engine: r.engine,
    blockSize: r.blockSize,
    ioDepth: r.ioDepth,
    threads: r.threads,
    readPercent: r.readPercent,
    batchSubmit: o.batchSubmit,
    batchComplete: o.batchComplete,
    fixedBufs: o.fixedBufs,
    regFiles: o.regFiles,
    sqpoll: o.sqpoll,
    direct: o.direct,
    verify: o.verify,
    cpus: o.cpus.join(';'),
    offset: o.offset,
    size: o.size,
    latency: o.latency ?? 'all',
    clock: r.clock?.source ?? 'monotonic',
    targetKind: r.target.kind,
    deviceModel: r.target.model,
    deviceFirmware: r.target.firmware,
    target: r.aggregate ? 'all' : r.targetIndex !== undefined ? String(r.targetIndex) : '',
    rate: r.rate ? `${Math.round(r.rate.offeredIops)} ${r.rate.arrival}` : '',
    planEntry: r.planEntry ?? '',
    job: r.job ?? '',
    pi: r.metadata ? `${r.metadata.bytes}${r.metadata.extended ? 'e' : 's'} pi${r.metadata.piType} ${r.metadata.pi}${r.metadata.check.length ? ` ${r.metadata.check.join(';')}` : ''}` : '',
  };
}

/** The config fields, in the order keys and labels use. */
export const CONFIG_FIELDS: ReadonlyArray<keyof CellConfig> = [
  'workload', 'engine', 'blockSize', 'ioDepth', 'threads', 'readPercent',
  'batchSubmit', 'batchComplete', 'fixedBufs', 'regFiles', 'sqpoll', 'direct', 'verify', 'cpus', 'offset', 'size', 'latency',
  'targetKind', 'deviceModel', 'deviceFirmware', 'target', 'rate', 'planEntry', 'job', 'pi',
];

/** Fields that stay out of a key while empty: records from before them, or runs without them, keep their keys. */
const KEY_WHEN_SET: ReadonlyArray<keyof CellConfig> = ['target', 'rate', 'planEntry', 'job', 'pi'];

/** --lat all and CLOCK_MONOTONIC stay out of the key: a record that does not say matches one that says all, or monotonic. */
export function configKey(c: CellConfig, omit: ReadonlyArray<keyof CellConfig> = []): string {
  return CONFIG_FIELDS.filter((f) => !omit.includes(f) && !(f === 'latency' && c.latency === 'all') && !(KEY_WHEN_SET.includes(f) && c[f] === '')).map((f) => `${f}=${String(c[f])}`).join('|');
}

export function cellKey(r: RunRecord): string {
  return configKey(cellConfig(r));
}

/** Which config fields take more than one value across these configs. */
export function varyingFields(configs: CellConfig[]): Array<keyof CellConfig> {
  return CONFIG_FIELDS.filter((f) => new Set(configs.map((c) => String(c[f]))).size > 1);
}

/**
 * Fields that vary only because the engine and the axes do: each engine at
 * each bs/QD has one value of them (psync's batch of 1, the default batch of
 * QD/4, aio's lack of fixed buffers, the block node a block engine opens next
 * to an ng target). They say nothing the engine
 * column does not, so tables do not split rows on them.
 */
export function engineDependentFields(configs: CellConfig[]): Array<keyof CellConfig> {
  return varyingFields(configs).filter((f) => {
    // A job's or plan entry's name is what the reader looks for: always shown when it varies.
    if (f === 'engine' || f === 'ioDepth' || f === 'blockSize' || f === 'threads' || f === 'workload' || f === 'job' || f === 'planEntry') return false;
    const perEngine = new Map<string, Set<string>>();
    for (const c of configs) {
      const key = `${c.engine}|${c.workload}|${c.blockSize}|${c.ioDepth}|${c.threads}`;
      let values = perEngine.get(key);
      if (!values) perEngine.set(key, (values = new Set()));
      values.add(String(c[f]));
    }
    return [...perEngine.values()].every((values) => values.size === 1);
  });
}

// ---------------------------------------------------------------------------
// Summaries.

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n-1); 0 when n < 2. */
  sd: number;
  median: number;
  min: number;
  max: number;
  values: number[];
}

/** Summary of the finite values (NaN means "not measured" and is left out). */
export function summarize(values: number[]): Summary {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { n: 0, mean: NaN, sd: NaN, median: NaN, min: NaN, max: NaN, values: [] };
  return {
    n: v.length,
    mean: ssMean(v),
    sd: v.length >= 2 ? Math.sqrt(sampleVariance(v)) : 0,
    median: ssMedian(v),
    min: Math.min(...v),
    max: Math.max(...v),
    values: v,
  };
}

export interface Outlier {
  repeat: number;
  value: number;
}

/** Smallest IQR the outlier fences use, as a share of the median. */
export const OUTLIER_MIN_IQR_FRACTION = 0.02;

/**
 * Indices of values beyond Tukey's fences (1.5 × IQR, the IQR at least 2% of the
 * median); none with fewer than 4 values.
 */
/** Iglewicz and Hoaglin's cutoff for the modified z-score 0.6745·|x − median| / MAD. */
export const OUTLIER_MODIFIED_Z = 3.5;

/**
 * Indices of outliers among a cell's repeats: Tukey's fences from 4 values;
 * for exactly 3, where quartiles say nothing, the modified z-score
 * 0.6745·|x − median| / MAD beyond 3.5 (Iglewicz & Hoaglin), the MAD at least
 * 1% of the median (half the IQR floor, as MAD ≈ IQR/2 for a normal spread).
 * With 3 values that flags one that lies more than about 5.2 times as far
 * from the median as the nearer other value. None with fewer than 3.
 */
export function repeatOutliers(values: number[]): number[] {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length >= 4) return tukeyOutliers(values);
  if (v.length < 3) return [];
  const median = ssMedian(v);
  const mad = Math.max(ssMedian(v.map((x) => Math.abs(x - median))), (OUTLIER_MIN_IQR_FRACTION / 2) * Math.abs(median));
  const out: number[] = [];
  values.forEach((x, i) => {
    if (Number.isFinite(x) && mad > 0 && (0.6745 * Math.abs(x - median)) / mad > OUTLIER_MODIFIED_Z) out.push(i);
  });
  return out;
}

export function tukeyOutliers(values: number[]): number[] {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 4) return [];
  const q1 = quantile(v, 0.25);
  const q3 = quantile(v, 0.75);
  const iqr = Math.max(q3 - q1, OUTLIER_MIN_IQR_FRACTION * Math.abs(ssMedian(v)));
  const lo = q1 - 1.5 * iqr;
  const hi = q3 + 1.5 * iqr;
  const out: number[] = [];
  values.forEach((x, i) => {
    if (Number.isFinite(x) && (x < lo || x > hi)) out.push(i);
  });
  return out;
}

export interface CellStats {
  key: string;
  config: CellConfig;
  /** Every record of the cell, whatever its status, in input order. */
  all: RunRecord[];
  /** The records with status 'ok': the ones the numbers come from. */
  ok: RunRecord[];
  n: number;
  iops: Summary;
  bw: Summary;
  latMin: Summary;
  latMean: Summary;
  p50: Summary;
  p90: Summary;
  p99: Summary;
  p999: Summary;
  latMax: Summary;
  cpuUsr: Summary;
  cpuSys: Summary;
  cpuNsPerIo: Summary;
  sysCpuNsPerIo: Summary;
  irqsPerIo: Summary;
  ctxswPerIo: Summary;
  iosPerSubmit: Summary;
  iosPerReap: Summary;
  /** Repeats whose IOPS are outliers among the cell's repeats (repeatOutliers: Tukey from 4, MAD for 3). */
  iopsOutliers: Outlier[];
}

export function metricSummary(cell: Pick<CellStats, 'ok'>, metric: MetricDef): Summary {
  return summarize(cell.ok.map((r) => metric.get(r)));
}

/** One configuration's records, before any figures are summarised. */
export type CellGroup = Pick<CellStats, 'key' | 'config' | 'all' | 'ok' | 'n'>;

/** Group records into cells by key (one pass, a Map), in order of first appearance. */
export function groupCells(records: RunRecord[]): CellGroup[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const k = cellKey(r);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const cells: CellGroup[] = [];
  for (const [key, all] of groups) {
    const ok = all.filter((r) => r.status === 'ok');
    cells.push({ key, config: cellConfig(all[0]), all, ok, n: ok.length });
  }
  return cells;
}

/** Group records into cells, in order of first appearance, with every figure summarised. */
export function aggregateCells(records: RunRecord[]): CellStats[] {
  const cells: CellStats[] = [];
  for (const { key, config, all, ok } of groupCells(records)) {
    const s = (f: (r: RunRecord) => number): Summary => summarize(ok.map(f));
    const iopsValues = ok.map((r) => r.iops);
    cells.push({
      key,
      config,
      all,
      ok,
      n: ok.length,
      iops: s((r) => r.iops),
      bw: s((r) => r.bandwidthBps),
      latMin: s((r) => r.latency.minUs),
      latMean: s((r) => r.latency.meanUs),
      p50: s((r) => r.latency.p50Us),
      p90: s((r) => r.latency.p90Us),
      p99: s((r) => r.latency.p99Us),
      p999: s((r) => r.latency.p999Us),
      latMax: s((r) => r.latency.maxUs),
      cpuUsr: s((r) => r.cpuUserPct),
      cpuSys: s((r) => r.cpuSysPct),
      cpuNsPerIo: s((r) => r.cpuNsPerIo),
      sysCpuNsPerIo: s((r) => r.sysCpuNsPerIo),
      irqsPerIo: s((r) => r.irqsPerIo),
      ctxswPerIo: s((r) => r.ctxswPerIo),
      iosPerSubmit: s((r) => r.iosPerSubmitCall),
      iosPerReap: s((r) => r.iosPerReapCall),
      iopsOutliers: repeatOutliers(iopsValues).map((i) => ({ repeat: ok[i].repeat, value: iopsValues[i] })),
    });
  }
  return cells;
}

/**
 * a/b with its standard deviation, relative errors added in quadrature
 * (first-order propagation, as hyperfine does): σ = r·sqrt((σa/a)² + (σb/b)²).
 */
export function ratioWithError(a: Summary, b: Summary): { ratio: number; sd: number } {
  const ratio = a.mean / b.mean;
  const ra = a.mean !== 0 ? a.sd / a.mean : 0;
  const rb = b.mean !== 0 ? b.sd / b.mean : 0;
  return { ratio, sd: Math.abs(ratio) * Math.sqrt(ra * ra + rb * rb) };
}
