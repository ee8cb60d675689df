// RFC 4180 reading on csv-parse: quoted fields may hold commas, quotes ("") and
// newlines; CRLF or LF line ends; a BOM is dropped; blank lines are skipped.
// Each row is handed on with the line it started on (for error messages) as it
// is parsed, so a file is read in constant memory; csv-parse's own errors come
// back as one-line usageErrors naming the source and line.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parse as parseStream, type InfoRecord, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { BenchError, usageError } from '../errors.js';

/** Called once per row, header included; it may throw a usageError to stop the read. */
export type CsvRowSink = (fields: string[], line: number) => void;

function parserOptions(sink: CsvRowSink): Options {
  return {
    bom: true,
    // Our own check names the line and both counts (csv-read.ts).
    relax_column_count: true,
    skip_empty_lines: true,
    // Not auto-detected: a lone CR stays data, as it always was here.
    record_delimiter: ['\r\n', '\n'],
    on_record: (record: string[], { lines }: InfoRecord) => {
      sink(record, startLine(record, lines));
      // Nothing is kept or passed downstream: the sink has what it needs.
      return null;
    },
  };
}

/** csv-parse counts the line a record ends on; ours is where it starts. Inside a record csv-parse counts every CR and every LF. */
function startLine(fields: string[], endLine: number): number {
  let breaks = 0;
  for (const f of fields) {
    if (f.length === 0 || (f.indexOf('\n') < 0 && f.indexOf('\r') < 0)) continue;
    breaks += f.match(/[\r\n]/g)?.length ?? 0;
  }
  return endLine - breaks;
}

/** csv-parse's error as ours; our own errors (thrown by a sink) pass through. */
function csvError(err: unknown, source: string): Error {
  if (err instanceof BenchError) return err;
  const e = err as { code?: string; lines?: number; message?: string };
  const at = `${source} line ${e.lines ?? '?'}`;
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return usageError(`${at}: a quoted field is never closed`, 'the file is cut short or badly quoted; re-export it');
    case 'INVALID_OPENING_QUOTE':
      return usageError(`${at}: a quote inside an unquoted field`, 'quote the whole field and double inner quotes ("")');
    case 'CSV_INVALID_CLOSING_QUOTE':
      return usageError(`${at}: text after a closing quote`, 'check the quoting of that line');
    default:
      if (e.code === undefined) return err as Error;
      return usageError(`${at}: ${(e.message ?? 'unreadable CSV').split('\n')[0]}`, 'check the quoting of that line');
  }
}

/** Parse CSV text held in memory, row by row. */
export function forEachCsvRow(text: string, sink: CsvRowSink, source = 'CSV'): void {
  try {
    parseSync(text, parserOptions(sink));
  } catch (err) {
    throw csvError(err, source);
  }
}

/** Parse CSV text into rows (small texts: a header, a test). */
export function parseCsv(text: string, source = 'CSV'): Array<{ line: number; fields: string[] }> {
  const rows: Array<{ line: number; fields: string[] }> = [];
  forEachCsvRow(text, (fields, line) => rows.push({ line, fields }), source);
  return rows;
}

/**
 * Stream a CSV file through the parser, 64 KiB at a time. A NUL byte anywhere
 * means a binary file, refused as such.
 */
export async function streamCsvFile(file: string, sink: CsvRowSink, source = file): Promise<void> {
  const parser = parseStream(parserOptions(sink));
  parser.resume();
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: 64 * 1024 }),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          if (chunk.includes(0)) throw usageError(`${file} is a binary file, not CSV or JSON`, 'give a results file written with --csv or --json');
          yield chunk;
        }
      },
      parser,
    );
  } catch (err) {
    throw csvError(err, source);
  }
}
