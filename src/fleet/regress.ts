// regress --fleet: two fleet files (nvmebench merge's output, many hosts each)
// compared per device model and configuration, hosts aggregated: every host's
// runs of a configuration are samples of it, so a firmware rollout is gated on
// the fleet, not on one host. What differs from host to host without changing
// the configuration (the target's path, the pinned CPUs, the region a run over
// a whole device covers, a multi-target run's per-target rows) is left out of
// the match, and so is the firmware: the rollout is what is being compared.
// Each row then names the firmware on either side.
import type { RunRecord } from '../model.js';
import { cellKey } from '../analysis/stats.js';

/** A record as the fleet comparison sees it; per-target rows of multi-target runs are dropped (their aggregate counts). */
export function fleetRecords(records: RunRecord[]): RunRecord[] {
  return records
    .filter((r) => r.targetIndex === undefined)
    .map((r) => ({ ...r, options: { ...r.options, cpus: [], size: 0 }, target: { ...r.target, path: '', firmware: '', serial: '', sizeBytes: 0 } }));
}

export interface FleetSide {
  hosts: Set<string>;
  /** Per configuration key (of fleetRecords): the firmware versions seen. */
  firmware: Map<string, Set<string>>;
}

/** Hosts, and the firmware per configuration, of one side (original records, keyed as fleetRecords keys them). */
export function fleetSide(records: RunRecord[]): FleetSide {
  const side: FleetSide = { hosts: new Set(), firmware: new Map() };
  const normal = fleetRecords(records);
  const kept = records.filter((r) => r.targetIndex === undefined);
  normal.forEach((r, i) => {
    side.hosts.add(kept[i].env.hostname);
    const key = cellKey(r);
    let set = side.firmware.get(key);
    if (!set) side.firmware.set(key, (set = new Set()));
    set.add(kept[i].target.firmware || '?');
  });
  return side;
}

/** "fw 1.0 → 2.0", or "fw 1.0" when both sides ran the same. */
export function firmwareLabel(key: string, base: FleetSide, cur: FleetSide): string {
  const b = [...(base.firmware.get(key) ?? [])].sort().join('/');
  const c = [...(cur.firmware.get(key) ?? [])].sort().join('/');
  if (!b || !c) return `fw ${b || c}`;
  return b === c ? `fw ${b}` : `fw ${b} → ${c}`;
}

/** Whether records came from a fleet run (deploy/ansible/ stamps every record with its fleet run id). */
export function isFleetFile(records: RunRecord[]): boolean {
  return records.length > 0 && records.every((r) => !!r.env.fleetRunId);
}
