// hyperfine-style comparison for runs with repeats:
//
//   Summary (IOPS, mean ± σ over repeats)
//     QD 64: pt-poll ran
//       1.32 ± 0.02 times faster than uring
//       1.05 ± 0.03 times faster than pt (not significant, p = 0.21)
//
// Ratio σ by first-order error propagation (relative errors in quadrature);
// significance by Welch's two-sided t-test on the per-repeat IOPS.
import type { Results } from '../analysis/results.js';
import { configKey, ratioWithError, varyingFields, type CellStats } from '../analysis/stats.js';
import { welchTTest } from '../analysis/welch.js';
import { formatP } from './format.js';
import { describeConfig } from './labels.js';

export const ALPHA = 0.05;

export interface Comparison {
  group: string;
  fastest: string;
  slower: Array<{ engine: string; ratio: number; sd: number; p: number | undefined }>;
}

export function compareEngines(cells: CellStats[]): Comparison[] {
  const rowFields = varyingFields(cells.map((c) => c.config)).filter((f) => f !== 'engine');
  const groups = new Map<string, CellStats[]>();
  for (const cell of cells) {
    if (cell.n === 0) continue;
    const k = configKey(cell.config, ['engine']);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(cell);
  }
  const out: Comparison[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const sorted = [...group].sort((a, b) => b.iops.mean - a.iops.mean);
    const best = sorted[0];
    out.push({
      group: rowFields.length ? describeConfig(best.config, rowFields) : '',
      fastest: best.config.engine,
      slower: sorted.slice(1).map((c) => {
        const { ratio, sd } = ratioWithError(best.iops, c.iops);
        const w = welchTTest(best.iops.values, c.iops.values);
        return { engine: c.config.engine, ratio, sd, p: w?.p };
      }),
    });
  }
  return out;
}

/** The summary lines, or [] when no cell has repeats or no two engines share a row. */
export function buildSummary(results: Results): string[] {
  const { cells } = results;
  if (!cells.some((c) => c.n >= 2)) return [];
  const comps = compareEngines(cells);
  if (comps.length === 0) return [];
  const lines = ['Summary (IOPS, mean ± σ over repeats)'];
  for (const c of comps) {
    lines.push(`  ${c.group ? `${c.group}: ` : ''}${c.fastest} ran`);
    for (const s of c.slower) {
      const sig = s.p !== undefined && s.p >= ALPHA ? ` (not significant, p = ${formatP(s.p)})` : '';
      lines.push(`    ${s.ratio.toFixed(2)} ± ${s.sd.toFixed(2)} times faster than ${s.engine}${sig}`);
    }
  }
  return lines;
}
