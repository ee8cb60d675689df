// The exporters by format: the session writes every file export through these.
import { csvExporter } from './csv.js';
import { jsonExporter } from './json.js';
import { markdownExporter } from './markdown.js';
import type { ExportFormat, Exporter } from './types.js';

export const EXPORTERS: Record<ExportFormat, Exporter> = {
  csv: csvExporter,
  json: jsonExporter,
  md: markdownExporter,
};
