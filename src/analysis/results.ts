// A run's results, aggregated once: the records grouped into cells, each with
// its repeats' summaries and pooled histogram, and which configuration fields
// vary among the cells. Every table, plot and export reads this object; none
// of them groups the records again (hyperfine's scheduler → results → exporters).
import type { RunRecord } from '../model.js';
import { mergeHistograms } from './histogram.js';
import { aggregateCells, engineDependentFields, varyingFields, type CellConfig, type CellStats } from './stats.js';
import { cellWarnings, type CellWarning } from './warnings.js';
import { cellEmptyPolls, cellExplain, type CellExplain } from './explain.js';
import { cellRate, type CellRate } from './rate.js';

export interface CellResult extends CellStats {
  /** The ok repeats' latency histograms, pooled bucket by bucket ([lowNs, count]). */
  histogram: Array<[number, number]>;
  /**
   * For a cell that ^C stopped before any repeat completed: the figures of its
   * interrupted repeats that did I/O, summarised as if they were ok. They cover
   * only the time it ran.
   */
  partial?: CellStats;
  /** What not to trust in the repeats' figures (slow first repeat, outliers, a wide spread): warnings.ts. */
  warnings: CellWarning[];
  /** --explain: CPU by layer over the ok repeats (analysis/explain.ts). */
  explain?: CellExplain;
  /** Polled engines: reap calls that found no completion, per I/O. */
  emptyPollsPerIo?: number;
  /** --rate-iops: offered against achieved, late I/Os, latency from the due time (analysis/rate.ts). */
  rate?: CellRate;
  /** Write runs on an FDP namespace: the FDP statistics log over the ok repeats (bytes summed, waf their ratio). */
  fdp?: { hostBytesWritten: number; mediaBytesWritten: number; waf: number };
}

/** The repeats' FDP statistics together: what the host and the media wrote over all of them. */
function cellFdp(ok: RunRecord[]): CellResult['fdp'] {
  const measured = ok.filter((r) => r.fdp && r.fdp.hostBytesWritten !== undefined && r.fdp.mediaBytesWritten !== undefined);
  if (!measured.length) {
    // Read back from CSV: only waf is known; their mean.
    const wafs = ok.map((r) => r.fdp?.waf).filter((w): w is number => typeof w === 'number' && Number.isFinite(w));
    return wafs.length ? { hostBytesWritten: NaN, mediaBytesWritten: NaN, waf: wafs.reduce((a, b) => a + b, 0) / wafs.length } : undefined;
  }
  const host = measured.reduce((n, r) => n + (r.fdp?.hostBytesWritten ?? 0), 0);
  const media = measured.reduce((n, r) => n + (r.fdp?.mediaBytesWritten ?? 0), 0);
  return { hostBytesWritten: host, mediaBytesWritten: media, waf: host > 0 ? media / host : NaN };
}

export interface Results {
  records: RunRecord[];
  /** In order of first appearance. */
  cells: CellResult[];
  /** Config fields that take more than one value across the cells. */
  varying: Array<keyof CellConfig>;
  /** The varying fields that vary only because the engine and the axes do (engineDependentFields). */
  engineDependent: Array<keyof CellConfig>;
}

function partialFigures(cell: CellStats): CellStats | undefined {
  if (cell.n > 0) return undefined;
  const ran = cell.all.filter((r) => r.status === 'interrupted' && r.ios > 0);
  return ran.length ? aggregateCells(ran.map((r) => ({ ...r, status: 'ok' as const })))[0] : undefined;
}

export function buildResults(records: RunRecord[]): Results {
  const cells = aggregateCells(records).map(
    (cell): CellResult => ({
      ...cell,
      histogram: mergeHistograms(cell.ok.map((r) => r.histogram ?? [])),
      partial: partialFigures(cell),
      warnings: cellWarnings(cell),
      explain: cellExplain(cell.ok),
      emptyPollsPerIo: cellEmptyPolls(cell.ok),
      rate: cellRate(cell.ok),
      fdp: cellFdp(cell.ok),
    }),
  );
  const configs = cells.map((c) => c.config);
  return { records, cells, varying: varyingFields(configs), engineDependent: engineDependentFields(configs) };
}
