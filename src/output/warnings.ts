// The words for a cell's warnings (analysis/warnings.ts), for the lines under
// the table and the JSON export's warnings.
import { HIGH_CV, type CellWarning } from '../analysis/warnings.js';
import { formatCount, formatCountPm, formatUs } from './format.js';

/** A share as a percentage with two significant digits: 0.14 → "14%", 0.012 → "1.2%". */
export function formatShare(share: number): string {
  if (!Number.isFinite(share)) return '-';
  const pct = share * 100;
  return `${pct >= 10 ? pct.toFixed(0) : pct.toPrecision(2)}%`;
}

function repeatWords(repeats: number[]): string {
  return repeats.length === 1 ? `repeat ${repeats[0]}` : `repeats ${repeats.join(', ')}`;
}

export function warningText(w: CellWarning): string {
  switch (w.kind) {
    case 'slow-first':
      return `the first repeat (${w.repeat}) ran at ${formatCount(w.iops)} IOPS, well below the rest (${formatCountPm(w.restMean, w.restSd)}): caches or the device were likely cold; add --warmup 1 or more`;
    case 'outlier':
      return `repeat ${w.repeat} is an outlier at ${formatCount(w.iops)} IOPS (${w.rule === 'tukey' ? `beyond 1.5×IQR of the cell's ${w.repeats} repeats` : `modified z-score over 3.5 among the cell's ${w.repeats} repeats`})`;
    case 'foreign-cpu': {
      const where = `${w.cpus.length === 1 ? 'CPU' : 'CPUs'} ${w.cpus.join(', ')}`;
      const what = w.pinned ? "the workers' CPUs" : 'the CPUs (workers not pinned)';
      return `another process used ${what} during ${repeatWords(w.repeats)}: ${where} ${w.cpus.length === 1 ? 'was' : 'were'} busy ${formatShare(w.share)} of the time beyond nvmebench's own CPU; pick idle CPUs with --cpus, and check top for what runs there`;
    }
    case 'steal':
      return `the VM's host took ${formatShare(w.share)} of the CPUs' time (steal) during ${repeatWords(w.repeats)}: figures from this VM vary with its neighbours; run on a quieter host or on bare metal`;
    case 'rate-behind':
      return `the path did not keep up with the offered rate: ${formatCount(w.achievedIops)} IOPS achieved of ${formatCount(w.offeredIops)} offered, ${formatCount(w.lateIos)} I/Os (${formatShare(w.lateShare)}) waited for a free slot, p99 from the due time ${formatUs(w.schedP99Us)} µs; ${w.lateIos > 0 ? 'offer less, or raise --qd if the slots were the limit' : 'no I/O waited for a slot, so the submitting thread fell behind (CPU busy or descheduled): offer less, pin it with --cpus, or add --threads'}`;
    case 'high-cv':
      return `IOPS vary by ${formatShare(w.cv)} (σ/mean over ${w.repeats} repeats, more than ${formatShare(HIGH_CV)}): run more repeats, pin workers with --cpus, or see what nvmebench doctor finds`;
  }
}
