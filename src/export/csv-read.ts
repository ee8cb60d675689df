// Reading a CSV written by --csv back into RunRecords (for regress and plot),
// refusing another schema version, a foreign header or a row cut short.
import { usageError } from '../errors.js';
import { READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION, type EngineName, type RunRecord, type Workload } from '../model.js';
import { CSV_REQUIRED_COLUMNS, CSV_V2_COLUMNS, parseCsv } from './csv.js';

export interface CsvTable {
  header: string[];
  rows: Array<{ line: number; values: Record<string, string> }>;
}

/** Parse CSV text into header + row objects keyed by column name. */
export function parseCsvTable(text: string, source = 'CSV'): CsvTable {
  const parsed = parseCsv(text, source);
  if (parsed.length === 0) throw usageError(`${source} is empty`, 'give a CSV written by nvmebench --csv');
  const header = parsed[0].fields;
  const rows = parsed.slice(1).map((row) => ({ line: row.line, values: rowValues(header, row, source) }));
  return { header, rows };
}

function rowValues(header: string[], { line, fields }: { line: number; fields: string[] }, source: string): Record<string, string> {
  if (fields.length !== header.length) {
    throw usageError(`${source} line ${line} has ${fields.length} fields, the header has ${header.length}`, 'the file was edited or cut short; fix or drop that line');
  }
  const values: Record<string, string> = {};
  header.forEach((h, j) => (values[h] = fields[j]));
  return values;
}

/** The schema_version of a CSV's rows (the first data row), or undefined when it has none. */
export function csvSchemaVersion(table: CsvTable): number | undefined {
  if (!table.header.includes('schema_version')) return undefined;
  const first = table.rows[0];
  if (!first) return undefined;
  const v = Number(first.values.schema_version);
  return Number.isFinite(v) ? v : undefined;
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

/** Turn one CSV row back into a RunRecord (histogram empty: the CSV does not hold it). */
export function csvRowToRecord(values: Record<string, string>, where = 'CSV'): RunRecord {
  const n = (name: string): number => num(values, name, where);
  const b = (name: string): boolean => bool(values, name, where);
  const s = (name: string): string => values[name] ?? '';
  const cpus = s('cpus').trim() === '' ? [] : s('cpus').split(/[;\s]+/).filter(Boolean).map(Number);
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
    options: {
      batchSubmit: n('batch_submit'),
      batchComplete: n('batch_complete'),
      fixedBufs: b('fixedbufs'),
      regFiles: b('regfiles'),
      sqpoll: b('sqpoll'),
      direct: b('direct'),
      verify: b('verify'),
      cpus,
      offset: n('offset'),
      size: n('size'),
    },
    target: {
      path: s('target'),
      kind: s('target_kind') as RunRecord['target']['kind'],
      sizeBytes: n('target_size_bytes'),
      logicalBlockSize: n('logical_block_size'),
      model: s('device_model'),
      serial: s('device_serial'),
      firmware: s('device_firmware'),
      emulated: b('emulated'),
    },
    env: {
      timestamp: s('timestamp'),
      hostname: s('hostname'),
      kernel: s('kernel'),
      nvmebenchVersion: s('nvmebench_version'),
      cpuModel: s('cpu_model'),
    },
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
  };
}

/**
 * Parse a whole nvmebench CSV into records. Rejects a schema version other than
 * ours and a header that lacks our columns.
 */
export function parseCsvRecords(text: string, source = 'CSV'): RunRecord[] {
  return parseCsvRows(text, source).map((r) => r.record);
}

/** parseCsvRecords, each record with the line it came from (for error messages). */
export function parseCsvRows(text: string, source = 'CSV'): Array<{ line: number; record: RunRecord }> {
  // Row by row, letting each parsed row go once it is a record: a 100K-row file
  // would otherwise sit in memory three times over (fields, values, records).
  const parsed: Array<{ line: number; fields: string[] } | undefined> = parseCsv(text, source);
  if (parsed.length === 0) throw usageError(`${source} is empty`, 'give a CSV written by nvmebench --csv');
  const header = parsed[0]!.fields;
  const table: CsvTable = { header, rows: parsed.length > 1 ? [{ line: parsed[1]!.line, values: rowValues(header, parsed[1]!, source) }] : [] };
  const seen = new Set<string>();
  for (const [i, h] of table.header.entries()) {
    if (seen.has(h)) throw usageError(`${source} line 1: column ${i + 1} repeats the column name "${h}"`, 'keep one column of each name; re-export the file');
    seen.add(h);
  }
  const version = csvSchemaVersion(table);
  if (version !== undefined && !READABLE_SCHEMA_VERSIONS.includes(version)) {
    throw usageError(`${source} uses CSV schema v${version}, this nvmebench reads v${READABLE_SCHEMA_VERSIONS.join(' and v')}`, 'use the nvmebench version that wrote it, or re-run the benchmark');
  }
  // A v1 file has every column but the ones v2 added; the optional ones (explain's) may be absent from any file.
  const fileVersion = version ?? SCHEMA_VERSION;
  const missing = CSV_REQUIRED_COLUMNS.filter((c) => !table.header.includes(c) && !(fileVersion === 1 && CSV_V2_COLUMNS.includes(c)));
  if (missing.length > 0) {
    throw usageError(`${source} is not an nvmebench v${fileVersion} CSV: it lacks column${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, 'give a CSV written by nvmebench --csv');
  }
  const out: Array<{ line: number; record: RunRecord }> = [];
  for (let i = 1; i < parsed.length; i++) {
    const row = parsed[i]!;
    parsed[i] = undefined;
    const values = rowValues(header, row, source);
    const v = Number(values.schema_version);
    if (v !== fileVersion) {
      throw usageError(`${source} line ${row.line} has schema_version ${values.schema_version}, expected ${fileVersion}`, 'keep one schema version per file');
    }
    out.push({ line: row.line, record: csvRowToRecord(values, `${source} line ${row.line}`) });
  }
  return out;
}
