// Export as the run goes: after each completed cell, add() appends its CSV row
// at once and rewrites the JSON and Markdown files with everything so far, so a
// later failure (or ^C) loses nothing already measured. A FIFO, a character
// device or stdout cannot be rewritten: it gets the CSV rows as they come and
// one JSON or Markdown document at close().
//
// Every path is checked when the session is created, before anything runs. A
// write that fails later is reported in one line and that export stops; the
// run goes on, and lost says what was lost (exit code 1).
import type { RunRecord } from '../model.js';
import { BenchError } from '../errors.js';
import { buildResults, type Results } from '../analysis/results.js';
import { appendCsv, checkCsvAppendable, csvHeaderLine, recordToCsvLine } from './csv.js';
import { checkOutputPath, describeExportError, isStream, openOutputStream, type OutputPath, type OutputStream, type TargetNodes } from './fsutil.js';
import { EXPORTERS } from './registry.js';
import type { ExportFormat } from './types.js';

export interface ExportTargets {
  /** CSV file to append to ('-' for stdout). */
  csv?: string;
  /** JSON file to (re)write ('-' for stdout, written once at close()). */
  json?: string;
  /** Markdown file to (re)write ('-' for stdout, written once at close()). */
  md?: string;
}

export interface ExportSession {
  /** Export one finished record now. Never throws: a failed export is reported and dropped. */
  add(record: RunRecord): void;
  /** Finish: writes what goes to streams. Safe to call twice. */
  close(): void;
  /** Records added so far. */
  readonly records: readonly RunRecord[];
  /** The files written so far and still intact (not '-', not lost). */
  readonly files: string[];
  /** Exports that failed, each with its one-line reason. */
  readonly lost: BenchError[];
}

interface Export {
  format: ExportFormat;
  out: OutputPath;
  stream?: OutputStream;
  started: boolean;
  failed: boolean;
}

/**
 * Check the targets now (a directory, a block device, the benchmark target, an
 * unwritable place, a CSV with another header: usageError before any benchmark
 * runs), then export record by record.
 */
export function createExportSession(targets: ExportTargets, opts: { target?: TargetNodes; report?: (err: BenchError) => void } = {}): ExportSession {
  const records: RunRecord[] = [];
  const lost: BenchError[] = [];
  const report = opts.report ?? ((err: BenchError) => process.stderr.write(`nvmebench: ${err.toLine()}\n`));
  const exports: Export[] = [];
  for (const format of ['csv', 'json', 'md'] as const) {
    const given = targets[format];
    if (!given) continue;
    const out = checkOutputPath(given, { flag: `--${format}`, append: format === 'csv', target: opts.target });
    if (format === 'csv' && out.kind === 'regular') checkCsvAppendable(given);
    exports.push({ format, out, started: false, failed: false });
  }
  let closed = false;

  const attempt = (e: Export, write: () => void): void => {
    if (e.failed) return;
    try {
      write();
      e.started = true;
    } catch (err) {
      e.failed = true;
      const why = describeExportError(err, e.out.given);
      const lostErr = new BenchError('run', `${why.message}; the ${e.format.toUpperCase()} export is lost`, why.fix);
      lost.push(lostErr);
      report(lostErr);
    }
  };

  return {
    records,
    lost,
    get files(): string[] {
      return exports.filter((e) => e.started && !e.failed && e.out.kind !== 'stdio').map((e) => e.out.given);
    },
    add(record: RunRecord): void {
      records.push(record);
      // The results so far, aggregated once for every document rewritten now.
      let results: Results | undefined;
      for (const e of exports) {
        if (e.format === 'csv') {
          attempt(e, () => {
            if (!isStream(e.out)) return appendCsv([record], e.out);
            e.stream ??= openOutputStream(e.out);
            e.stream.write((e.started ? '' : csvHeaderLine()) + recordToCsvLine(record));
          });
        } else if (!isStream(e.out)) {
          attempt(e, () => EXPORTERS[e.format].write((results ??= buildResults(records)), e.out));
        }
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      let results: Results | undefined;
      for (const e of exports) {
        if (e.format !== 'csv' && isStream(e.out)) attempt(e, () => EXPORTERS[e.format].write((results ??= buildResults(records)), e.out));
        e.stream?.close();
      }
    },
  };
}
