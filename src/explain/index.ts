// --explain for one run's result: the workers' samples, symbolised against
// this process's maps and the kernel's symbols, as the record's explain object.
import type { ExplainRecord } from '../model.js';
import type { NativeRunResult } from '../native/addon.js';
import { buildExplain } from './build.js';
import { readKallsyms } from './kallsyms.js';
import { readMaps } from './maps.js';
import { Symbolizer } from './symbolize.js';

export function explainResult(result: NativeRunResult, ios: number): ExplainRecord | undefined {
  const sampled = result.workers.filter((w) => w.explain && w.explain.event !== 'none');
  if (!sampled.length) return undefined;
  const cpuNs = sampled.reduce((s, w) => s + (w.userUs + w.sysUs) * 1000, 0);
  return buildExplain(
    sampled.map((w) => w.explain!),
    ios,
    cpuNs,
    new Symbolizer(readKallsyms(), readMaps()),
  );
}
