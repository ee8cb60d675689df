// Where each target's workers run: --cpus auto picks CPUs on the device's NUMA
// node, one core before any core's second hyperthread; an explicit --cpus list
// is dealt round-robin over every worker of every target.
import { readAllowedCpus, readCpuList, realSys, type SysReader } from '../system/sysfs.js';
import type { Target } from '../target/target.js';

/** The NUMA node of the target's PCI device; -1 when the platform does not say or there is no device (files). */
export function targetNumaNode(target: Target, sys: Pick<SysReader, 'read'> = realSys): number {
  const address = target.nvme?.pciAddress || target.pci?.address;
  if (!address) return -1;
  const node = Number(sys.read(`/sys/bus/pci/devices/${address}/numa_node`));
  return Number.isInteger(node) && node >= 0 ? node : -1;
}

/**
 * A node's CPUs (every allowed CPU for node -1), each core's first thread
 * before any second one, so two workers share a core only when they must.
 */
export function cpusByCore(node: number, sys: Pick<SysReader, 'read'> = realSys): number[] {
  const allowed = readAllowedCpus(sys).cpus;
  const nodeCpus = node >= 0 ? readCpuList(sys, `/sys/devices/system/node/node${node}/cpulist`) : allowed;
  const cpus = nodeCpus.filter((c) => !allowed.length || allowed.includes(c));
  const seen = new Map<string, number>();
  const rank = new Map<number, number>();
  for (const cpu of cpus) {
    const topo = `/sys/devices/system/cpu/cpu${cpu}/topology`;
    const core = `${sys.read(`${topo}/physical_package_id`) ?? '?'}:${sys.read(`${topo}/core_id`) ?? cpu}`;
    const sibling = seen.get(core) ?? 0;
    seen.set(core, sibling + 1);
    rank.set(cpu, sibling);
  }
  return [...cpus].sort((a, b) => rank.get(a)! - rank.get(b)! || a - b);
}

export interface CpuChoice {
  /** One CPU per worker of this target, or [] for no pinning. */
  cpus: number[];
  /** For the line --cpus auto prints: "node 0" or "no NUMA node". */
  node: number;
}

/**
 * Every target's CPUs. auto: targets on one node take that node's CPUs in
 * turn (a cursor per node), wrapping when workers outnumber them. An explicit
 * list: worker k of target t gets list[(t * threads + k) % list.length].
 */
export function assignCpus(targets: Target[], threads: number, explicit: number[], auto: boolean, sys: Pick<SysReader, 'read'> = realSys): CpuChoice[] {
  if (!auto) {
    if (!explicit.length || targets.length === 1) return targets.map(() => ({ cpus: explicit, node: -1 }));
    return targets.map((_, t) => ({ cpus: Array.from({ length: threads }, (_, k) => explicit[(t * threads + k) % explicit.length]), node: -1 }));
  }
  const cursor = new Map<number, number>();
  return targets.map((target) => {
    const node = targetNumaNode(target, sys);
    const order = cpusByCore(node, sys);
    if (!order.length) return { cpus: [], node };
    const start = cursor.get(node) ?? 0;
    cursor.set(node, start + threads);
    return { cpus: Array.from({ length: threads }, (_, k) => order[(start + k) % order.length]), node };
  });
}
