// nvmebench plot --series run.json: IOPS and p99 against time, one line per
// engine (per cell when several share an engine), the steady-state window
// shaded where the run had one. Vega-Lite, rendered as plot.ts renders.
import { usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import { renderSvg } from './plot.js';
import { writeExport, type OutputPath } from './fsutil.js';

type Spec = Record<string, unknown>;

/** The line a record's points belong to: its engine, with QD and bs when several cells share the engine. */
function lineLabels(records: RunRecord[]): Map<RunRecord, string> {
  const perEngine = new Map<string, Set<string>>();
  const key = (r: RunRecord) => `qd ${r.ioDepth} bs ${r.blockSize}${r.targetIndex !== undefined ? ` target ${r.targetIndex}` : ''}${r.repeat ? ` #${r.repeat + 1}` : ''}`;
  for (const r of records) perEngine.set(r.engine, (perEngine.get(r.engine) ?? new Set()).add(key(r)));
  return new Map(records.map((r) => [r, perEngine.get(r.engine)!.size > 1 ? `${r.engine} ${key(r)}` : r.engine]));
}

export function seriesPlotSpec(records: RunRecord[], opts: { title?: string; width?: number; height?: number } = {}): Spec {
  const withSeries = records.filter((r) => r.series && r.series.points.length > 0 && !r.aggregate);
  if (!withSeries.length) {
    throw usageError('the results hold no time series', 'plot --series needs a JSON file from a run of this version: nvmebench randread ... --json run.json (--interval sets the step)');
  }
  const labels = lineLabels(withSeries);
  const data: Spec[] = [];
  const windows: Spec[] = [];
  for (const r of withSeries) {
    const line = labels.get(r)!;
    for (const p of r.series!.points) {
      const t = p.endS;
      data.push({ line, t, iops: p.iops, p99: Number.isFinite(p.p99Us) && p.p99Us !== null ? p.p99Us : null });
    }
    if (r.steady && r.steady.windowS > 0) windows.push({ line, from: r.steady.windowStartS, to: r.steady.windowStartS + r.steady.windowS, steady: r.steady.steady ? 'steady' : 'not steady' });
  }
  const lines = [...new Set(withSeries.map((r) => labels.get(r)!))];
  const color = { field: 'line', type: 'nominal', sort: lines, title: 'engine' };
  const x = { field: 't', type: 'quantitative', title: 'time since measuring began (s)' };
  const size = { width: opts.width ?? 560, height: opts.height ?? 200 };
  const shade: Spec[] = windows.length
    ? [{ data: { values: windows }, mark: { type: 'rect', opacity: 0.12 }, encoding: { x: { field: 'from', type: 'quantitative' }, x2: { field: 'to' }, color } }]
    : [];
  const panel = (field: string, title: string, log: boolean): Spec => ({
    ...size,
    layer: [
      ...shade,
      {
        transform: [{ filter: `datum.${field} !== null` }],
        mark: { type: 'line', point: { size: 12 } },
        encoding: { x, y: { field, type: 'quantitative', title, ...(log ? { scale: { type: 'log' }, axis: { format: '~g' } } : {}) }, color },
      },
    ],
  });
  const workloads = [...new Set(withSeries.map((r) => r.workload))].join(', ');
  const step = withSeries[0].series!.intervalMs;
  const title = opts.title ?? `${workloads}: IOPS and p99 every ${step >= 1000 ? `${step / 1000} s` : `${step} ms`}`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: windows.length ? { text: title, subtitle: 'shaded: the steady-state window whose figures the results report' } : title,
    data: { values: data },
    config: { font: 'sans-serif', legend: { labelLimit: 240 } },
    vconcat: [panel('iops', 'IOPS', false), panel('p99', 'p99 latency (µs)', true)],
  };
}

export async function writeSeriesPlot(records: RunRecord[], file: string | OutputPath, opts: { title?: string } = {}): Promise<void> {
  const svg = await renderSvg(seriesPlotSpec(records, opts));
  writeExport(file, svg.endsWith('\n') ? svg : svg + '\n');
}
