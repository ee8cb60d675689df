// Several targets in one cell: the aggregate row over the per-target records.
// IOPS, bandwidth, I/Os and CPU add up; latency percentiles come from the
// merged histograms (never averaged); per-I/O figures are weighted by I/Os.
import type { RateRecord, RunRecord, TargetInfo } from '../model.js';
import { histogramPercentile, mergeHistograms } from './histogram.js';

const sum = (rows: RunRecord[], f: (r: RunRecord) => number) => rows.reduce((s, r) => s + f(r), 0);

/** A per-I/O figure over all targets: each target's weighted by its I/Os. */
function perIo(rows: RunRecord[], f: (r: RunRecord) => number, ios: number): number {
  return ios ? sum(rows, (r) => (r.ios ? f(r) * r.ios : 0)) / ios : 0;
}

/** One value when the targets agree, else each distinct one joined by '+'. */
function joined(values: string[]): string {
  return [...new Set(values)].join('+');
}

function aggregateTarget(rows: RunRecord[]): TargetInfo {
  const t = rows.map((r) => r.target);
  return {
    path: t.map((x) => x.path).join(' '),
    kind: t[0].kind,
    sizeBytes: t.reduce((s, x) => s + x.sizeBytes, 0),
    logicalBlockSize: t[0].logicalBlockSize,
    model: joined(t.map((x) => x.model)),
    serial: t.map((x) => x.serial).join('+'),
    firmware: joined(t.map((x) => x.firmware)),
    emulated: t.every((x) => x.emulated),
  };
}

/**
 * Whole-system CPU per I/O over all targets: every run's own workers and
 * helpers, plus the system-wide IRQ, softirq and other kernel time once (each
 * run saw the same interval). NaN unless every run measured it.
 */
function systemNsPerIo(rows: RunRecord[], ios: number): number {
  const systems = rows.map((r) => r.system);
  if (!ios || systems.some((s) => !s)) return NaN;
  const s0 = systems[0]!;
  const own = systems.reduce((s, x) => s + x!.workerCpuNs + x!.helperCpuNs, 0);
  return (own + s0.irqNs + s0.softirqNs + s0.otherKernelNs) / ios;
}

/** Interrupts per I/O, each controller's vectors counted once (two namespaces share one). */
function irqsPerIo(rows: RunRecord[], ios: number): number {
  const byController = new Map<string, number>();
  for (const r of rows) {
    if (!r.system || r.system.interrupts === null) return rows.every((x) => Number.isNaN(x.irqsPerIo)) ? NaN : perIo(rows, (x) => x.irqsPerIo, ios);
    byController.set(r.system.irqSources.join(','), r.system.interrupts);
  }
  return ios ? [...byController.values()].reduce((s, n) => s + n, 0) / ios : NaN;
}

/** The cell's aggregate over its per-target records (all from one cell, one repeat). */
export function aggregateTargets(rows: RunRecord[]): RunRecord {
  const first = rows[0];
  const ios = sum(rows, (r) => r.ios);
  const histogram = mergeHistograms(rows.map((r) => r.histogram));
  const timed = rows.filter((r) => r.histogram.some(([, c]) => c > 0));
  const counts = timed.map((r) => r.histogram.reduce((s, [, c]) => s + c, 0));
  const totalTimed = counts.reduce((s, n) => s + n, 0);
  const minUs = timed.length ? Math.min(...timed.map((r) => r.latency.minUs)) : 0;
  const maxUs = timed.length ? Math.max(...timed.map((r) => r.latency.maxUs)) : 0;
  const at = (p: number) => (totalTimed ? histogramPercentile(histogram, p, minUs, maxUs) : 0);
  const failed = rows.find((r) => r.status === 'failed');
  const interrupted = rows.find((r) => r.status === 'interrupted');
  const { targetIndex: _index, system: _system, command: _command, ...base } = first;
  return {
    ...base,
    aggregate: true,
    runtimeS: Math.max(...rows.map((r) => r.runtimeS)),
    options: { ...first.options, cpus: rows.flatMap((r) => r.options.cpus) },
    target: aggregateTarget(rows),
    status: failed ? 'failed' : interrupted ? 'interrupted' : 'ok',
    errorMessage: failed ? `${failed.target.path}: ${failed.errorMessage}` : '',
    ios,
    iops: sum(rows, (r) => r.iops),
    bandwidthBps: sum(rows, (r) => r.bandwidthBps),
    latency: {
      minUs,
      meanUs: totalTimed ? timed.reduce((s, r, i) => s + r.latency.meanUs * counts[i], 0) / totalTimed : 0,
      p50Us: at(50),
      p90Us: at(90),
      p99Us: at(99),
      p999Us: at(99.9),
      maxUs,
    },
    cpuUserPct: sum(rows, (r) => r.cpuUserPct),
    cpuSysPct: sum(rows, (r) => r.cpuSysPct),
    cpuNsPerIo: perIo(rows, (r) => r.cpuNsPerIo, ios),
    sysCpuNsPerIo: systemNsPerIo(rows, ios),
    irqsPerIo: irqsPerIo(rows, ios),
    ctxswPerIo: perIo(rows, (r) => r.ctxswPerIo, ios),
    iosPerSubmitCall: perIo(rows, (r) => r.iosPerSubmitCall, ios),
    iosPerReapCall: perIo(rows, (r) => r.iosPerReapCall, ios),
    errors: sum(rows, (r) => r.errors),
    verifiedBlocks: sum(rows, (r) => r.verifiedBlocks),
    histogram,
    ...(first.rate ? { rate: aggregateRate(rows) } : {}),
  };
}

/** --rate-iops over several targets: rates and late I/Os add up, the latency from the due time comes from the merged histograms. */
function aggregateRate(rows: RunRecord[]): RateRecord {
  const rates = rows.map((r) => r.rate).filter((r): r is RateRecord => r !== undefined);
  const schedHistogram = mergeHistograms(rates.map((r) => r.schedHistogram));
  const total = schedHistogram.reduce((s, [, c]) => s + c, 0);
  const minUs = Math.min(...rates.map((r) => r.schedLatency.minUs));
  const maxUs = Math.max(...rates.map((r) => r.schedLatency.maxUs));
  const at = (p: number) => (total ? histogramPercentile(schedHistogram, p, minUs, maxUs) : 0);
  const meanUs = total ? rates.reduce((s, r) => s + r.schedLatency.meanUs * r.schedHistogram.reduce((n, [, c]) => n + c, 0), 0) / total : 0;
  return {
    arrival: rates[0].arrival,
    offeredIops: rates.reduce((s, r) => s + r.offeredIops, 0),
    lateIos: rates.reduce((s, r) => s + r.lateIos, 0),
    maxLagUs: Math.max(...rates.map((r) => r.maxLagUs)),
    schedLatency: { minUs, meanUs, p50Us: at(50), p90Us: at(90), p99Us: at(99), p999Us: at(99.9), maxUs },
    schedHistogram,
  };
}
