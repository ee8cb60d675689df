// The latency-target curve: a latency percentile against IOPS, one line per
// engine (and block size, when several), a point per cell, with the target as
// a dashed rule. What a --latency-target search measured (its probes are
// cells), or any results file: `nvmebench plot --curve p99 results.json`.
// Open-loop cells plot the latency from each I/O's due time, closed-loop ones
// the service latency. Rendered by plot.ts's renderSvg.
import { usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import type { Results } from '../analysis/results.js';
import { TARGET_PERCENTILES, type TargetPercentile } from '../plan/rate.js';
import { formatBlockSize } from '../output/format.js';
import { renderSvg } from './plot.js';
import { writeExport, type OutputPath } from './fsutil.js';

export interface CurveOptions {
  percentile: TargetPercentile;
  /** The target, drawn as a rule; absent: none. */
  limitUs?: number;
  title?: string;
}

function latencyOf(r: RunRecord, percentile: TargetPercentile): number {
  return (r.rate ? r.rate.schedLatency : r.latency)[TARGET_PERCENTILES[percentile]];
}

export function curvePlotSpec(results: Results, opts: CurveOptions): Record<string, unknown> {
  const cells = results.cells.filter((c) => c.n > 0);
  const manyBs = new Set(cells.map((c) => c.config.blockSize)).size > 1;
  const data = cells
    .map((c) => {
      const lat = c.ok.map((r) => latencyOf(r, opts.percentile)).filter(Number.isFinite);
      return {
        series: manyBs ? `${c.config.engine} ${formatBlockSize(c.config.blockSize)}` : c.config.engine,
        iops: c.iops.mean,
        latency: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : NaN,
        qd: c.config.ioDepth,
      };
    })
    .filter((d) => Number.isFinite(d.latency) && d.latency > 0 && Number.isFinite(d.iops));
  if (!data.length) throw usageError(`no ${opts.percentile} latencies to plot`, 'give results of runs that timed latencies (not --lat off)');
  const openLoop = cells.some((c) => c.rate);
  const layer: Array<Record<string, unknown>> = [
    {
      data: { values: data },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'iops', type: 'quantitative', title: 'IOPS', axis: { format: '~s' } },
        y: { field: 'latency', type: 'quantitative', title: `${opts.percentile} latency (µs)${openLoop ? ', from the due time when open loop' : ''}`, scale: { type: 'log' }, axis: { format: '~g' } },
        color: { field: 'series', type: 'nominal', title: manyBs ? 'engine, bs' : 'engine' },
        order: { field: 'iops', type: 'quantitative' },
      },
    },
  ];
  if (opts.limitUs !== undefined) {
    layer.push({ data: { values: [{ limit: opts.limitUs }] }, mark: { type: 'rule', strokeDash: [6, 4], color: 'gray' }, encoding: { y: { field: 'limit', type: 'quantitative' } } });
  }
  const workloads = [...new Set(cells.map((c) => c.config.workload))].join(', ');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? `${workloads}: ${opts.percentile} latency against IOPS${opts.limitUs !== undefined ? ` (target ${opts.limitUs} µs)` : ''}`,
    width: 480,
    height: 320,
    layer,
  };
}

export async function writeCurvePlot(results: Results, file: string | OutputPath, opts: CurveOptions): Promise<void> {
  const svg = await renderSvg(curvePlotSpec(results, opts));
  writeExport(file, svg.endsWith('\n') ? svg : svg + '\n');
}
