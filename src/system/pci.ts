// PCI devices as sysfs shows them: addresses, drivers, IOMMU groups, and the
// NVMe controllers and namespaces the kernel made of them. Read-only; binding
// lives in binding.ts. NVMEBENCH_SYSFS points everything at a fake tree for tests.
import fs from 'node:fs';
import path from 'node:path';
import { devNumbers, readSys, realSys, type SysReader } from './sysfs.js';
import { isControllerName, parseNvmeName } from './nvme-sysfs.js';

/** PCI class of an NVMe controller: mass storage, non-volatile memory, NVM Express. */
export const NVME_CLASS = 0x010802;

export function sysfsRoot(): string {
  return process.env.NVMEBENCH_SYSFS || '/sys';
}

function sys(...parts: string[]): string {
  return path.join(sysfsRoot(), ...parts);
}

function linkName(link: string): string | undefined {
  try {
    return path.basename(fs.readlinkSync(link));
  } catch {
    return undefined;
  }
}

const BDF_RE = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

/** 0000:00:04.0 or 00:04.0 → 0000:00:04.0 (lower case); undefined for anything else. */
export function normalizePciAddress(text: string): string | undefined {
  const m = BDF_RE.exec(text.trim());
  if (!m) return undefined;
  return `${(m[1] ?? '0000').toLowerCase()}:${m[2].toLowerCase()}:${m[3].toLowerCase()}.${m[4]}`;
}

export function looksLikePciAddress(text: string): boolean {
  return normalizePciAddress(text) !== undefined;
}

/** A target given as a PCI address, normalized; undefined for a path (./0000:00:04.0 names a file) or anything else. */
export function pciAddressTarget(given: string): string | undefined {
  return given.includes('/') ? undefined : normalizePciAddress(given);
}

/** An address as sysfs writes it: domain, lower case. */
const SYSFS_BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** The PCI address a sysfs link leads to (the last on the path: the device, not its bridges); '' when it is not on PCI. */
export function pciAddressBehind(link: string, sys: SysReader = realSys): string {
  const real = sys.resolve(link);
  if (!real) return '';
  const parts = real.split('/').filter((p) => SYSFS_BDF.test(p));
  return parts.length ? parts[parts.length - 1] : '';
}

/** A sysfs class file (0x010802) names an NVMe controller. */
export function isNvmeClass(text: string | undefined): boolean {
  return hex(text) === NVME_CLASS;
}

export interface PciDevice {
  address: string;
  exists: boolean;
  /** The bound driver's name, undefined when none. */
  driver?: string;
  driverOverride?: string;
  classCode: number;
  vendor: number;
  device: number;
  /** IOMMU group number; undefined when the IOMMU is off. */
  iommuGroup?: number;
  /** nvmeX controllers the kernel's nvme driver made of this device. */
  controllers: string[];
}

function hex(text: string | undefined): number {
  return text ? Number.parseInt(text, 16) : 0;
}

export function pciDevice(address: string): PciDevice {
  const dir = sys('bus', 'pci', 'devices', address);
  const exists = fs.existsSync(dir);
  const group = linkName(path.join(dir, 'iommu_group'));
  let controllers: string[] = [];
  try {
    controllers = fs.readdirSync(path.join(dir, 'nvme')).filter(isControllerName);
  } catch {
    // not driven by nvme
  }
  const override = readSys(path.join(dir, 'driver_override'));
  return {
    address,
    exists,
    driver: linkName(path.join(dir, 'driver')),
    driverOverride: override && override !== '(null)' ? override : undefined,
    classCode: hex(readSys(path.join(dir, 'class'))),
    vendor: hex(readSys(path.join(dir, 'vendor'))),
    device: hex(readSys(path.join(dir, 'device'))),
    iommuGroup: group !== undefined && /^\d+$/.test(group) ? Number(group) : undefined,
    controllers,
  };
}

/** The other devices of an IOMMU group, with their drivers. */
export function groupMembers(group: number): Array<{ address: string; driver?: string }> {
  try {
    return fs
      .readdirSync(sys('kernel', 'iommu_groups', String(group), 'devices'))
      .sort()
      .map((address) => ({ address, driver: linkName(sys('bus', 'pci', 'devices', address, 'driver')) }));
  } catch {
    return [];
  }
}

/** Drivers a viable VFIO group may have besides vfio-pci: none, pci-stub, and bridges' pcieport. */
export function blocksGroup(driver: string | undefined): boolean {
  return driver !== undefined && !['vfio-pci', 'pci-stub', 'pcieport'].includes(driver);
}

/** Devices that keep address's IOMMU group from being viable for VFIO. */
export function groupBlockers(address: string, group: number): Array<{ address: string; driver: string }> {
  return groupMembers(group)
    .filter((m) => m.address !== address && blocksGroup(m.driver))
    .map((m) => ({ address: m.address, driver: m.driver! }));
}

/**
 * Block device names of a controller's namespaces: nvme0n1, nvme0n2; with
 * native multipath the per-path nvme0c0n1 stands for the head nvme0n1.
 */
export function controllerNamespaces(controller: string): string[] {
  const names = new Set<string>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(sys('class', 'nvme', controller));
  } catch {
    return [];
  }
  for (const entry of entries) {
    const name = parseNvmeName(entry);
    if (name?.node === 'block') names.add(`nvme${name.instance}n${name.nsid}`);
  }
  return [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** PCI address of a controller (nvme0) from its sysfs device link; '' when not PCI. */
export function controllerPciAddress(controller: string): string {
  return pciAddressBehind(sys('class', 'nvme', controller, 'device'));
}

/** Devices bound to vfio-pci right now. */
export function vfioBoundDevices(): string[] {
  try {
    return fs
      .readdirSync(sys('bus', 'pci', 'drivers', 'vfio-pci'))
      .filter((n) => looksLikePciAddress(n))
      .sort();
  } catch {
    return [];
  }
}

export const IOMMU_FIX = 'boot with intel_iommu=on (Intel) or amd_iommu=on (AMD) on the kernel command line, plus iommu=pt to keep the other devices fast, and enable VT-d/AMD-Vi in the firmware';

export function bindCommand(address: string): string {
  return `nvmebench vfio bind ${address}`;
}

export function unbindCommand(address: string): string {
  return `nvmebench vfio unbind ${address}`;
}

/**
 * The PCI address behind a device node: /dev/nvme0 (controller), /dev/nvme0n1
 * or /dev/ng0n1 (namespaces). undefined when the node is not on a PCI device.
 */
export function pciAddressOfNode(node: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(node);
  } catch {
    return undefined;
  }
  if (!stat.isCharacterDevice() && !stat.isBlockDevice()) return undefined;
  const base = path.basename(node);
  if (isControllerName(base)) {
    const addr = controllerPciAddress(base);
    if (addr) return addr;
  }
  return pciAddressBehind(sys('dev', stat.isBlockDevice() ? 'block' : 'char', devNumbers(stat.rdev))) || undefined;
}
