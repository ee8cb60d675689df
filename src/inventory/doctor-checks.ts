// The checks behind `nvmebench doctor`, each a list of drafts that doctor.ts
// grades: the system (kernel, io_uring, CPU governor, poll queues), each
// controller (binding, NUMA) and each namespace (poll queues, access, format,
// use, block queue). Pure over a SysReader and a Discovery.
import { describeLbaFormat } from '../engines/pi.js';
import { ENGINES, POLL_QUEUES_FIX } from '../engines/registry.js';
import type { EngineName } from '../model.js';
import { rebindToNvme, type DiscoveredController, type DiscoveredNamespace, type Discovery } from './discovery.js';
import { readCpuList, type SysReader } from '../system/sysfs.js';
import { perfAccess } from '../system/perf-access.js';
import { ioUringSysctl, parseKernelVersion, versionAtLeast, type KernelVersion } from '../system/kernel.js';

export interface DoctorEnv {
  sys: SysReader;
  /** uname -r */
  kernelRelease: string;
  uid: number;
  /** Supplementary and primary groups of this process. */
  gids: number[];
}

export interface DoctorOptions {
  /** The engines the user means to run; a check that stops one of them fails. */
  wanted: EngineName[];
  /** --cpus: where the workers will be pinned. */
  cpus: number[];
  /** --cpus auto: runs pin each target's workers to its device's node (src/run/cpus.ts). */
  cpusAuto?: boolean;
}

/** The engines each kind of problem stops. */
const IO_URING: EngineName[] = ENGINES.filter((e) => e.ioUring).map((e) => e.name);
const PASSTHROUGH: EngineName[] = ENGINES.filter((e) => e.opens === 'nvme-char').map((e) => e.name);
const BLOCK: EngineName[] = ENGINES.filter((e) => e.opens === 'block' || e.opens === 'block-or-file').map((e) => e.name);
const POLLED: EngineName[] = ['uring-poll', 'pt-poll'];

// ---------------------------------------------------------------------------
// Kernel versions.

export interface KernelFeature {
  id: string;
  name: string;
  /** For the one-line summary. */
  short: string;
  since: KernelVersion;
  blocks: EngineName[];
  fix: string;
}

export const KERNEL_FEATURES: KernelFeature[] = [
  { id: 'io-uring', short: 'io_uring', name: 'io_uring', since: [5, 1], blocks: ['uring', 'uring-poll', 'pt', 'pt-poll'], fix: 'use Linux 5.1 or later, or the psync and aio engines' },
  { id: 'iopoll', short: 'IOPOLL', name: 'io_uring IOPOLL (polled block I/O)', since: [5, 1], blocks: ['uring-poll'], fix: 'use Linux 5.1 or later' },
  { id: 'ng', short: '/dev/ng', name: 'NVMe generic char devices (/dev/ngXnY)', since: [5, 13], blocks: ['pt', 'pt-poll', 'ioctl'], fix: 'use Linux 5.13 or later' },
  { id: 'uring-cmd', short: 'uring_cmd passthrough', name: 'io_uring passthrough (uring_cmd)', since: [5, 19], blocks: ['pt', 'pt-poll'], fix: 'use Linux 5.19 or later; ioctl passthrough works from 5.13' },
  { id: 'pt-iopoll', short: 'polled passthrough', name: 'polled passthrough (IOPOLL on /dev/ng)', since: [5, 19], blocks: ['pt-poll'], fix: 'use Linux 5.19 or later' },
  { id: 'pt-fixed', short: 'fixed-buffer passthrough', name: 'fixed-buffer passthrough (IORING_URING_CMD_FIXED)', since: [6, 1], blocks: ['pt', 'pt-poll'], fix: 'add --no-fixedbufs to runs with pt and pt-poll, or use Linux 6.1 or later' },
  { id: 'pt-vectored', short: 'vectored passthrough', name: 'vectored passthrough (NVME_URING_CMD_IO_VEC)', since: [6, 1], blocks: [], fix: 'leave out --vectored, or use Linux 6.1 or later' },
];

/** Linux lets users without CAP_SYS_ADMIN pass I/O commands through from 6.2. */
export const UNPRIVILEGED_PASSTHROUGH: KernelVersion = [6, 2];

// ---------------------------------------------------------------------------
// Helpers.

export interface Draft {
  id: string;
  subject: string;
  message: string;
  fix?: string;
  /** Stops these engines (fail when wanted, else warn). */
  blocks?: EngineName[];
  /** Changes results, or needs attention, without stopping anything. */
  advice?: boolean;
}

export function engineList(engines: EngineName[]): string {
  if (engines.length <= 1) return engines.join('');
  return `${engines.slice(0, -1).join(', ')} and ${engines[engines.length - 1]}`;
}

/** 0,1,2,3,8 → 0-3,8 */
export function formatCpuList(cpus: number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function octal(mode: number): string {
  return '0' + (mode & 0o777).toString(8);
}

// ---------------------------------------------------------------------------
// System checks.

export function kernelChecks(env: DoctorEnv): Draft[] {
  const v = parseKernelVersion(env.kernelRelease);
  if (!v) return [{ id: 'kernel', subject: 'system', message: `cannot read a version from the kernel release "${env.kernelRelease}"`, advice: true }];
  const missing = KERNEL_FEATURES.filter((f) => !versionAtLeast(v, f.since));
  const present = KERNEL_FEATURES.filter((f) => versionAtLeast(v, f.since));
  const drafts: Draft[] = missing.map((f) => ({
    id: `kernel.${f.id}`,
    subject: 'system',
    message: `Linux ${env.kernelRelease} is older than ${f.since.join('.')}: no ${f.name}` + (f.blocks.length ? ` (${engineList(f.blocks)} cannot run)` : ''),
    fix: f.fix,
    blocks: f.blocks,
    advice: true,
  }));
  if (present.length) {
    const list = present.map((f) => `${f.short} ${f.since.join('.')}`).join(', ');
    drafts.unshift({ id: 'kernel', subject: 'system', message: `Linux ${env.kernelRelease} has ${missing.length ? '' : 'every feature nvmebench uses: '}${list}` });
  }
  return drafts;
}

export function ioUringChecks(env: DoctorEnv): Draft[] {
  const value = ioUringSysctl(env.sys);
  const disabled = value ?? 0;
  const id = 'io-uring-disabled';
  if (!disabled) return [{ id, subject: 'system', message: value === undefined ? 'io_uring is enabled (no kernel.io_uring_disabled sysctl on this kernel)' : 'io_uring is enabled (kernel.io_uring_disabled=0)' }];
  const fix = 'sudo sysctl kernel.io_uring_disabled=0';
  if (disabled === 1) {
    const group = Number(env.sys.read('/proc/sys/kernel/io_uring_group') ?? -1);
    if (env.uid === 0) return [{ id, subject: 'system', message: 'io_uring is limited to root and io_uring_group (kernel.io_uring_disabled=1); you are root' }];
    if (group >= 0 && env.gids.includes(group)) return [{ id, subject: 'system', message: `io_uring is limited to io_uring_group (gid ${group}), which you are in` }];
    return [
      {
        id,
        subject: 'system',
        message: `io_uring is limited to root and io_uring_group (kernel.io_uring_disabled=1), and you are neither: ${engineList(IO_URING)} cannot run`,
        fix: group >= 0 ? `${fix}, or join group ${group}` : fix,
        blocks: IO_URING,
      },
    ];
  }
  return [{ id, subject: 'system', message: `io_uring is disabled (kernel.io_uring_disabled=${disabled}): ${engineList(IO_URING)} cannot run`, fix, blocks: IO_URING }];
}

function cpuIds(sys: SysReader): number[] {
  const present = readCpuList(sys, '/sys/devices/system/cpu/online');
  if (present.length) return present;
  return sys
    .list('/sys/devices/system/cpu')
    .map((n) => /^cpu(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]));
}

export function governorChecks(env: DoctorEnv, opts: DoctorOptions): Draft[] {
  const cpus = opts.cpus.length ? opts.cpus : cpuIds(env.sys);
  const byGovernor = new Map<string, number[]>();
  for (const cpu of cpus) {
    const g = env.sys.read(`/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_governor`);
    if (g === undefined) continue;
    byGovernor.set(g, [...(byGovernor.get(g) ?? []), cpu]);
  }
  const id = 'cpu-governor';
  const which = opts.cpus.length ? `the pinned CPUs (${formatCpuList(opts.cpus)})` : 'every CPU';
  if (!byGovernor.size) return [{ id, subject: 'system', message: 'no cpufreq: the OS does not scale the CPU frequency here (a VM, or a fixed clock)' }];
  const slow = [...byGovernor.entries()].filter(([g]) => g !== 'performance');
  if (!slow.length) return [{ id, subject: 'system', message: `CPU frequency governor is performance on ${which}` }];
  const detail = slow.map(([g, list]) => `${g} on CPUs ${formatCpuList(list)}`).join(', ');
  return [
    {
      id,
      subject: 'system',
      message: `CPU frequency governor is ${detail}: clock changes move latency and IOPS between runs`,
      fix: 'sudo cpupower frequency-set -g performance (or: echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)',
      advice: true,
    },
  ];
}

export function pollParamChecks(d: Discovery): Draft[] {
  if (d.pollQueuesParam === undefined) {
    return d.controllers.some((c) => c.name) ? [] : [{ id: 'poll-queues-param', subject: 'system', message: 'the nvme driver is not loaded' }];
  }
  if (d.pollQueuesParam > 0) return [{ id: 'poll-queues-param', subject: 'system', message: `the nvme driver has poll queues (poll_queues=${d.pollQueuesParam})` }];
  return [{ id: 'poll-queues-param', subject: 'system', message: 'the nvme driver makes no poll queues (poll_queues=0): uring-poll and pt-poll cannot run', fix: POLL_QUEUES_FIX, advice: true }];
}

// ---------------------------------------------------------------------------
// Controller checks.

export function bindingChecks(env: DoctorEnv, ctrl: DiscoveredController, subject: string): Draft[] {
  if (ctrl.name) {
    const where = ctrl.pciAddress ? ` at ${ctrl.pciAddress}` : ctrl.transport ? ` over ${ctrl.transport}` : '';
    return [{ id: 'binding', subject, message: `${ctrl.name}${where} is driven by the kernel's nvme driver` }];
  }
  const bdf = ctrl.pciAddress;
  if (ctrl.driver !== 'vfio-pci') {
    return [
      {
        id: 'binding',
        subject,
        message: ctrl.driver ? `${bdf} is bound to ${ctrl.driver}, neither nvme nor vfio-pci: no engine can use it` : `${bdf} has no driver: no engine can use it`,
        fix: `bind it to nvme: ${rebindToNvme(bdf, ctrl.driver)}`,
        advice: true,
      },
    ];
  }
  const drafts: Draft[] = [
    { id: 'binding', subject, message: `${bdf} is bound to vfio-pci: only the vfio engine can use it (to give it back to the kernel: ${rebindToNvme(bdf, 'vfio-pci')})` },
  ];
  if (!ctrl.iommuGroup) {
    drafts.push({ id: 'vfio-group', subject, message: `${bdf} has no IOMMU group: VFIO cannot map its DMA`, fix: 'enable the IOMMU on the kernel command line (intel_iommu=on iommu=pt, or amd_iommu=on)', blocks: ['vfio'] });
  } else if (!ctrl.vfioPath || !env.sys.exists(ctrl.vfioPath)) {
    drafts.push({ id: 'vfio-group', subject, message: `/dev/vfio/${ctrl.iommuGroup} is missing`, fix: 'sudo modprobe vfio-pci, and check that udev created /dev/vfio/*', blocks: ['vfio'] });
  } else if (env.uid !== 0 && !env.sys.canAccess(ctrl.vfioPath, true)) {
    drafts.push({ id: 'vfio-group', subject, message: `no access to ${ctrl.vfioPath}`, fix: `run as root, or: sudo chown $USER ${ctrl.vfioPath} (and raise ulimit -l for DMA memory)`, blocks: ['vfio'] });
  } else {
    drafts.push({ id: 'vfio-group', subject, message: `IOMMU group ${ctrl.iommuGroup} (${ctrl.vfioPath}) is there and open to you` });
  }
  return drafts;
}

export function numaChecks(env: DoctorEnv, ctrl: DiscoveredController, subject: string, opts: DoctorOptions): Draft[] {
  const id = 'numa';
  const nodes = env.sys.list('/sys/devices/system/node').filter((n) => /^node\d+$/.test(n));
  if (ctrl.numaNode < 0) {
    if (nodes.length > 1) return [{ id, subject, message: 'the platform reports no NUMA node for the device, on a machine with several nodes', fix: 'check the BIOS (ACPI SRAT/_PXM); pin with --cpus near the device\'s root port', advice: true }];
    return [{ id, subject, message: 'no NUMA node reported for the device (a single-node machine)' }];
  }
  const nodeCpus = readCpuList(env.sys, `/sys/devices/system/node/node${ctrl.numaNode}/cpulist`);
  const nodeText = `node ${ctrl.numaNode}${nodeCpus.length ? ` (CPUs ${formatCpuList(nodeCpus)})` : ''}`;
  if (nodes.length <= 1) return [{ id, subject, message: `the device is on NUMA ${nodeText}, the only node` }];
  if (opts.cpusAuto) return [{ id, subject, message: `the device is on NUMA ${nodeText}: --cpus auto pins its workers there` }];
  if (!opts.cpus.length) {
    return [{ id, subject, message: `the device is on NUMA ${nodeText}; runs without --cpus may put workers on another node`, fix: `pin the workers to the device's node: --cpus auto, or --cpus ${nodeCpus.length ? formatCpuList(nodeCpus.slice(0, 1)) : '...'}`, advice: true }];
  }
  const far = opts.cpus.filter((c) => !nodeCpus.includes(c));
  if (!far.length) return [{ id, subject, message: `the pinned CPUs (${formatCpuList(opts.cpus)}) are on the device's NUMA ${nodeText}` }];
  return [
    {
      id,
      subject,
      message: `CPUs ${formatCpuList(far)} (--cpus) are not on the device's NUMA ${nodeText}: every I/O crosses the interconnect`,
      fix: `pin to the device's node: --cpus ${formatCpuList(nodeCpus.slice(0, Math.max(1, opts.cpus.length)))}`,
      advice: true,
    },
  ];
}

// ---------------------------------------------------------------------------
// Namespace checks.

/** Scheduler, iostats, nomerges and writeback throttling on a block queue. */
export function blockQueueChecks(sys: SysReader, blockName: string, subject: string): Draft[] {
  const q = `/sys/block/${blockName}/queue`;
  const drafts: Draft[] = [];
  const sched = sys.read(`${q}/scheduler`);
  if (sched !== undefined) {
    const active = /\[([^\]]+)\]/.exec(sched)?.[1] ?? sched.split(/\s+/)[0];
    drafts.push(
      active === 'none'
        ? { id: 'scheduler', subject, message: 'I/O scheduler is none' }
        : { id: 'scheduler', subject, message: `I/O scheduler is ${active}: it adds work to every block-layer I/O (none is best for NVMe)`, fix: `echo none | sudo tee ${q}/scheduler`, advice: true },
    );
  }
  const iostats = sys.read(`${q}/iostats`);
  if (iostats !== undefined) {
    drafts.push(
      iostats === '0'
        ? { id: 'iostats', subject, message: 'iostats is off' }
        : { id: 'iostats', subject, message: 'iostats is on: the block layer accounts every I/O, a cost the block engines pay', fix: `echo 0 | sudo tee ${q}/iostats`, advice: true },
    );
  }
  const nomerges = sys.read(`${q}/nomerges`);
  if (nomerges !== undefined) {
    drafts.push(
      nomerges === '2'
        ? { id: 'nomerges', subject, message: 'request merging is off (nomerges=2)' }
        : { id: 'nomerges', subject, message: `the block layer tries to merge requests (nomerges=${nomerges}): CPU per I/O, and sequential I/O may merge`, fix: `echo 2 | sudo tee ${q}/nomerges`, advice: true },
    );
  }
  const wbt = sys.read(`${q}/wbt_lat_usec`);
  if (wbt !== undefined) {
    drafts.push(
      Number(wbt) <= 0
        ? { id: 'wbt', subject, message: 'writeback throttling is off' }
        : { id: 'wbt', subject, message: `writeback throttling is on (wbt_lat_usec=${wbt}): it can hold back writes on the block engines`, fix: `echo 0 | sudo tee ${q}/wbt_lat_usec`, advice: true },
    );
  }
  return drafts;
}

export function accessChecks(env: DoctorEnv, ns: DiscoveredNamespace, subject: string): Draft[] {
  const nodes = [ns.charPath, ns.blockPath].filter((n): n is string => !!n);
  if (env.uid === 0) return nodes.length ? [{ id: 'access', subject, message: `you are root: ${nodes.join(' and ')} are open to you` }] : [];
  const drafts: Draft[] = [];
  const v = parseKernelVersion(env.kernelRelease);
  if (ns.charPath) {
    const st = env.sys.stat(ns.charPath);
    const mode = st ? ` (mode ${octal(st.mode)}${st.uid === 0 ? ', owner root' : ''})` : '';
    if (!env.sys.canAccess(ns.charPath, true)) {
      drafts.push({
        id: 'access-ng',
        subject,
        message: `you are not root and have no read-write access to ${ns.charPath}${mode}: ${engineList(PASSTHROUGH)} cannot run`,
        fix: `run as root, or grant access: sudo chmod 0666 ${ns.charPath} (until reboot; a udev rule KERNEL=="ng[0-9]*n[0-9]*", MODE="0666" keeps it)` + (v && !versionAtLeast(v, UNPRIVILEGED_PASSTHROUGH) ? '; before Linux 6.2 passthrough also needs CAP_SYS_ADMIN, so run as root' : ''),
        blocks: PASSTHROUGH,
      });
    } else if (v && !versionAtLeast(v, UNPRIVILEGED_PASSTHROUGH)) {
      drafts.push({
        id: 'access-ng',
        subject,
        message: `${ns.charPath} is open to you, but Linux ${env.kernelRelease} allows NVMe passthrough only with CAP_SYS_ADMIN (before 6.2): ${engineList(PASSTHROUGH)} cannot run`,
        fix: 'run as root, or use Linux 6.2 or later',
        blocks: PASSTHROUGH,
      });
    } else {
      drafts.push({ id: 'access-ng', subject, message: `${ns.charPath} is open to you${mode}, and Linux ${env.kernelRelease} lets non-root users pass I/O through` });
    }
  }
  if (ns.blockPath) {
    if (!env.sys.canAccess(ns.blockPath, true)) {
      drafts.push({
        id: 'access-block',
        subject,
        message: `you are not root and have no read-write access to ${ns.blockPath}: ${engineList(BLOCK)} cannot run on it`,
        fix: `run as root, or grant access: sudo chmod o+rw ${ns.blockPath}`,
        blocks: BLOCK,
      });
    } else {
      drafts.push({ id: 'access-block', subject, message: `${ns.blockPath} is open to you` });
    }
  }
  return drafts;
}

export function namespaceChecks(env: DoctorEnv, d: Discovery, ns: DiscoveredNamespace): Draft[] {
  const subject = ns.name;
  const drafts: Draft[] = [];
  // Poll queues: the block queue says; without a block node, the driver's parameter.
  const pollKnown = ns.ioPoll ?? (d.pollQueuesParam === undefined ? undefined : d.pollQueuesParam > 0);
  if (pollKnown === true) {
    drafts.push({ id: 'poll-queues', subject, message: ns.ioPoll !== undefined ? `has poll queues (queue/io_poll=1)` : `the nvme driver has poll queues (poll_queues=${d.pollQueuesParam})` });
  } else if (pollKnown === false) {
    drafts.push({
      id: 'poll-queues',
      subject,
      message: `no poll queues${ns.ioPoll !== undefined ? ` (/sys/block/${ns.name}/queue/io_poll=0)` : ''}: ${engineList(POLLED)} cannot run`,
      fix: POLL_QUEUES_FIX,
      blocks: POLLED,
    });
  }
  if (!ns.charPath) {
    const v = parseKernelVersion(env.kernelRelease);
    if (!v || versionAtLeast(v, [5, 13])) {
      drafts.push({ id: 'ng-node', subject, message: `no /dev/ng${ns.name.slice(4)}: ${engineList(PASSTHROUGH)} need the generic char node`, fix: 'check that udev created it (ls -l /dev/ng*); the nvme driver makes one per namespace from Linux 5.13', blocks: PASSTHROUGH });
    }
  }
  drafts.push(...accessChecks(env, ns, subject));
  if (ns.metaSize > 0) {
    // pt, pt-poll, ioctl and vfio drive metadata formats (src/engines/pi.ts); the block engines' verdicts say what the kernel allows.
    const format = ns.format ? describeLbaFormat(ns.format, false) : `${ns.lbaSize}+${ns.metaSize}`;
    drafts.push({ id: 'format', subject, message: `formatted with ${format}${ns.formatNote ? `: ${ns.formatNote}` : ''}` });
  } else if (ns.lbaSize) {
    drafts.push({ id: 'format', subject, message: `formatted with ${ns.lbaSize}-byte blocks, no metadata` });
  }
  const uses = [...ns.mounts.map((m) => `mounted: ${m}`), ...ns.holders];
  if (uses.length) {
    drafts.push({ id: 'in-use', subject, message: `in use (${uses.join('; ')}): write workloads refuse it, reads are fine`, fix: 'unmount it, or benchmark a spare namespace', advice: true });
  } else if (ns.partitions.length) {
    drafts.push({ id: 'in-use', subject, message: `has partitions (${ns.partitions.join(', ')}): write workloads refuse it`, fix: 'benchmark a spare namespace, or --force-destroy if the data may go', advice: true });
  }
  if (ns.blockPath) drafts.push(...blockQueueChecks(env.sys, ns.name, subject));
  if (ns.engines.length) {
    const usable = ns.engines.filter((v) => v.usable).map((v) => v.engine);
    const not = ns.engines.filter((v) => !v.usable).map((v) => v.engine);
    drafts.push({ id: 'engines', subject, message: `engines that can run here: ${usable.join(', ') || 'none'}${not.length ? `; not: ${not.join(', ')} (nvmebench devices says why)` : ''}` });
  }
  return drafts;
}


/** --explain: may this process sample kernel code and read kernel addresses? Stops no engine. */
export function explainChecks(env: DoctorEnv): Draft[] {
  const access = perfAccess(env.sys);
  if (access.ok) return [{ id: 'explain', subject: 'system', message: `--explain can sample the kernel (perf_event_paranoid ${access.paranoid}, kptr_restrict ${access.kptrRestrict})` }];
  return [{ id: 'explain', subject: 'system', message: access.message.replace(/^--explain: /, '--explain unavailable: '), fix: access.fix, advice: true }];
}
