// What NVMe this machine has: every controller (driven by nvme, or bound to
// vfio-pci), its namespaces, their nodes and format, poll queues, who uses
// them, and which engines can run on each. `devices` prints it; `doctor`
// checks it. All reads go through a SysReader so tests can fake a machine.
import path from 'node:path';
import { lbaFormat, metadataRefusal, piNote, type LbaFormat } from '../engines/pi.js';
import { PATH_ENGINES, usableOn } from '../engines/registry.js';
import type { EngineName } from '../model.js';
import { native, type NvmeIdentify } from '../native/addon.js';
import { blockFamily, holdersOf, mountsOf } from '../target/safety.js';
import { naturalCompare, realSys, type SysReader } from '../system/sysfs.js';
import { controllerNamespaceNames, isControllerName } from '../system/nvme-sysfs.js';
import { ioUringDisabled, ioUringStopped } from '../system/kernel.js';
import { probeTarget } from '../target/probe.js';
import { probeInterrupted } from '../target/pci.js';
import { nvmeTarget, transferLimit, type NvmeNamespace, type Target } from '../target/target.js';
import { fdpSummary, type FdpSummary } from '../target/fdp.js';
import { BenchError } from '../errors.js';
import { isNvmeClass, pciAddressBehind, unbindCommand } from '../system/pci.js';


export interface EngineVerdict {
  engine: EngineName;
  usable: boolean;
  /** The node the engine opens, when usable. */
  node?: string;
  reason?: string;
  fix?: string;
}

/** What a run's target knows of a namespace (name: nvme0n1, whether or not the block node exists), and more. */
export interface DiscoveredNamespace
  extends Pick<NvmeNamespace, 'name' | 'controller' | 'nsid' | 'blockPath' | 'charPath' | 'lbaSize' | 'metaSize' | 'capacityBytes'> {
  /** /sys/block/X/queue/io_poll; undefined without a block node. */
  ioPoll?: boolean;
  /** Mount points and swap of the namespace or its partitions. */
  mounts: string[];
  /** device-mapper, md, LVM holders. */
  holders: string[];
  partitions: string[];
  /** Identify answered (needs access to a node); otherwise sysfs only. */
  identified: boolean;
  engines: EngineVerdict[];
  /** The formatted LBA format: data and metadata sizes, PI type and place, layout (Identify answered). */
  format?: LbaFormat;
  /** Who makes the PI on which path (metadata formats only). */
  formatNote?: string;
  /** Flexible Data Placement, on a controller that supports it (FDPS); absent otherwise. */
  fdp?: FdpSummary;
}

export interface DiscoveredController {
  /** nvme0; undefined for a controller that no NVMe driver owns (vfio-pci, none). */
  name?: string;
  /** /dev/nvme0, the controller's char node. */
  charPath?: string;
  pciAddress: string;
  /** -1 when the platform reports none. */
  numaNode: number;
  /** nvme, vfio-pci, or '' for no driver. */
  driver: string;
  transport: string;
  state: string;
  model: string;
  serial: string;
  firmware: string;
  /** PCI vendor:device, e.g. 1b36:0010. */
  pciId: string;
  /** IOMMU group, and /dev/vfio/N for a controller on vfio-pci. */
  iommuGroup?: string;
  vfioPath?: string;
  namespaces: DiscoveredNamespace[];
  /** For a controller no NVMe driver owns: what each engine can do with it. */
  engines?: EngineVerdict[];
}

export interface Discovery {
  controllers: DiscoveredController[];
  /** /sys/module/nvme/parameters/poll_queues; undefined when the nvme driver is not loaded. */
  pollQueuesParam?: number;
}

export interface DiscoveryDeps {
  sys: SysReader;
  /** Identify through a node; undefined when it cannot (no access, not NVMe). */
  identify(node: string, nsid?: number): NvmeIdentify | undefined;
  /** FDP through a node (nvmeFdpInfo); undefined when it cannot be read. */
  fdp?(node: string, nsid: number): FdpSummary | undefined;
  /** Mounts and holders of a block device and its partitions. */
  usage(blockName: string): { mounts: string[]; holders: string[]; partitions: string[] };
  /** kernel.io_uring_disabled (0 when the sysctl is missing). */
  ioUringDisabled: number;
  isRoot: boolean;
  /** Whether the vfio engine can drive the controller at this PCI address. */
  vfioVerdict(pciAddress: string): EngineVerdict;
}

/** Whether the vfio engine can drive the controller at bdf: probes one on vfio-pci (pci.ts), off the JS thread. */
async function probeVfioVerdict(pciAddress: string): Promise<EngineVerdict> {
  try {
    const v = usableOn('vfio', await probeTarget(pciAddress), { buffered: false });
    return v.usable ? { engine: 'vfio', usable: true, node: v.node } : { engine: 'vfio', usable: false, reason: v.reason, fix: v.fix };
  } catch (err) {
    // Ctrl-C during the probe ends the command.
    if (probeInterrupted(err)) throw err;
    const fix = err instanceof BenchError ? err.fix : '';
    return { engine: 'vfio', usable: false, reason: `cannot use ${pciAddress}: ${(err as Error).message}`, fix };
  }
}

/**
 * This machine's deps. The vfio verdicts are read first, for every NVMe
 * controller no nvme driver owns (those discover() asks about), so that
 * discover() itself stays synchronous.
 */
export async function realDeps(): Promise<DiscoveryDeps> {
  const verdicts = new Map<string, EngineVerdict>();
  for (const bdf of realSys.list('/sys/bus/pci/devices')) {
    const dir = `/sys/bus/pci/devices/${bdf}`;
    if (isNvmeClass(realSys.read(`${dir}/class`)) && driverOf(realSys, dir) !== 'nvme') verdicts.set(bdf, await probeVfioVerdict(bdf));
  }
  return kernelDeps(verdicts);
}

/**
 * This machine's deps without bringing up any controller: what the kernel's
 * nodes and sysfs say. The controllers no nvme driver owns get the verdicts
 * given, or none (for callers that only want namespaces, such as plan roles).
 */
export function kernelDeps(verdicts: ReadonlyMap<string, EngineVerdict> = new Map()): DiscoveryDeps {
  return {
    sys: realSys,
    identify(node, nsid) {
      try {
        return native().nvmeIdentify(node, nsid);
      } catch {
        return undefined;
      }
    },
    fdp(node, nsid) {
      try {
        return fdpSummary(native().nvmeFdpInfo(node, nsid));
      } catch {
        return undefined;
      }
    },
    usage(blockName) {
      const family = blockFamily(blockName);
      return { mounts: mountsOf(family), holders: holdersOf(family), partitions: family.slice(1) };
    },
    ioUringDisabled: ioUringDisabled(),
    isRoot: process.getuid?.() === 0,
    vfioVerdict: (pciAddress) =>
      verdicts.get(pciAddress) ?? { engine: 'vfio', usable: false, reason: `${pciAddress} appeared after the controllers were probed`, fix: 'run the command again' },
  };
}

function num(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  return Number.isFinite(n) ? n : fallback;
}

function driverOf(sys: SysReader, dir: string): string {
  const real = sys.resolve(`${dir}/driver`);
  return real ? path.posix.basename(real) : '';
}

function pciFacts(sys: SysReader, pciDir: string): { numaNode: number; pciId: string; iommuGroup?: string } {
  const vendor = (sys.read(`${pciDir}/vendor`) ?? '').replace(/^0x/, '');
  const device = (sys.read(`${pciDir}/device`) ?? '').replace(/^0x/, '');
  const group = sys.resolve(`${pciDir}/iommu_group`);
  return {
    numaNode: num(sys.read(`${pciDir}/numa_node`), -1),
    pciId: vendor && device ? `${vendor}:${device}` : '',
    iommuGroup: group ? path.posix.basename(group) : undefined,
  };
}

/** instance and index name the nodes (nvme<instance>n<index>); the nsid comes from Identify or sysfs. */
function describeNamespace(deps: DiscoveryDeps, ctrl: DiscoveredController, instance: number, index: number): { ns: DiscoveredNamespace; identify?: NvmeIdentify } {
  const { sys } = deps;
  const name = `nvme${instance}n${index}`;
  const charName = `ng${instance}n${index}`;
  const blockPath = sys.exists(`/dev/${name}`) ? `/dev/${name}` : undefined;
  const charPath = sys.exists(`/dev/${charName}`) ? `/dev/${charName}` : undefined;
  const blockSys = `/sys/class/block/${name}`;
  const hasBlock = sys.exists(blockSys);
  const via = charPath ?? blockPath;
  const id = via ? deps.identify(via) : undefined;
  const sectors = num(sys.read(`${blockSys}/size`), 0);
  const lbaSize = id?.ns?.lbaSize ?? num(sys.read(`${blockSys}/queue/logical_block_size`), 0);
  const metaSize = id?.ns?.metaSize ?? num(sys.read(`${blockSys}/metadata_bytes`), 0);
  const capacityBytes = id?.ns ? id.ns.nsze * id.ns.lbaSize : sectors * 512;
  const poll = hasBlock ? sys.read(`${blockSys}/queue/io_poll`) : undefined;
  const usage = hasBlock ? deps.usage(name) : { mounts: [], holders: [], partitions: [] };
  const ns: DiscoveredNamespace = {
    name,
    controller: ctrl.name ?? '',
    nsid: id?.ns?.nsid ?? num(sys.read(`${blockSys}/nsid`), index),
    blockPath,
    charPath,
    lbaSize,
    metaSize,
    capacityBytes,
    ioPoll: poll === undefined ? undefined : poll === '1',
    mounts: usage.mounts,
    holders: usage.holders,
    partitions: usage.partitions,
    identified: !!id?.ns,
    engines: [],
  };
  const fdp = via && deps.fdp ? deps.fdp(via, ns.nsid) : undefined;
  if (fdp?.supported) ns.fdp = fdp;
  if (id && !ctrl.model) {
    ctrl.model = id.ctrl.model;
    ctrl.serial = id.ctrl.serial;
    ctrl.firmware = id.ctrl.firmware;
  }
  return { ns, identify: id };
}

/** The Target that probeTarget would build for this namespace, from what discovery read. */
export function namespaceTarget(sys: SysReader, ns: DiscoveredNamespace, ctrl: DiscoveredController, identify: NvmeIdentify | undefined, pollQueuesParam: number | undefined): Target {
  const node = ns.charPath ?? ns.blockPath ?? `/dev/${ns.name}`;
  const lbaSize = ns.lbaSize || 512;
  const hwKb = num(sys.read(`/sys/class/block/${ns.name}/queue/max_hw_sectors_kb`), 0);
  return nvmeTarget(
    {
      given: node,
      path: node,
      kind: ns.charPath ? 'nvme-char' : 'block',
      sizeBytes: ns.capacityBytes,
      logicalBlockSize: lbaSize,
      blockName: ns.blockPath ? ns.name : undefined,
      pollQueues: ns.ioPoll ?? (pollQueuesParam ?? 0) > 0,
    },
    {
      name: ns.name,
      controller: ns.controller,
      nsid: ns.nsid,
      blockPath: ns.blockPath,
      charPath: ns.charPath,
      lbaSize,
      metaSize: ns.metaSize,
      extendedMeta: Boolean(identify?.ns?.extendedMeta),
      capacityBytes: ns.capacityBytes,
      maxTransferBytes: transferLimit(identify?.ctrl.mdts ?? 0, hwKb),
      pciAddress: ctrl.pciAddress,
      identify,
    },
    ctrl,
  );
}

const IO_URING_ENGINES: EngineName[] = PATH_ENGINES.filter((e) => e.ioUring).map((e) => e.name);

/** usableOn for every engine, plus what usableOn cannot see: access to the node, io_uring being off, metadata formats. */
export function engineVerdicts(deps: DiscoveryDeps, ns: DiscoveredNamespace, target: Target): EngineVerdict[] {
  return PATH_ENGINES.map(({ name, opens }) => {
    const v = usableOn(name, target, { buffered: false });
    if (!v.usable) return { engine: name, usable: false, reason: v.reason, fix: v.fix };
    if (IO_URING_ENGINES.includes(name) && ioUringStopped(deps.ioUringDisabled, deps.isRoot)) {
      return { engine: name, usable: false, reason: `io_uring is disabled (kernel.io_uring_disabled=${deps.ioUringDisabled})`, fix: 'sudo sysctl kernel.io_uring_disabled=0' };
    }
    const metadata = metadataRefusal(name, target.nvme);
    if (metadata) return { engine: name, usable: false, ...metadata };
    if (!deps.isRoot && !deps.sys.canAccess(v.node, true)) {
      const fix =
        opens === 'nvme-char'
          ? `run as root, or grant access: sudo chmod 0666 ${v.node} (Linux 6.2 or later lets non-root users pass I/O through)`
          : `run as root, or grant access: sudo chmod o+rw ${v.node}`;
      return { engine: name, usable: false, reason: `no read-write access to ${v.node}`, fix };
    }
    return { engine: name, usable: true, node: v.node };
  });
}

/** The commands that hand a controller back to the kernel's nvme driver. */
export function rebindToNvme(bdf: string, driver: string): string {
  if (driver === 'vfio-pci') return unbindCommand(bdf);
  const unbind = driver ? `echo ${bdf} | sudo tee /sys/bus/pci/drivers/${driver}/unbind; ` : '';
  return `${unbind}echo | sudo tee /sys/bus/pci/devices/${bdf}/driver_override; echo ${bdf} | sudo tee /sys/bus/pci/drivers_probe`;
}

function unboundVerdict(engine: EngineName, bdf: string, driver: string): EngineVerdict {
  return {
    engine,
    usable: false,
    reason: driver ? `${bdf} is bound to ${driver}, not nvme: the kernel engines need the nvme driver` : `${bdf} has no driver bound`,
    fix: `bind it to nvme: ${rebindToNvme(bdf, driver)}`,
  };
}

/** Every NVMe controller and namespace on this machine. */
export function discover(deps: DiscoveryDeps): Discovery {
  const { sys } = deps;
  const param = sys.read('/sys/module/nvme/parameters/poll_queues');
  const pollQueuesParam = param === undefined ? undefined : num(param, 0);
  const controllers: DiscoveredController[] = [];
  const seenPci = new Set<string>();

  for (const name of sys.list('/sys/class/nvme').filter(isControllerName)) {
    const dir = `/sys/class/nvme/${name}`;
    const pciAddress = pciAddressBehind(`${dir}/device`, sys);
    const facts = pciAddress ? pciFacts(sys, `${dir}/device`) : { numaNode: num(sys.read(`${dir}/numa_node`), -1), pciId: '' };
    if (pciAddress) seenPci.add(pciAddress);
    const ctrl: DiscoveredController = {
      name,
      charPath: sys.exists(`/dev/${name}`) ? `/dev/${name}` : undefined,
      pciAddress,
      numaNode: facts.numaNode,
      driver: pciAddress ? driverOf(sys, `${dir}/device`) || 'nvme' : 'nvme',
      transport: sys.read(`${dir}/transport`) ?? '',
      state: sys.read(`${dir}/state`) ?? '',
      model: sys.read(`${dir}/model`) ?? '',
      serial: sys.read(`${dir}/serial`) ?? '',
      firmware: sys.read(`${dir}/firmware_rev`) ?? '',
      pciId: facts.pciId,
      iommuGroup: facts.iommuGroup,
      namespaces: [],
    };
    const described = controllerNamespaceNames(sys, name).map(({ instance, index }) => describeNamespace(deps, ctrl, instance, index));
    ctrl.namespaces = described.map((d) => d.ns);
    // After every namespace is read: the first that answered Identify named the controller.
    for (const { ns, identify } of described) {
      const target = namespaceTarget(sys, ns, ctrl, identify, pollQueuesParam);
      ns.engines = engineVerdicts(deps, ns, target);
      if (target.nvme && identify?.ns) {
        ns.format = lbaFormat(target.nvme);
        ns.formatNote = piNote(target.nvme);
      }
    }
    controllers.push(ctrl);
  }

  // Controllers no NVMe driver owns: bound to vfio-pci (for the vfio engine) or to nothing.
  for (const bdf of sys.list('/sys/bus/pci/devices')) {
    const dir = `/sys/bus/pci/devices/${bdf}`;
    if (seenPci.has(bdf) || !isNvmeClass(sys.read(`${dir}/class`))) continue;
    const driver = driverOf(sys, dir);
    if (driver === 'nvme') continue; // still probing, or failed: /sys/class/nvme has no entry yet
    const facts = pciFacts(sys, dir);
    controllers.push({
      pciAddress: bdf,
      numaNode: facts.numaNode,
      driver,
      transport: 'pcie',
      state: driver ? `bound to ${driver}` : 'no driver',
      model: '',
      serial: '',
      firmware: '',
      pciId: facts.pciId,
      iommuGroup: facts.iommuGroup,
      vfioPath: driver === 'vfio-pci' && facts.iommuGroup ? `/dev/vfio/${facts.iommuGroup}` : undefined,
      namespaces: [],
      engines: PATH_ENGINES.map(({ name }) => (name === 'vfio' ? deps.vfioVerdict(bdf) : unboundVerdict(name, bdf, driver))),
    });
  }
  controllers.sort((a, b) => Number(!a.name) - Number(!b.name) || naturalCompare(a.name ?? a.pciAddress, b.name ?? b.pciAddress));
  return { controllers, pollQueuesParam };
}

/** Every namespace, with its controller. */
export function allNamespaces(d: Discovery): Array<{ ctrl: DiscoveredController; ns: DiscoveredNamespace }> {
  return d.controllers.flatMap((ctrl) => ctrl.namespaces.map((ns) => ({ ctrl, ns })));
}
