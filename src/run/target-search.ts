// --latency-target: for each engine (and block size), the highest IOPS whose
// latency at a percentile stays within a limit, found with a bounded number
// of probe runs. The search is pure over a probe function, so a model of a
// path tests it without running anything; src/commands/latency-target.ts runs
// the probes as ordinary cells.
//
// Closed loop (no --rate-iops): the queue depth is searched. QD 1, 2, 4…
// doubling while the target holds (stopping early once a deeper queue adds
// under SATURATION of IOPS: past that point depth only adds latency), up to
// the largest --qd (default 1024); then bisection between the deepest QD that
// held and the first that did not, until they are adjacent.
// Open loop (--rate-iops N, total over all workers): the offered rate is
// searched at --qd outstanding. N first; if it misses, halving until a rate
// holds, then bisection until the two bounds are within RATE_RESOLUTION of
// each other. A rate holds only when the path also kept up with it (achieved
// within analysis/rate.ts RATE_SHORTFALL of offered) and the latency counted
// is the one from each I/O's due time.
// Either way at most MAX_PROBES runs per engine; each probe is one --runtime.
import type { RunRecord } from '../model.js';
import { RATE_SHORTFALL } from '../analysis/rate.js';
import type { TargetSearchPlan } from '../plan/options.js';

export const MAX_PROBES = 12;
/** A doubling of QD that adds less than this share of IOPS ends the doubling. */
export const SATURATION = 0.03;
/** Rate bisection stops when its bounds are this close (share of the upper one). */
export const RATE_RESOLUTION = 0.05;

export interface Probe {
  ioDepth: number;
  /** Open loop: the total rate offered; absent for a closed loop. */
  offeredIops?: number;
  iops: number;
  /** The targeted percentile: service latency closed loop, latency from the due time open loop. µs. */
  latencyUs: number;
  pass: boolean;
  /** Why it missed, in words; '' when it passed. */
  why: string;
  record: RunRecord;
}

export interface SearchAnswer {
  /** The passing probe with the highest IOPS; absent when none passed. */
  best?: Probe;
  probes: Probe[];
  /** How the search ended, in words. */
  ended: string;
}

/** Runs one probe: a cell at this QD (and total offered rate, open loop). */
export type ProbeRunner = (ioDepth: number, offeredIops?: number) => Promise<RunRecord | undefined>;

/** What a record says against the target. */
export function judge(record: RunRecord, target: TargetSearchPlan, offeredIops?: number): Probe {
  const summary = record.rate ? record.rate.schedLatency : record.latency;
  const latencyUs = summary[target.field];
  const base = { ioDepth: record.ioDepth, ...(offeredIops !== undefined ? { offeredIops } : {}), iops: record.iops, latencyUs, record };
  if (record.status !== 'ok') return { ...base, pass: false, why: `the run ${record.status}` };
  if (!(latencyUs <= target.limitUs)) return { ...base, pass: false, why: `${target.percentile} ${latencyUs.toFixed(1)} µs over ${target.limitUs} µs` };
  if (offeredIops !== undefined && record.iops < (1 - RATE_SHORTFALL) * offeredIops) {
    return { ...base, pass: false, why: `achieved ${Math.round(record.iops)} of ${Math.round(offeredIops)} IOPS offered` };
  }
  return { ...base, pass: true, why: '' };
}

function answer(probes: Probe[], ended: string): SearchAnswer {
  const best = probes.filter((p) => p.pass).reduce<Probe | undefined>((a, p) => (!a || p.iops > a.iops ? p : a), undefined);
  return { best, probes, ended };
}

/** Closed loop: the queue depth. */
export async function searchQd(run: ProbeRunner, target: TargetSearchPlan, interrupted: () => boolean, synchronous = false): Promise<SearchAnswer> {
  const probes: Probe[] = [];
  const probe = async (qd: number): Promise<Probe | undefined> => {
    if (interrupted() || probes.length >= MAX_PROBES) return undefined;
    const record = await run(qd);
    if (!record) return undefined;
    const p = judge(record, target);
    probes.push(p);
    return p;
  };
  let lo: Probe | undefined;
  let hi: number | undefined;
  for (let qd = 1; ; qd = Math.min(qd * 2, target.maxQd)) {
    const p = await probe(qd);
    if (!p) return answer(probes, interrupted() ? 'interrupted' : `stopped after ${MAX_PROBES} probes`);
    if (!p.pass) {
      hi = qd;
      break;
    }
    const gain = lo ? p.iops / lo.iops - 1 : Infinity;
    lo = p;
    // psync and ioctl run at depth 1 whatever QD says.
    if (synchronous) return answer(probes, 'the engine runs one I/O at a time');
    if (qd >= target.maxQd) return answer(probes, `the target held up to QD ${target.maxQd}, the deepest searched`);
    if (gain < SATURATION) return answer(probes, `IOPS stopped growing with depth (QD ${qd} added ${(gain * 100).toFixed(1)}%)`);
  }
  if (!lo) return answer(probes, `QD 1 already misses the target`);
  let low = lo.ioDepth;
  while (hi - low > 1) {
    const mid = Math.floor((low + hi) / 2);
    const p = await probe(mid);
    if (!p) return answer(probes, interrupted() ? 'interrupted' : `stopped after ${MAX_PROBES} probes`);
    if (p.pass) low = mid;
    else hi = mid;
  }
  return answer(probes, `QD ${low} holds the target, QD ${hi} does not`);
}

/** Open loop: the offered rate, at most maxIops in total. */
export async function searchRate(run: ProbeRunner, target: TargetSearchPlan, ioDepth: number, maxIops: number, interrupted: () => boolean): Promise<SearchAnswer> {
  const probes: Probe[] = [];
  const probe = async (rate: number): Promise<Probe | undefined> => {
    if (interrupted() || probes.length >= MAX_PROBES) return undefined;
    const record = await run(ioDepth, rate);
    if (!record) return undefined;
    const p = judge(record, target, rate);
    probes.push(p);
    return p;
  };
  const stopped = () => answer(probes, interrupted() ? 'interrupted' : `stopped after ${MAX_PROBES} probes`);
  let hi = maxIops;
  let p = await probe(hi);
  if (!p) return stopped();
  if (p.pass) return answer(probes, `the target held at ${Math.round(maxIops)} IOPS, the highest rate asked`);
  let lo = 0;
  for (let rate = maxIops / 2; ; rate /= 2) {
    p = await probe(rate);
    if (!p) return stopped();
    if (p.pass) {
      lo = rate;
      break;
    }
    hi = rate;
  }
  while ((hi - lo) / hi > RATE_RESOLUTION) {
    const mid = (lo + hi) / 2;
    p = await probe(mid);
    if (!p) return stopped();
    if (p.pass) lo = mid;
    else hi = mid;
  }
  return answer(probes, `${Math.round(lo)} IOPS offered holds the target, ${Math.round(hi)} does not`);
}
