// JSON: { schemaVersion, generator, records: RunRecord[], warnings } with the
// full latency histograms. Always overwrites. Non-finite numbers become null.
import { readFileSync } from 'node:fs';
import { usageError } from '../errors.js';
import { READABLE_SCHEMA_VERSIONS, READABLE_VERSIONS_TEXT, SCHEMA_VERSION, type RunRecord } from '../model.js';
import { VERSION } from '../version.js';
import { buildResults, type Results } from '../analysis/results.js';
import type { CellWarning } from '../analysis/warnings.js';
import { warningText } from '../output/warnings.js';
import { writeExport } from './fsutil.js';
import type { ExportDest, Exporter } from './types.js';

/** One cell's warning (analysis/warnings.ts) with the key of its cell and the words the table prints. */
export type JsonWarning = CellWarning & { cell: string; message: string };

export interface JsonDocument {
  schemaVersion: number;
  generator: string;
  records: RunRecord[];
  /** Warnings about the cells' repeats; readers of records may ignore them. */
  warnings: JsonWarning[];
}

export function toJsonDocument(records: RunRecord[], results: Results = buildResults(records)): JsonDocument {
  const warnings = results.cells.flatMap((cell) => cell.warnings.map((w) => ({ cell: cell.key, ...w, message: warningText(w) })));
  return { schemaVersion: SCHEMA_VERSION, generator: `nvmebench ${VERSION}`, records, warnings };
}

export function toJson(records: RunRecord[], results?: Results): string {
  return JSON.stringify(toJsonDocument(records, results), null, 2) + '\n';
}

export function writeJson(records: RunRecord[], dest: ExportDest, results?: Results): void {
  writeExport(dest, toJson(records, results));
}

export const jsonExporter: Exporter = {
  format: 'json',
  render: (results) => toJson(results.records, results),
  write: (results, dest) => writeJson(results.records, dest, results),
};

/** The schemaVersion of a parsed JSON document, or undefined when it is not ours. */
export function jsonSchemaVersion(doc: unknown): number | undefined {
  if (doc && typeof doc === 'object' && typeof (doc as { schemaVersion?: unknown }).schemaVersion === 'number') {
    return (doc as { schemaVersion: number }).schemaVersion;
  }
  return undefined;
}

const NUMERIC_LATENCY = ['minUs', 'meanUs', 'p50Us', 'p90Us', 'p99Us', 'p999Us', 'maxUs'] as const;
const NUMERIC_TOP = ['runtimeS', 'iops', 'bandwidthBps', 'cpuUserPct', 'cpuSysPct', 'cpuNsPerIo', 'sysCpuNsPerIo', 'irqsPerIo', 'ctxswPerIo', 'iosPerSubmitCall', 'iosPerReapCall', 'ios', 'errors', 'verifiedBlocks'] as const;

/** Parse a JSON document written by writeJson; null metrics (from NaN) come back as NaN. */
export function parseJsonRecords(text: string, source = 'JSON'): RunRecord[] {
  return parseJsonDocument(text, source).records;
}

/**
 * parseJsonRecords, with the document's version. `inspect` sees the parsed
 * document as written (before null figures read back as NaN): read.ts
 * validates it against the schema there.
 */
export function parseJsonDocument(text: string, source = 'JSON', inspect?: (doc: unknown, version: number) => void): { records: RunRecord[]; version: number } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw usageError(`${source} is not valid JSON (${(err as Error).message})`, 'give a file written by nvmebench --json');
  }
  const version = jsonSchemaVersion(doc);
  const records = doc && typeof doc === 'object' ? (doc as { records?: unknown }).records : undefined;
  if (version === undefined || !Array.isArray(records)) {
    throw usageError(`${source} is not an nvmebench results file (no schemaVersion and records)`, 'give a file written by nvmebench --json');
  }
  if (!READABLE_SCHEMA_VERSIONS.includes(version)) {
    throw usageError(`${source} uses schema v${version}, this nvmebench reads ${READABLE_VERSIONS_TEXT}`, 'use the nvmebench version that wrote it, or re-run the benchmark');
  }
  inspect?.(doc, version);
  const out = records.map((raw, i) => {
    const r = raw as RunRecord;
    if (!r || typeof r !== 'object' || typeof r.engine !== 'string' || !r.latency || !r.options || !r.target || !r.env) {
      throw usageError(`${source} record ${i + 1}: incomplete (it lacks engine, latency, options, target or env)`, 'give a file written by nvmebench --json');
    }
    // null (NaN written) and, in v1 files, the v2 figures' absence: both unknown.
    for (const k of NUMERIC_TOP) if (r[k] === null || (version === 1 && r[k] === undefined)) (r as unknown as Record<string, number>)[k] = NaN;
    for (const k of NUMERIC_LATENCY) if (r.latency[k] === null) r.latency[k] = NaN;
    if (!Array.isArray(r.histogram)) r.histogram = [];
    return r;
  });
  return { records: out, version };
}

export function readJsonFile(file: string): RunRecord[] {
  return parseJsonRecords(readFileSync(file, 'utf8'), file);
}
