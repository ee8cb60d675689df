// The scheduler: expand a RunPlan over its target into cells, run them one
// after the other (repeats interleaved), and turn each native result into a
// RunRecord. Exports happen after every cell, so a later failure loses nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchError, runError, usageError } from '../errors.js';
import { ENGINES, ioUringDisabled, usableOn, engineSpec } from '../engines/registry.js';
import { latencySummary, sparseBuckets } from '../analysis/histogram.js';
import {
  SCHEMA_VERSION,
  type EngineName,
  type EnvironmentInfo,
  type NativeJob,
  type RunRecord,
  type TargetInfo,
} from '../model.js';
import { native, type NativeError, type NativeRunResult, type RunHandle } from '../native/addon.js';
import { defaultBatch, type RunPlan } from '../plan/options.js';
import { LiveLine } from '../output/live.js';
import { assertWritable, claimDevice, type DeviceClaim } from '../target/safety.js';
import { probeTarget, type Target } from '../target/probe.js';
import { normalizePciAddress, pciDevice } from '../system/pci.js';
import { VERSION } from '../version.js';
import { checkCommand, commandJobFields, commandRecord, commandUsable } from '../engines/commands.js';
import { VfioAutoBind } from '../vfio/binding.js';
import { vfioFix } from '../target/pci.js';

export interface Cell {
  engine: EngineName;
  node: string;
  blockSize: number;
  ioDepth: number;
}

export interface PreparedRun {
  plan: RunPlan;
  target: Target;
  cells: Cell[];
  skipped: Array<{ engine: EngineName; reason: string; fix: string }>;
  region: { offset: number; size: number };
  verifySeed: number;
  /** --vfio-auto-bind: binds the controller for vfio cells; executeRun restores it in a finally. */
  vfioAutoBind?: VfioAutoBind;
  /** A write run's O_EXCL hold on the block device; executeRun releases it in a finally. */
  claim?: DeviceClaim;
}

function defaultEngines(target: Target): EngineName[] {
  if (target.kind === 'pci') return ['vfio'];
  return target.kind === 'nvme-char' ? ['pt'] : ['uring'];
}

/** Resolve engines, region and safety before anything runs. Throws on bad input. */
export function prepareRun(plan: RunPlan, extra: { vfioAutoBind?: boolean } = {}): PreparedRun {
  const writes = plan.readPercent < 100 || plan.command?.writes === true;
  let created = false;
  if (writes && plan.size !== undefined && !fs.existsSync(plan.targetPath) && !isPciAddress(plan.targetPath)) {
    // fio's behaviour: a write job with an explicit size lays the file out.
    const dir = path.dirname(path.resolve(plan.targetPath));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw usageError(`${plan.targetPath} does not exist and neither does its directory`, 'create the directory first');
    }
    if (!plan.targetPath.startsWith('/dev/')) {
      fs.writeFileSync(plan.targetPath, '', { flag: 'wx' });
      created = true;
    }
  }
  if (!writes && plan.size !== undefined && !plan.targetPath.startsWith('/dev/') && !isPciAddress(plan.targetPath) && !fs.existsSync(plan.targetPath)) {
    throw usageError(`${plan.targetPath} does not exist, and a read has nothing to read`, layOutFix(plan.targetPath, plan.offset + plan.size, false));
  }
  let target = probeTarget(plan.targetPath, { nsid: plan.nsid });

  const candidates: EngineName[] = plan.engines === 'all' ? ENGINES.map((e) => e.name) : plan.engines.length ? plan.engines : defaultEngines(target);
  const skipped: PreparedRun['skipped'] = [];
  const chosen: Array<{ engine: EngineName; node: string }> = [];
  for (const engine of candidates) {
    let verdict = usableOn(engine, target, { buffered: plan.buffered, vfioAutoBind: extra.vfioAutoBind });
    if (verdict.usable && plan.command) verdict = commandUsable(plan.command, engine, target, verdict.node);
    if (verdict.usable) {
      chosen.push({ engine, node: verdict.node });
    } else if (plan.engines === 'all') {
      skipped.push({ engine, reason: verdict.reason, fix: verdict.fix });
    } else {
      // An engine that cannot run on this target is a choice to change before
      // anything ran, whether the target is a file or a device: exit 2 for both
      // (doctor --engine fails on the same verdict).
      throw new BenchError('usage', verdict.reason, verdict.fix);
    }
  }
  if (!chosen.length) {
    throw usageError(`no engine can run on ${plan.targetPath}`, skipped.map((s) => `${s.engine}: ${s.reason}`).join('; '));
  }
  const uringDisabled = ioUringDisabled();
  if (uringDisabled && chosen.some((c) => engineSpec(c.engine).ioUring)) {
    const why = uringDisabled === 2 ? 'io_uring is disabled on this system' : 'io_uring is limited to the io_uring_group on this system';
    if (uringDisabled === 2 || process.getuid?.() !== 0) {
      throw runError(`${why} (kernel.io_uring_disabled=${uringDisabled})`, 'sudo sysctl kernel.io_uring_disabled=0');
    }
  }

  // The region: the whole target unless --offset/--size say otherwise.
  const maxBs = Math.max(...plan.blockSizes);
  if (target.kind === 'file' && writes && plan.size !== undefined && plan.offset + plan.size > target.sizeBytes) {
    // Grow the file to the region (never shrink it): sparse, then written.
    fs.truncateSync(target.path, plan.offset + plan.size);
    target = probeTarget(plan.targetPath);
  }
  const size = plan.size ?? target.sizeBytes - plan.offset;
  if (plan.offset >= target.sizeBytes && target.sizeBytes > 0) {
    throw usageError(`--offset ${plan.offset} is past the end of ${plan.targetPath} (${target.sizeBytes} bytes)`, 'give a smaller --offset');
  }
  if (plan.offset + size > target.sizeBytes) {
    throw usageError(
      `the region (offset ${plan.offset} + size ${size}) goes past the end of ${plan.targetPath} (${target.sizeBytes} bytes)`,
      target.kind === 'file' && !writes ? layOutFix(plan.targetPath, plan.offset + size) : 'give a smaller --size or --offset',
    );
  }
  if (size < maxBs) {
    throw usageError(`the region (${size} bytes) is smaller than one block of ${maxBs}`, target.kind === 'file' && target.sizeBytes === 0 ? (writes ? 'the file is empty: give --size, e.g. --size 1g, and the write lays it out' : `the file is empty: ${layOutFix(plan.targetPath, plan.size ?? 1 << 30, false)}`) : 'give a larger --size or a smaller --bs');
  }
  const align = Math.max(512, target.logicalBlockSize);
  if (plan.offset % align !== 0) {
    throw usageError(`--offset ${plan.offset} is not a multiple of the ${align}-byte logical block size`, `round it to a multiple of ${align}`);
  }
  for (const bs of plan.blockSizes) {
    if (target.kind !== 'file' && bs % target.logicalBlockSize !== 0) {
      throw usageError(`block size ${bs} is not a multiple of the ${target.logicalBlockSize}-byte logical block size of ${plan.targetPath}`, `use --bs ${target.logicalBlockSize} or a multiple of it`);
    }
    if (target.nvme?.maxTransferBytes && bs > target.nvme.maxTransferBytes && chosen.some((c) => engineSpec(c.engine).opens === 'nvme-char' || c.engine === 'vfio')) {
      throw usageError(`block size ${bs} is over the controller's largest transfer (MDTS) of ${target.nvme.maxTransferBytes} bytes`, `use --bs ${target.nvme.maxTransferBytes} or less`);
    }
  }
  if (target.nvme && target.nvme.metaSize > 0 && chosen.some((c) => engineSpec(c.engine).opens === 'nvme-char')) {
    throw usageError(
      `namespace ${target.nvme.name} is formatted with ${target.nvme.metaSize} bytes of ${target.nvme.extendedMeta ? 'extended' : 'separate'} metadata per LBA, which the passthrough engines do not drive`,
      'use the block engines (uring, uring-poll), or format the namespace without metadata',
    );
  }
  if (target.nvme && target.nvme.metaSize > 0 && chosen.some((c) => c.engine === 'vfio')) {
    throw usageError(
      `namespace ${target.nvme.nsid} is formatted with ${target.nvme.metaSize} bytes of ${target.nvme.extendedMeta ? 'extended' : 'separate'} metadata per LBA, which the vfio engine does not drive`,
      'format the namespace without metadata, or use the block engines',
    );
  }
  if (plan.command) checkCommand(plan.command, target, { blockSizes: plan.blockSizes, threads: plan.threads, engines: chosen.map((c) => c.engine), region: { offset: plan.offset, size } });
  if (writes) {
    try {
      assertWritable(target, plan.forceDestroy);
    } catch (err) {
      if (created) fs.rmSync(plan.targetPath, { force: true });
      throw err;
    }
  }
  const cells: Cell[] = [];
  for (const { engine, node } of chosen) {
    // Synchronous engines keep one I/O in flight whatever --qd says: run them once per block size.
    const depths = engineSpec(engine).synchronous ? [1] : plan.ioDepths;
    for (const blockSize of plan.blockSizes) {
      for (const ioDepth of depths) cells.push({ engine, node, blockSize, ioDepth });
    }
  }
  const verifySeed = plan.verifySeed ?? (writes ? crypto.randomInt(1, 0xffffffff) : 0);
  const vfioCell = cells.find((c) => c.engine === 'vfio');
  const vfioAutoBind = extra.vfioAutoBind && vfioCell && pciDriverOf(vfioCell.node) !== 'vfio-pci' ? new VfioAutoBind(vfioCell.node, plan.forceDestroy) : undefined;
  // Refuse now (not root, no IOMMU, a namespace mounted) rather than after the other engines ran.
  vfioAutoBind?.precheck();
  // Last, so nothing above can throw while the device is held.
  const claim = writes ? claimDevice(target, plan.forceDestroy) : undefined;
  return { plan, target, cells, skipped, region: { offset: plan.offset, size }, verifySeed, vfioAutoBind, claim };
}

/** A PCI address names a controller (vfio), never a file to lay out. */
function isPciAddress(targetPath: string): boolean {
  return !targetPath.includes('/') && normalizePciAddress(targetPath) !== undefined;
}

function pciDriverOf(address: string): string | undefined {
  return pciDevice(address).driver;
}

export function buildJob(prep: PreparedRun, cell: Cell): NativeJob {
  const { plan, target } = prep;
  const spec = engineSpec(cell.engine);
  const depth = spec.synchronous ? 1 : cell.ioDepth;
  const batch = defaultBatch(depth);
  // Keep the region a whole number of blocks.
  const size = Math.floor(prep.region.size / cell.blockSize) * cell.blockSize;
  return {
    engine: cell.engine,
    path: cell.node,
    readPercent: plan.readPercent,
    random: plan.random,
    blockSize: cell.blockSize,
    ioDepth: depth,
    threads: plan.threads,
    cpus: plan.cpus,
    runtimeMs: plan.runtimeMs,
    rampMs: plan.rampMs,
    ioLimit: plan.ioLimit,
    offset: prep.region.offset,
    size,
    batchSubmit: Math.min(plan.batchSubmit ?? batch, depth),
    batchComplete: Math.min(plan.batchComplete ?? batch, depth),
    fixedBufs: spec.ioUring && plan.fixedBufs && !plan.vectored,
    regFiles: spec.ioUring && plan.regFiles,
    sqpoll: spec.ioUring && plan.sqpoll,
    direct: !(plan.buffered && target.kind === 'file'),
    verify: plan.verify,
    verifySeed: prep.verifySeed,
    nsid: spec.opens === 'nvme-char' || spec.opens === 'vfio' ? plan.nsid ?? target.nvme?.nsid ?? 1 : 0,
    lbaSize: spec.opens === 'nvme-char' || spec.opens === 'vfio' ? target.nvme?.lbaSize ?? target.logicalBlockSize : 0,
    vectored: plan.vectored,
    maxErrors: plan.maxErrors,
    ...(plan.command ? commandJobFields(plan.command) : {}),
  };
}

/** Words for a setup failure, with the fix, from the errno the engine saw. */
export function explainStartError(err: NativeError, job: NativeJob): BenchError {
  const msg = err.message;
  if (job.engine === 'vfio') {
    // EINVAL/ENOSPC: the job does not fit the controller (--qd, --bs, --threads); the message says how.
    if (err.code === 'EINVAL' || err.code === 'ENOSPC') return usageError(msg);
    return runError(msg, vfioFix(msg, job.path));
  }
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
      hostname: os.hostname(),
      kernel: os.release(),
      nvmebenchVersion: VERSION,
      cpuModel: os.cpus()[0]?.model ?? '',
    };
  }
  return { ...cachedEnv, timestamp: new Date().toISOString() };
}

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
  const errorMessage = result.errorMessage ? explainIoError(result.errorMessage, job) : '';
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
    },
    target: targetInfo(prep.target, cell.node),
    env: environment(),
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
    iosPerSubmitCall: submitCalls ? submitted / submitCalls : 0,
    iosPerReapCall: reapCalls ? reaped / reapCalls : 0,
    errors: result.errors,
    verifiedBlocks: result.verifiedBlocks,
    ...(prep.plan.command ? { command: commandRecord(prep.plan.command, cell.engine, result) } : {}),
    histogram: sparseBuckets(result.histogram),
  };
}

/**
 * How to give a read workload a file to read: a read never lays a file out
 * (it would read back what it wrote), so say how to, as fio's users do.
 */
function layOutFix(file: string, bytes: number, smaller = true): string {
  const size = bytes % (1 << 30) === 0 ? `${bytes / (1 << 30)}G` : bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)}M` : String(bytes);
  return `lay it out first with a write (nvmebench write --size ${size.toLowerCase()} ${file}) or as a sparse file (truncate -s ${size} ${file})${smaller ? ', or give a smaller --size' : ''}`;
}

export interface RunHooks {
  /** Called after each cell, before the next starts. */
  onRecord(record: RunRecord): void;
  /** Where the live line goes; undefined for none. */
  live?: LiveLine;
  /** Set by the caller's SIGINT handler. */
  interrupted(): boolean;
  /** Lets the caller's SIGINT handler stop the run in flight. */
  setCurrent(stop: (() => void) | undefined): void;
}

/** Run one cell to completion. */
export async function runCell(job: NativeJob, hooks: RunHooks, label: string): Promise<NativeRunResult> {
  const engine = native();
  let handle: RunHandle;
  try {
    handle = engine.start(job);
  } catch (err) {
    throw explainStartError(err as NativeError, job);
  }
  hooks.setCurrent(() => engine.stop(handle));
  hooks.live?.begin(label);
  const timer = setInterval(() => hooks.live?.tick(engine.stats(handle)), 1000);
  try {
    return await engine.wait(handle);
  } finally {
    clearInterval(timer);
    hooks.setCurrent(undefined);
    hooks.live?.end();
  }
}

/** Every cell, repeats interleaved (A, B, C, A, B, C…) so drift hits them alike. */
export async function runAll(prep: PreparedRun, hooks: RunHooks): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(3).toString('hex')}`;
  for (let repeat = 0; repeat < prep.plan.repeat; repeat++) {
    for (const cell of prep.cells) {
      if (hooks.interrupted()) return records;
      // --vfio-auto-bind: the controller on vfio-pci for vfio cells, on its own driver for the others.
      if (prep.vfioAutoBind) {
        await prep.vfioAutoBind.ensure(cell.engine === 'vfio', cell.engine === 'vfio' ? undefined : cell.node);
        if (hooks.interrupted()) return records;
      }
      const job = buildJob(prep, cell);
      const label = `${cell.engine} bs=${cell.blockSize} qd=${job.ioDepth}${prep.plan.repeat > 1 ? ` #${repeat + 1}` : ''}`;
      const result = await runCell(job, hooks, label);
      const record = toRecord(prep, cell, job, result, repeat, runId);
      records.push(record);
      hooks.onRecord(record);
    }
  }
  return records;
}
