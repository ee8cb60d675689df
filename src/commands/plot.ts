// nvmebench plot <results.csv|json> -o chart.svg: a metric against QD, one line
// per engine, or (--latency) latency percentiles per engine. SVG, headless.
import { buildResults } from '../analysis/results.js';
import type { Command } from 'commander';
import { checkMetrics, checkSchema, readResultsFile } from '../export/read.js';
import { writePlot } from '../export/plot.js';
import { writeSeriesPlot } from '../export/series-plot.js';
import { checkOutputPath } from '../export/fsutil.js';
import { findMetric, METRICS } from '../analysis/stats.js';

const LATENCY_METRICS = ['lat_p50_us', 'lat_p90_us', 'lat_p99_us', 'lat_p999_us'];
import { usageError } from '../errors.js';
import { writeCurvePlot } from '../export/plot-curve.js';
import { TARGET_PERCENTILES, type TargetPercentile } from '../plan/rate.js';

function parseCurvePercentile(value: string | boolean): TargetPercentile {
  const p = value === true ? 'p99' : String(value).trim().toLowerCase();
  if (!(p in TARGET_PERCENTILES)) throw usageError(`--curve ${String(value)} is not a percentile`, `use one of ${Object.keys(TARGET_PERCENTILES).join(', ')}: --curve p99`);
  return p as TargetPercentile;
}

export function defaultPlotPath(resultsFile: string, latency: boolean): string {
  return resultsFile.replace(/\.(csv|json)$/i, '') + (latency ? '-latency' : '') + '.svg';
}

export function register(program: Command): void {
  program
    .command('plot')
    .description('chart a results file as SVG: a metric against QD per engine, or latency percentiles')
    .argument('<results>', 'results file written with --csv or --json')
    .option('-o, --output <file>', "SVG file to write ('-' for stdout; default: the results name with .svg)")
    .option('--metric <name>', `what to plot against QD: ${METRICS.map((m) => m.name).join(', ')}`, 'iops')
    .option('--latency', 'plot latency percentiles p50..p99.99 per engine (full range needs the JSON histograms)')
    .option('--curve [percentile]', 'plot a latency percentile (default p99) against IOPS, one line per engine: a --latency-target search\'s curve')
    .option('--series', 'plot the time series: IOPS and p99 against time per engine, the steady-state window shaded (a JSON file)')
    .option('--title <text>', 'chart title')
    .action(async (resultsFile: string, opts: { output?: string; metric: string; latency?: boolean; curve?: string | boolean; series?: boolean; title?: string }) => {
      const curve = opts.curve === undefined ? undefined : parseCurvePercentile(opts.curve);
      if (curve && opts.series) throw usageError('--curve and --series are two different charts', 'drop one of them');
      const out = opts.output ?? (opts.series ? resultsFile.replace(/\.(csv|json)$/i, '') + '-series.svg' : defaultPlotPath(resultsFile, !!opts.latency));
      // Checked before rendering; never over the results file itself.
      const svgOut = checkOutputPath(out, { flag: opts.output ? '-o' : undefined, target: { paths: [resultsFile], what: 'the results file' } });
      const results = await readResultsFile(resultsFile);
      const { records } = results;
      if (records.length === 0) throw usageError(`${resultsFile} holds no results`, 'give a results file with at least one row');
      if (opts.series) {
        if (opts.latency) throw usageError('--series and --latency are two different charts', 'drop one of them');
        if (results.format !== 'json') throw usageError(`${resultsFile} is a CSV: it holds no time series`, 'give the JSON of the run (--json), or plot the --series-csv file elsewhere');
        checkSchema(results);
        await writeSeriesPlot(records, svgOut, { title: opts.title });
        if (out !== '-') process.stderr.write(`nvmebench: wrote ${out}\n`);
        return;
      }
      // What the chart draws must be a number in every completed row (an unknown --metric is writePlot's to refuse).
      if (curve) {
        checkSchema(results);
        await writeCurvePlot(buildResults(records), svgOut, { percentile: curve, title: opts.title });
        if (out !== '-') process.stderr.write(`nvmebench: wrote ${out}\n`);
        return;
      }
      const drawn = opts.latency ? LATENCY_METRICS : [opts.metric];
      checkMetrics(results, drawn.map((name) => findMetric(name)).filter((m) => m !== undefined));
      checkSchema(results);
      await writePlot(buildResults(records), svgOut, { metric: opts.metric, latency: !!opts.latency, title: opts.title });
      if (out !== '-') process.stderr.write(`nvmebench: wrote ${out}\n`);
    });
}
