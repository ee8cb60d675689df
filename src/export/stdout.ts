// The results on stdout in the --format chosen: the terminal table, or one
// exporter's document written to '-' (stdout), the route a file takes too.
import type { Results } from '../analysis/results.js';
import { renderResults, type OutputFormat, type RenderOptions } from '../output/render.js';
import { EXPORTERS } from './registry.js';

export function printResults(results: Results, format: OutputFormat = 'table', opts: RenderOptions = {}): void {
  if (format === 'table') process.stdout.write(renderResults(results, opts));
  else EXPORTERS[format].write(results, '-');
}
