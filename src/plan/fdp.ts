// --fdp, --plids and --fdp-scheme as a user gives them, checked before any
// device is looked at. What the device says (FDPS, the feature, the
// configuration's handles) is checked in src/target/fdp.ts.
import { usageError } from '../errors.js';
import { FDP_SCHEMES, type EngineName, type FdpScheme } from '../model.js';
import { parseList } from './units.js';

/** The engines whose writes carry a placement identifier: those that build NVMe commands. */
export const FDP_ENGINES: readonly EngineName[] = ['pt', 'pt-poll', 'ioctl', 'vfio'];
/** native/core/engine.h JOB_FDP_MAX_PIDS. */
export const MAX_PLIDS = 128;

export interface FdpPlan {
  /** Indexes into the namespace's placement handle list; undefined: every handle it has. */
  plids: number[] | undefined;
  scheme: FdpScheme;
}

/** 0,1,2 or 0-3: placement handle indexes, each once, in order given. */
export function parsePlids(text: string): number[] {
  const out: number[] = [];
  for (const item of parseList(text, (s) => s)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) throw usageError(`--plids item '${item}' is not a placement handle index or range`, 'give indexes into the namespace\'s placement handles, e.g. --plids 0,1 or 0-3');
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > 0xffff) throw usageError(`--plids '${item}' is not a range of indexes from 0 to 65535`, 'give e.g. --plids 0-3');
    for (let i = lo; i <= hi && out.length <= MAX_PLIDS; i++) if (!out.includes(i)) out.push(i);
  }
  if (!out.length) throw usageError('--plids is empty', 'give one or more placement handle indexes: --plids 0,1');
  if (out.length > MAX_PLIDS) throw usageError(`--plids lists more than ${MAX_PLIDS} placement handles`, `list at most ${MAX_PLIDS}`);
  return out;
}

export function parseFdpScheme(text: string): FdpScheme {
  const v = text.trim().toLowerCase();
  if ((FDP_SCHEMES as readonly string[]).includes(v)) return v as FdpScheme;
  throw usageError(`--fdp-scheme ${text} is not a scheme`, `use ${FDP_SCHEMES.join(', ')}`);
}

/** The FDP part of a plan; undefined without --fdp. readPercent: the workload's share of reads. */
export function buildFdpPlan(raw: { fdp?: boolean; plids?: string; fdpScheme?: string }, engines: EngineName[] | 'all', readPercent: number): FdpPlan | undefined {
  if (!raw.fdp) {
    if (raw.plids !== undefined) throw usageError('--plids needs --fdp', 'add --fdp');
    if (raw.fdpScheme !== undefined) throw usageError('--fdp-scheme needs --fdp', 'add --fdp');
    return undefined;
  }
  if (readPercent === 100) throw usageError('--fdp tags writes, and this workload only reads', 'use a workload that writes: randwrite, write, randrw or rw');
  const others = engines === 'all' ? ['all'] : engines.filter((e) => !FDP_ENGINES.includes(e));
  if (others.length) {
    throw usageError(`--fdp tags the writes of ${FDP_ENGINES.join(', ')} only; --engine ${others.join(',')} cannot carry a placement identifier`, `use --engine ${FDP_ENGINES.join(',')} (or some of them)`);
  }
  return { plids: raw.plids !== undefined ? parsePlids(raw.plids) : undefined, scheme: raw.fdpScheme !== undefined ? parseFdpScheme(raw.fdpScheme) : 'roundrobin' };
}
