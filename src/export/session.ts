// Export as the run goes: after each completed cell, add() appends its CSV row
// at once and rewrites the JSON and Markdown files with everything so far, so a
// later failure (or ^C) loses nothing already measured.
import type { RunRecord } from '../model.js';
import { checkCsvAppendable, csvHeaderLine, recordToCsvLine } from './csv.js';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ensureParentDir } from './fsutil.js';
import { writeJson } from './json.js';
import { writeMarkdown } from './markdown.js';

export interface ExportTargets {
  /** CSV file to append to ('-' for stdout). */
  csv?: string;
  /** JSON file to (re)write ('-' for stdout, written once at close()). */
  json?: string;
  /** Markdown file to (re)write ('-' for stdout, written once at close()). */
  md?: string;
}

export interface ExportSession {
  /** Export one finished record now. */
  add(record: RunRecord): void;
  /** Finish: writes what goes to stdout. Safe to call twice. */
  close(): void;
  /** Records added so far. */
  readonly records: readonly RunRecord[];
  /** The files being written (not '-'). */
  readonly files: string[];
}

/**
 * Check the targets now (a CSV with another header fails here, before any
 * benchmark runs: usageError), then export record by record.
 */
export function createExportSession(targets: ExportTargets): ExportSession {
  const records: RunRecord[] = [];
  const { csv, json, md } = targets;
  let csvNeedsHeader = false;
  if (csv && csv !== '-') csvNeedsHeader = checkCsvAppendable(csv);
  let csvStarted = false;
  let closed = false;

  const files = [csv, json, md].filter((f): f is string => !!f && f !== '-');

  const appendCsvRow = (r: RunRecord): void => {
    if (!csv) return;
    if (csv === '-') {
      process.stdout.write((csvStarted ? '' : csvHeaderLine()) + recordToCsvLine(r));
      csvStarted = true;
      return;
    }
    let text = recordToCsvLine(r);
    if (!csvStarted) {
      ensureParentDir(csv);
      if (csvNeedsHeader) {
        // New or empty file: start it with our header.
        writeFileSync(csv, csvHeaderLine() + text);
        csvStarted = true;
        return;
      }
      const old = existsSync(csv) ? readFileSync(csv, 'utf8') : '';
      if (old.length > 0 && !old.endsWith('\n')) text = '\n' + text;
      csvStarted = true;
    }
    appendFileSync(csv, text);
  };

  return {
    records,
    files,
    add(record: RunRecord): void {
      records.push(record);
      appendCsvRow(record);
      if (json && json !== '-') writeJson(records, json);
      if (md && md !== '-') writeMarkdown(records, md);
    },
    close(): void {
      if (closed) return;
      closed = true;
      if (json === '-') writeJson(records, '-');
      if (md === '-') writeMarkdown(records, '-');
    },
  };
}
