// The engine-by-QD matrix, like fio's t/io_uring comparisons:
//
//   QD   uring  pt           uring-poll   pt-poll
//   8    538    589 (1.09×)  831 (1.54×)  902 (1.68×)
//
// Rows are QD (or bs, or whatever else varies apart from the engine), columns
// the engines in the order they ran, cells KIOPS (mean over repeats), each with
// its speed relative to the first engine of the row.
import { configKey, engineDependentFields, varyingFields, type CellConfig, type CellStats } from '../analysis/stats.js';
import type { Results } from '../analysis/results.js';
import { formatBlockSize, formatKiops, formatRatio } from './format.js';
import { describeConfig, fieldLabel } from './labels.js';
import type { TableModel } from './table.js';

export interface MatrixModel extends TableModel {
  title: string;
  engines: string[];
  /** KIOPS per row per engine (NaN where that engine has no result). */
  values: number[][];
}

const SHORT_HEADER: Partial<Record<keyof CellConfig, string>> = {
  ioDepth: 'QD',
  blockSize: 'bs',
  threads: 'threads',
  workload: 'workload',
  readPercent: 'read%',
  batchSubmit: 'batch-submit',
  batchComplete: 'batch-complete',
  fixedBufs: 'fixedbufs',
  regFiles: 'regfiles',
  targetKind: 'target',
  deviceModel: 'device',
  deviceFirmware: 'firmware',
};

function rowLabel(c: CellConfig, fields: Array<keyof CellConfig>): string {
  if (fields.length === 1) {
    const f = fields[0];
    if (f === 'ioDepth') return String(c.ioDepth);
    if (f === 'blockSize') return formatBlockSize(c.blockSize);
    if (f === 'threads') return String(c.threads);
    if (f === 'readPercent') return String(c.readPercent);
    return fieldLabel(f, c);
  }
  return describeConfig(c, fields);
}

/** The matrix when several engines or several rows ran; null for a single cell. */
export function buildMatrix(results: Results): MatrixModel | null {
  // Several targets: the matrix shows each cell's aggregate, not its per-target rows.
  const several = results.cells.some((c) => c.config.target === 'all');
  const cells = several ? results.cells.filter((c) => c.config.target === 'all') : results.cells;
  if (cells.length < 2) return null;
  const engines = [...new Set(cells.map((c) => c.config.engine))];
  const intrinsic = several ? engineDependentFields(cells.map((c) => c.config)) : results.engineDependent;
  const varying = several ? varyingFields(cells.map((c) => c.config)) : results.varying;
  const rowFields = varying.filter((f) => f !== 'engine' && !intrinsic.includes(f));
  const groups = new Map<string, CellStats[]>();
  for (const cell of cells) {
    const k = configKey(cell.config, ['engine', ...intrinsic]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(cell);
  }
  if (engines.length < 2 && groups.size < 2) return null;

  const fields: Array<keyof CellConfig> = rowFields.length > 0 ? rowFields : ['ioDepth'];
  const corner = fields.length === 1 ? (SHORT_HEADER[fields[0]] ?? fields[0]) : fields.map((f) => SHORT_HEADER[f] ?? f).join(' / ');
  const headers = [corner, ...engines];
  const align: Array<'left' | 'right'> = ['left', ...engines.map(() => 'right' as const)];
  const values: number[][] = [];
  const labels: string[] = [];
  for (const group of groups.values()) {
    const byEngine = new Map(group.map((c) => [c.config.engine, c]));
    values.push(
      engines.map((e) => {
        const cell = byEngine.get(e);
        return cell && cell.n > 0 ? cell.iops.mean / 1000 : NaN;
      }),
    );
    labels.push(rowLabel(group[0].config, fields));
  }
  // The baseline: the first engine with a figure in every row (psync and
  // ioctl run at QD 1 only, so they rarely qualify), as uring is in seed 001.
  const complete = engines.findIndex((_, i) => values.every((vals) => Number.isFinite(vals[i]) && vals[i] > 0));
  const baseIndex = complete >= 0 ? complete : 0;
  const rows = values.map((vals, r) => {
    const base = vals[baseIndex];
    const row = [labels[r]];
    vals.forEach((v, i) => {
      if (!Number.isFinite(v)) row.push('-');
      else if (i === baseIndex || !Number.isFinite(base) || base === 0) row.push(formatKiops(v * 1000));
      else row.push(`${formatKiops(v * 1000)} (${formatRatio(v / base)})`);
    });
    return row;
  });
  const title = engines.length > 1 ? `KIOPS by engine (× = relative to ${engines[baseIndex]})` : `KIOPS (${engines[0]})`;
  return { title, headers, align, rows, notes: [], engines, values };
}
