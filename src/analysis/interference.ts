// Whether something else ran on the workers' CPUs during a repeat, from the
// whole-system figures of its record (RunRecord.system, src/run/system-cpu.ts):
// busy time on those CPUs beyond our own process's CPU, and time a VM's host
// stole. Feeds the warnings in warnings.ts.
import type { RunRecord, SystemCpuRecord } from '../model.js';

/** Busy time beyond our process's, as a share of one CPU's elapsed time per CPU considered, that warns. */
export const FOREIGN_CPU_SHARE = 0.1;
/** Steal time, as a share of the considered CPUs' elapsed time, that warns. */
export const STEAL_SHARE = 0.05;

export interface Interference {
  /** Busy time on the CPUs considered beyond our process's CPU, as a share of their elapsed time. */
  foreignShare: number;
  /** The CPUs the busy time was seen on: those busy beyond the threshold by themselves, or all considered. */
  cpus: number[];
  pinned: boolean;
}

/** Another process on the CPUs considered: undefined when within FOREIGN_CPU_SHARE. */
export function foreignCpu(s: SystemCpuRecord): Interference | undefined {
  const n = s.cpus.length;
  if (n === 0 || !(s.elapsedNs > 0)) return undefined;
  const busy = s.cpus.reduce((a, c) => a + c.busyNs, 0);
  const excess = busy - s.processCpuNs;
  if (!(excess > FOREIGN_CPU_SHARE * s.elapsedNs * n)) return undefined;
  // Which CPUs: our process cannot be split by CPU, so a CPU stands out when it alone was busier than its share of our time allows.
  const ours = s.processCpuNs / n;
  const busiest = s.cpus.filter((c) => c.busyNs - ours > FOREIGN_CPU_SHARE * s.elapsedNs).map((c) => c.cpu);
  return { foreignShare: excess / (s.elapsedNs * n), cpus: busiest.length ? busiest : s.cpus.map((c) => c.cpu), pinned: s.cpusPinned };
}

/** Steal on the CPUs considered, as a share of their elapsed time: undefined when within STEAL_SHARE. */
export function stealShare(s: SystemCpuRecord): number | undefined {
  const n = s.cpus.length;
  if (n === 0 || !(s.elapsedNs > 0)) return undefined;
  const share = s.cpus.reduce((a, c) => a + c.stealNs, 0) / (s.elapsedNs * n);
  return share > STEAL_SHARE ? share : undefined;
}

export type InterferenceWarning =
  /** Another process used the workers' CPUs in some repeats: the worst share and the CPUs named. */
  | { kind: 'foreign-cpu'; repeats: number[]; share: number; cpus: number[]; pinned: boolean }
  /** A VM's host took the CPUs (steal time). */
  | { kind: 'steal'; repeats: number[]; share: number };

/** One warning of each kind per cell, over the repeats that show it. */
export function interferenceWarnings(records: RunRecord[]): InterferenceWarning[] {
  const out: InterferenceWarning[] = [];
  const foreign = records.flatMap((r) => {
    const f = r.system && foreignCpu(r.system);
    return f ? [{ repeat: r.repeat, ...f }] : [];
  });
  if (foreign.length) {
    out.push({
      kind: 'foreign-cpu',
      repeats: foreign.map((f) => f.repeat),
      share: Math.max(...foreign.map((f) => f.foreignShare)),
      cpus: [...new Set(foreign.flatMap((f) => f.cpus))].sort((a, b) => a - b),
      pinned: foreign.some((f) => f.pinned),
    });
  }
  const steal = records.flatMap((r) => {
    const share = r.system && stealShare(r.system);
    return share !== undefined ? [{ repeat: r.repeat, share }] : [];
  });
  if (steal.length) out.push({ kind: 'steal', repeats: steal.map((s) => s.repeat), share: Math.max(...steal.map((s) => s.share)) });
  return out;
}
