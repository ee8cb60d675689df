// Before anything runs: probe the target, choose the engines that can run on
// it, check the region and the block sizes against it, expand the plan into
// cells, and take what a write run must hold. Every refusal is a BenchError
// here, so nothing has run when one is thrown.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BenchError, runError, usageError } from '../errors.js';
import { checkMetadataCommand, checkPiOptions, metadataRefusal } from '../engines/pi.js';
import { PATH_ENGINES, needsTarget, usableOn, engineSpec } from '../engines/registry.js';
import { ioUringDisabled, ioUringStopped } from '../system/kernel.js';
import type { EngineName } from '../model.js';
import { checkVectored, type RunPlan } from '../plan/options.js';
import { checkRunResources } from './preflight.js';
import { assertWritable, claimDevice, type DeviceClaim } from '../target/safety.js';
import { probeTarget } from '../target/probe.js';
import type { Target } from '../target/target.js';
import { pciAddressTarget, pciDevice } from '../system/pci.js';
import { commandUsable } from '../engines/commands.js';
import { checkCommand } from '../engines/command-support.js';
import { checkExplainAccess } from '../explain/access.js';
import { VfioAutoBind } from '../vfio/binding.js';
import { prepareFdp, type PreparedFdp } from './fdp.js';

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
  /** The CPUs this target's workers are pinned to (src/run/targets.ts); absent: the plan's --cpus. */
  cpus?: number[];
  /** Several targets: this one's place among them (0-based); absent for one target. */
  targetIndex?: number;
  /** Jobs side by side (src/run/jobs.ts): this run's job name; absent otherwise. */
  jobName?: string;
  /** --fdp's placement identifiers, and whether write cells record the FDP statistics log (src/run/fdp.ts). */
  fdp?: PreparedFdp;
}

function defaultEngines(target: Target): EngineName[] {
  if (target.kind === 'pci') return ['vfio'];
  return target.kind === 'nvme-char' ? ['pt'] : ['uring'];
}

type ChosenEngine = { engine: EngineName; node: string };

/** The region a nop run walks when --size does not say: offsets only, nothing is read or written. */
const NOP_REGION = 1 << 30;

/** No target: what nop, which opens nothing, runs against. */
function noTarget(): Target {
  return { given: '', path: '', kind: 'none', sizeBytes: 0, logicalBlockSize: 512, model: '', serial: '', firmware: '', emulated: false };
}

/**
 * --engine nop alone: no target is probed, opened or written, whether one was
 * given or not (nop ignores it).
 */
function prepareNop(plan: RunPlan): PreparedRun {
  const cells = expandCells(plan, [{ engine: 'nop', node: '' }]);
  const size = plan.size ?? NOP_REGION;
  if (size < Math.max(...plan.blockSizes)) throw usageError(`the region (${size} bytes) is smaller than one block of ${Math.max(...plan.blockSizes)}`, 'give a larger --size or a smaller --bs');
  checkIoUring(cells);
  checkRunResources(plan, cells, size);
  return { plan, target: noTarget(), cells, skipped: [], region: { offset: plan.offset, size }, verifySeed: 0 };
}

/** Resolve engines, region and safety before anything runs. Throws on bad input. */
export async function prepareRun(plan: RunPlan, extra: { vfioAutoBind?: boolean; noClaim?: boolean } = {}): Promise<PreparedRun> {
  if (plan.explain) checkExplainAccess();
  if (plan.engines !== 'all' && plan.engines.length && !plan.engines.some(needsTarget)) return prepareNop(plan);
  // --precondition writes the region before any workload: the write guard applies as to any write.
  const writes = plan.readPercent < 100 || plan.command?.writes === true || plan.series.precondition !== undefined;
  const created = createWriteTarget(plan, writes);
  let target = await probeTarget(plan.targetPath, { nsid: plan.nsid });
  const { chosen, skipped } = chooseEngines(plan, target, extra.vfioAutoBind);
  if (target.kind === 'file' && writes && plan.size !== undefined && plan.offset + plan.size > target.sizeBytes) {
    // Grow the file to the region (never shrink it): sparse, then written.
    fs.truncateSync(target.path, plan.offset + plan.size);
    target = await probeTarget(plan.targetPath);
  }
  const size = checkRegion(plan, target, writes);
  checkBlockSizes(plan, target, chosen);
  if (plan.command) await checkCommand(plan.command, target, { blockSizes: plan.blockSizes, threads: plan.threads, engines: chosen.map((c) => c.engine), region: { offset: plan.offset, size } });
  let fdp: PreparedFdp | undefined;
  try {
    fdp = await prepareFdp(plan, target, chosen, writes);
  } catch (err) {
    if (created) fs.rmSync(plan.targetPath, { force: true });
    throw err;
  }
  if (writes) {
    try {
      assertWritable(target, plan.forceDestroy);
    } catch (err) {
      if (created) fs.rmSync(plan.targetPath, { force: true });
      throw err;
    }
  }
  const cells = expandCells(plan, chosen);
  try {
    checkRunResources(plan, cells, size);
  } catch (err) {
    if (created) fs.rmSync(plan.targetPath, { force: true });
    throw err;
  }
  const verifySeed = plan.verifySeed ?? (writes ? crypto.randomInt(1, 0xffffffff) : 0);
  const vfioCell = cells.find((c) => c.engine === 'vfio');
  const vfioAutoBind = extra.vfioAutoBind && vfioCell && pciDriverOf(vfioCell.node) !== 'vfio-pci' ? new VfioAutoBind(vfioCell.node, plan.forceDestroy) : undefined;
  // Refuse now (not root, no IOMMU, a namespace mounted) rather than after the other engines ran.
  vfioAutoBind?.precheck();
  // Last, so nothing above can throw while the device is held.
  // noClaim: jobs side by side claim each device once, for all their writers (src/run/jobs.ts).
  const claim = writes && !extra.noClaim ? claimDevice(target, plan.forceDestroy) : undefined;
  return { plan, target, cells, skipped, region: { offset: plan.offset, size }, verifySeed, vfioAutoBind, claim, ...(fdp ? { fdp } : {}) };
}

/**
 * fio's behaviour: a write job with an explicit size lays a missing file out
 * (true when this created it); a read of a missing file is refused.
 */
function createWriteTarget(plan: RunPlan, writes: boolean): boolean {
  let created = false;
  if (writes && plan.size !== undefined && !fs.existsSync(plan.targetPath) && !isPciAddress(plan.targetPath)) {
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
  return created;
}

/** The engines asked for that can run on the target; with --engine all, the others are skipped with a reason. */
function chooseEngines(plan: RunPlan, target: Target, vfioAutoBind: boolean | undefined): { chosen: ChosenEngine[]; skipped: PreparedRun['skipped'] } {
  const candidates: EngineName[] = plan.engines === 'all' ? PATH_ENGINES.map((e) => e.name) : plan.engines.length ? plan.engines : defaultEngines(target);
  if (plan.vectored) checkVectored(candidates);
  const skipped: PreparedRun['skipped'] = [];
  const chosen: ChosenEngine[] = [];
  for (const engine of candidates) {
    let verdict = usableOn(engine, target, { buffered: plan.buffered, vfioAutoBind });
    if (verdict.usable && plan.command) verdict = commandUsable(plan.command, engine, target, verdict.node);
    const metadata = verdict.usable ? metadataRefusal(engine, target.nvme) : undefined;
    if (metadata) verdict = { usable: false, ...metadata, severity: 'capability' };
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
  checkIoUring(chosen);
  return { chosen, skipped };
}

function checkIoUring(chosen: Array<{ engine: EngineName }>): void {
  const uringDisabled = ioUringDisabled();
  if (chosen.some((c) => engineSpec(c.engine).ioUring) && ioUringStopped(uringDisabled, process.getuid?.() === 0)) {
    const why = uringDisabled === 2 ? 'io_uring is disabled on this system' : 'io_uring is limited to the io_uring_group on this system';
    throw runError(`${why} (kernel.io_uring_disabled=${uringDisabled})`, 'sudo sysctl kernel.io_uring_disabled=0');
  }
}

/** The region's size (the whole target from --offset unless --size says otherwise), checked against the target. */
function checkRegion(plan: RunPlan, target: Target, writes: boolean): number {
  const maxBs = Math.max(...plan.blockSizes);
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
  return size;
}

/** Every block size against the logical block size and the controller's MDTS; the metadata format against the engines. */
function checkBlockSizes(plan: RunPlan, target: Target, chosen: ChosenEngine[]): void {
  for (const bs of plan.blockSizes) {
    if (target.kind !== 'file' && bs % target.logicalBlockSize !== 0) {
      throw usageError(`block size ${bs} is not a multiple of the ${target.logicalBlockSize}-byte logical block size of ${plan.targetPath}`, `use --bs ${target.logicalBlockSize} or a multiple of it`);
    }
    if (target.nvme?.maxTransferBytes && bs > target.nvme.maxTransferBytes && chosen.some((c) => engineSpec(c.engine).opens === 'nvme-char' || c.engine === 'vfio')) {
      throw usageError(`block size ${bs} is over the controller's largest transfer (MDTS) of ${target.nvme.maxTransferBytes} bytes`, `use --bs ${target.nvme.maxTransferBytes} or less`);
    }
  }
  checkPiOptions(plan.pi, target.nvme, plan.targetPath, chosen.map((c) => c.engine));
  checkMetadataCommand(plan.command?.name, target.nvme, plan.targetPath);
}

/** One cell per engine, block size and queue depth, in that order. */
function expandCells(plan: RunPlan, chosen: ChosenEngine[]): Cell[] {
  const cells: Cell[] = [];
  for (const { engine, node } of chosen) {
    // Synchronous engines keep one I/O in flight whatever --qd says: run them once per block size.
    const depths = engineSpec(engine).synchronous ? [1] : plan.ioDepths;
    for (const blockSize of plan.blockSizes) {
      for (const ioDepth of depths) cells.push({ engine, node, blockSize, ioDepth });
    }
  }
  return cells;
}

/** A PCI address names a controller (vfio), never a file to lay out. */
function isPciAddress(targetPath: string): boolean {
  return pciAddressTarget(targetPath) !== undefined;
}

function pciDriverOf(address: string): string | undefined {
  return pciDevice(address).driver;
}

/**
 * How to give a read workload a file to read: a read never lays a file out
 * (it would read back what it wrote), so say how to, as fio's users do.
 */
function layOutFix(file: string, bytes: number, smaller = true): string {
  const size = bytes % (1 << 30) === 0 ? `${bytes / (1 << 30)}G` : bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)}M` : String(bytes);
  return `lay it out first with a write (nvmebench write --size ${size.toLowerCase()} ${file}) or as a sparse file (truncate -s ${size} ${file})${smaller ? ', or give a smaller --size' : ''}`;
}
