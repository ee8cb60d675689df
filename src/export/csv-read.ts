// Reading a CSV written by --csv back into RunRecords (for regress and plot),
// refusing another schema version, a foreign header or a row cut short.
import { usageError } from '../errors.js';
import { READABLE_SCHEMA_VERSIONS, READABLE_VERSIONS_TEXT, SCHEMA_VERSION, type EngineName, type RunRecord, type Workload } from '../model.js';
import { CSV_REQUIRED_COLUMNS, csvColumnsAfter } from './csv.js';
import { forEachCsvRow } from './csv-parse.js';

export interface CsvTable {
  header: string[];
  rows: Array<{ line: number; values: Record<string, string> }>;
}

/** Parse CSV text into header + row objects keyed by column name. */
export function parseCsvTable(text: string, source = 'CSV'): CsvTable {
  let header: string[] | undefined;
  const rows: CsvTable['rows'] = [];
  forEachCsvRow(text, (fields, line) => {
    if (!header) header = fields;
    else rows.push({ line, values: rowValues(header, fields, line, source) });
  }, source);
  if (!header) throw usageError(`${source} is empty`, 'give a CSV written by nvmebench --csv');
  return { header, rows };
}

function rowValues(header: string[], fields: string[], line: number, source: string): Record<string, string> {
  if (fields.length !== header.length) {
    throw usageError(`${source} line ${line} has ${fields.length} fields, the header has ${header.length}`, 'the file was edited or cut short; fix or drop that line');
  }
  const values: Record<string, string> = {};
  for (let j = 0; j < header.length; j++) values[header[j]!] = fields[j]!;
  return values;
}

/** The schema_version of a CSV's rows (the first data row), or undefined when it has none. */
export function csvSchemaVersion(table: CsvTable): number | undefined {
  if (!table.header.includes('schema_version')) return undefined;
  const first = table.rows[0];
  return first ? versionOf(first.values) : undefined;
}

function versionOf(values: Record<string, string>): number | undefined {
  const v = Number(values.schema_version);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * What a large file repeats on every row (host, kernel, target, options) is kept
 * once: equal strings and equal option/target/env groups share one object, so a
 * record costs its own figures and little else.
 */
export class RecordPool {
  private readonly strings = new Map<string, string>();
  private readonly groups = new Map<string, object>();

  str(s: string): string {
    if (s.length > 256) return s;
    let kept = this.strings.get(s);
    if (kept === undefined) this.strings.set(s, (kept = s));
    return kept;
  }

  group<T extends object>(kind: string, parts: string[], make: () => T): T {
    const key = kind + '\u0000' + parts.join('\u0000');
    let kept = this.groups.get(key) as T | undefined;
    if (kept === undefined) this.groups.set(key, (kept = make()));
    return kept;
  }
}

function num(values: Record<string, string>, name: string, where: string): number {
  const s = values[name];
  if (s === undefined || s.trim() === '') return NaN;
  const v = Number(s);
  if (Number.isNaN(v)) throw usageError(`${where}: column ${name} holds "${s}", not a number`, 'fix that field or re-export the file');
  return v;
}

function bool(values: Record<string, string>, name: string, where: string): boolean {
  const s = (values[name] ?? '').trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0' || s === '') return false;
  throw usageError(`${where}: column ${name} holds "${values[name]}", not true/false`, 'fix that field or re-export the file');
}

const OPTION_COLUMNS = ['batch_submit', 'batch_complete', 'fixedbufs', 'regfiles', 'sqpoll', 'direct', 'verify', 'cpus', 'offset', 'size'];
const TARGET_COLUMNS = ['target', 'target_kind', 'target_size_bytes', 'logical_block_size', 'device_model', 'device_serial', 'device_firmware', 'emulated'];
const ENV_COLUMNS = ['timestamp', 'hostname', 'kernel', 'nvmebench_version', 'cpu_model', 'fleet_run_id'];

/** A v3 row's open-loop columns as record.rate; nothing for a closed loop or an older file. */
function rateFromCsv(n: (name: string) => number, s: (name: string) => string): Pick<RunRecord, 'rate'> {
  const offeredIops = n('rate_offered_iops');
  if (!Number.isFinite(offeredIops)) return {};
  const arrival = s('rate_arrival') === 'poisson' ? 'poisson' : 'uniform';
  const schedLatency = { minUs: NaN, meanUs: n('sched_lat_mean_us'), p50Us: n('sched_lat_p50_us'), p90Us: n('sched_lat_p90_us'), p99Us: n('sched_lat_p99_us'), p999Us: n('sched_lat_p999_us'), maxUs: n('sched_lat_max_us') };
  return { rate: { arrival, offeredIops, lateIos: n('rate_late_ios'), maxLagUs: n('rate_max_lag_us'), schedLatency, schedHistogram: [] } };
}

/** Turn one CSV row back into a RunRecord (histogram empty: the CSV does not hold it). */
export function csvRowToRecord(values: Record<string, string>, where = 'CSV', pool = new RecordPool()): RunRecord {
  const n = (name: string): number => num(values, name, where);
  const b = (name: string): boolean => bool(values, name, where);
  const s = (name: string): string => pool.str(values[name] ?? '');
  const raw = (names: string[]): string[] => names.map((name) => values[name] ?? '');
  return {
    schemaVersion: n('schema_version'),
    runId: s('run_id'),
    repeat: n('repeat'),
    workload: s('workload') as Workload,
    engine: s('engine') as EngineName,
    blockSize: n('bs'),
    ioDepth: n('qd'),
    threads: n('threads'),
    readPercent: n('read_pct'),
    runtimeS: n('runtime_s'),
    options: pool.group('options', raw(OPTION_COLUMNS), () => ({
      batchSubmit: n('batch_submit'),
      batchComplete: n('batch_complete'),
      fixedBufs: b('fixedbufs'),
      regFiles: b('regfiles'),
      sqpoll: b('sqpoll'),
      direct: b('direct'),
      verify: b('verify'),
      cpus: s('cpus').trim() === '' ? [] : s('cpus').split(/[;\s]+/).filter(Boolean).map(Number),
      offset: n('offset'),
      size: n('size'),
    })),
    target: pool.group('target', raw(TARGET_COLUMNS), () => ({
      path: s('target'),
      kind: s('target_kind') as RunRecord['target']['kind'],
      sizeBytes: n('target_size_bytes'),
      logicalBlockSize: n('logical_block_size'),
      model: s('device_model'),
      serial: s('device_serial'),
      firmware: s('device_firmware'),
      emulated: b('emulated'),
    })),
    env: pool.group('env', raw(ENV_COLUMNS), () => ({
      timestamp: s('timestamp'),
      hostname: s('hostname'),
      kernel: s('kernel'),
      nvmebenchVersion: s('nvmebench_version'),
      cpuModel: s('cpu_model'),
      ...(s('fleet_run_id') ? { fleetRunId: s('fleet_run_id') } : {}),
    })),
    status: (s('status') || 'ok') as RunRecord['status'],
    errorMessage: s('error_message'),
    ios: n('ios'),
    iops: n('iops'),
    bandwidthBps: n('bw_bytes_s'),
    latency: {
      minUs: n('lat_min_us'),
      meanUs: n('lat_mean_us'),
      p50Us: n('lat_p50_us'),
      p90Us: n('lat_p90_us'),
      p99Us: n('lat_p99_us'),
      p999Us: n('lat_p999_us'),
      maxUs: n('lat_max_us'),
    },
    cpuUserPct: n('cpu_usr_pct'),
    cpuSysPct: n('cpu_sys_pct'),
    cpuNsPerIo: n('cpu_ns_per_io'),
    // Absent in v1 files: NaN, unknown rather than 0.
    sysCpuNsPerIo: n('sys_cpu_ns_per_io'),
    irqsPerIo: n('irqs_per_io'),
    ctxswPerIo: n('ctxsw_per_io'),
    iosPerSubmitCall: n('ios_per_submit_call'),
    iosPerReapCall: n('ios_per_reap_call'),
    errors: n('errors'),
    verifiedBlocks: n('verified_blocks'),
    histogram: [],
    // Several targets (v2): absent in v1 files and for one target.
    ...(Number.isNaN(n('target_index')) ? {} : { targetIndex: n('target_index') }),
    ...(b('aggregate') ? { aggregate: true } : {}),
    // Open loop (v3): absent in older files and for closed-loop rows.
    ...rateFromCsv(n, s),
    // Plans and jobs (v3): absent in older files and outside them.
    ...(values.plan_entry ? { planEntry: s('plan_entry') } : {}),
    ...(values.job ? { job: s('job') } : {}),
    // v3: absent in older files and for runs without FDP statistics.
    ...(Number.isNaN(n('waf')) ? {} : { fdp: { waf: n('waf') } }),
    // --steady-state (v3): absent in older files and without a rule.
    // Metadata formats (v3): absent in older files and without metadata.
    ...(values.meta_bytes ? { metadata: { bytes: n('meta_bytes'), extended: values.meta_layout === 'extended', piType: n('pi_type'), pi: s('pi') as 'none' | 'host' | 'controller', check: values.pi_check ? values.pi_check.split(';') : [] } } : {}),
    ...(values.steady_rule ? { steady: { rule: values.steady_rule, steady: b('steady'), windowStart: NaN, windowStartS: n('steady_window_start_s'), windowRounds: NaN, windowS: n('steady_window_s'), rangePct: NaN, slopePct: NaN } } : {}),
  };
}

/**
 * Rows in, records out, one row at a time (the header first). Refuses a schema
 * version other than those we read, a header that lacks our columns, a repeated
 * column and a row of another length or version. `onRecord` sees each record
 * with its row's values while they are at hand (read.ts checks them there).
 */
export class CsvRecordReader {
  readonly records: RunRecord[] = [];
  /** The line each record started on. */
  readonly lines: number[] = [];
  private header?: string[];
  private fileVersion?: number;
  private readonly pool = new RecordPool();

  /** With `keep` false the records are only handed to onRecord: a file of any length reads in constant memory. */
  constructor(
    private readonly source: string,
    private readonly onRecord?: (record: RunRecord, values: Record<string, string>, line: number) => void,
    private readonly keep = true,
  ) {}

  readonly row = (fields: string[], line: number): void => {
    const source = this.source;
    if (!this.header) {
      this.header = fields;
      const seen = new Set<string>();
      for (const [i, h] of fields.entries()) {
        if (seen.has(h)) throw usageError(`${source} line 1: column ${i + 1} repeats the column name "${h}"`, 'keep one column of each name; re-export the file');
        seen.add(h);
      }
      return;
    }
    const values = rowValues(this.header, fields, line, source);
    // The first row says the file's version (the header alone cannot).
    const fileVersion = this.fileVersion ?? this.checkHeader(this.header.includes('schema_version') ? versionOf(values) : undefined);
    if (Number(values.schema_version) !== fileVersion) {
      throw usageError(`${source} line ${line} has schema_version ${values.schema_version}, expected ${fileVersion}`, 'keep one schema version per file');
    }
    const record = csvRowToRecord(values, `${source} line ${line}`, this.pool);
    this.onRecord?.(record, values, line);
    if (!this.keep) return;
    this.records.push(record);
    this.lines.push(line);
  };

  /** After the last row: the file's version. */
  finish(): number {
    if (!this.header) throw usageError(`${this.source} is empty`, 'give a CSV written by nvmebench --csv');
    return this.fileVersion ?? this.checkHeader(undefined);
  }

  private checkHeader(version: number | undefined): number {
    const source = this.source;
    const header = this.header ?? [];
    if (version !== undefined && !READABLE_SCHEMA_VERSIONS.includes(version)) {
      throw usageError(`${source} uses CSV schema v${version}, this nvmebench reads ${READABLE_VERSIONS_TEXT}`, 'use the nvmebench version that wrote it, or re-run the benchmark');
    }
    // A file of an older version has every column but the ones later versions added; the optional ones (explain's) may be absent from any file.
    const fileVersion = version ?? SCHEMA_VERSION;
    const later = csvColumnsAfter(fileVersion);
    const missing = CSV_REQUIRED_COLUMNS.filter((c) => !header.includes(c) && !later.includes(c));
    if (missing.length > 0) {
      throw usageError(`${source} is not an nvmebench v${fileVersion} CSV: it lacks column${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, 'give a CSV written by nvmebench --csv');
    }
    this.fileVersion = fileVersion;
    return fileVersion;
  }
}

/** Parse a whole nvmebench CSV held in memory into records (CsvRecordReader's checks). */
export function parseCsvRecords(text: string, source = 'CSV'): RunRecord[] {
  return parseCsvRows(text, source).map((r) => r.record);
}

/** parseCsvRecords, each record with the line it came from (for error messages). */
export function parseCsvRows(text: string, source = 'CSV'): Array<{ line: number; record: RunRecord }> {
  const reader = new CsvRecordReader(source);
  forEachCsvRow(text, reader.row, source);
  reader.finish();
  return reader.records.map((record, i) => ({ line: reader.lines[i]!, record }));
}
