// Markdown: the results table (same columns as the terminal table), then the
// engine matrix and the repeat summary when there are some. Overwrites.
import type { Results } from '../analysis/results.js';
import { buildMatrix } from '../output/matrix.js';
import { buildSummary } from '../output/summary.js';
import { buildResultsTable, contextLines, type Align } from '../output/table.js';
import { writeExport } from './fsutil.js';
import type { ExportDest, Exporter } from './types.js';

function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub Markdown table. */
export function markdownTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const sep = headers.map((_, i) => (align[i] === 'right' ? '---:' : '---'));
  const line = (cells: string[]): string => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(headers), `|${sep.join('|')}|`, ...rows.map(line)].join('\n') + '\n';
}

export function renderMarkdown(results: Results): string {
  const parts: string[] = [];
  const ctx = contextLines(results.records);
  if (ctx.length) parts.push(ctx.map((l, i) => (i === 0 ? l : `> **Note:** ${l}`)).join('\n\n') + '\n');
  const table = buildResultsTable(results);
  parts.push(markdownTable(table.headers, table.rows, table.align));
  if (table.notes.length) parts.push(table.notes.map((n) => `- ${mdCell(n)}`).join('\n') + '\n');
  const matrix = buildMatrix(results);
  if (matrix) parts.push(`**${matrix.title}**\n\n` + markdownTable(matrix.headers, matrix.rows, matrix.align));
  const summary = buildSummary(results);
  if (summary.length) parts.push('```\n' + summary.join('\n') + '\n```\n');
  return parts.join('\n');
}

export function writeMarkdown(results: Results, dest: ExportDest): void {
  writeExport(dest, renderMarkdown(results));
}

export const markdownExporter: Exporter = {
  format: 'md',
  render: renderMarkdown,
  write: writeMarkdown,
};
