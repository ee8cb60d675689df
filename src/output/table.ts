// The results table, as a model (headers + string rows + notes) that both the
// terminal renderer (drawTable) and the Markdown exporter draw.
import type { RunRecord } from '../model.js';
import type { CellConfig, CellStats } from '../analysis/stats.js';
import type { CellResult, Results } from '../analysis/results.js';
import { coefficientOfVariation } from '../analysis/warnings.js';
import {
  formatBlockSize,
  formatCount,
  formatCountPm,
  formatMiBs,
  formatNs,
  formatPct,
  formatPerCall,
  formatPerIo,
  formatUs,
  formatUsPm,
} from './format.js';
import { describeConfig } from './labels.js';
import { formatShare, warningText } from './warnings.js';

export type Align = 'left' | 'right';

export interface TableModel {
  headers: string[];
  align: Align[];
  rows: string[][];
  /** Lines to print under the table: outliers, failures, I/O errors. */
  notes: string[];
}

/** Fields shown in their own columns; any other varying field goes into "config". */
const OWN_COLUMNS: ReadonlyArray<keyof CellConfig> = ['workload', 'engine', 'blockSize', 'ioDepth', 'threads'];

/** A short name for one cell among the others: engine, then whatever varies. */
export function cellLabel(cell: CellStats, varying: ReadonlyArray<keyof CellConfig>): string {
  const fields = (['engine', ...varying.filter((f) => f !== 'engine')] as Array<keyof CellConfig>);
  return describeConfig(cell.config, fields);
}

/** What the table shows beyond the fixed columns: decided once over all the cells. */
interface TableShape {
  varying: Array<keyof CellConfig>;
  showWorkload: boolean;
  /** Varying fields without a column of their own: they go into "config". */
  extra: Array<keyof CellConfig>;
  repeats: boolean;
  /** Some cell measured whole-system CPU (schema v2 records), or interrupts (an NVMe controller behind the target). */
  sysCpu: boolean;
  irqs: boolean;
  /** Some cell ran open loop (--rate-iops): offered rate, latency from the due time, late I/Os. */
  rate: boolean;
}

export function buildResultsTable(results: Results): TableModel {
  const { cells } = results;
  const varying = results.varying.filter((f) => !results.engineDependent.includes(f));
  const shape: TableShape = {
    varying,
    showWorkload: varying.includes('workload'),
    extra: varying.filter((f) => !OWN_COLUMNS.includes(f)),
    repeats: cells.some((c) => c.all.length > 1),
    sysCpu: cells.some((c) => (c.partial ?? c).sysCpuNsPerIo.n > 0),
    irqs: cells.some((c) => (c.partial ?? c).irqsPerIo.n > 0),
    rate: cells.some((c) => c.rate),
  };
  const { headers, align } = resultColumns(shape);
  const rows: string[][] = [];
  const notes: string[] = [];
  let flagged = false;
  let partial = false;
  for (const cell of cells) {
    const { row, interrupted, outlier } = cellRow(cell, shape, headers.length);
    rows.push(row);
    partial ||= interrupted;
    flagged ||= outlier;
    notes.push(...cellNotes(cell, cellLabel(cell, varying)));
    if (cell.fdp) notes.push(fdpNote(cell.fdp, cellLabel(cell, varying)));
  }
  notes.push(...clockNotes(results.records));
  if (shape.rate) notes.push(RATE_NOTE);
  if (partial) notes.unshift('* interrupted: the figures cover only the time it ran');
  if (shape.repeats) {
    notes.unshift(`n = repeats; IOPS and p99 show mean ± σ (sample standard deviation) over them, IOPS with σ/mean in brackets${flagged ? '; ! marks a cell with a warning below' : ''}`);
  }
  return { headers, align, rows, notes };
}

function resultColumns(shape: TableShape): { headers: string[]; align: Align[] } {
  const headers: string[] = [];
  const align: Align[] = [];
  const col = (h: string, a: Align): void => {
    headers.push(h);
    align.push(a);
  };
  if (shape.showWorkload) col('workload', 'left');
  col('engine', 'left');
  if (shape.extra.length) col('config', 'left');
  col('bs', 'right');
  col('QD', 'right');
  col('threads', 'right');
  if (shape.repeats) col('n', 'right');
  for (const h of ['IOPS', 'BW MiB/s', 'mean µs', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'usr%', 'sys%', 'CPU ns/IO']) col(h, 'right');
  if (shape.sysCpu) col('sys CPU/IO', 'right');
  if (shape.irqs) col('irqs/IO', 'right');
  col('IOs/call', 'right');
  if (shape.rate) for (const h of ['offered', 'sched p50 µs', 'sched p99 µs', 'late IOs']) col(h, 'right');
  return { headers, align };
}

/** One cell's row, and whether its IOPS carries "*" (interrupted) or "!" (a warning: an outlier repeat, a slow first one, a wide spread). */
function cellRow(cell: CellResult, shape: TableShape, columns: number): { row: string[]; interrupted: boolean; outlier: boolean } {
  const c = cell.config;
  const row: string[] = [];
  if (shape.showWorkload) row.push(c.workload);
  row.push(c.engine);
  if (shape.extra.length) row.push(describeConfig(c, shape.extra));
  row.push(formatBlockSize(c.blockSize), String(c.ioDepth), String(c.threads));
  if (shape.repeats) row.push(cell.all.length === cell.n ? String(cell.n) : `${cell.n}/${cell.all.length}`);
  // A cell stopped by ^C before any repeat completed still shows what it
  // measured, marked: its figures cover only the time it ran.
  const shown = cell.partial ?? cell;
  if (shown.n === 0) {
    const status = cell.all[cell.all.length - 1].status;
    row.push(status, ...new Array(columns - row.length - 1).fill('-'));
    return { row, interrupted: false, outlier: false };
  }
  const multi = shown.n >= 2;
  let iops = multi ? `${formatCountPm(shown.iops.mean, shown.iops.sd)} (${formatShare(coefficientOfVariation(shown.iops))})` : formatCount(shown.iops.mean);
  const interrupted = !!cell.partial;
  const outlier = cell.warnings.length > 0;
  if (interrupted) iops += ' *';
  if (outlier) iops += ' !';
  // --lat off timed nothing: no latency to show, rather than zeros.
  const untimed = shown.ok.every((r) => r.options.latency === 'off');
  const latency = untimed
    ? new Array(5).fill(NOT_TIMED)
    : [
        formatUs(shown.latMean.mean),
        formatUs(shown.p50.mean),
        multi ? formatUsPm(shown.p99.mean, shown.p99.sd) : formatUs(shown.p99.mean),
        formatUs(shown.p999.mean),
        formatUs(shown.latMax.max),
      ];
  row.push(
    iops,
    formatMiBs(shown.bw.mean),
    ...latency,
    formatPct(shown.cpuUsr.mean),
    formatPct(shown.cpuSys.mean),
    formatNs(shown.cpuNsPerIo.mean),
    ...(shape.sysCpu ? [formatNs(shown.sysCpuNsPerIo.mean)] : []),
    ...(shape.irqs ? [formatPerIo(shown.irqsPerIo.mean)] : []),
    `${formatPerCall(shown.iosPerSubmit.mean)}/${formatPerCall(shown.iosPerReap.mean)}`,
  );
  if (shape.rate) row.push(...rateColumns(cell));
  return { row, interrupted, outlier };
}

/** Which clock timed the latencies, once per distinct clock (records that timed something and say). */
function clockNotes(records: RunRecord[]): string[] {
  const lines = new Set<string>();
  for (const r of records) {
    if (!r.clock || r.options.latency === 'off') continue;
    if (r.clock.source === 'tsc') {
      lines.add(`latencies timed by the TSC (${((r.clock.tscHz ?? 0) / 1e9).toFixed(3)} GHz, calibrated against CLOCK_MONOTONIC)`);
    } else {
      lines.add(`latencies timed by CLOCK_MONOTONIC${r.clock.fallback ? ` (the TSC was not used: ${r.clock.fallback})` : ''}`);
    }
  }
  return [...lines];
}

const RATE_NOTE = 'open loop (--rate-iops): p50..max are the service latency, submission to completion; sched p50/p99 count from when each I/O was due, queueing for a slot included; late IOs waited for a free slot';

function rateColumns(cell: CellResult): string[] {
  const r = cell.rate;
  if (!r) return ['closed', '-', '-', '-'];
  return [formatCount(r.offeredIops), formatUs(r.schedP50Us), formatUs(r.schedP99Us), formatCount(r.lateIos)];
}

/** A latency column of a cell run with --lat off. */
const NOT_TIMED = '–';

/** The lines under the table for one cell: its warnings (analysis/warnings.ts), failed runs and I/O errors. */
function cellNotes(cell: CellResult, label: string): string[] {
  const notes: string[] = [];
  for (const w of cell.warnings) notes.push(`! ${label}: ${warningText(w)}`);
  for (const r of cell.all) {
    const rep = cell.all.length > 1 ? ` repeat ${r.repeat}` : '';
    if (r.status !== 'ok') notes.push(`${label}${rep}: ${r.status}${r.errorMessage ? `: ${r.errorMessage}` : ''}`);
    else if (r.errors > 0) notes.push(`${label}${rep}: ${r.errors} I/O error${r.errors === 1 ? '' : 's'}${r.errorMessage ? ` (first: ${r.errorMessage})` : ''}`);
    if (r.steady) notes.push(`${label}${rep}: ${steadyNote(r.steady)}`);
    if (r.series?.dropped) notes.push(`! ${label}${rep}: ${r.series.dropped} intervals of the time series were lost (not read in time)`);
  }
  return notes;
}

/** --steady-state: whether the rule held, and the window the row's figures cover. */
function steadyNote(s: NonNullable<RunRecord['steady']>): string {
  const at = `${s.windowStartS.toFixed(1)}-${(s.windowStartS + s.windowS).toFixed(1)} s`;
  const fit = Number.isFinite(s.rangePct) ? `, range ${s.rangePct.toFixed(1)}% and slope ${s.slopePct.toFixed(1)}% of the mean` : '';
  return s.steady
    ? `steady (${s.rule}): figures over ${s.windowRounds} intervals, ${at}${fit}`
    : `not steady (${s.rule}) when the run ended: figures over the last ${s.windowRounds} intervals, ${at}${fit}`;
}

/** Context lines above the table: what ran where, and the emulated-device warning. */
export function contextLines(records: RunRecord[]): string[] {
  if (records.length === 0) return [];
  const lines: string[] = [];
  const workloads = [...new Set(records.map((r) => r.workload))].join(', ');
  const targets = [...new Set(records.filter((r) => !r.aggregate).map((r) => targetWords(r)))];
  const first = records[0];
  const env = [first.env.hostname && `host ${first.env.hostname}`, first.env.kernel && `kernel ${first.env.kernel}`, first.env.cpuModel]
    .filter(Boolean)
    .join(', ');
  lines.push(`${workloads} on ${targets.join(', ')}${env ? `; ${env}` : ''}`);
  const emulated = [...new Set(records.filter((r) => r.target.emulated).map((r) => r.target.model || r.target.path))];
  if (emulated.length > 0) {
    lines.push(`figures from an emulated device (${emulated.join(', ')}): they show function, not hardware speed`);
  }
  return lines;
}

function targetWords(r: RunRecord): string {
  const t = r.target;
  if (t.kind === 'none') return 'no target';
  const dev = [t.model, t.firmware && `fw ${t.firmware}`].filter(Boolean).join(', ');
  return dev ? `${t.path} (${dev})` : t.path;
}

/** A write run on an FDP namespace: its write amplification, from the FDP statistics log. */
function fdpNote(fdp: NonNullable<CellResult['fdp']>, label: string): string {
  const mib = (b: number) => `${(b / (1024 * 1024)).toFixed(1)} MiB`;
  const bytes = Number.isFinite(fdp.hostBytesWritten) ? ` (host wrote ${mib(fdp.hostBytesWritten)}, media ${mib(fdp.mediaBytesWritten)}: FDP statistics log)` : '';
  return `${label ? `${label}: ` : ''}write amplification ${Number.isFinite(fdp.waf) ? fdp.waf.toFixed(2) : 'unknown (the host wrote nothing)'}${bytes}`;
}
