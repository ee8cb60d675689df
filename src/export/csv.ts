// CSV: one row per RunRecord (one cell, one repeat). The column set is part of
// the schema (SCHEMA_VERSION, documented in results/README.md and published in
// results/schema/): change it only together with the version and the schema
// (node scripts/gen-schema.mjs). RFC 4180 quoting by csv-stringify; rows end
// with "\n". Reading a CSV back is csv-read.ts, on csv-parse.ts.
import { closeSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { stringify, type Options as StringifyOptions } from 'csv-stringify/sync';
import { usageError } from '../errors.js';
import { SCHEMA_VERSION, type RunRecord } from '../model.js';
import { appendLocked, classifyOutput, describeExportError, isStream, writeExport, type OutputPath } from './fsutil.js';
import type { Exporter } from './types.js';
import { LAYERS } from '../explain/layers.js';
import { parseCsv } from './csv-parse.js';

export { parseCsv };

type Cell = string | number | boolean;

interface Column {
  name: string;
  get(r: RunRecord): Cell;
  /** A file without this column still reads back. */
  optional?: true;
}

export const CSV_COLUMNS: readonly Column[] = [
  { name: 'schema_version', get: (r) => r.schemaVersion },
  { name: 'run_id', get: (r) => r.runId },
  { name: 'repeat', get: (r) => r.repeat },
  { name: 'timestamp', get: (r) => r.env.timestamp },
  { name: 'hostname', get: (r) => r.env.hostname },
  { name: 'kernel', get: (r) => r.env.kernel },
  { name: 'nvmebench_version', get: (r) => r.env.nvmebenchVersion },
  { name: 'cpu_model', get: (r) => r.env.cpuModel },
  { name: 'target', get: (r) => r.target.path },
  // v2, several targets: the target's place (empty for one target and for the aggregate), and the aggregate row's marker.
  { name: 'target_index', get: (r) => r.targetIndex ?? '' },
  { name: 'aggregate', get: (r) => r.aggregate === true },
  { name: 'target_kind', get: (r) => r.target.kind },
  { name: 'target_size_bytes', get: (r) => r.target.sizeBytes },
  { name: 'logical_block_size', get: (r) => r.target.logicalBlockSize },
  { name: 'device_model', get: (r) => r.target.model },
  { name: 'device_serial', get: (r) => r.target.serial },
  { name: 'device_firmware', get: (r) => r.target.firmware },
  { name: 'emulated', get: (r) => r.target.emulated },
  { name: 'workload', get: (r) => r.workload },
  { name: 'engine', get: (r) => r.engine },
  { name: 'bs', get: (r) => r.blockSize },
  { name: 'qd', get: (r) => r.ioDepth },
  { name: 'threads', get: (r) => r.threads },
  { name: 'read_pct', get: (r) => r.readPercent },
  { name: 'runtime_s', get: (r) => r.runtimeS },
  { name: 'batch_submit', get: (r) => r.options.batchSubmit },
  { name: 'batch_complete', get: (r) => r.options.batchComplete },
  { name: 'fixedbufs', get: (r) => r.options.fixedBufs },
  { name: 'regfiles', get: (r) => r.options.regFiles },
  { name: 'sqpoll', get: (r) => r.options.sqpoll },
  { name: 'direct', get: (r) => r.options.direct },
  { name: 'verify', get: (r) => r.options.verify },
  { name: 'cpus', get: (r) => r.options.cpus.join(';') },
  { name: 'offset', get: (r) => r.options.offset },
  { name: 'size', get: (r) => r.options.size },
  { name: 'status', get: (r) => r.status },
  { name: 'ios', get: (r) => r.ios },
  { name: 'iops', get: (r) => r.iops },
  { name: 'bw_bytes_s', get: (r) => r.bandwidthBps },
  { name: 'lat_min_us', get: (r) => r.latency.minUs },
  { name: 'lat_mean_us', get: (r) => r.latency.meanUs },
  { name: 'lat_p50_us', get: (r) => r.latency.p50Us },
  { name: 'lat_p90_us', get: (r) => r.latency.p90Us },
  { name: 'lat_p99_us', get: (r) => r.latency.p99Us },
  { name: 'lat_p999_us', get: (r) => r.latency.p999Us },
  { name: 'lat_max_us', get: (r) => r.latency.maxUs },
  { name: 'cpu_usr_pct', get: (r) => r.cpuUserPct },
  { name: 'cpu_sys_pct', get: (r) => r.cpuSysPct },
  { name: 'cpu_ns_per_io', get: (r) => r.cpuNsPerIo },
  // v2: whole-system CPU, interrupts and context switches per I/O (empty when not measured).
  { name: 'sys_cpu_ns_per_io', get: (r) => r.sysCpuNsPerIo },
  { name: 'irqs_per_io', get: (r) => r.irqsPerIo },
  { name: 'ctxsw_per_io', get: (r) => r.ctxswPerIo },
  { name: 'ios_per_submit_call', get: (r) => r.iosPerSubmitCall },
  { name: 'ios_per_reap_call', get: (r) => r.iosPerReapCall },
  { name: 'errors', get: (r) => r.errors },
  { name: 'verified_blocks', get: (r) => r.verifiedBlocks },
  { name: 'error_message', get: (r) => r.errorMessage },
  // v3, --rate-iops (open loop): the rate asked for, the arrivals, I/Os that waited for a slot, and the latency from
  // each I/O's due time (sched_lat_*; lat_* stay the service latency, submission to completion). Empty for a closed loop.
  { name: 'rate_offered_iops', get: (r) => r.rate?.offeredIops ?? '' },
  { name: 'rate_arrival', get: (r) => r.rate?.arrival ?? '' },
  { name: 'rate_late_ios', get: (r) => r.rate?.lateIos ?? '' },
  { name: 'rate_max_lag_us', get: (r) => r.rate?.maxLagUs ?? '' },
  { name: 'sched_lat_mean_us', get: (r) => r.rate?.schedLatency.meanUs ?? '' },
  { name: 'sched_lat_p50_us', get: (r) => r.rate?.schedLatency.p50Us ?? '' },
  { name: 'sched_lat_p90_us', get: (r) => r.rate?.schedLatency.p90Us ?? '' },
  { name: 'sched_lat_p99_us', get: (r) => r.rate?.schedLatency.p99Us ?? '' },
  { name: 'sched_lat_p999_us', get: (r) => r.rate?.schedLatency.p999Us ?? '' },
  { name: 'sched_lat_max_us', get: (r) => r.rate?.schedLatency.maxUs ?? '' },
  // v3: the plan entry (nvmebench plan run) and the job (--job) a row ran under; empty outside them.
  { name: 'plan_entry', get: (r) => r.planEntry ?? '' },
  { name: 'job', get: (r) => r.job ?? '' },
  // v3: write amplification over a write run on an FDP namespace (empty otherwise).
  { name: 'waf', get: (r) => r.fdp?.waf ?? '' },
  // v3, --steady-state: the rule, whether it held, and the window the figures above cover (empty without a rule).
  { name: 'steady_rule', get: (r) => r.steady?.rule ?? '' },
  { name: 'steady', get: (r) => (r.steady ? r.steady.steady : '') },
  { name: 'steady_window_start_s', get: (r) => r.steady?.windowStartS ?? '' },
  { name: 'steady_window_s', get: (r) => r.steady?.windowS ?? '' },
  // v3: the fleet run (--fleet-run-id) the record belongs to; empty outside a fleet.
  { name: 'fleet_run_id', get: (r) => r.env.fleetRunId ?? '' },
  // v3, metadata formats: the namespace's metadata bytes per block and their layout, the PI type, who made the PI
  // (host: nvmebench, controller: --pi-act, none) and what the controller checked (--pi-check); empty without metadata.
  { name: 'meta_bytes', get: (r) => r.metadata?.bytes ?? '' },
  { name: 'meta_layout', get: (r) => (r.metadata ? (r.metadata.extended ? 'extended' : 'separate') : '') },
  { name: 'pi_type', get: (r) => r.metadata?.piType ?? '' },
  { name: 'pi', get: (r) => r.metadata?.pi ?? '' },
  { name: 'pi_check', get: (r) => r.metadata?.check.join(';') ?? '' },
  // --explain and polling: empty unless the run measured them (read back, they are not required).
  { name: 'empty_polls_per_io', get: (r) => r.emptyPollsPerIo ?? '', optional: true },
  ...LAYERS.map((layer): Column => ({ name: `explain_${layer}_ns_per_io`, get: (r) => r.explain?.layers[layer]?.nsPerIo ?? '', optional: true })),
];

export const CSV_COLUMN_NAMES: readonly string[] = CSV_COLUMNS.map((c) => c.name);
/** The columns schema v2 added: a v1 file lacks them, and reads them as unknown. */
export const CSV_V2_COLUMNS: readonly string[] = ['sys_cpu_ns_per_io', 'irqs_per_io', 'ctxsw_per_io', 'target_index', 'aggregate'];
/** The columns schema v3 added (PI/FDP, time series, steady state, open-loop rates, jobs): v1 and v2 files lack them. */
export const CSV_V3_COLUMNS: readonly string[] = [
  // --rate-iops (open-loop rates)
  'rate_offered_iops', 'rate_arrival', 'rate_late_ios', 'rate_max_lag_us',
  'sched_lat_mean_us', 'sched_lat_p50_us', 'sched_lat_p90_us', 'sched_lat_p99_us', 'sched_lat_p999_us', 'sched_lat_max_us',
  // plans and jobs side by side
  'plan_entry', 'job',
  // FDP: write amplification
  'waf',
  // --steady-state
  'steady_rule', 'steady', 'steady_window_start_s', 'steady_window_s',
  // fleets: the fleet run a record belongs to
  'fleet_run_id',
  // metadata formats and protection information
  'meta_bytes', 'meta_layout', 'pi_type', 'pi', 'pi_check',
];
/** The columns each version added, by version: a file of an older version lacks them by design. */
const CSV_ADDED: ReadonlyArray<[number, readonly string[]]> = [
  [2, CSV_V2_COLUMNS],
  [3, CSV_V3_COLUMNS],
];
/** The columns a file of schema `version` lacks because later versions added them. */
export function csvColumnsAfter(version: number): string[] {
  return CSV_ADDED.filter(([v]) => v > version).flatMap(([, columns]) => columns);
}
export const CSV_REQUIRED_COLUMNS: readonly string[] = CSV_COLUMNS.filter((c) => !c.optional).map((c) => c.name);
/** The columns a file may lack in any version (empty unless measured). */
export const CSV_OPTIONAL_COLUMNS: readonly string[] = CSV_COLUMNS.filter((c) => c.optional).map((c) => c.name);
/** The columns of schema v1, in order: the ones v2 and later did not add (explain's optional columns came with v2 too). */
export const CSV_V1_COLUMNS: readonly string[] = CSV_REQUIRED_COLUMNS.filter((c) => !csvColumnsAfter(1).includes(c));
/** The columns a file of this schema version must have. */
export function csvRequiredColumns(version: number): string[] {
  const later = csvColumnsAfter(version);
  return CSV_REQUIRED_COLUMNS.filter((c) => !later.includes(c));
}
/** The required columns of schema v2, in order. */
export const CSV_V2_REQUIRED: readonly string[] = CSV_REQUIRED_COLUMNS.filter((c) => !csvColumnsAfter(2).includes(c));

// csv-stringify, set to write what nvmebench always wrote: a field is quoted when
// it holds a comma, a quote, CR or LF, or starts or ends with white space (\s is
// what String.trim removes); numbers as String(n), NaN and ±Infinity empty;
// booleans true/false; rows end with "\n". test/csv-stream.test.ts pins the bytes.
const STRINGIFY_OPTIONS: StringifyOptions = {
  record_delimiter: '\n',
  quoted_match: /[\r\n",]|^\s|\s$/,
  cast: {
    number: (v) => (Number.isFinite(v) ? String(v) : ''),
    boolean: (v) => (v ? 'true' : 'false'),
  },
};

/** One CSV field, quoted where needed. */
export function csvField(v: Cell): string {
  return csvLine([v]).slice(0, -1);
}

export function csvLine(fields: Cell[]): string {
  return stringify([fields.map((v) => v ?? '')], STRINGIFY_OPTIONS);
}

export function csvHeaderLine(): string {
  return csvLine([...CSV_COLUMN_NAMES]);
}

export function recordToCsvLine(r: RunRecord): string {
  return csvLine(CSV_COLUMNS.map((c) => c.get(r)));
}

/** The whole CSV text (header and rows) for these records. */
export function toCsv(records: RunRecord[]): string {
  return csvHeaderLine() + records.map(recordToCsvLine).join('');
}

// ---------------------------------------------------------------------------
// Writing.

/**
 * Check that `file` can take our rows: absent, empty, or with exactly our header
 * (and, when it holds rows, our schema_version). Returns true when the header
 * must still be written. Throws usageError naming the mismatch otherwise. Only
 * a regular file is read: a FIFO, a device or stdout gets a header of its own.
 */
export function checkCsvAppendable(file: string): boolean {
  const out = classifyOutput(file);
  if (out.kind !== 'regular') return true;
  let fd: number;
  try {
    fd = openSync(out.path, 'r');
  } catch (err) {
    throw describeExportError(err, file, 'usage');
  }
  try {
    return csvPrefixNeedsHeader(readPrefix(fd), file);
  } finally {
    closeSync(fd);
  }
}

/** The start of a CSV: enough for the header and the first row. */
function readPrefix(fd: number): string {
  const buf = Buffer.alloc(64 * 1024);
  const n = readSync(fd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString('utf8');
}

/** checkCsvAppendable on the text at the start of the file. */
export function csvPrefixNeedsHeader(text: string, file: string): boolean {
  if (text.trim() === '') return true;
  const firstEnd = text.indexOf('\n');
  const headerText = (firstEnd < 0 ? text : text.slice(0, firstEnd)).replace(/\r$/, '').replace(/^\uFEFF/, '');
  const theirs = parseCsv(headerText, file)[0]?.fields ?? [];
  const ours = CSV_COLUMN_NAMES;
  const fix = `write to a new file instead, e.g. --csv ${suggestNewName(file)}`;
  if (theirs.length !== ours.length || theirs.some((h, i) => h !== ours[i])) {
    const extra = theirs.filter((h) => !ours.includes(h));
    const lacking = ours.filter((h) => !theirs.includes(h));
    let what: string;
    if (extra.length || lacking.length) {
      const parts: string[] = [];
      if (lacking.length) parts.push(`lacks ${lacking.slice(0, 4).join(', ')}${lacking.length > 4 ? ', …' : ''}`);
      if (extra.length) parts.push(`has unknown ${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', …' : ''}`);
      what = parts.join(' and ');
    } else {
      const i = theirs.findIndex((h, j) => h !== ours[j]);
      what = `has its columns in another order (column ${i + 1} is ${theirs[i]}, expected ${ours[i]})`;
    }
    throw usageError(`${file} has a different CSV header (it ${what}; this nvmebench writes schema v${SCHEMA_VERSION})`, fix);
  }
  // Same header: make sure the rows are of our schema version too (schema_version
  // is the first column and never quoted, so the first field of line 2 is it).
  const secondLine = firstEnd < 0 ? '' : text.slice(firstEnd + 1).split(/\r?\n/, 1)[0] ?? '';
  if (secondLine.trim() !== '') {
    const v = secondLine.split(',', 1)[0];
    if (Number(v) !== SCHEMA_VERSION) {
      throw usageError(`${file} holds rows of CSV schema v${v}, this nvmebench writes v${SCHEMA_VERSION}`, fix);
    }
  }
  return false;
}

function suggestNewName(file: string): string {
  const m = /^(.*?)(\.csv)?$/i.exec(file);
  return `${m?.[1] ?? file}-v${SCHEMA_VERSION}.csv`;
}

/**
 * Append rows to `file` (header first when new or empty), whole or not at all,
 * under a lock shared with other runs appending to it. '-', a FIFO or a
 * character device gets the header and the rows written through.
 */
export function appendCsv(records: RunRecord[], file: string | OutputPath): void {
  const out = typeof file === 'string' ? classifyOutput(file) : file;
  const rows = records.map(recordToCsvLine).join('');
  if (isStream(out)) {
    writeExport(out, csvHeaderLine() + rows);
    return;
  }
  appendLocked(out, ({ fd, size }) => {
    if (size === 0) return csvHeaderLine() + rows;
    if (csvPrefixNeedsHeader(readPrefix(fd), out.given)) {
      // Only blank lines so far: start the file over with our header.
      ftruncateSync(fd, 0);
      return csvHeaderLine() + rows;
    }
    // Start on a new line even if the file was cut after a row.
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return (last[0] === 0x0a ? '' : '\n') + rows;
  });
}

export const csvExporter: Exporter = {
  format: 'csv',
  render: (results) => toCsv(results.records),
  write: (results, dest) => appendCsv(results.records, dest),
};
