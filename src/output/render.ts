// Terminal rendering of results: context lines, the results table, notes, the
// engine matrix and the repeat summary. Apart from export: nothing here writes
// files.
import { usageError } from '../errors.js';
import type { Results } from '../analysis/results.js';
import { stripColor } from './color.js';
import { buildMatrix } from './matrix.js';
import { buildSummary } from './summary.js';
import { renderExplain } from './explain.js';
import { buildResultsTable, contextLines, type TableModel } from './table.js';

export const OUTPUT_FORMATS = ['table', 'csv', 'json', 'md'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Columns a string takes on a terminal: one per code point, none for combining marks or colour codes. */
export function textWidth(s: string): number {
  let w = 0;
  for (const ch of stripColor(s)) if (!/\p{M}/u.test(ch)) w++;
  return w;
}

/**
 * Draw a table model in box characters, no colours (safe for pipes and logs):
 * a rule under the header, none between body rows, one space of padding. The
 * same drawing as cli-table3's compact style, in time linear in the cells
 * (cli-table3's layout is quadratic in the rows: 10K rows took 30 s).
 */
export function drawTable(model: Pick<TableModel, 'headers' | 'rows' | 'align'>): string {
  const ncol = Math.max(model.headers.length, ...model.rows.slice(0, 1).map((r) => r.length));
  const lines = (cell: string | undefined): string[] => String(cell ?? '').split('\n');
  const widths = new Array<number>(ncol).fill(0);
  const measure = (row: string[]): void => {
    for (let i = 0; i < ncol; i++) for (const l of lines(row[i])) widths[i] = Math.max(widths[i], textWidth(l));
  };
  measure(model.headers);
  for (const r of model.rows) measure(r);
  const rule = (l: string, m: string, r: string): string => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const out: string[] = [rule('┌', '┬', '┐')];
  const draw = (row: string[]): void => {
    const cells = widths.map((_, i) => lines(row[i]));
    const height = Math.max(...cells.map((c) => c.length));
    for (let k = 0; k < height; k++) {
      const parts = cells.map((c, i) => {
        const text = c[k] ?? '';
        const pad = ' '.repeat(widths[i] - textWidth(text));
        return model.align[i] === 'right' ? pad + text : text + pad;
      });
      out.push(`│ ${parts.join(' │ ')} │`);
    }
  };
  draw(model.headers);
  if (model.rows.length) out.push(rule('├', '┼', '┤'));
  for (const r of model.rows) draw(r);
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}

/** The columns a drawn table takes, border included. */
export function tableWidth(model: Pick<TableModel, 'headers' | 'rows' | 'align'>): number {
  return textWidth(drawTable(model).split('\n', 1)[0]);
}

/**
 * The results table's columns in the order they go when it is too wide for
 * the terminal, the least telling first. Engine, QD, IOPS, p50, p99 and CPU
 * ns/IO always stay, and so do workload and config, which say what a row is.
 */
const DROP_ORDER = ['IOs/call', 'usr%', 'sys%', 'irqs/IO', 'max µs', 'p99.9 µs', 'sys CPU/IO', 'mean µs', 'BW MiB/s', 'threads', 'bs', 'n'];

/** The table without the columns it must lose to fit `width`, and their headers. */
export function fitTable(model: TableModel, width: number): { model: TableModel; omitted: string[] } {
  let fitted = model;
  const omitted: string[] = [];
  for (const header of DROP_ORDER) {
    if (tableWidth(fitted) <= width) break;
    const i = fitted.headers.indexOf(header);
    if (i < 0) continue;
    const keep = <T>(_: T, j: number): boolean => j !== i;
    fitted = { ...fitted, headers: fitted.headers.filter(keep), align: fitted.align.filter(keep), rows: fitted.rows.map((r) => r.filter(keep)) };
    omitted.push(header);
  }
  return { model: fitted, omitted };
}

export interface RenderOptions {
  /** Fit the results table to this many columns (a terminal's width); undefined: every column. */
  width?: number;
}

/** Everything the terminal shows after a run, as one string ending in "\n". */
export function renderResults(results: Results, opts: RenderOptions = {}): string {
  if (results.records.length === 0) return 'no results\n';
  const out: string[] = [];
  out.push(...contextLines(results.records));
  const table = buildResultsTable(results);
  const { model: shown, omitted } = opts.width === undefined ? { model: table, omitted: [] } : fitTable(table, opts.width);
  out.push(drawTable(shown));
  if (omitted.length) out.push(`left out to fit ${opts.width} columns: ${omitted.join(', ')} (--wide shows every column)`);
  out.push(...table.notes);
  const matrix = buildMatrix(results);
  if (matrix) {
    out.push('', matrix.title, drawTable(matrix));
  }
  const summary = buildSummary(results);
  if (summary.length) out.push('', ...summary);
  out.push(...renderExplain(results, drawTable));
  return out.join('\n') + '\n';
}

export function parseOutputFormat(s: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(s)) return s as OutputFormat;
  throw usageError(`unknown output format "${s}"`, `use one of ${OUTPUT_FORMATS.join(', ')}`);
}
