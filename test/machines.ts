// Made-up machines for the discovery, doctor and target-resolution tests:
// the sysfs, procfs and /dev entries a real one would have.
import type { DiscoveryDeps } from '../src/inventory/discovery.js';
import { memorySys, type MemoryMachine } from '../src/system/sysfs.js';

export interface MachineSpec {
  /** Namespaces per controller (nsids 1..n). */
  namespaces?: number;
  lbaSize?: number;
  pollQueues?: number;
  /** queue/io_poll; defaults to pollQueues > 0. */
  ioPoll?: boolean;
  scheduler?: string;
  iostats?: string;
  nomerges?: string;
  wbt?: string;
  ioUringDisabled?: number;
  ioUringGroup?: number;
  governor?: string | null;
  cpus?: number;
  numaNodes?: number;
  deviceNode?: number;
  /** A second controller at 0000:00:11.0 bound to this driver ('' for none). */
  extraPciDriver?: string;
  /** Omit the /dev/ng nodes (as on a kernel before 5.13). */
  noCharNodes?: boolean;
  root?: boolean;
  /** Nodes a non-root process may open. */
  accessible?: string[];
}

export const NVME0_PCI = '0000:00:10.0';
export const EXTRA_PCI = '0000:00:11.0';

export function machine(spec: MachineSpec = {}): MemoryMachine {
  const files: Record<string, string> = {};
  const links: Record<string, string> = {};
  const modes: Record<string, number> = {};
  const pci = `/sys/devices/pci0000:00/${NVME0_PCI}`;
  const ctrl = `${pci}/nvme/nvme0`;
  const lba = spec.lbaSize ?? 512;
  const pollQueues = spec.pollQueues ?? 2;
  links['/sys/class/nvme/nvme0'] = ctrl;
  links[`${ctrl}/device`] = pci;
  links[`${pci}/driver`] = '/sys/bus/pci/drivers/nvme';
  links[`/sys/bus/pci/devices/${NVME0_PCI}`] = pci;
  Object.assign(files, {
    [`${pci}/class`]: '0x010802',
    [`${pci}/vendor`]: '0x1b36',
    [`${pci}/device`]: '0x0010',
    [`${pci}/numa_node`]: String(spec.deviceNode ?? -1),
    [`${ctrl}/model`]: 'QEMU NVMe Ctrl',
    [`${ctrl}/serial`]: 'nvmebench-lab-0',
    [`${ctrl}/firmware_rev`]: '8.0.2',
    [`${ctrl}/transport`]: 'pcie',
    [`${ctrl}/state`]: 'live',
    '/sys/bus/pci/drivers/nvme/module': '',
    '/sys/module/nvme/parameters/poll_queues': String(pollQueues),
  });
  modes['/dev/nvme0'] = 0o600;
  for (let nsid = 1; nsid <= (spec.namespaces ?? 1); nsid++) {
    const blk = `${ctrl}/nvme0n${nsid}`;
    links[`/sys/class/block/nvme0n${nsid}`] = blk;
    links[`/sys/block/nvme0n${nsid}`] = blk;
    Object.assign(files, {
      [`${blk}/size`]: String((64 * 1024 * 1024) / 512),
      [`${blk}/nsid`]: String(nsid),
      [`${blk}/queue/logical_block_size`]: String(lba),
      [`${blk}/queue/io_poll`]: (spec.ioPoll ?? pollQueues > 0) ? '1' : '0',
      [`${blk}/queue/scheduler`]: spec.scheduler ?? '[none] mq-deadline',
      [`${blk}/queue/iostats`]: spec.iostats ?? '0',
      [`${blk}/queue/nomerges`]: spec.nomerges ?? '2',
      [`${blk}/queue/wbt_lat_usec`]: spec.wbt ?? '0',
    });
    modes[`/dev/nvme0n${nsid}`] = 0o660;
    if (!spec.noCharNodes) {
      files[`${ctrl}/ng0n${nsid}/dev`] = `240:${nsid - 1}`;
      modes[`/dev/ng0n${nsid}`] = 0o600;
    }
  }
  if (spec.extraPciDriver !== undefined) {
    const dev = `/sys/devices/pci0000:00/${EXTRA_PCI}`;
    links[`/sys/bus/pci/devices/${EXTRA_PCI}`] = dev;
    Object.assign(files, { [`${dev}/class`]: '0x010802', [`${dev}/vendor`]: '0x1b36', [`${dev}/device`]: '0x0010', [`${dev}/numa_node`]: '-1' });
    if (spec.extraPciDriver) links[`${dev}/driver`] = `/sys/bus/pci/drivers/${spec.extraPciDriver}`;
    if (spec.extraPciDriver) files[`/sys/bus/pci/drivers/${spec.extraPciDriver}/bind`] = '';
    links[`${dev}/iommu_group`] = '/sys/kernel/iommu_groups/7';
    files['/sys/kernel/iommu_groups/7/type'] = 'DMA';
    modes['/dev/vfio/7'] = 0o600;
  }
  if (spec.ioUringDisabled !== undefined) files['/proc/sys/kernel/io_uring_disabled'] = String(spec.ioUringDisabled);
  if (spec.ioUringGroup !== undefined) files['/proc/sys/kernel/io_uring_group'] = String(spec.ioUringGroup);
  // --explain may sample the kernel (doctor's explain check)
  files['/proc/sys/kernel/perf_event_paranoid'] = '1';
  files['/proc/sys/kernel/kptr_restrict'] = '0';
  const cpus = spec.cpus ?? 4;
  files['/sys/devices/system/cpu/online'] = `0-${cpus - 1}`;
  for (let cpu = 0; cpu < cpus; cpu++) {
    if (spec.governor !== null) files[`/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_governor`] = spec.governor ?? 'performance';
    else files[`/sys/devices/system/cpu/cpu${cpu}/online`] = '1';
  }
  const nodes = spec.numaNodes ?? 1;
  const perNode = Math.max(1, Math.floor(cpus / nodes));
  for (let n = 0; n < nodes; n++) {
    files[`/sys/devices/system/node/node${n}/cpulist`] = `${n * perNode}-${n * perNode + perNode - 1}`;
  }
  return { files, links, modes, root: spec.root ?? true, accessible: spec.accessible };
}

export function stubDeps(spec: MachineSpec = {}): DiscoveryDeps {
  const m = machine(spec);
  return {
    sys: memorySys(m),
    identify: () => undefined,
    usage: () => ({ mounts: [], holders: [], partitions: [] }),
    ioUringDisabled: spec.ioUringDisabled ?? 0,
    isRoot: spec.root ?? true,
    vfioVerdict: () => ({ engine: 'vfio', usable: false, reason: 'stub', fix: '' }),
  };
}
