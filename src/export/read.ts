// Read results back (for regress and plot): CSV or JSON, told apart by the
// extension, or by the first character when the extension says neither.
//
// What a reader accepts (anything else is bad input, exit 2, naming the file,
// the row and the column):
//  - every record has its configuration (workload, engine, bs, QD, threads,
//    read %, options, target kind/model/firmware) as values of the right type,
//    a status of ok, interrupted or failed (an empty CSV status reads as ok),
//    and numbers (or nothing) in its result columns;
//  - checkMetrics: a record with status ok holds a finite, non-negative number
//    in every metric that is compared or plotted. A failed or interrupted
//    record may leave them empty: it measured nothing, and its figures are
//    never compared.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { usageError, type BenchError } from '../errors.js';
import type { RunRecord } from '../model.js';
import type { MetricDef } from '../analysis/stats.js';
import { CsvRecordReader, csvSchemaVersion, parseCsvTable } from './csv-read.js';
import { streamCsvFile } from './csv-parse.js';
import { jsonSchemaVersion, parseJsonDocument } from './json.js';
import { csvRowViolation, jsonViolation } from './validate.js';

export type ResultsFormat = 'csv' | 'json';

const GIVE = 'give a results file written with --csv or --json';

/** The first `max` bytes of a results file, after the checks every reader makes. */
function readHead(file: string, max = 64 * 1024): { text: string; size: number } {
  if (!existsSync(file)) throw usageError(`${file} does not exist`, GIVE);
  const st = statSync(file);
  if (st.isDirectory()) throw usageError(`${file} is a directory`, GIVE);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(max, Math.max(st.size, 1)));
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n === 0) throw usageError(`${file} is empty (0 bytes)`, GIVE);
    const head = buf.subarray(0, n);
    if (head.includes(0)) throw usageError(`${file} is a binary file, not CSV or JSON`, GIVE);
    return { text: head.toString('utf8'), size: st.size };
  } finally {
    closeSync(fd);
  }
}

function readText(file: string): string {
  readHead(file, 1);
  const bytes = readFileSync(file);
  if (bytes.includes(0)) throw usageError(`${file} is a binary file, not CSV or JSON`, GIVE);
  return bytes.toString('utf8');
}

export function detectFormat(file: string, text: string): ResultsFormat {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.csv$/i.test(file)) return 'csv';
  return /^\s*[{[]|^\s*null\s*$/.test(text.replace(/^\uFEFF/, '')) ? 'json' : 'csv';
}

/** The schema version a results file declares, read without checking the rest (a CSV's first rows only). */
export function peekSchemaVersion(file: string): number | undefined {
  const { text } = readHead(file);
  if (detectFormat(file, text) === 'json') {
    try {
      return jsonSchemaVersion(JSON.parse(readText(file)));
    } catch {
      return undefined;
    }
  }
  try {
    // The header and the first row say it.
    const head = text.split('\n', 3).join('\n');
    return csvSchemaVersion(parseCsvTable(head, file));
  } catch {
    return undefined;
  }
}

export interface ResultsFile {
  file: string;
  format: ResultsFormat;
  records: RunRecord[];
  /** Where record i came from, for messages: "line 3" (CSV) or "record 2" (JSON). */
  where(i: number): string;
  /** The first place the file departs from its version's published schema (validate.ts); checkSchema throws it. */
  schemaViolation?: BenchError;
}

/**
 * Read a CSV or JSON results file; usageError when missing, empty, malformed or
 * not ours. A CSV is streamed: its text is never held whole. A departure from
 * the schema is kept for checkSchema, so that the checks of the figures a
 * command uses (checkMetrics) speak first. With onRecord, each checked record
 * goes there and none is kept (records is empty): constant memory for a CSV.
 */
export async function readResultsFile(file: string, opts: { onRecord?: (record: RunRecord, where: string) => void } = {}): Promise<ResultsFile> {
  const { text } = readHead(file);
  if (detectFormat(file, text) === 'json') {
    const whole = readText(file);
    let violation: BenchError | undefined;
    // Validated as written, before the records are read back (null → NaN).
    const { records } = parseJsonDocument(whole, file, (doc, version) => (violation = jsonViolation(doc, version, file)));
    const results: ResultsFile = { file, format: 'json', records, where: (i) => `record ${i + 1}` };
    records.forEach((r, i) => checkRecord(r, 'json', `${file} ${results.where(i)}`));
    if (opts.onRecord) {
      records.forEach((r, i) => opts.onRecord!(r, results.where(i)));
      results.records = [];
    }
    if (violation) results.schemaViolation = violation;
    return results;
  }
  let violation: BenchError | undefined;
  let version = 0;
  const reader: CsvRecordReader = new CsvRecordReader(file, (record, values, line) => {
    checkRecord(record, 'csv', `${file} line ${line}`);
    if (violation) return;
    version ||= record.schemaVersion;
    violation = csvRowViolation(values, version, `${file} line ${line}`);
    opts.onRecord?.(record, `line ${line}`);
  }, !opts.onRecord);
  await streamCsvFile(file, reader.row);
  reader.finish();
  const { lines } = reader;
  const results: ResultsFile = { file, format: 'csv', records: reader.records, where: (i) => `line ${lines[i]}` };
  if (violation) results.schemaViolation = violation;
  return results;
}

/** Throws the first departure from the schema readResultsFile found, if any. */
export function checkSchema(results: ResultsFile): void {
  if (results.schemaViolation) throw results.schemaViolation;
}

const STATUSES: ReadonlyArray<RunRecord['status']> = ['ok', 'interrupted', 'failed'];

/** [record path, CSV column] of each number a record must hold (NaN allowed: "not measured"). */
const NUMBERS: ReadonlyArray<[string, string]> = [
  ['repeat', 'repeat'], ['blockSize', 'bs'], ['ioDepth', 'qd'], ['threads', 'threads'], ['readPercent', 'read_pct'],
  ['runtimeS', 'runtime_s'], ['options.batchSubmit', 'batch_submit'], ['options.batchComplete', 'batch_complete'],
  ['options.offset', 'offset'], ['options.size', 'size'], ['ios', 'ios'], ['iops', 'iops'], ['bandwidthBps', 'bw_bytes_s'],
  ['latency.minUs', 'lat_min_us'], ['latency.meanUs', 'lat_mean_us'], ['latency.p50Us', 'lat_p50_us'],
  ['latency.p90Us', 'lat_p90_us'], ['latency.p99Us', 'lat_p99_us'], ['latency.p999Us', 'lat_p999_us'],
  ['latency.maxUs', 'lat_max_us'], ['cpuUserPct', 'cpu_usr_pct'], ['cpuSysPct', 'cpu_sys_pct'],
  ['cpuNsPerIo', 'cpu_ns_per_io'], ['sysCpuNsPerIo', 'sys_cpu_ns_per_io'], ['irqsPerIo', 'irqs_per_io'], ['ctxswPerIo', 'ctxsw_per_io'],
  ['iosPerSubmitCall', 'ios_per_submit_call'], ['iosPerReapCall', 'ios_per_reap_call'],
  ['errors', 'errors'], ['verifiedBlocks', 'verified_blocks'],
];
/** The configuration numbers: a cell cannot be matched without them. */
const CONFIG_NUMBERS = new Set(['bs', 'qd', 'threads', 'read_pct', 'batch_submit', 'batch_complete', 'offset', 'size']);
const BOOLEANS: ReadonlyArray<[string, string]> = [
  ['options.fixedBufs', 'fixedbufs'], ['options.regFiles', 'regfiles'], ['options.sqpoll', 'sqpoll'],
  ['options.direct', 'direct'], ['options.verify', 'verify'], ['target.emulated', 'emulated'],
];
const STRINGS: ReadonlyArray<[string, string]> = [
  ['workload', 'workload'], ['engine', 'engine'], ['runId', 'run_id'], ['errorMessage', 'error_message'],
  ['target.path', 'target'], ['target.kind', 'target_kind'], ['target.model', 'device_model'],
  ['target.firmware', 'device_firmware'], ['env.hostname', 'hostname'], ['env.kernel', 'kernel'],
  ['env.cpuModel', 'cpu_model'], ['env.timestamp', 'timestamp'],
];

const PATHS = new Map<string, string[]>();

function get(r: RunRecord, path: string): unknown {
  let keys = PATHS.get(path);
  if (!keys) PATHS.set(path, (keys = path.split('.')));
  let v: unknown = r;
  for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function shown(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return v === undefined ? 'nothing' : JSON.stringify(v) ?? typeof v;
}

const FIX = 'fix that field, or re-export the file with nvmebench';

/** The shape every reader relies on; `where` names the file and row. */
function checkRecord(r: RunRecord, format: ResultsFormat, where: string): void {
  const column = (path: string, csv: string): string => (format === 'csv' ? `column ${csv}` : path);
  for (const [path, csv] of STRINGS) {
    const v = get(r, path);
    if (typeof v !== 'string') throw usageError(`${where}, ${column(path, csv)}: ${shown(v)} is not text`, FIX);
    if ((csv === 'workload' || csv === 'engine') && v.trim() === '') throw usageError(`${where}, ${column(path, csv)}: empty`, FIX);
  }
  for (const [path, csv] of NUMBERS) {
    const v = get(r, path);
    if (typeof v !== 'number') throw usageError(`${where}, ${column(path, csv)}: ${shown(v)} is not a number`, FIX);
    if (CONFIG_NUMBERS.has(csv) && !(Number.isFinite(v) && v >= 0)) {
      throw usageError(`${where}, ${column(path, csv)}: ${Number.isNaN(v) ? 'empty' : shown(v)}, not a finite number of at least 0`, FIX);
    }
  }
  for (const [path, csv] of BOOLEANS) {
    const v = get(r, path);
    if (typeof v !== 'boolean') throw usageError(`${where}, ${column(path, csv)}: ${shown(v)} is not true/false`, FIX);
  }
  const cpus = r.options.cpus;
  if (!Array.isArray(cpus) || cpus.some((c) => typeof c !== 'number' || !Number.isInteger(c) || c < 0)) {
    throw usageError(`${where}, ${column('options.cpus', 'cpus')}: ${shown(cpus)} is not a list of CPU numbers`, FIX);
  }
  if (!STATUSES.includes(r.status)) {
    throw usageError(`${where}, ${column('status', 'status')}: ${shown(r.status)} is not one of ${STATUSES.join(', ')}`, FIX);
  }
  const h = r.histogram;
  if (!Array.isArray(h) || h.some((p) => !Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0))) {
    throw usageError(`${where}, histogram: not a list of [bucket ns, count] pairs`, FIX);
  }
}

/**
 * Every record with status ok holds a finite, non-negative number in each of
 * these metrics; failed and interrupted records are not compared and may hold
 * nothing. Throws usageError naming the file, row and column otherwise.
 */
export function checkMetrics(results: ResultsFile, metrics: readonly MetricDef[]): void {
  results.records.forEach((r, i) => {
    if (r.status !== 'ok') return;
    for (const m of metrics) {
      const v = m.get(r) as unknown;
      let what: string | undefined;
      if (typeof v !== 'number') what = `${shown(v)} is not a number`;
      else if (Number.isNaN(v)) what = results.format === 'csv' ? 'empty' : 'null';
      else if (!Number.isFinite(v)) what = `${v} is not finite`;
      else if (v < 0) what = `${v} is negative`;
      if (what) {
        throw usageError(
          `${results.file} ${results.where(i)}, ${results.format === 'csv' ? 'column ' : ''}${m.name}: ${what} in a row with status ok`,
          'a run that completed has a finite, non-negative figure in every compared column; fix the file or re-export it',
        );
      }
    }
  });
}
