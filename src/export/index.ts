// The exporters by format, and the session that drives them during a run.
export { EXPORTERS } from './registry.js';
export { createExportSession, type ExportSession, type ExportTargets } from './session.js';
export { defaultResultPath } from './paths.js';
export { readResultsFile } from './read.js';
export { writePlot, type PlotOptions } from './plot.js';
export { checkOutputPath, writeExport, type OutputPath } from './fsutil.js';
export type { Exporter, ExportFormat, ExportDest } from './types.js';
