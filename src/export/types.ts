// The one interface every exporter implements. dest '-' means stdout.
import type { Results } from '../analysis/results.js';
import type { OutputPath } from './fsutil.js';

export type ExportFormat = 'csv' | 'json' | 'md';

/** A path as given, or one checkOutputPath already classified. */
export type ExportDest = string | OutputPath;

export interface Exporter {
  readonly format: ExportFormat;
  /** The whole document for these results, as a new file or stdout gets it. */
  render(results: Results): string;
  /**
   * Write these results to dest ('-' for stdout). CSV appends (checking the
   * header); JSON and Markdown overwrite with exactly these results.
   */
  write(results: Results, dest: ExportDest): void;
}
