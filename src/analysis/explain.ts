// --explain across a cell's repeats, aggregated once with the rest of the
// results: the mean ns/IO and share of each layer, the symbols' samples
// summed, and the polling figures. Renderers and `nvmebench explain` read this.
import type { ExplainRecord, RunRecord } from '../model.js';

export interface CellExplain {
  /** Repeats that carried explain data. */
  n: number;
  event: ExplainRecord['event'];
  /** Per layer, the mean over the repeats. */
  layers: Record<string, { nsPerIo: number; pct: number }>;
  /** The layers' sum and the workers' measured CPU, both per I/O. */
  sampledNsPerIo: number;
  cpuNsPerIo: number;
  /** cpu-clock: the event's own count per I/O (mean over the repeats). */
  eventNsPerIo?: number;
  samples: number;
  lost: number;
  /** Every symbol, samples summed over the repeats, most first; pct of the cell's samples. */
  symbols: ExplainRecord['symbols'];
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);

export function cellExplain(records: RunRecord[]): CellExplain | undefined {
  const withData = records.filter((r): r is RunRecord & { explain: ExplainRecord } => !!r.explain && r.ios > 0);
  if (!withData.length) return undefined;
  const layerNames = [...new Set(withData.flatMap((r) => Object.keys(r.explain.layers)))];
  const layers: CellExplain['layers'] = {};
  for (const name of layerNames) {
    layers[name] = {
      nsPerIo: mean(withData.map((r) => r.explain.layers[name]?.nsPerIo ?? 0)),
      pct: mean(withData.map((r) => r.explain.layers[name]?.pct ?? 0)),
    };
  }
  const bySymbol = new Map<string, ExplainRecord['symbols'][number]>();
  for (const r of withData) {
    for (const s of r.explain.symbols) {
      const key = `${s.module}\0${s.symbol}`;
      const entry = bySymbol.get(key) ?? { ...s, samples: 0, pct: 0 };
      entry.samples += s.samples;
      bySymbol.set(key, entry);
    }
  }
  const symbols = [...bySymbol.values()].sort((a, b) => b.samples - a.samples || a.symbol.localeCompare(b.symbol));
  const total = symbols.reduce((s, e) => s + e.samples, 0);
  for (const s of symbols) s.pct = total ? (s.samples / total) * 100 : 0;
  return {
    n: withData.length,
    event: withData[0].explain.event,
    layers,
    sampledNsPerIo: mean(withData.map((r) => r.explain.sampledNs / r.ios)),
    cpuNsPerIo: mean(withData.map((r) => r.explain.cpuNs / r.ios)),
    ...(withData.every((r) => r.explain.eventNs !== undefined) ? { eventNsPerIo: mean(withData.map((r) => r.explain.eventNs! / r.ios)) } : {}),
    samples: withData.reduce((s, r) => s + r.explain.samples, 0),
    lost: withData.reduce((s, r) => s + r.explain.lost, 0),
    symbols,
  };
}

/** Polled engines: the mean of the repeats' empty reap calls per I/O; undefined for the others. */
export function cellEmptyPolls(records: RunRecord[]): number | undefined {
  const xs = records.map((r) => r.emptyPollsPerIo).filter((x): x is number => typeof x === 'number');
  return xs.length ? mean(xs) : undefined;
}
