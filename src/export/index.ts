// The exporters by format, and the session that drives them during a run.
import { csvExporter } from './csv.js';
import { jsonExporter } from './json.js';
import { markdownExporter } from './markdown.js';
import type { ExportFormat, Exporter } from './types.js';

export const EXPORTERS: Record<ExportFormat, Exporter> = {
  csv: csvExporter,
  json: jsonExporter,
  md: markdownExporter,
};

export { createExportSession, type ExportSession, type ExportTargets } from './session.js';
export { defaultResultPath } from './paths.js';
export { readResultsFile } from './read.js';
export { writePlot, type PlotOptions } from './plot.js';
export type { Exporter, ExportFormat } from './types.js';
