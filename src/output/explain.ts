// --explain's terminal output: per group of cells that differ only by engine,
// a table of layers (rows) by engine (columns) in ns per I/O and % of the
// sampled CPU (the samples share out the CPU getrusage measured), then each engine's top symbols in `perf report`'s format, and
// the symbols no layer rule matched.
import type { CellResult, Results } from '../analysis/results.js';
import type { CellConfig } from '../analysis/stats.js';
import { LAYERS, LAYER_TITLES } from '../explain/layers.js';
import { engineSpec } from '../engines/registry.js';
import type { EngineName } from '../model.js';

export const TOP_SYMBOLS = 15;

/**
 * Cells that differ only by engine (and what the engine decides), in order. A
 * synchronous engine (psync, ioctl) runs at QD 1 whatever --qd says: it joins
 * every group of its other settings, so it sits beside uring at each depth.
 */
export function explainGroups(results: Results): Array<{ title: string; cells: CellResult[] }> {
  const skip = new Set<keyof CellConfig>(['engine', ...results.engineDependent]);
  const groups = new Map<string, { title: string; cells: CellResult[]; rest: string }>();
  const keyOf = (c: CellConfig, withDepth: boolean): string =>
    (Object.keys(c) as Array<keyof CellConfig>).filter((k) => !skip.has(k) && (withDepth || k !== 'ioDepth')).map((k) => `${k}=${c[k]}`).join(' ');
  const title = (c: CellConfig, qd: boolean): string => `${c.workload} bs=${c.blockSize}${qd && !skip.has('ioDepth') ? ` qd=${c.ioDepth}` : ''} threads=${c.threads}`;
  const sync = (cell: CellResult): boolean => engineSpec(cell.config.engine as EngineName).synchronous;
  const explained = results.cells.filter((cell) => cell.explain);
  for (const cell of explained.filter((c) => !sync(c))) {
    const key = keyOf(cell.config, true);
    const g = groups.get(key) ?? { title: title(cell.config, true), cells: [], rest: keyOf(cell.config, false) };
    g.cells.push(cell);
    groups.set(key, g);
  }
  for (const cell of explained.filter(sync)) {
    const rest = keyOf(cell.config, false);
    const joined = [...groups.values()].filter((g) => g.rest === rest);
    for (const g of joined) g.cells.push(cell);
    if (!joined.length) {
      const g = groups.get(`sync ${rest}`) ?? { title: title(cell.config, false), cells: [], rest: `sync ${rest}` };
      g.cells.push(cell);
      groups.set(`sync ${rest}`, g);
    }
  }
  return [...groups.values()].map(({ title: t, cells }) => ({ title: t, cells }));
}

const ns = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** The perf-report line of one symbol: "  7.90%  nvmebench  [nvme]  [k] nvme_poll". */
export function perfLine(s: { pct: number; module: string; kernel: boolean; symbol: string }): string {
  return `${s.pct.toFixed(2).padStart(7)}%  nvmebench  ${`[${s.module}]`.padEnd(24)} [${s.kernel ? 'k' : '.'}] ${s.symbol}`;
}

/** draw: render.ts's drawTable, passed in (render.ts imports this file). */
export function renderExplain(results: Results, drawTable: (m: { headers: string[]; rows: string[][]; align: Array<'left' | 'right'> }) => string): string[] {
  const out: string[] = [];
  for (const group of explainGroups(results)) {
    const cells = group.cells;
    const event = cells[0].explain!.event;
    out.push('', `CPU by layer: ${group.title} (ns/IO and % of the sampled CPU; ${event} samples)`);
    const shown = LAYERS.filter((l) => cells.some((c) => (c.explain!.layers[l]?.pct ?? 0) >= 0.05));
    const rows = shown.map((l) => [LAYER_TITLES[l], ...cells.map((c) => {
      const v = c.explain!.layers[l] ?? { nsPerIo: 0, pct: 0 };
      return `${ns(v.nsPerIo)} (${v.pct.toFixed(1)}%)`;
    })]);
    rows.push(['measured CPU', ...cells.map((c) => ns(c.explain!.cpuNsPerIo))]);
    if (cells.some((c) => c.explain!.eventNsPerIo !== undefined)) rows.push(['perf cpu-clock', ...cells.map((c) => (c.explain!.eventNsPerIo === undefined ? '-' : ns(c.explain!.eventNsPerIo)))]);
    if (cells.some((c) => c.emptyPollsPerIo !== undefined)) rows.push(['empty polls/IO', ...cells.map((c) => (c.emptyPollsPerIo === undefined ? '-' : c.emptyPollsPerIo.toFixed(2)))]);
    rows.push(['samples (lost)', ...cells.map((c) => `${c.explain!.samples} (${c.explain!.lost})`)]);
    const headers = ['layer', ...cells.map((c) => c.config.engine)];
    out.push(drawTable({ headers, rows, align: headers.map((_, i) => (i ? 'right' : 'left')) }));
    const off = cells.filter((c) => c.explain!.eventNsPerIo !== undefined && Math.abs(c.explain!.eventNsPerIo / c.explain!.cpuNsPerIo - 1) > 0.1);
    if (off.length) out.push(`the layers share out the measured CPU; perf's clock counted ${off.map((c) => `${c.config.engine} ${((c.explain!.eventNsPerIo! / c.explain!.cpuNsPerIo - 1) * 100).toFixed(0)}%`).join(', ')} against it (steal or interrupt time: a busy host or VM)`);
    for (const c of cells) {
      out.push('', `top ${TOP_SYMBOLS} symbols, ${c.config.engine} (${group.title}):`);
      for (const s of c.explain!.symbols.slice(0, TOP_SYMBOLS)) out.push(perfLine(s));
      const missed = c.explain!.symbols.filter((s) => s.layer === 'other').slice(0, 10);
      if (missed.length) out.push(`  no layer rule matched (src/explain/layers.ts): ${missed.map((s) => `${s.symbol} [${s.module}] ${s.pct.toFixed(1)}%`).join(', ')}`);
    }
  }
  return out;
}
