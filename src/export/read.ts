// Read results back (for regress and plot): CSV or JSON, told apart by the
// extension, or by the first character when the extension says neither.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import { csvSchemaVersion, parseCsvRecords, parseCsvTable } from './csv.js';
import { jsonSchemaVersion, parseJsonRecords } from './json.js';

export type ResultsFormat = 'csv' | 'json';

function readText(file: string): string {
  if (!existsSync(file)) throw usageError(`${file} does not exist`, 'give a results file written with --csv or --json');
  if (statSync(file).isDirectory()) throw usageError(`${file} is a directory`, 'give a results file written with --csv or --json');
  return readFileSync(file, 'utf8');
}

export function detectFormat(file: string, text: string): ResultsFormat {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.csv$/i.test(file)) return 'csv';
  return text.trimStart().startsWith('{') ? 'json' : 'csv';
}

/** The schema version a results file declares, read without checking the rest. */
export function peekSchemaVersion(file: string): number | undefined {
  const text = readText(file);
  if (detectFormat(file, text) === 'json') {
    try {
      return jsonSchemaVersion(JSON.parse(text));
    } catch {
      return undefined;
    }
  }
  try {
    return csvSchemaVersion(parseCsvTable(text, file));
  } catch {
    return undefined;
  }
}

export interface ResultsFile {
  file: string;
  format: ResultsFormat;
  records: RunRecord[];
}

/** Read a CSV or JSON results file; usageError when missing, empty or not ours. */
export function readResultsFile(file: string): ResultsFile {
  const text = readText(file);
  const format = detectFormat(file, text);
  const records = format === 'json' ? parseJsonRecords(text, file) : parseCsvRecords(text, file);
  return { file, format, records };
}
