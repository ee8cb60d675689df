// The results format as JSON Schema (draft 2020-12), derived from the code:
// the CSV row schema from CSV_COLUMNS and the type table below, the JSON one
// from the record's fields. scripts/gen-schema.mjs writes them to
// results/schema/v<N>/; test/schema.test.ts fails when the checked-in files
// differ from what this produces (the fix: node scripts/gen-schema.mjs).
// Validation against the files is validate.ts.
import { COMMAND_WORKLOADS, ENGINE_NAMES, SCHEMA_VERSION, WORKLOADS } from '../model.js';
import { CSV_COLUMN_NAMES, CSV_OPTIONAL_COLUMNS, csvColumnsAfter } from './csv.js';

type JsonSchema = Record<string, unknown>;

export const SCHEMA_BASE_URI = 'https://github.com/nvmebench/nvmebench/results/schema';
const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** What a CSV column holds, as text. */
export type CsvKind = 'version' | 'count' | 'figure' | 'bool' | 'steady' | 'text' | 'timestamp' | 'engine' | 'workload' | 'target-kind' | 'status' | 'cpus';

const KIND_SCHEMA: Record<CsvKind, (version: number) => JsonSchema> = {
  version: (v) => ({ const: String(v) }),
  count: () => ({ type: 'string', pattern: '^(0|[1-9][0-9]*)$' }),
  figure: () => ({ type: 'string', pattern: '^(-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?)?$' }),
  bool: () => ({ enum: ['true', 'false'] }),
  steady: () => ({ enum: ['true', 'false', ''] }),
  text: () => ({ type: 'string' }),
  timestamp: () => ({ type: 'string', format: 'date-time' }),
  engine: () => ({ enum: [...ENGINE_NAMES] }),
  workload: () => ({ type: 'string', pattern: `^(${[...WORKLOADS, ...COMMAND_WORKLOADS.filter((c) => c !== 'raw')].join('|')}|raw:0x[0-9a-fA-F]+)$` }),
  'target-kind': () => ({ enum: ['file', 'block', 'nvme-char', 'pci', 'none'] }),
  status: () => ({ enum: ['ok', 'interrupted', 'failed'] }),
  cpus: () => ({ type: 'string', pattern: '^([0-9]+(;[0-9]+)*)?$' }),
};

/** The words a violation message uses for what a column of this kind holds. */
export const KIND_EXPECTED: Record<CsvKind, string> = {
  version: 'the schema version of the file',
  count: 'a whole number of at least 0',
  figure: 'a decimal number, or nothing (not measured)',
  bool: 'true or false',
  steady: 'true or false, or nothing (no --steady-state)',
  text: 'text',
  timestamp: 'an ISO 8601 date and time',
  engine: `one of ${ENGINE_NAMES.join(', ')}`,
  workload: `a workload (${WORKLOADS.join(', ')}, a command or raw:0x<opcode>)`,
  'target-kind': 'one of file, block, nvme-char, pci, none',
  status: 'one of ok, interrupted, failed',
  cpus: 'CPU numbers separated by ; (or nothing)',
};

/** Every CSV column not listed here is a figure: a number, or nothing when not measured. */
const CSV_KINDS: Record<string, CsvKind> = {
  schema_version: 'version', run_id: 'text', repeat: 'count', timestamp: 'timestamp', hostname: 'text', kernel: 'text',
  nvmebench_version: 'text', cpu_model: 'text', target: 'text', target_kind: 'target-kind', target_size_bytes: 'count',
  logical_block_size: 'count', device_model: 'text', device_serial: 'text', device_firmware: 'text', emulated: 'bool',
  workload: 'workload', engine: 'engine', bs: 'count', qd: 'count', threads: 'count', read_pct: 'count',
  batch_submit: 'count', batch_complete: 'count', fixedbufs: 'bool', regfiles: 'bool', sqpoll: 'bool', direct: 'bool',
  verify: 'bool', cpus: 'cpus', offset: 'count', size: 'count', status: 'status', error_message: 'text', aggregate: 'bool',
  rate_arrival: 'text',
  plan_entry: 'text', job: 'text',
  steady_rule: 'text', steady: 'steady',
  fleet_run_id: 'text',
  meta_layout: 'text', pi: 'text', pi_check: 'text',
};

export function csvKind(column: string): CsvKind {
  return CSV_KINDS[column] ?? 'figure';
}

/** The CSV columns of a schema version, in file order. */
export function csvColumns(version: number): string[] {
  // v1 had no optional columns: explain's and empty polls came with v2.
  const later = [...csvColumnsAfter(version), ...(version === 1 ? CSV_OPTIONAL_COLUMNS : [])];
  return CSV_COLUMN_NAMES.filter((c) => !later.includes(c));
}

/** One CSV row as an object of column → text; $defs.header is the header row, in order. */
export function csvRowSchema(version = SCHEMA_VERSION): JsonSchema {
  const columns = csvColumns(version);
  const properties: Record<string, JsonSchema> = {};
  for (const c of columns) properties[c] = { description: KIND_EXPECTED[csvKind(c)], ...KIND_SCHEMA[csvKind(c)](version) };
  return {
    $schema: DRAFT,
    $id: `${SCHEMA_BASE_URI}/v${version}/results-csv-row.schema.json`,
    title: `nvmebench results CSV, schema v${version}: one row`,
    description:
      'One data row of a CSV written by nvmebench --csv, as an object keyed by the header. Every value is text as it stands in the file; ' +
      'an empty figure means not measured. $defs.header is the header row, columns in order.',
    type: 'object',
    properties,
    required: columns,
    additionalProperties: false,
    $defs: {
      header: { type: 'array', prefixItems: columns.map((c) => ({ const: c })), items: false, minItems: columns.length },
    },
  };
}

const num = { type: 'number' };
const count = { type: 'integer', minimum: 0 };
/** NaN and ±Infinity are written as null: not measured. */
const figure = { type: ['number', 'null'] };
const text = { type: 'string' };
const bool = { type: 'boolean' };

function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)) };
}

/** The figures of a record, JSON name; the v2 ones are absent in v1, the v3 ones in v1 and v2. */
const V2_FIGURES = ['sysCpuNsPerIo', 'irqsPerIo', 'ctxswPerIo'];
const V3_FIGURES: string[] = [];
const FIGURES = ['runtimeS', 'ios', 'iops', 'bandwidthBps', 'cpuUserPct', 'cpuSysPct', 'cpuNsPerIo', ...V2_FIGURES, 'iosPerSubmitCall', 'iosPerReapCall', 'errors', 'verifiedBlocks', ...V3_FIGURES];
const figureSince = (f: string): number => (V3_FIGURES.includes(f) ? 3 : V2_FIGURES.includes(f) ? 2 : 1);

function recordSchema(version: number): JsonSchema {
  const figures = Object.fromEntries(FIGURES.filter((f) => figureSince(f) <= version).map((f) => [f, figure]));
  const properties: Record<string, JsonSchema> = {
    schemaVersion: { const: version },
    runId: text,
    repeat: count,
    workload: { type: 'string', pattern: (KIND_SCHEMA.workload(version) as { pattern: string }).pattern },
    engine: { enum: [...ENGINE_NAMES] },
    blockSize: count,
    ioDepth: count,
    threads: count,
    readPercent: { type: 'number', minimum: 0, maximum: 100 },
    options: object(
      {
        batchSubmit: count, batchComplete: count, fixedBufs: bool, regFiles: bool, sqpoll: bool, direct: bool, verify: bool,
        cpus: { type: 'array', items: count }, offset: count, size: count,
        latency: { type: 'string', pattern: '^(all|off|sample:[0-9]+)$' },
      },
      ['latency'],
    ),
    target: object({
      path: text, kind: { enum: ['file', 'block', 'nvme-char', 'pci', 'none'] }, sizeBytes: count, logicalBlockSize: count,
      model: text, serial: text, firmware: text, emulated: bool,
    }),
    env: object(
      { timestamp: { type: 'string', format: 'date-time' }, hostname: text, kernel: text, nvmebenchVersion: text, cpuModel: text, ...(version > 2 ? { fleetRunId: text } : {}) },
      ['fleetRunId'],
    ),
    status: { enum: ['ok', 'interrupted', 'failed'] },
    errorMessage: text,
    ...figures,
    latency: object(Object.fromEntries(['minUs', 'meanUs', 'p50Us', 'p90Us', 'p99Us', 'p999Us', 'maxUs'].map((k) => [k, figure]))),
    histogram: {
      description: '[bucket low bound in ns, I/Os] for each non-empty bucket',
      type: 'array',
      items: { type: 'array', prefixItems: [{ type: 'number', minimum: 0 }, count], items: false, minItems: 2 },
    },
    command: {
      type: 'object',
      properties: { name: { enum: [...COMMAND_WORKLOADS] }, opcode: count, cdw: { type: 'array', items: count }, dataDir: { enum: ['none', 'write', 'read'] } },
      required: ['name', 'opcode'],
    },
  };
  if (version > 1) {
    properties.system = {
      type: 'object',
      properties: {
        ...Object.fromEntries(['elapsedNs', 'workerCpuNs', 'helperCpuNs', 'helperThreads', 'irqNs', 'softirqNs', 'otherKernelNs', 'stealNs', 'foreignCpuNs', 'processCpuNs'].map((k) => [k, num])),
        interrupts: figure,
        irqSources: { type: 'array', items: text },
        contextSwitches: object({ voluntary: num, involuntary: num }),
        cpus: { type: 'array', items: object({ cpu: count, busyNs: num, stealNs: num }) },
        cpusPinned: bool,
      },
      required: ['elapsedNs', 'workerCpuNs', 'irqNs', 'softirqNs', 'otherKernelNs'],
    };
  }
  if (version > 2) {
    const summary = object(Object.fromEntries(['minUs', 'meanUs', 'p50Us', 'p90Us', 'p99Us', 'p999Us', 'maxUs'].map((k) => [k, figure])));
    properties.rate = {
      description: '--rate-iops: the open-loop schedule; latency (the record\'s) is the service latency, schedLatency counts from each I/O\'s due time',
      ...object({ arrival: { enum: ['uniform', 'poisson'] }, offeredIops: num, lateIos: count, maxLagUs: num, schedLatency: summary, schedHistogram: { type: 'array' } }, ['schedHistogram']),
    };
    properties.planEntry = { type: 'string', description: 'nvmebench plan run: the plan entry this record ran under' };
    properties.job = { type: 'string', description: 'jobs side by side: the job this record is' };
    properties.fdp = {
      type: 'object',
      description: 'The FDP Statistics log over a write run on an FDP namespace: host and media bytes written, and their ratio',
      properties: { hostBytesWritten: count, mediaBytesWritten: count, waf: figure, placementIds: { type: 'array', items: count }, scheme: { enum: ['roundrobin', 'random', 'per-worker'] } },
      required: ['waf'],
    };
    properties.steady = object({ rule: text, steady: bool, windowStart: count, windowStartS: figure, windowRounds: count, windowS: figure, rangePct: figure, slopePct: figure });
    const point = object(
      { index: count, startS: num, endS: num, worker: count, ios: count, iops: figure, bandwidthBps: figure, p50Us: figure, p99Us: figure, p999Us: figure, cpuPct: figure },
      ['worker'],
    );
    properties.series = object({ intervalMs: count, points: { type: 'array', items: point }, workers: { type: 'array', items: point }, dropped: count });
  }
  return { ...object(properties, ['command', 'system', 'rate', 'planEntry', 'job', 'fdp', 'steady', 'series']), description: 'One measured run: one cell of the matrix, one repeat. Fields this version does not list may follow; readers ignore them.' };
}

/** The object --json writes: the records with their histograms, and the cells' warnings. */
export function jsonResultsSchema(version = SCHEMA_VERSION): JsonSchema {
  return {
    $schema: DRAFT,
    $id: `${SCHEMA_BASE_URI}/v${version}/results.schema.json`,
    title: `nvmebench results JSON, schema v${version}`,
    description: 'The document nvmebench --json writes. Numbers that were not measured (NaN) are null.',
    type: 'object',
    properties: {
      schemaVersion: { const: version },
      generator: { type: 'string', pattern: '^nvmebench ' },
      records: { type: 'array', items: { $ref: '#/$defs/record' } },
      warnings: {
        type: 'array',
        items: { type: 'object', properties: { cell: text, kind: text, message: text }, required: ['cell', 'kind', 'message'] },
      },
    },
    // A v1 document may lack generator and warnings.
    required: version > 1 ? ['schemaVersion', 'generator', 'records', 'warnings'] : ['schemaVersion', 'records'],
    $defs: { record: recordSchema(version) },
  };
}

/** The files of one schema version: name in results/schema/v<N>/ → text. */
export function schemaFiles(version = SCHEMA_VERSION): Record<string, string> {
  const text = (s: JsonSchema): string => JSON.stringify(s, null, 2) + '\n';
  return { 'results.schema.json': text(jsonResultsSchema(version)), 'results-csv-row.schema.json': text(csvRowSchema(version)) };
}
