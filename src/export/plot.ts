// Charts: a Vega-Lite spec built from the records, compiled to Vega and
// rendered to SVG headless by vega's View.toSVG() (no browser, no canvas).
//
//  - metric plot: one metric (mean over repeats, ±σ bars when repeated) against
//    QD (or bs / threads when QD does not vary), one line per engine;
//  - latency plot (--latency): latency at p50..p99.99 per engine, from the
//    JSON histograms (pooled over repeats), or from the CSV percentile columns
//    (p50..p99.9) when there are no histograms.
// Whatever else varies (bs, threads, options, device...) becomes facets.
import type { TopLevelSpec } from 'vega-lite';
import { usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import { findMetric, metricSummary, METRICS, summarize, varyingFields, engineDependentFields, type CellConfig } from '../analysis/stats.js';
import { histogramPercentile } from '../analysis/histogram.js';
import type { CellResult, Results } from '../analysis/results.js';
import { describeConfig } from '../output/labels.js';
import { formatBlockSize } from '../output/format.js';
import { writeExport, type OutputPath } from './fsutil.js';

export interface PlotOptions {
  /** CSV column name of the metric (default iops). Ignored with latency. */
  metric?: string;
  /** Plot latency percentiles instead of a metric against QD. */
  latency?: boolean;
  title?: string;
  width?: number;
  height?: number;
}

type Spec = Record<string, unknown>;

const X_CANDIDATES: Array<{ field: keyof CellConfig; title: string }> = [
  { field: 'ioDepth', title: 'queue depth' },
  { field: 'blockSize', title: 'block size (bytes)' },
  { field: 'threads', title: 'threads' },
];

export const LATENCY_PERCENTILES: Array<{ label: string; pct: number; column?: keyof RunRecord['latency'] }> = [
  { label: 'p50', pct: 50, column: 'p50Us' },
  { label: 'p90', pct: 90, column: 'p90Us' },
  { label: 'p99', pct: 99, column: 'p99Us' },
  { label: 'p99.9', pct: 99.9, column: 'p999Us' },
  { label: 'p99.99', pct: 99.99 },
];

function usable(results: Results): CellResult[] {
  const cells = results.cells.filter((c) => c.n > 0);
  if (cells.length === 0) throw usageError('no successful results to plot', 'run the benchmark first; failed cells have no figures');
  return cells;
}

function emulatedNote(records: RunRecord[]): string | undefined {
  const models = [...new Set(records.filter((r) => r.target.emulated).map((r) => r.target.model || r.target.path))];
  return models.length ? `emulated device (${models.join(', ')}): function, not hardware speed` : undefined;
}

/** Fields that vary and say something the engine and the axes do not (no facet per engine default). */
function meaningfulVarying(cells: CellResult[]): Array<keyof CellConfig> {
  const configs = cells.map((c) => c.config);
  const intrinsic = engineDependentFields(configs);
  return varyingFields(configs).filter((f) => !intrinsic.includes(f));
}

/** Facet labels in a natural order: by the facet fields' values, numbers as numbers. */
function facetOrder(cells: CellResult[], fields: Array<keyof CellConfig>): string[] {
  const sorted = [...cells].sort((a, b) => {
    for (const f of fields) {
      const x = a.config[f];
      const y = b.config[f];
      if (x === y) continue;
      if (typeof x === 'number' && typeof y === 'number') return x - y;
      return String(x) < String(y) ? -1 : 1;
    }
    return 0;
  });
  return [...new Set(sorted.map((c) => describeConfig(c.config, fields)))];
}

function wrap(layerSpec: Spec, data: Spec[], facet: string[] | null, opts: PlotOptions, title: string, subtitle?: string): Spec {
  const size = facet ? { width: opts.width ?? 320, height: opts.height ?? 240 } : { width: opts.width ?? 480, height: opts.height ?? 300 };
  const head: Spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: subtitle ? { text: title, subtitle } : title,
    data: { values: data },
    config: { font: 'sans-serif', legend: { labelLimit: 240 } },
  };
  if (!facet) return { ...head, ...size, ...layerSpec };
  return {
    ...head,
    facet: { field: 'facet', type: 'nominal', title: null, sort: facet },
    columns: 3,
    spec: { ...size, ...layerSpec },
  };
}

/** The Vega-Lite spec for a metric against QD, one line per engine. */
export function metricPlotSpec(results: Results, opts: PlotOptions = {}): Spec {
  const metricName = opts.metric ?? 'iops';
  const metric = findMetric(metricName);
  if (!metric) throw usageError(`unknown metric "${metricName}"`, `use one of ${METRICS.map((m) => m.name).join(', ')}`);
  const cells = usable(results);
  const varying = meaningfulVarying(cells);
  const x = X_CANDIDATES.find((c) => varying.includes(c.field)) ?? X_CANDIDATES[0];
  const facetFields = varying.filter((f) => f !== 'engine' && f !== x.field);
  const engines = [...new Set(cells.map((c) => c.config.engine))];
  const data = cells.map((cell) => {
    const s = metricSummary(cell, metric);
    return {
      engine: cell.config.engine,
      x: cell.config[x.field] as number,
      value: s.mean,
      lo: s.n >= 2 ? s.mean - s.sd : s.mean,
      hi: s.n >= 2 ? s.mean + s.sd : s.mean,
      n: s.n,
      facet: describeConfig(cell.config, facetFields),
    };
  });
  const repeated = data.some((d) => d.n >= 2);
  const xValues = [...new Set(data.map((d) => d.x))].sort((a, b) => a - b);
  const xEnc: Spec = {
    field: 'x',
    type: 'quantitative',
    title: x.title,
    scale: xValues.length > 1 && xValues[0] > 0 ? { type: 'log', base: 2 } : { zero: false },
    axis: {
      values: xValues,
      ...(x.field === 'blockSize' ? { labelExpr: blockSizeLabelExpr(xValues) } : {}),
    },
  };
  const color: Spec = { field: 'engine', type: 'nominal', sort: engines, title: 'engine' };
  const yFormat = metric.name === 'iops' || metric.name === 'bw_bytes_s' ? '~s' : '~g';
  const layer: Spec[] = [
    {
      mark: { type: 'line', point: true },
      encoding: {
        x: xEnc,
        y: { field: 'value', type: 'quantitative', title: metric.label, axis: { format: yFormat } },
        color,
      },
    },
  ];
  if (repeated) {
    layer.push({
      mark: { type: 'rule' },
      encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
    });
  }
  const workloads = [...new Set(cells.map((c) => c.config.workload))].join(', ');
  const title = opts.title ?? `${workloads}: ${metric.label} by ${x.title}${repeated ? ' (mean ± σ)' : ''}`;
  return wrap({ layer }, data, facetFields.length > 0 ? facetOrder(cells, facetFields) : null, opts, title, emulatedNote(results.records));
}

function blockSizeLabelExpr(values: number[]): string {
  // Vega expression mapping each tick value to its fio-style label (4k, 1m).
  return values.map((v) => `datum.value == ${v} ? '${formatBlockSize(v)}' : `).join('') + "''";
}

/** Latency percentiles of one cell, in µs: from the pooled histograms, or the summary columns. */
export function cellPercentiles(cell: CellResult): Array<{ label: string; value: number }> {
  const hist = cell.histogram;
  if (hist.length > 0) {
    const minUs = Math.min(...cell.ok.map((r) => r.latency.minUs).filter(Number.isFinite));
    const maxUs = Math.max(...cell.ok.map((r) => r.latency.maxUs).filter(Number.isFinite));
    return LATENCY_PERCENTILES.map((p) => ({ label: p.label, value: histogramPercentile(hist, p.pct, Number.isFinite(minUs) ? minUs : 0, Number.isFinite(maxUs) ? maxUs : Infinity) }));
  }
  return LATENCY_PERCENTILES.filter((p) => p.column).map((p) => ({
    label: p.label,
    value: summarize(cell.ok.map((r) => r.latency[p.column!])).mean,
  }));
}

/** The Vega-Lite spec for latency percentiles, one line per engine. */
export function latencyPlotSpec(results: Results, opts: PlotOptions = {}): Spec {
  const cells = usable(results);
  const varying = meaningfulVarying(cells);
  const facetFields = varying.filter((f) => f !== 'engine');
  const engines = [...new Set(cells.map((c) => c.config.engine))];
  const data: Spec[] = [];
  for (const cell of cells) {
    for (const p of cellPercentiles(cell)) {
      if (!Number.isFinite(p.value) || p.value <= 0) continue;
      data.push({ engine: cell.config.engine, percentile: p.label, value: p.value, facet: describeConfig(cell.config, facetFields) });
    }
  }
  if (data.length === 0) throw usageError('no latency figures to plot', 'the results hold no latency percentiles');
  const fromHist = cells.some((c) => c.ok.some((r) => (r.histogram ?? []).length > 0));
  const layer: Spec[] = [
    {
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'percentile', type: 'ordinal', sort: LATENCY_PERCENTILES.map((p) => p.label), title: 'percentile', axis: { labelAngle: 0 } },
        y: { field: 'value', type: 'quantitative', title: 'latency (µs)', scale: { type: 'log' }, axis: { format: '~g' } },
        color: { field: 'engine', type: 'nominal', sort: engines, title: 'engine' },
      },
    },
  ];
  const workloads = [...new Set(cells.map((c) => c.config.workload))].join(', ');
  const title = opts.title ?? `${workloads}: latency percentiles${fromHist ? '' : ' (from the CSV columns; the JSON holds the histograms up to p99.99)'}`;
  return wrap({ layer }, data, facetFields.length > 0 ? facetOrder(cells, facetFields) : null, opts, title, emulatedNote(results.records));
}

export function plotSpec(results: Results, opts: PlotOptions = {}): Spec {
  return opts.latency ? latencyPlotSpec(results, opts) : metricPlotSpec(results, opts);
}

/** Compile a Vega-Lite spec and render it to SVG text, headless. */
export async function renderSvg(spec: Spec): Promise<string> {
  const silent = {
    level(): number {
      return 0;
    },
    error(): void {},
    warn(): void {},
    info(): void {},
    debug(): void {},
  };
  // Loaded here, not at the top: vega is hundreds of modules, and every CLI
  // start (in the lab, tens of seconds under TCG) would pay for them.
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const compiled = compile(spec as unknown as TopLevelSpec, { logger: silent as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Render these results to an SVG file ('-' for stdout). Used by `plot` and by `--plot` on runs. */
export async function writePlot(results: Results, file: string | OutputPath, opts: PlotOptions = {}): Promise<void> {
  const svg = await renderSvg(plotSpec(results, opts));
  writeExport(file, svg.endsWith('\n') ? svg : svg + '\n');
}

