// Flexible Data Placement on a target: what the controller reports
// (nvmeFdpInfo through a kernel node, vfioFdpInfo for a controller on
// vfio-pci), the checks --fdp needs before anything is written, and the
// write amplification between two readings of the FDP statistics log.
import { runError, usageError } from '../errors.js';
import type { FdpRecord, FdpScheme } from '../model.js';
import { native, type NvmeFdpInfo } from '../native/addon.js';
import { interruptibleVfio } from './pci.js';
import type { Target } from './target.js';

/**
 * Where to read FDP from: the PCI address for vfio (the controller is on
 * vfio-pci: brought up on a pool thread, Ctrl-C cutting it short), else the
 * namespace's node.
 */
export async function readFdpInfo(target: Target, node: string, vfio: boolean): Promise<NvmeFdpInfo> {
  const nsid = target.nvme?.nsid ?? 1;
  if (vfio) return interruptibleVfio(node, (abort) => native().vfioFdpInfo(node, nsid, abort), 'reading the FDP state of');
  return native().nvmeFdpInfo(node, nsid);
}

/** A device whose endurance group has FDP enabled, with its statistics log readable. */
export function fdpActive(info: NvmeFdpInfo | undefined): boolean {
  return !!info && info.fdps && info.enabled === true && !!info.stats;
}

function deviceName(target: Target): string {
  return target.nvme?.name ?? target.given;
}

/**
 * --fdp against what the controller says: FDPS in CTRATT, FDP enabled on the
 * endurance group, the configuration in use, and every --plids index within
 * the namespace's placement handles. Returns the placement identifiers the
 * writes carry (the namespace's own, from Reclaim Unit Handle Status; over
 * vfio the handle index itself, reclaim group 0).
 */
export function resolvePlacementIds(plids: number[] | undefined, target: Target, info: NvmeFdpInfo): number[] {
  const name = deviceName(target);
  if (!info.fdps) {
    throw usageError(
      `--fdp: ${name} does not support Flexible Data Placement (FDPS, bit 19 of CTRATT in Identify Controller, is 0; CTRATT is 0x${info.ctratt.toString(16)})`,
      'drop --fdp, or run on a device with FDP (nvmebench lab --fdp emulates one)',
    );
  }
  if (info.enabled === null || info.enabled === undefined) {
    throw runError(`--fdp: cannot read the FDP feature of ${name}: ${info.featureError ?? 'no answer'}`, 'check the device with nvmebench doctor');
  }
  if (!info.enabled) {
    throw usageError(
      `--fdp: FDP is disabled on endurance group ${info.endgid} of ${name} (Get Features, Flexible Data Placement (1Dh): FDPE is 0)`,
      'enable it with Set Features 1Dh, FDPE 1 (the endurance group\'s namespaces must be deleted first), or drop --fdp',
    );
  }
  const cfg = info.config;
  if (!cfg) throw runError(`--fdp: cannot read the FDP configurations log of ${name}: ${info.configError ?? 'no answer'}`, 'check the device with nvmebench doctor');
  const pids = info.ruhs?.pids;
  const handles = pids ? pids.length : cfg.nruh;
  const wanted = plids ?? Array.from({ length: Math.min(handles, 128) }, (_, i) => i);
  const where = pids
    ? `namespace ${info.nsid} has ${handles} placement handle${handles === 1 ? '' : 's'} (Reclaim Unit Handle Status), of the ${cfg.nruh} reclaim unit handles of FDP configuration ${cfg.index} (FDP configurations log, NRUH)`
    : `FDP configuration ${cfg.index} has ${cfg.nruh} reclaim unit handle${cfg.nruh === 1 ? '' : 's'} (FDP configurations log, NRUH)`;
  const beyond = wanted.find((i) => i >= handles);
  if (beyond !== undefined) {
    throw usageError(`--plids ${beyond}: ${where}, so placement handle indexes run from 0 to ${handles - 1}`, handles > 0 ? `give --plids within 0-${handles - 1}` : 'this namespace has no placement handles: drop --fdp');
  }
  return wanted.map((i) => (pids ? pids[i] : i));
}

/** The statistics log's counters at one moment. */
export interface FdpSnapshot {
  hostBytes: number;
  mediaBytes: number;
}

export function fdpSnapshot(info: NvmeFdpInfo | undefined): FdpSnapshot | undefined {
  return info?.stats ? { hostBytes: info.stats.hostBytes, mediaBytes: info.stats.mediaBytes } : undefined;
}

/** What the run wrote, host and media, and their ratio (NaN when the host wrote nothing). */
export function fdpDelta(before: FdpSnapshot, after: FdpSnapshot, placement?: { pids: number[]; scheme: FdpScheme }): FdpRecord {
  const host = Math.max(0, after.hostBytes - before.hostBytes);
  const media = Math.max(0, after.mediaBytes - before.mediaBytes);
  return {
    hostBytesWritten: host,
    mediaBytesWritten: media,
    waf: host > 0 ? media / host : NaN,
    ...(placement ? { placementIds: placement.pids, scheme: placement.scheme } : {}),
  };
}

/** What devices and doctor show of a namespace's FDP (JSON: DiscoveredNamespace.fdp). */
export interface FdpSummary {
  /** FDPS in CTRATT. */
  supported: boolean;
  endgid: number;
  /** FDPE of the endurance group; undefined when the feature could not be read. */
  enabled?: boolean;
  /** The configuration in use (FDPCIDX) and what it gives. */
  config?: number;
  reclaimGroups?: number;
  reclaimUnitHandles?: number;
  /** Each handle's type: initially or persistently isolated. */
  handleTypes?: string[];
  reclaimUnitBytes?: number;
  /** The namespace's placement identifiers (Reclaim Unit Handle Status). */
  placementIds?: number[];
  error?: string;
}

export function fdpSummary(info: NvmeFdpInfo): FdpSummary {
  const s: FdpSummary = { supported: info.fdps, endgid: info.endgid };
  if (!info.fdps) return s;
  if (typeof info.enabled === 'boolean') s.enabled = info.enabled;
  const cfg = info.config;
  if (cfg) {
    s.config = cfg.index;
    s.reclaimGroups = cfg.nrg;
    s.reclaimUnitHandles = cfg.nruh;
    s.handleTypes = cfg.ruht.map((t) => (t === 1 ? 'initially isolated' : t === 2 ? 'persistently isolated' : `type ${t}`));
    s.reclaimUnitBytes = cfg.runs;
  }
  if (info.ruhs) s.placementIds = info.ruhs.pids;
  const error = info.featureError ?? info.configError ?? info.ruhsError;
  if (error) s.error = error;
  return s;
}

/** One line: "FDP enabled on endurance group 1: configuration 0, 8 reclaim unit handles (initially isolated), 1 reclaim group, reclaim units of 1 MiB; placement ids 0-7". */
export function describeFdp(s: FdpSummary): string {
  if (!s.supported) return 'FDP not supported (CTRATT.FDPS 0)';
  if (s.enabled === undefined) return `FDP supported; its feature could not be read${s.error ? ` (${s.error})` : ''}`;
  if (!s.enabled) return `FDP supported but disabled on endurance group ${s.endgid}`;
  const parts = [`FDP enabled on endurance group ${s.endgid}`];
  if (s.config !== undefined) {
    const types = [...new Set(s.handleTypes ?? [])].join(', ');
    const mib = (s.reclaimUnitBytes ?? 0) / (1024 * 1024);
    parts.push(`: configuration ${s.config}, ${s.reclaimUnitHandles} reclaim unit handle${s.reclaimUnitHandles === 1 ? '' : 's'}${types ? ` (${types})` : ''}, ${s.reclaimGroups} reclaim group${s.reclaimGroups === 1 ? '' : 's'}, reclaim units of ${Number.isInteger(mib) ? `${mib} MiB` : `${s.reclaimUnitBytes} bytes`}`);
  }
  if (s.placementIds) parts.push(`; the namespace's placement ids: ${s.placementIds.join(', ') || 'none'} (--plids 0-${Math.max(0, s.placementIds.length - 1)})`);
  return parts.join('');
}
