// A native result as a RunRecord, and the words for what went wrong: the
// setup errno with its fix, an I/O error with the advice that fits the engine.
import os from 'node:os';
import { BenchError, runError, usageError } from '../errors.js';
import { latencySummary, sparseBuckets } from '../analysis/histogram.js';
import { metadataRecord } from '../engines/pi.js';
import { SCHEMA_VERSION, type ClockInfo, type EnvironmentInfo, type NativeJob, type RateRecord, type RunRecord, type TargetInfo } from '../model.js';
import type { NativeError, NativeRateResult, NativeRunResult } from '../native/addon.js';
import type { Target } from '../target/target.js';
import { VERSION } from '../version.js';
import { commandRecord } from '../engines/commands.js';
import { engineSpec, needsTarget } from '../engines/registry.js';
import { vfioFix } from '../target/pci.js';
import type { Cell, PreparedRun } from './prepare.js';
import { systemFigures } from './system-cpu.js';
import { explainResult } from '../explain/index.js';

/** Words for a setup failure, with the fix, from the errno the engine saw. */
export function explainStartError(err: NativeError, job: NativeJob): BenchError {
  const msg = err.message;
  if (job.engine === 'vfio') {
    // EINVAL/ENOSPC: the job does not fit the controller (--qd, --bs, --threads); the message says how.
    if (err.code === 'EINVAL' || err.code === 'ENOSPC') return usageError(msg, err.fix);
    return runError(msg, err.fix ?? vfioFix(msg, job.path));
  }
  // The native side's own fix, where it gave one, is the one that fits.
  if (err.fix) return err.code === 'EINVAL' ? usageError(msg, err.fix) : runError(msg, err.fix);
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      if (job.engine === 'pt' || job.engine === 'pt-poll' || job.engine === 'ioctl') {
        return runError(
          `${msg}`,
          `NVMe passthrough on ${job.path} needs root, or access to the node: sudo chmod 0666 ${job.path} (it is 0600 by default; before Linux 6.2 passthrough needs root whatever the mode)`,
        );
      }
      return runError(msg, `run as root, or grant access: sudo chmod o+rw ${job.path}`);
    case 'ENOENT':
      return usageError(msg, 'check the path');
    case 'EINVAL':
      if (/O_DIRECT/.test(msg)) return usageError(msg, 'the filesystem does not support O_DIRECT: add --buffered, or use another directory');
      if (/SQE128/.test(msg)) return runError(msg, 'io_uring passthrough needs Linux 5.19 or later with 128-byte SQEs');
      if (/IOPOLL/.test(msg)) return runError(msg, 'polled I/O needs O_DIRECT on a device with poll queues');
      return runError(msg, 'check the options for this engine');
    case 'ENOSYS':
      return runError(`io_uring is not available: ${msg}`, 'use a kernel with io_uring, or the psync/aio engines');
    case 'ENOMEM':
      return runError(msg, 'lower --qd or --bs, or raise the memlock limit (ulimit -l) for fixed buffers');
    case 'EBUSY':
      return runError(msg, 'something holds the device exclusively: stop it, or pick another target');
    default:
      return runError(msg, 'see nvmebench doctor for what this system supports');
  }
}

/** Advice for a run that stopped on an I/O error. */
export function explainIoError(message: string, job: NativeJob): string {
  if (/Permission denied|errno 13/.test(message) && (job.engine === 'pt' || job.engine === 'pt-poll' || job.engine === 'ioctl')) {
    return `${message}: before Linux 6.2, NVMe passthrough I/O needs CAP_SYS_ADMIN whatever the node's mode: run as root`;
  }
  if (/Operation not supported|errno 95/.test(message) && (job.engine === 'uring-poll' || job.engine === 'pt-poll')) {
    return `${message}: polled I/O needs O_DIRECT on a device with poll queues`;
  }
  if (/Invalid argument|errno 22/.test(message) && job.direct) {
    return `${message}: O_DIRECT needs buffers and offsets aligned to the device's logical block size`;
  }
  return message;
}

let cachedEnv: EnvironmentInfo | undefined;

export function environment(): EnvironmentInfo {
  if (!cachedEnv) {
    cachedEnv = {
      timestamp: new Date().toISOString(),
      // NVMEBENCH_HOSTNAME: the name a fleet knows the host by (an Ansible inventory name), when os.hostname() is not it.
      hostname: process.env.NVMEBENCH_HOSTNAME?.trim() || os.hostname(),
      kernel: os.release(),
      nvmebenchVersion: VERSION,
      cpuModel: os.cpus()[0]?.model ?? '',
    };
  }
  return { ...cachedEnv, timestamp: new Date().toISOString() };
}

/** nop's record names no target, whether or not the run had one for its other engines. */
const NO_TARGET: TargetInfo = { path: '', kind: 'none', sizeBytes: 0, logicalBlockSize: 0, model: '', serial: '', firmware: '', emulated: false };

export function targetInfo(target: Target, node: string): TargetInfo {
  return {
    path: node,
    kind: target.kind,
    sizeBytes: target.sizeBytes,
    logicalBlockSize: target.logicalBlockSize,
    model: target.model,
    serial: target.serial,
    firmware: target.firmware,
    emulated: target.emulated,
  };
}

/** The engines whose reap calls poll (and SQPOLL rings): one that finds nothing is a wasted poll. */
function polled(engine: RunRecord['engine'], sqpoll: boolean): boolean {
  return engineSpec(engine).polled || sqpoll;
}

/** The clock the native run used; a fallback TypeScript decided (CPU flags) or native did (calibration). */
function clockInfo(result: NativeRunResult, planFallback: string | undefined): ClockInfo {
  if (result.clockSource === 'tsc') return { source: 'tsc', tscHz: result.tscHz };
  const fallback = planFallback ?? result.clockFallback;
  return fallback ? { source: 'monotonic', fallback } : { source: 'monotonic' };
}

export function toRecord(prep: PreparedRun, cell: Cell, job: NativeJob, result: NativeRunResult, repeat: number, runId: string): RunRecord {
  const ios = result.workers.reduce((sum, w) => sum + w.ios, 0);
  const bytes = result.workers.reduce((sum, w) => sum + w.bytes, 0);
  const elapsedUs = Math.max(1, ...result.workers.map((w) => w.elapsedUs));
  const userUs = result.workers.reduce((sum, w) => sum + w.userUs, 0);
  const sysUs = result.workers.reduce((sum, w) => sum + w.sysUs, 0);
  const submitCalls = result.workers.reduce((sum, w) => sum + w.submitCalls, 0);
  const reapCalls = result.workers.reduce((sum, w) => sum + w.reapCalls, 0);
  const submitted = result.workers.reduce((sum, w) => sum + w.submitted, 0);
  const reaped = result.workers.reduce((sum, w) => sum + w.reaped, 0);
  const status: RunRecord['status'] = result.stopped === 'error' ? 'failed' : result.stopped === 'interrupted' ? 'interrupted' : 'ok';
  const { system, ...perIo } = systemFigures(result, job, ios);
  const errorMessage = result.errorMessage ? (result.errorFix ? `${result.errorMessage}: ${result.errorFix}` : explainIoError(result.errorMessage, job)) : '';
  return {
    schemaVersion: SCHEMA_VERSION,
    runId,
    repeat,
    workload: prep.plan.workload,
    engine: cell.engine,
    blockSize: cell.blockSize,
    ioDepth: job.ioDepth,
    threads: job.threads,
    readPercent: job.readPercent,
    runtimeS: elapsedUs / 1e6,
    options: {
      batchSubmit: job.batchSubmit,
      batchComplete: job.batchComplete,
      fixedBufs: job.fixedBufs,
      regFiles: job.regFiles,
      sqpoll: job.sqpoll,
      direct: job.direct,
      verify: job.verify,
      cpus: job.cpus,
      offset: job.offset,
      size: job.size,
      latency: prep.plan.latency,
      clock: prep.plan.clock,
    },
    clock: clockInfo(result, prep.plan.clockFallback),
    ...(result.ringFlags ? { ringFlags: result.ringFlags.split(',') } : {}),
    target: needsTarget(cell.engine) ? targetInfo(prep.target, cell.node) : { ...NO_TARGET },
    env: prep.plan.fleetRunId ? { ...environment(), fleetRunId: prep.plan.fleetRunId } : environment(),
    status,
    errorMessage,
    ios,
    iops: (ios / elapsedUs) * 1e6,
    bandwidthBps: (bytes / elapsedUs) * 1e6,
    latency: latencySummary({
      counts: result.histogram,
      count: result.latencyCount,
      sumNs: result.latencySumNs,
      minNs: result.latencyMinNs,
      maxNs: result.latencyMaxNs,
    }),
    cpuUserPct: (userUs / elapsedUs) * 100,
    cpuSysPct: (sysUs / elapsedUs) * 100,
    cpuNsPerIo: ios ? ((userUs + sysUs) * 1000) / ios : 0,
    ...perIo,
    iosPerSubmitCall: submitCalls ? submitted / submitCalls : 0,
    iosPerReapCall: reapCalls ? reaped / reapCalls : 0,
    errors: result.errors,
    verifiedBlocks: result.verifiedBlocks,
    ...(prep.plan.command ? { command: commandRecord(prep.plan.command, cell.engine, result) } : {}),
    ...(job.metaSize ? { metadata: metadataRecord(job) } : {}),
    ...(polled(cell.engine, job.sqpoll) ? { emptyPollsPerIo: ios ? result.workers.reduce((s, w) => s + w.emptyReaps, 0) / ios : 0 } : {}),
    ...(job.explain ? { explain: explainResult(result, ios) } : {}),
    histogram: sparseBuckets(result.histogram),
    ...(system ? { system } : {}),
    ...(job.rateIops && result.rate ? { rate: rateRecord(job, result.rate) } : {}),
  };
}

/** --rate-iops: the rate asked of all this run's workers, and the latency from the due time. */
function rateRecord(job: NativeJob, rate: NativeRateResult): RateRecord {
  return {
    arrival: job.ratePoisson ? 'poisson' : 'uniform',
    offeredIops: (job.rateIops ?? 0) * job.threads,
    lateIos: rate.late,
    maxLagUs: rate.maxLagNs / 1000,
    schedLatency: latencySummary({ counts: rate.histogram, count: rate.latencyCount, sumNs: rate.latencySumNs, minNs: rate.latencyMinNs, maxNs: rate.latencyMaxNs }),
    schedHistogram: sparseBuckets(rate.histogram),
  };
}
