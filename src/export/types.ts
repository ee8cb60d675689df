// The one interface every exporter implements. dest '-' means stdout.
import type { RunRecord } from '../model.js';
import type { OutputPath } from './fsutil.js';

export type ExportFormat = 'csv' | 'json' | 'md';

/** A path as given, or one checkOutputPath already classified. */
export type ExportDest = string | OutputPath;

export interface Exporter {
  readonly format: ExportFormat;
  /**
   * Write these records to dest ('-' for stdout). CSV appends (checking the
   * header); JSON and Markdown overwrite with exactly these records.
   */
  write(records: RunRecord[], dest: ExportDest): void;
}
