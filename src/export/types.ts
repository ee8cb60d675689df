// The one interface every exporter implements. dest '-' means stdout.
import type { RunRecord } from '../model.js';

export type ExportFormat = 'csv' | 'json' | 'md';

export interface Exporter {
  readonly format: ExportFormat;
  /**
   * Write these records to dest ('-' for stdout). CSV appends (checking the
   * header); JSON and Markdown overwrite with exactly these records.
   */
  write(records: RunRecord[], dest: string): void;
}
