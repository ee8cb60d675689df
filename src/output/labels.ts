// Words for configurations: how a cell, or the fields that set it apart, read.
import type { CellConfig } from '../analysis/stats.js';
import { formatBlockSize } from './format.js';

/** One config field in words, e.g. ioDepth 64 → "QD 64", fixedBufs true → "fixedbufs". */
export function fieldLabel(field: keyof CellConfig, c: CellConfig): string {
  switch (field) {
    case 'workload':
      return c.workload;
    case 'engine':
      return c.engine;
    case 'blockSize':
      return formatBlockSize(c.blockSize);
    case 'ioDepth':
      return `QD ${c.ioDepth}`;
    case 'threads':
      return `${c.threads} thread${c.threads === 1 ? '' : 's'}`;
    case 'readPercent':
      return `${c.readPercent}% read`;
    case 'batchSubmit':
      return `batch-submit ${c.batchSubmit}`;
    case 'batchComplete':
      return `batch-complete ${c.batchComplete}`;
    case 'fixedBufs':
      return c.fixedBufs ? 'fixedbufs' : 'no fixedbufs';
    case 'regFiles':
      return c.regFiles ? 'regfiles' : 'no regfiles';
    case 'sqpoll':
      return c.sqpoll ? 'sqpoll' : 'no sqpoll';
    case 'direct':
      return c.direct ? 'direct' : 'buffered';
    case 'verify':
      return c.verify ? 'verify' : 'no verify';
    case 'cpus':
      return c.cpus ? `cpus ${c.cpus.replace(/;/g, ',')}` : 'no pinning';
    case 'offset':
      return `offset ${formatBlockSize(c.offset)}`;
    case 'size':
      return `size ${formatBlockSize(c.size)}`;
    case 'latency':
      return `lat ${c.latency}`;
    case 'clock':
      return `clock ${c.clock}`;
    case 'targetKind':
      return c.targetKind;
    case 'deviceModel':
      return c.deviceModel || '(no model)';
    case 'deviceFirmware':
      return `fw ${c.deviceFirmware || '?'}`;
    case 'target':
      return c.target === 'all' ? 'all targets' : c.target === '' ? 'one target' : `target ${c.target}`;
    case 'rate':
      return c.rate ? `rate ${c.rate.split(' ')[0]}/s${c.rate.endsWith('poisson') ? ' poisson' : ''}` : 'closed loop';
    case 'planEntry':
      return c.planEntry ? `entry ${c.planEntry}` : 'no plan';
    case 'job':
      return c.job ? `job ${c.job}` : 'no job';
    case 'pi':
      return c.pi ? `metadata ${c.pi}` : 'no metadata';
  }
}

/** The listed fields in words, joined by spaces. */
export function describeConfig(c: CellConfig, fields: ReadonlyArray<keyof CellConfig>): string {
  return fields.map((f) => fieldLabel(f, c)).join(' ');
}

/** The fields a full cell label always names, then whatever else varies. */
export const AXIS_FIELDS: ReadonlyArray<keyof CellConfig> = ['workload', 'engine', 'blockSize', 'ioDepth', 'threads'];
