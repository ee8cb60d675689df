// nvmebench regress <baseline> <current>: match cells on their configuration
// (engine, workload, bs, QD, threads, read %, options, target kind, device model
// and firmware), compare the chosen metrics, and exit 1 on a regression.
//
// A regression: the change is worse than the threshold AND, where both sides
// have at least 2 repeats, Welch's two-sided t-test gives p < 0.05. A cell whose
// every repeat now fails is a regression too. Cells on one side only are listed.
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { READABLE_SCHEMA_VERSIONS, type RunRecord } from '../model.js';
import { checkMetrics, checkSchema, peekSchemaVersion, readResultsFile } from '../export/read.js';
import { markdownTable } from '../export/markdown.js';
import { checkOutputPath, writeExport } from '../export/fsutil.js';
import { drawTable } from '../output/render.js';
import { painterFor, type Painter } from '../output/color.js';
import { formatCountPm, formatDeltaPct, formatNs, formatP, formatPct, formatUsPm, formatPerCall } from '../output/format.js';
import { AXIS_FIELDS, describeConfig, fieldLabel } from '../output/labels.js';
import {
  CONFIG_FIELDS,
  groupCells,
  findMetric,
  metricSummary,
  METRICS,
  varyingFields,
  type CellGroup,
  type MetricDef,
  type Summary,
} from '../analysis/stats.js';
import { repeatsToDetect, welchTTest } from '../analysis/welch.js';
import { firmwareLabel, fleetRecords, fleetSide, isFleetFile } from '../fleet/regress.js';

export const ALPHA = 0.05;
export const DEFAULT_METRICS = ['iops', 'lat_p99_us', 'cpu_ns_per_io'];

export type Verdict =
  | 'regression'
  | 'improvement'
  | 'unchanged'
  | 'not significant'
  | 'now fails'
  | 'baseline failed'
  | 'both failed'
  | 'only in baseline'
  | 'only in current'
  | 'no data';

export interface RegressRow {
  key: string;
  label: string;
  metric: string;
  baseline?: Summary;
  current?: Summary;
  /** (current - baseline) / baseline × 100; NaN when not comparable. */
  deltaPct: number;
  /** Welch two-sided p, when both sides have ≥ 2 repeats. */
  p?: number;
  verdict: Verdict;
  /** 'not significant': repeats per side that would detect this change at the spread seen (repeatsToDetect). */
  repeatsToDetect?: number;
}

export interface RegressReport {
  rows: RegressRow[];
  regressions: number;
  improvements: number;
  thresholdPct: number;
  metrics: string[];
  /** Words on why nothing matched, when nothing did. */
  hint?: string;
}

export interface RegressOptions {
  thresholdPct?: number;
  metrics?: string[];
}

/** "5%", "5", "2.5 %" → 5, 5, 2.5 (percent). */
export function parseThreshold(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(s);
  if (!m) throw usageError(`--threshold "${s}" is not a percentage`, 'give it like 5% (a change worse than this counts)');
  return Number(m[1]);
}

export function parseMetrics(s: string): MetricDef[] {
  const names = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw usageError('--metric is empty', `give one or more of ${METRICS.map((m) => m.name).join(', ')}`);
  // A metric named twice is compared once: counting it twice would double its regressions.
  return [...new Set(names)].map((n) => {
    const m = findMetric(n);
    if (!m) throw usageError(`unknown metric "${n}"`, `use one or more of ${METRICS.map((x) => x.name).join(', ')}`);
    return m;
  });
}

/** Compare two sets of records. Pure: no I/O. */
export function compareResults(baseline: RunRecord[], current: RunRecord[], opts: RegressOptions = {}): RegressReport {
  const thresholdPct = opts.thresholdPct ?? 5;
  const metrics = [...new Set(opts.metrics ?? DEFAULT_METRICS)].map((n) => {
    const m = findMetric(n);
    if (!m) throw usageError(`unknown metric "${n}"`, `use one or more of ${METRICS.map((x) => x.name).join(', ')}`);
    return m;
  });
  const baseCells = groupCells(baseline);
  const curCells = groupCells(current);
  const baseBy = new Map(baseCells.map((c) => [c.key, c]));
  const curBy = new Map(curCells.map((c) => [c.key, c]));
  const keys = [...new Set([...baseCells.map((c) => c.key), ...curCells.map((c) => c.key)])];
  const allConfigs = [...baseCells, ...curCells].map((c) => c.config);
  const varying = varyingFields(allConfigs);
  const labelFields = CONFIG_FIELDS.filter((f) => AXIS_FIELDS.includes(f) || varying.includes(f));

  const rows: RegressRow[] = [];
  let regressions = 0;
  let improvements = 0;
  for (const key of keys) {
    const b = baseBy.get(key);
    const c = curBy.get(key);
    const label = describeConfig((b ?? c)!.config, labelFields);
    for (const metric of metrics) {
      const row = compareCell(key, label, metric, b, c, thresholdPct);
      if (row.verdict === 'regression' || row.verdict === 'now fails') regressions++;
      if (row.verdict === 'improvement') improvements++;
      rows.push(row);
    }
  }
  let hint: string | undefined;
  const matched = keys.some((k) => baseBy.has(k) && curBy.has(k));
  if (!matched && baseCells.length > 0 && curCells.length > 0) hint = mismatchHint(baseCells, curCells);
  return { rows, regressions, improvements, thresholdPct, metrics: metrics.map((m) => m.name), hint };
}

function compareCell(key: string, label: string, metric: MetricDef, b: CellGroup | undefined, c: CellGroup | undefined, thresholdPct: number): RegressRow {
  const base = b ? metricSummary(b, metric) : undefined;
  const cur = c ? metricSummary(c, metric) : undefined;
  const row: RegressRow = { key, label, metric: metric.name, baseline: base, current: cur, deltaPct: NaN, verdict: 'no data' };
  if (!b) return { ...row, verdict: 'only in current' };
  if (!c) return { ...row, verdict: 'only in baseline' };
  if (b.n === 0 && c.n === 0) return { ...row, verdict: 'both failed' };
  if (c.n === 0) return { ...row, verdict: 'now fails' };
  if (b.n === 0) return { ...row, verdict: 'baseline failed' };
  if (!base || !cur || base.n === 0 || cur.n === 0) return row;
  const delta = base.mean === 0 ? (cur.mean === 0 ? 0 : Math.sign(cur.mean) * Infinity) : ((cur.mean - base.mean) / Math.abs(base.mean)) * 100;
  // Positive "worse" means the change goes the wrong way for this metric.
  const worse = metric.higherIsBetter ? -delta : delta;
  const w = base.n >= 2 && cur.n >= 2 ? welchTTest(base.values, cur.values) : null;
  const p = w?.p;
  const significant = p === undefined || p < ALPHA;
  let verdict: Verdict = 'unchanged';
  if (Math.abs(worse) > thresholdPct) {
    if (!significant) verdict = 'not significant';
    else verdict = worse > 0 ? 'regression' : 'improvement';
  }
  const needed = verdict === 'not significant' ? repeatsToDetect(base.values, cur.values) : undefined;
  return { ...row, deltaPct: delta, p, verdict, ...(needed !== undefined ? { repeatsToDetect: needed } : {}) };
}

function mismatchHint(base: CellGroup[], cur: CellGroup[]): string {
  const diffs: string[] = [];
  for (const f of CONFIG_FIELDS) {
    const bv = new Set(base.map((c) => String(c.config[f])));
    const cv = new Set(cur.map((c) => String(c.config[f])));
    if ([...bv].every((v) => !cv.has(v))) {
      diffs.push(`${f} (${fieldLabel(f, base[0].config)} vs ${fieldLabel(f, cur[0].config)})`);
    }
  }
  return diffs.length
    ? `no configuration is in both files: they differ in ${diffs.join(', ')}`
    : 'no configuration is in both files: the cells differ in their combination of settings';
}

export function formatMetric(metric: string, s: Summary | undefined): string {
  if (!s || s.n === 0) return '-';
  const sd = s.n >= 2 ? s.sd : NaN;
  let v: string;
  if (metric === 'iops' || metric === 'bw_bytes_s') v = s.n >= 2 ? formatCountPm(s.mean, s.sd) : formatCountPm(s.mean, NaN);
  else if (metric.startsWith('lat_')) v = formatUsPm(s.mean, sd);
  else if (metric.endsWith('_pct')) v = formatPct(s.mean) + (s.n >= 2 ? ` ± ${formatPct(s.sd)}` : '');
  else if (metric === 'cpu_ns_per_io') v = formatNs(s.mean) + (s.n >= 2 ? ` ± ${formatNs(s.sd)}` : '');
  else v = formatPerCall(s.mean);
  return s.n >= 2 ? `${v} (n=${s.n})` : v;
}

export function reportTable(report: RegressReport): { headers: string[]; rows: string[][]; align: Array<'left' | 'right'> } {
  const headers = ['configuration', 'metric', 'baseline', 'current', 'Δ', 'p', 'verdict'];
  const align: Array<'left' | 'right'> = ['left', 'left', 'right', 'right', 'right', 'right', 'left'];
  const rows = report.rows.map((r) => [
    r.label,
    r.metric,
    r.baseline ? formatMetric(r.metric, r.baseline) : r.verdict === 'only in current' ? '(absent)' : '-',
    r.current ? formatMetric(r.metric, r.current) : r.verdict === 'only in baseline' ? '(absent)' : '-',
    formatDeltaPct(r.deltaPct),
    formatP(r.p),
    r.verdict === 'regression' || r.verdict === 'now fails'
      ? `${r.verdict.toUpperCase()}`
      : r.repeatsToDetect !== undefined
        ? `${r.verdict} (~${r.repeatsToDetect} repeats each to detect)`
        : r.verdict,
  ]);
  return { headers, rows, align };
}

/** The verdict column in colour for a terminal: regressions red, improvements green. */
function paintVerdicts(table: ReturnType<typeof reportTable>, paint: Painter): ReturnType<typeof reportTable> {
  const verdict = (v: string): string => (/^(REGRESSION|NOW FAILS)/.test(v) ? paint.red(v) : v.startsWith('improvement') ? paint.green(v) : v);
  return { ...table, rows: table.rows.map((r) => [...r.slice(0, -1), verdict(r[r.length - 1])]) };
}

/** Rows a terminal shows by default; --all shows every row. */
export const DEFAULT_SHOWN_ROWS = 50;

/** How far up a verdict goes when not every row is shown: regressions first, unchanged last. */
const VERDICT_RANK: Record<Verdict, number> = {
  regression: 0,
  'now fails': 0,
  improvement: 1,
  'not significant': 2,
  'baseline failed': 3,
  'both failed': 3,
  'only in baseline': 3,
  'only in current': 3,
  'no data': 3,
  unchanged: 4,
};

function countVerdicts(rows: RegressRow[]): Map<Verdict, number> {
  const counts = new Map<Verdict, number>();
  for (const r of rows) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  return counts;
}

/**
 * The rows to print: all of them in file order when they fit in `limit`,
 * otherwise the first `limit` with regressions first, then improvements,
 * then the rest, and a line that counts what was left out.
 */
export function shownRows(report: RegressReport, limit = DEFAULT_SHOWN_ROWS): { report: RegressReport; omitted?: string } {
  if (report.rows.length <= limit) return { report };
  const ranked = report.rows.map((row, i) => ({ row, i }));
  ranked.sort((a, b) => VERDICT_RANK[a.row.verdict] - VERDICT_RANK[b.row.verdict] || a.i - b.i);
  const shown = ranked.slice(0, limit).map((x) => x.row);
  const hidden = countVerdicts(ranked.slice(limit).map((x) => x.row));
  const words = [...hidden.entries()].sort((a, b) => VERDICT_RANK[a[0]] - VERDICT_RANK[b[0]]).map(([v, n]) => `${n} ${v}`);
  const left = report.rows.length - limit;
  return {
    report: { ...report, rows: shown },
    omitted: `${left} more row${left === 1 ? '' : 's'} not shown (${words.join(', ')}); --all shows every row`,
  };
}

export function summaryLine(report: RegressReport): string {
  const counts = countVerdicts(report.rows);
  const count = (v: Verdict): number => counts.get(v) ?? 0;
  const parts = [
    `${report.regressions} regression${report.regressions === 1 ? '' : 's'}`,
    `${report.improvements} improvement${report.improvements === 1 ? '' : 's'}`,
    `${count('unchanged')} unchanged`,
  ];
  const ns = count('not significant');
  if (ns) parts.push(`${ns} not significant`);
  const ob = count('only in baseline');
  const oc = count('only in current');
  if (ob) parts.push(`${ob} only in baseline`);
  if (oc) parts.push(`${oc} only in current`);
  return `${parts.join(', ')} (threshold ${report.thresholdPct}%; Welch p < ${ALPHA} where both sides have ≥2 repeats)`;
}

export function reportMarkdown(report: RegressReport, baselineFile: string, currentFile: string): string {
  const t = reportTable(report);
  return [
    `Regression check: \`${currentFile}\` against \`${baselineFile}\``,
    '',
    markdownTable(t.headers, t.rows, t.align),
    summaryLine(report),
    ...(report.hint ? ['', report.hint] : []),
    '',
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('regress')
    .description('compare two results files (CSV or JSON) cell by cell; exit 1 on a regression')
    .argument('<baseline>', 'results file from before (--csv or --json output)')
    .argument('<current>', 'results file to check')
    .option('--threshold <pct>', 'a change worse than this (in percent) is a regression', '5%')
    .option('--metric <list>', `comma-separated metrics: ${METRICS.map((m) => m.name).join(', ')}`, DEFAULT_METRICS.join(','))
    .option('--md <file>', 'also write the comparison table as Markdown (every row)')
    .option('--all', `print every row (by default at most ${DEFAULT_SHOWN_ROWS}, regressions first)`)
    .option('--fleet', 'fleet files (merge): hosts aggregated per device model and configuration, firmware named, so a rollout is gated fleet-wide (on by itself when both files carry a fleet run id)')
    .addHelpText(
      'after',
      `
Cells match on engine, workload, bs, QD, threads, read %, options, target kind,
device model and firmware. IOPS, bandwidth and I/Os per call: higher is better;
latencies and CPU figures: lower is better. A regression is a change worse than
the threshold that is also significant (Welch's t-test, p < ${ALPHA}) where both
files hold at least 2 repeats of the cell (use --repeat). A change past the
threshold that is not significant says how many repeats on each side would
detect it at the spread seen (α 0.05, power 0.8). Exit code 1 on any
regression, 0 otherwise, 2 when a file cannot be read: a row with status ok
must hold a finite, non-negative number in every compared metric.`,
    )
    .action(async (baselineFile: string, currentFile: string, opts: { threshold: string; metric: string; md?: string; all?: boolean; fleet?: boolean }) => {
      const thresholdPct = parseThreshold(opts.threshold);
      // Checked before the comparison; never over one of the files compared.
      const mdOut = opts.md ? checkOutputPath(opts.md, { flag: '--md', target: { paths: [baselineFile, currentFile], what: 'a results file being compared' } }) : undefined;
      const metrics = parseMetrics(opts.metric);
      const vb = peekSchemaVersion(baselineFile);
      const vc = peekSchemaVersion(currentFile);
      // v1 and v2 compare (v1 lacks the v2 figures, which read as unknown); any other pair does not.
      const readable = (v: number): boolean => READABLE_SCHEMA_VERSIONS.includes(v);
      if (vb !== undefined && vc !== undefined && vb !== vc && !(readable(vb) && readable(vc))) {
        throw usageError(
          `${baselineFile} is schema v${vb} and ${currentFile} is schema v${vc}`,
          'compare files of one schema version (re-run the baseline with this nvmebench)',
        );
      }
      const base = await readResultsFile(baselineFile);
      const cur = await readResultsFile(currentFile);
      if (base.records.length === 0) throw usageError(`${baselineFile} holds no results`, 'give a results file with at least one row');
      if (cur.records.length === 0) throw usageError(`${currentFile} holds no results`, 'give a results file with at least one row');
      checkMetrics(base, metrics);
      checkMetrics(cur, metrics);
      checkSchema(base);
      checkSchema(cur);
      // Fleet files (merge's output, or --fleet): hosts aggregated per device model and configuration, firmware named.
      const fleet = opts.fleet || (isFleetFile(base.records) && isFleetFile(cur.records));
      const report = fleet
        ? compareResults(fleetRecords(base.records), fleetRecords(cur.records), { thresholdPct, metrics: metrics.map((m) => m.name) })
        : compareResults(base.records, cur.records, { thresholdPct, metrics: metrics.map((m) => m.name) });
      if (fleet) {
        const b = fleetSide(base.records);
        const c = fleetSide(cur.records);
        for (const row of report.rows) row.label = `${row.label} ${firmwareLabel(row.key, b, c)}`;
        process.stdout.write(`fleet: ${b.hosts.size} host${b.hosts.size === 1 ? '' : 's'} in ${baselineFile}, ${c.hosts.size} in ${currentFile}; every host's runs are samples of their device model and configuration\n`);
      }
      const shown = opts.all ? { report } : shownRows(report);
      const out = [drawTable(paintVerdicts(reportTable(shown.report), painterFor(process.stdout)))];
      if (shown.omitted) out.push(shown.omitted);
      out.push(summaryLine(report));
      if (report.hint) out.push(report.hint);
      process.stdout.write(out.join('\n') + '\n');
      if (mdOut) writeExport(mdOut, reportMarkdown(report, baselineFile, currentFile));
      return report.regressions > 0 ? 'failed' : 'ok';
    });
}
