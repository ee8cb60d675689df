// The whole-system figures of one run, from the native snapshots at the
// measured interval's ends (native/core/sysstat.c): what the path made the
// rest of the machine spend besides its worker threads. Defined in
// results/README.md; sys_cpu_ns_per_io ≥ cpu_ns_per_io by construction.
import type { NativeJob, RunRecord, SystemCpuRecord } from '../model.js';
import type { NativeRunResult } from '../native/addon.js';

export type SystemFigures = Pick<RunRecord, 'sysCpuNsPerIo' | 'irqsPerIo' | 'ctxswPerIo' | 'system'>;

/** The target's controller's interrupt names: none for files, loop devices, nop and vfio (whose driver polls). */
export function irqNamesFor(controller: string | undefined, opens: string, targetKind: string): string[] {
  if (!controller || targetKind === 'file' || opens === 'nothing' || opens === 'vfio') return [];
  return [`${controller}q`];
}

export function systemFigures(result: NativeRunResult, job: NativeJob, ios: number): SystemFigures {
  const workers = result.workers;
  const vcsw = workers.reduce((a, w) => a + (w.vcsw ?? 0), 0);
  const nvcsw = workers.reduce((a, w) => a + (w.nvcsw ?? 0), 0);
  const sys = result.system;
  const perIo = (v: number): number => (ios > 0 && Number.isFinite(v) ? v / ios : NaN);
  if (!sys || !sys.statValid) {
    return { sysCpuNsPerIo: NaN, irqsPerIo: NaN, ctxswPerIo: perIo(vcsw + nvcsw) };
  }
  const workerCpuNs = workers.reduce((a, w) => a + (w.userUs + w.sysUs) * 1000, 0);
  const processCpuNs = sys.processUserNs + sys.processSysNs;
  const otherKernelNs = Math.max(0, sys.totalNs.system - sys.processSysNs);
  const pinned = job.cpus.length > 0;
  const steal = new Map(sys.cpuStealNs);
  const considered = sys.cpuBusyNs.filter(([cpu]) => !pinned || job.cpus.includes(cpu));
  const busyNs = considered.reduce((a, [, ns]) => a + ns, 0);
  const system: SystemCpuRecord = {
    elapsedNs: sys.elapsedNs,
    workerCpuNs,
    helperCpuNs: sys.helperCpuNs,
    helperThreads: sys.helperThreads,
    irqNs: sys.totalNs.irq,
    softirqNs: sys.totalNs.softirq,
    otherKernelNs,
    stealNs: sys.totalNs.steal,
    foreignCpuNs: Math.max(0, busyNs - processCpuNs),
    processCpuNs,
    interrupts: sys.irqs,
    irqSources: sys.irqSources,
    contextSwitches: { voluntary: vcsw + sys.helperVcsw, involuntary: nvcsw + sys.helperNvcsw },
    cpus: considered.map(([cpu, ns]) => ({ cpu, busyNs: ns, stealNs: steal.get(cpu) ?? 0 })),
    cpusPinned: pinned,
  };
  return {
    system,
    sysCpuNsPerIo: perIo(workerCpuNs + system.helperCpuNs + system.irqNs + system.softirqNs + otherKernelNs),
    irqsPerIo: sys.irqs === null ? NaN : perIo(sys.irqs),
    ctxswPerIo: perIo(system.contextSwitches.voluntary + system.contextSwitches.involuntary),
  };
}
