// The --latency-target answer: per engine (and block size), the highest IOPS
// that met the target, at what QD (and offered rate), and how the search ended.
// The measured curve is the results table above it: one row per probe.
import type { EngineName } from '../model.js';
import type { TableModel } from './table.js';
import { formatBlockSize, formatCount, formatUs } from './format.js';

export interface TargetAnswerRow {
  engine: EngineName;
  blockSize: number;
  best?: { ioDepth: number; offeredIops?: number; iops: number; latencyUs: number };
  probes: number;
  ended: string;
}

export function buildTargetTable(rows: TargetAnswerRow[], targetText: string, openLoop: boolean): TableModel {
  const headers = ['engine', 'bs', 'QD', ...(openLoop ? ['offered'] : []), 'IOPS', `${targetText.split(':')[0]} µs`, 'probes', 'search'];
  const body = rows.map((r) => [
    r.engine,
    formatBlockSize(r.blockSize),
    r.best ? String(r.best.ioDepth) : '-',
    ...(openLoop ? [r.best?.offeredIops !== undefined ? formatCount(r.best.offeredIops) : '-'] : []),
    r.best ? formatCount(r.best.iops) : 'none',
    r.best ? formatUs(r.best.latencyUs) : '-',
    String(r.probes),
    r.ended,
  ]);
  const align = headers.map((h) => (h === 'engine' || h === 'search' ? 'left' : 'right') as 'left' | 'right');
  const notes = [
    `highest IOPS with ${targetText} met, per engine${openLoop ? ' (open loop: latency from each I/O\'s due time, and the achieved rate within 5% of the offered)' : ''}; the rows above are every probe: the measured curve`,
  ];
  return { headers, align, rows: body, notes };
}
