// Terminal rendering of results: context lines, the results table, notes, the
// engine matrix and the repeat summary. Apart from export: nothing here writes
// files.
import Table from 'cli-table3';
import { usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import { toCsv } from '../export/csv.js';
import { toJson } from '../export/json.js';
import { renderMarkdown } from '../export/markdown.js';
import { buildMatrix } from './matrix.js';
import { buildSummary } from './summary.js';
import { buildResultsTable, contextLines, type TableModel } from './table.js';

export const OUTPUT_FORMATS = ['table', 'csv', 'json', 'md'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Draw a table model with cli-table3, no colours (safe for pipes and logs). */
export function drawTable(model: Pick<TableModel, 'headers' | 'rows' | 'align'>): string {
  const t = new Table({
    head: model.headers,
    colAligns: model.align.map((a) => (a === 'right' ? 'right' : 'left')),
    // compact: a rule under the header, none between body rows.
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1, compact: true },
  });
  for (const r of model.rows) t.push(r);
  return t.toString();
}

/** Everything the terminal shows after a run, as one string ending in "\n". */
export function renderResults(records: RunRecord[]): string {
  if (records.length === 0) return 'no results\n';
  const out: string[] = [];
  out.push(...contextLines(records));
  const table = buildResultsTable(records);
  out.push(drawTable(table));
  out.push(...table.notes);
  const matrix = buildMatrix(records);
  if (matrix) {
    out.push('', matrix.title, drawTable(matrix));
  }
  const summary = buildSummary(records);
  if (summary.length) out.push('', ...summary);
  return out.join('\n') + '\n';
}

export function parseOutputFormat(s: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(s)) return s as OutputFormat;
  throw usageError(`unknown output format "${s}"`, `use one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** The results in the given format, as text. */
export function renderAs(records: RunRecord[], format: OutputFormat): string {
  switch (format) {
    case 'table':
      return renderResults(records);
    case 'csv':
      return toCsv(records);
    case 'json':
      return toJson(records);
    case 'md':
      return renderMarkdown(records);
  }
}

/** Write the results to stdout (or `out`) in the --format the user chose. */
export function renderToStdout(records: RunRecord[], format: OutputFormat = 'table', out: NodeJS.WritableStream = process.stdout): void {
  out.write(renderAs(records, format));
}
