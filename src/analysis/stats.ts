// Statistics over RunRecords: cells (one configuration, N repeats), summaries,
// Welch's t-test with a real p-value, ratios with propagated error, outliers.
// Percentiles from the stored latency histograms are in histogram.ts.
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
  { name: 'ios_per_submit_call', label: 'I/Os per submit call', higherIsBetter: true, get: (r) => r.iosPerSubmitCall },
  { name: 'ios_per_reap_call', label: 'I/Os per reap call', higherIsBetter: true, get: (r) => r.iosPerReapCall },
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
  targetKind: string;
  deviceModel: string;
  deviceFirmware: string;
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
    targetKind: r.target.kind,
    deviceModel: r.target.model,
    deviceFirmware: r.target.firmware,
  };
}

/** The config fields, in the order keys and labels use. */
export const CONFIG_FIELDS: ReadonlyArray<keyof CellConfig> = [
  'workload', 'engine', 'blockSize', 'ioDepth', 'threads', 'readPercent',
  'batchSubmit', 'batchComplete', 'fixedBufs', 'regFiles', 'sqpoll', 'direct', 'verify', 'cpus', 'offset', 'size',
  'targetKind', 'deviceModel', 'deviceFirmware',
];

export function configKey(c: CellConfig, omit: ReadonlyArray<keyof CellConfig> = []): string {
  return CONFIG_FIELDS.filter((f) => !omit.includes(f)).map((f) => `${f}=${String(c[f])}`).join('|');
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
    if (f === 'engine' || f === 'ioDepth' || f === 'blockSize' || f === 'threads' || f === 'workload') return false;
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
  iosPerSubmit: Summary;
  iosPerReap: Summary;
  /** Repeats whose IOPS lie beyond 1.5 × IQR of the cell's repeats. */
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
      iosPerSubmit: s((r) => r.iosPerSubmitCall),
      iosPerReap: s((r) => r.iosPerReapCall),
      iopsOutliers: tukeyOutliers(iopsValues).map((i) => ({ repeat: ok[i].repeat, value: iopsValues[i] })),
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

// ---------------------------------------------------------------------------
// Student's t distribution and Welch's t-test.

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; about 15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) {
    // Reflection: Γ(x)Γ(1-x) = π / sin(πx)
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const MAX_ITER = 1000;
  const EPS = 1e-15;
  const TINY = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b), for 0 <= x <= 1 and a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Complementary error function (W. J. Cody's rational Chebyshev fit as in Numerical Recipes erfcc; |rel err| < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Two-sided p-value of Student's t with df degrees of freedom: P(|T| >= |t|). */
export function tTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return NaN;
  if (!Number.isFinite(t)) return 0;
  if (df > 1e7) return erfc(Math.abs(t) / Math.SQRT2); // the normal limit
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Cumulative distribution function of Student's t: P(T <= t). */
export function studentTCdf(t: number, df: number): number {
  const p = tTwoSidedP(t, df);
  if (Number.isNaN(p)) return NaN;
  return t >= 0 ? 1 - p / 2 : p / 2;
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
