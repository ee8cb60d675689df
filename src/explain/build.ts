// A run's samples as an ExplainRecord: symbolised, summed per symbol and per
// layer, and scaled to ns per I/O.
import type { ExplainRecord } from '../model.js';
import type { NativeExplain } from '../native/addon.js';
import { LAYERS, layerOf } from './layers.js';
import type { Symbolizer } from './symbolize.js';

export function buildExplain(workers: NativeExplain[], ios: number, cpuNs: number, symbols: Symbolizer): ExplainRecord | undefined {
  if (!workers.length) return undefined;
  const event = workers[0].event === 'cycles' ? 'cycles' : 'cpu-clock';
  const samples = workers.reduce((s, w) => s + w.samples, 0);
  const bySymbol = new Map<string, ExplainRecord['symbols'][number]>();
  for (const w of workers) {
    w.ips.forEach((hex, i) => {
      const r = symbols.resolve(BigInt('0x' + hex));
      const key = `${r.module}\0${r.symbol}`;
      const entry = bySymbol.get(key) ?? { symbol: r.symbol, module: r.module, kernel: r.kernel, layer: layerOf(r.symbol, r.module, r.kernel), samples: 0, pct: 0 };
      entry.samples += w.counts[i];
      bySymbol.set(key, entry);
    });
  }
  const counted = [...bySymbol.values()].reduce((s, e) => s + e.samples, 0);
  // The samples share out the CPU getrusage measured. Not samples x period: in a VM the
  // cpu-clock also runs while the host has the vCPU (steal) and through interrupts, which
  // getrusage leaves out; under load that put the sum 25-70% over. The event's own total
  // is kept (eventNs), and eventNs against cpuNs says how far to trust the sampling.
  const nsPerSample = counted ? cpuNs / counted : 0;
  const eventNs = event === 'cpu-clock' ? workers.reduce((s, w) => s + w.count, 0) : undefined;
  const list = [...bySymbol.values()].sort((a, b) => b.samples - a.samples || a.symbol.localeCompare(b.symbol));
  for (const e of list) e.pct = counted ? (e.samples / counted) * 100 : 0;
  const layers: ExplainRecord['layers'] = {};
  for (const layer of LAYERS) {
    const n = list.filter((e) => e.layer === layer).reduce((s, e) => s + e.samples, 0);
    layers[layer] = { nsPerIo: ios ? (n * nsPerSample) / ios : 0, pct: counted ? (n / counted) * 100 : 0 };
  }
  return {
    event,
    nsPerSample,
    samples,
    lost: workers.reduce((s, w) => s + w.lost, 0),
    dropped: workers.reduce((s, w) => s + w.dropped, 0),
    cpuNs,
    sampledNs: counted * nsPerSample,
    ...(eventNs !== undefined ? { eventNs } : {}),
    layers,
    symbols: list,
  };
}
