// FDP around a run: before anything is written, --fdp checked against the
// device and its placement identifiers resolved; around every write cell, the
// FDP statistics log read before and after, so that each record carries what
// the host and the media wrote (RunRecord.fdp, CSV waf).
import { BenchError, runError, usageError } from '../errors.js';
import type { EngineName, FdpScheme, NativeJob, RunRecord } from '../model.js';
import { FDP_ENGINES } from '../plan/fdp.js';
import type { NvmeFdpInfo } from '../native/addon.js';
import type { RunPlan } from '../plan/options.js';
import { fdpActive, fdpDelta, fdpSnapshot, readFdpInfo, resolvePlacementIds, type FdpSnapshot } from '../target/fdp.js';
import { probeInterrupted } from '../target/pci.js';
import type { Target } from '../target/target.js';

/** What prepareRun settled about FDP for one target. */
export interface PreparedFdp {
  /** --fdp: the placement identifiers the writes carry, and how they are chosen. */
  placement?: { pids: number[]; scheme: FdpScheme };
  /** The namespace's endurance group has FDP enabled: every write cell records the statistics log. */
  stats: boolean;
}

/** The node FDP is read through for an engine: the PCI address for vfio, the namespace's node otherwise. */
function fdpNode(target: Target, engine: string, node: string): { node: string; vfio: boolean } | undefined {
  if (engine === 'vfio') return { node, vfio: true };
  const n = node && node.startsWith('/dev/') ? node : target.nvme?.charPath ?? target.nvme?.blockPath;
  return n ? { node: n, vfio: false } : undefined;
}

/** --fdp's checks (exit 2 before anything is written), and whether write cells record FDP statistics. */
export async function prepareFdp(plan: RunPlan, target: Target, chosen: Array<{ engine: string; node: string }>, writes: boolean): Promise<PreparedFdp | undefined> {
  if (!plan.fdp && (!writes || !target.nvme)) return undefined;
  const untagged = plan.fdp ? chosen.find((c) => !FDP_ENGINES.includes(c.engine as EngineName)) : undefined;
  if (untagged) {
    throw usageError(`--fdp tags the writes of ${FDP_ENGINES.join(', ')} only, and ${untagged.engine} would run on ${plan.targetPath}`, `add --engine ${FDP_ENGINES.filter((e) => e !== 'vfio').join(',')} (on /dev/ngXnY) or vfio`);
  }
  if (plan.fdp && !target.nvme) {
    throw usageError(`--fdp: ${plan.targetPath} is not an NVMe namespace`, 'give an NVMe namespace (/dev/ngXnY, /dev/nvmeXnY) or a controller on vfio-pci');
  }
  const where = fdpNode(target, chosen[0]?.engine ?? '', chosen[0]?.node ?? '');
  // Over vfio each reading brings the controller up: without --fdp, only where the probe saw FDPS.
  if (!plan.fdp && where?.vfio && !((target.nvme?.commandInfo?.ctrl.ctratt ?? 0) & (1 << 19))) return undefined;
  let info: NvmeFdpInfo | undefined;
  try {
    info = where ? await readFdpInfo(target, where.node, where.vfio) : undefined;
  } catch (err) {
    if (probeInterrupted(err)) throw err;
    if (plan.fdp) throw runError(`--fdp: cannot read the FDP state of ${plan.targetPath}: ${(err as Error).message}`, 'check the device with nvmebench doctor');
    return undefined;
  }
  if (plan.fdp) {
    if (!info) throw usageError(`--fdp: ${plan.targetPath} has no node to read its FDP state through`, 'give the namespace\'s node, /dev/ngXnY');
    const pids = resolvePlacementIds(plan.fdp.plids, target, info);
    return { placement: { pids, scheme: plan.fdp.scheme }, stats: fdpActive(info) };
  }
  return fdpActive(info) ? { stats: true } : undefined;
}

/** The job's FDP fields. */
export function fdpJobFields(fdp: PreparedFdp | undefined): Partial<NativeJob> {
  return fdp?.placement ? { fdp: true, fdpScheme: fdp.placement.scheme, fdpPids: fdp.placement.pids } : {};
}

/**
 * The statistics log now, for a cell about to run; undefined when the cell
 * does not record it, or the reading failed or was interrupted (the caller's
 * own SIGINT handler has seen that Ctrl-C).
 */
export async function fdpBefore(target: Target, fdp: PreparedFdp | undefined, job: NativeJob, writes: boolean): Promise<FdpSnapshot | undefined> {
  if (!fdp?.stats || !writes) return undefined;
  const where = fdpNode(target, job.engine, job.path);
  if (!where) return undefined;
  try {
    return fdpSnapshot(await readFdpInfo(target, where.node, where.vfio));
  } catch {
    return undefined; // the record goes without fdp rather than the run failing
  }
}

/** The record with what the host and the media wrote over the cell, read again now. */
export async function fdpAfter(record: RunRecord, target: Target, fdp: PreparedFdp | undefined, job: NativeJob, before: FdpSnapshot | undefined): Promise<RunRecord> {
  if (!before) return record;
  const where = fdpNode(target, job.engine, job.path);
  let after: FdpSnapshot | undefined;
  try {
    after = where ? fdpSnapshot(await readFdpInfo(target, where.node, where.vfio)) : undefined;
  } catch (err) {
    // Interrupted: the cell ran and its record stands, without fdp; the run's SIGINT handler stops what follows.
    if (err instanceof BenchError && !probeInterrupted(err)) throw err;
    after = undefined;
  }
  return after ? { ...record, fdp: fdpDelta(before, after, fdp?.placement) } : record;
}
